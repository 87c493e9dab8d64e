// An empty chunked body must reach the peer as one complete message: Beast 1.81 serialises it
// as two last-chunks, the second of which a backend (or a keep-alive client) reads as the start
// of another message. Found by tests/fuzz/http_upgrade_fuzz.cc
// (tests/fuzz/corpus/http_upgrade/crash-empty-chunked-body).

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>
#include <sstream>
#include <string>

#include "wslb/http/upstream_request.h"

namespace wslb::http {
namespace {

namespace bhttp = boost::beast::http;

template <bool kIsRequest>
bhttp::message<kIsRequest, bhttp::string_body> parse(const std::string& wire, size_t* used) {
  bhttp::parser<kIsRequest, bhttp::string_body> parser;
  parser.eager(true);
  boost::beast::error_code ec;
  *used = parser.put(boost::asio::buffer(wire), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  return parser.release();
}

template <class Message>
std::string serialize(const Message& msg) {
  std::ostringstream out;
  out << msg;
  return out.str();
}

TEST(EmptyChunkedBodyTest, RequestReachesTheBackendAsExactlyOneMessage) {
  const std::string client =
      "POST /upload HTTP/1.1\r\nHost: m\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  size_t used = 0;
  Request req = parse<true>(client, &used);
  prepareUpstreamRequest(req, "127.0.0.1", false);
  const std::string wire = serialize(req);
  Request again = parse<true>(wire, &used);
  EXPECT_EQ(used, wire.size()) << wire;
  EXPECT_EQ(again.body(), "");
  EXPECT_EQ(again[bhttp::field::content_length], "0");
  EXPECT_EQ(again.find(bhttp::field::transfer_encoding), again.end());
}

TEST(EmptyChunkedBodyTest, NonEmptyChunkedRequestStaysChunked) {
  const std::string client =
      "POST / HTTP/1.1\r\nHost: m\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  size_t used = 0;
  Request req = parse<true>(client, &used);
  prepareUpstreamRequest(req, "127.0.0.1", false);
  const std::string wire = serialize(req);
  Request again = parse<true>(wire, &used);
  EXPECT_EQ(used, wire.size()) << wire;
  EXPECT_EQ(again.body(), "abc");
  EXPECT_TRUE(again.chunked());
}

TEST(EmptyChunkedBodyTest, ResponseReachesAKeepAliveClientAsExactlyOneMessage) {
  const std::string backend = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  size_t used = 0;
  Response res = parse<false>(backend, &used);
  prepareDownstreamResponse(res, true, false);
  const std::string wire = serialize(res);
  Response again = parse<false>(wire, &used);
  EXPECT_EQ(used, wire.size()) << wire;
  EXPECT_EQ(again.body(), "");
  EXPECT_TRUE(again.keep_alive());
}

}  // namespace
}  // namespace wslb::http
