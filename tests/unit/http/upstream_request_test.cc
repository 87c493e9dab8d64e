#include "wslb/http/upstream_request.h"

#include <gtest/gtest.h>

#include <regex>

#include "wslb/http/local_reply.h"

namespace wslb::http {
namespace {

namespace bhttp = boost::beast::http;

Request upgrade() {
  Request req{bhttp::verb::get, "/chat", 11};
  req.set(bhttp::field::host, "example.com");
  req.set(bhttp::field::upgrade, "websocket");
  req.set(bhttp::field::connection, "keep-alive, Upgrade");
  req.set(bhttp::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  req.set(bhttp::field::sec_websocket_version, "13");
  req.set(bhttp::field::sec_websocket_protocol, "chat.v1, chat.v2");
  req.set(bhttp::field::sec_websocket_extensions, "permessage-deflate; client_max_window_bits");
  req.set(bhttp::field::keep_alive, "timeout=5");
  return req;
}

TEST(UpstreamRequest, RecognisesUpgrades) {
  EXPECT_TRUE(isWebSocketUpgrade(upgrade()));
  auto h2c = upgrade();
  h2c.set(bhttp::field::upgrade, "h2c");
  EXPECT_FALSE(isWebSocketUpgrade(h2c));
  EXPECT_TRUE(hasUpgradeHeader(h2c));
  auto no_conn = upgrade();
  no_conn.set(bhttp::field::connection, "keep-alive");
  EXPECT_FALSE(hasUpgradeHeader(no_conn));
}

TEST(UpstreamRequest, UpgradeKeepsWebSocketFieldsAndDropsHopByHop) {
  auto req = upgrade();
  prepareUpstreamRequest(req, "10.1.2.3", true);
  EXPECT_EQ(req[bhttp::field::connection], "Upgrade");
  EXPECT_EQ(req[bhttp::field::upgrade], "websocket");
  EXPECT_EQ(req[bhttp::field::sec_websocket_key], "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(req[bhttp::field::sec_websocket_protocol], "chat.v1, chat.v2");
  EXPECT_EQ(req[bhttp::field::sec_websocket_extensions],
            "permessage-deflate; client_max_window_bits");
  EXPECT_EQ(req.find(bhttp::field::keep_alive), req.end());
  EXPECT_EQ(req["x-forwarded-for"], "10.1.2.3");
  EXPECT_EQ(req["x-forwarded-proto"], "http");
  EXPECT_TRUE(std::regex_match(std::string(req["x-request-id"]),
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                          "[0-9a-f]{12}")))
      << req["x-request-id"];
}

TEST(UpstreamRequest, PlainRequestAppendsForwardedForAndKeepsRequestId) {
  Request req{bhttp::verb::post, "/x", 11};
  req.set("x-forwarded-for", "1.1.1.1");
  req.set("x-request-id", "abc");
  req.set(bhttp::field::connection, "close, x-secret");
  req.set("x-secret", "s");
  prepareUpstreamRequest(req, "2.2.2.2", false);
  EXPECT_EQ(req["x-forwarded-for"], "1.1.1.1, 2.2.2.2");
  EXPECT_EQ(req["x-request-id"], "abc");
  EXPECT_EQ(req.find("x-secret"), req.end());
  EXPECT_EQ(req[bhttp::field::connection], "close");
}

TEST(UpstreamRequest, FieldsNamedOnEveryConnectionLineAreDropped) {
  Request req{bhttp::verb::get, "/x", 11};
  req.set(bhttp::field::host, "a");
  req.insert(bhttp::field::connection, " X-One ,x-two");
  req.insert(bhttp::field::connection, "\tx-three");
  req.set("x-one", "1");
  req.set("x-two", "2");
  req.set("x-three", "3");
  req.set("x-kept", "k");
  prepareUpstreamRequest(req, "2.2.2.2", false);
  EXPECT_EQ(req.find("x-one"), req.end());
  EXPECT_EQ(req.find("x-two"), req.end());
  EXPECT_EQ(req.find("x-three"), req.end());
  EXPECT_EQ(req["x-kept"], "k");
}

TEST(UpstreamRequest, HostFramingAndHandshakeFieldsAreNeverDropped) {
  Request post{bhttp::verb::post, "/x", 11};
  post.set(bhttp::field::host, "a");
  post.set(bhttp::field::connection, "host, content-length, Transfer-Encoding");
  post.set(bhttp::field::content_length, "3");
  post.body() = "abc";
  prepareUpstreamRequest(post, "2.2.2.2", false);
  EXPECT_EQ(post[bhttp::field::host], "a");
  EXPECT_EQ(post[bhttp::field::content_length], "3");

  auto req = upgrade();
  req.set(bhttp::field::connection, "Upgrade, Sec-WebSocket-Key, sec-websocket-version");
  prepareUpstreamRequest(req, "10.1.2.3", true);
  EXPECT_EQ(req[bhttp::field::sec_websocket_key], "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(req[bhttp::field::sec_websocket_version], "13");
  EXPECT_EQ(req[bhttp::field::connection], "Upgrade");
}

TEST(UpstreamRequest, UpgradeTokenOnASecondConnectionLine) {
  auto req = upgrade();
  req.set(bhttp::field::connection, "keep-alive");
  req.insert(bhttp::field::connection, "Upgrade");
  EXPECT_TRUE(hasUpgradeHeader(req));
  EXPECT_TRUE(isWebSocketUpgrade(req));
}

TEST(UpstreamRequest, RequestIdsDiffer) {
  EXPECT_NE(newRequestId(), newRequestId());
}

TEST(LocalReply, OverflowIsEnvoysAnswer) {
  auto res = overflowReply().toResponse(true);
  EXPECT_EQ(res.result_int(), 503u);
  EXPECT_EQ(res["x-envoy-overloaded"], "true");
  EXPECT_EQ(res.body(),
            "upstream connect error or disconnect/reset before headers. reset reason: overflow");
  EXPECT_EQ(res[bhttp::field::content_length], "81");
  EXPECT_EQ(res[bhttp::field::content_type], "text/plain");
}

TEST(LocalReply, ResponseHeadSerialisation) {
  Response res{bhttp::status::switching_protocols, 11};
  res.set(bhttp::field::upgrade, "websocket");
  res.set(bhttp::field::connection, "Upgrade");
  EXPECT_EQ(
      serializeResponseHead(res),
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
}

}  // namespace
}  // namespace wslb::http
