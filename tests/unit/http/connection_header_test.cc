#include "wslb/http/connection_header.h"

#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>
#include <string>
#include <vector>

namespace wslb::http {
namespace {

namespace bhttp = boost::beast::http;

RequestHeader request(unsigned version, std::vector<std::string> connection_lines) {
  RequestHeader req;
  req.method(bhttp::verb::get);
  req.target("/");
  req.version(version);
  for (const auto& line : connection_lines) req.insert(bhttp::field::connection, line);
  return req;
}

TEST(ConnectionHeader, TokensAreTrimmedAndCaseInsensitive) {
  const auto tokens = connectionTokens(request(11, {" foo ,\tCLOSE\t, Upgrade"}));
  EXPECT_TRUE(tokens.close);
  EXPECT_TRUE(tokens.upgrade);
  EXPECT_FALSE(tokens.keep_alive);
  std::vector<std::string> seen;
  forEachConnectionToken(request(11, {" a ,, b", "c"}),
                         [&seen](std::string_view t) { seen.emplace_back(t); });
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(ConnectionHeader, EveryFieldLineCounts) {
  EXPECT_TRUE(connectionTokens(request(11, {"foo", "close"})).close);
  EXPECT_FALSE(requestKeepsAlive(request(11, {"x-trace", "Close"})));
}

TEST(ConnectionHeader, KeepAliveDefaults) {
  EXPECT_TRUE(requestKeepsAlive(request(11, {})));
  EXPECT_FALSE(requestKeepsAlive(request(10, {})));
  EXPECT_TRUE(requestKeepsAlive(request(10, {"Keep-Alive"})));
  EXPECT_FALSE(requestKeepsAlive(request(10, {"keep-alive, close"})));
  EXPECT_FALSE(requestKeepsAlive(request(11, {"closed", "close"})));
  EXPECT_TRUE(requestKeepsAlive(request(11, {"closed"})));
}

}  // namespace
}  // namespace wslb::http
