#include "wslb/websocket/handshake.h"

#include <gtest/gtest.h>

#include <boost/beast/websocket/detail/hybi13.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace wslb::websocket {
namespace {

TEST(HandshakeTest, AcceptMatchesRfc6455Example) {
  EXPECT_EQ(computeSecWebSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(HandshakeTest, AcceptTrimsOws) {
  EXPECT_EQ(computeSecWebSocketAccept(" \tdGhlIHNhbXBsZSBub25jZQ==\t "),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(HandshakeTest, AcceptMatchesBeastForRandomKeys) {
  for (int i = 0; i < 200; ++i) {
    boost::beast::websocket::detail::sec_ws_key_type key;
    boost::beast::websocket::detail::make_sec_ws_key(key);
    const std::string_view key_view(key.data(), key.size());
    boost::beast::websocket::detail::sec_ws_accept_type expected;
    boost::beast::websocket::detail::make_sec_ws_accept(expected, key_view);
    EXPECT_TRUE(isValidSecWebSocketKey(key_view)) << key_view;
    const std::string accept = computeSecWebSocketAccept(key_view);
    EXPECT_EQ(accept.size(), kSecWebSocketAcceptSize);
    EXPECT_EQ(accept, std::string_view(expected.data(), expected.size())) << key_view;
  }
}

TEST(HandshakeTest, AcceptWorksFromManyThreads) {
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&mismatches, t] {
      for (int i = 0; i < 500; ++i) {
        if (computeSecWebSocketAccept("dGhlIHNhbXBsZSBub25jZQ==") !=
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") {
          ++mismatches[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST(HandshakeTest, AcceptOfUnusualKeysIsStillComputed) {
  // Not a valid key, but the value is well defined: base64(SHA-1(GUID)).
  EXPECT_EQ(computeSecWebSocketAccept("").size(), kSecWebSocketAcceptSize);
  EXPECT_NE(computeSecWebSocketAccept(std::string(1000, 'k')), computeSecWebSocketAccept(""));
}

TEST(HandshakeTest, ValidKeys) {
  EXPECT_TRUE(isValidSecWebSocketKey("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_TRUE(isValidSecWebSocketKey("AAAAAAAAAAAAAAAAAAAAAA=="));
  EXPECT_TRUE(isValidSecWebSocketKey("+/+/+/+/+/+/+/+/+/+/zz=="));
  EXPECT_TRUE(isValidSecWebSocketKey("  dGhlIHNhbXBsZSBub25jZQ==\t"));
  // Unused trailing bits set: decodes to 16 bytes all the same.
  EXPECT_TRUE(isValidSecWebSocketKey("dGhlIHNhbXBsZSBub25jZR=="));
}

TEST(HandshakeTest, InvalidKeys) {
  EXPECT_FALSE(isValidSecWebSocketKey(""));
  EXPECT_FALSE(isValidSecWebSocketKey("   "));
  EXPECT_FALSE(isValidSecWebSocketKey("dGhlIHNhbXBsZSBub25jZQ="));    // 23 chars
  EXPECT_FALSE(isValidSecWebSocketKey("dGhlIHNhbXBsZSBub25jZQ==="));  // 25 chars
  EXPECT_FALSE(isValidSecWebSocketKey("dGhlIHNhbXBsZSBub25jZQ"));     // unpadded
  EXPECT_FALSE(isValidSecWebSocketKey("AAAAAAAAAAAAAAAAAAAAAAAA"));   // 18 bytes
  EXPECT_FALSE(isValidSecWebSocketKey("AAAAAAAAAAAAAAAAAAAAAAA="));   // 17 bytes
  EXPECT_FALSE(isValidSecWebSocketKey("dGhlIHNhbXBsZSBub25jZ-=="));   // url-safe alphabet
  EXPECT_FALSE(isValidSecWebSocketKey("dGhlIHNhbXBsZSBub25jZ_=="));
  EXPECT_FALSE(isValidSecWebSocketKey("dGhlIHNhbXBs=SBub25jZQ=="));    // padding inside
  EXPECT_FALSE(isValidSecWebSocketKey("dGhlIHNhbXBsZ Bub25jZQ=="));    // space inside
  EXPECT_FALSE(isValidSecWebSocketKey("\ndGhlIHNhbXBsZSBub25jZQ=="));  // not OWS
  EXPECT_FALSE(isValidSecWebSocketKey(std::string_view("dGhlIHNhbXBsZSBub25j\0Q==", 24)));
}

TEST(HandshakeTest, Version) {
  EXPECT_TRUE(isSupportedSecWebSocketVersion("13"));
  EXPECT_TRUE(isSupportedSecWebSocketVersion(" 13\t"));
  EXPECT_FALSE(isSupportedSecWebSocketVersion("8"));
  EXPECT_FALSE(isSupportedSecWebSocketVersion("13, 8"));
  EXPECT_FALSE(isSupportedSecWebSocketVersion(""));
  EXPECT_FALSE(isSupportedSecWebSocketVersion("130"));
}

TEST(HandshakeTest, TrimOws) {
  EXPECT_EQ(trimOws(""), "");
  EXPECT_EQ(trimOws(" \t "), "");
  EXPECT_EQ(trimOws(" a b\t"), "a b");
  EXPECT_EQ(trimOws("\ra\n"), "\ra\n");
}

TEST(HandshakeTest, HeaderHasToken) {
  EXPECT_TRUE(headerHasToken("Upgrade", "upgrade"));
  EXPECT_TRUE(headerHasToken("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(headerHasToken("keep-alive,Upgrade", "UPGRADE"));
  EXPECT_TRUE(headerHasToken("Upgrade, keep-alive", "upgrade"));
  EXPECT_TRUE(headerHasToken(" \tupgrade\t ", "Upgrade"));
  EXPECT_TRUE(headerHasToken(",, ,upgrade,,", "upgrade"));
  EXPECT_TRUE(headerHasToken("websocket", "websocket"));
  EXPECT_TRUE(headerHasToken("WebSocket", "websocket"));
  EXPECT_TRUE(headerHasToken("h2c, websocket", "websocket"));
  EXPECT_TRUE(headerHasToken("keep-alive", "keep-alive"));

  EXPECT_FALSE(headerHasToken("", "upgrade"));
  EXPECT_FALSE(headerHasToken("keep-alive", "upgrade"));
  EXPECT_FALSE(headerHasToken("upgrades", "upgrade"));
  EXPECT_FALSE(headerHasToken("upgrad", "upgrade"));
  EXPECT_FALSE(headerHasToken("xupgrade", "upgrade"));
  EXPECT_FALSE(headerHasToken("up grade", "upgrade"));
  EXPECT_FALSE(headerHasToken("keep-alive; upgrade", "upgrade"));
  EXPECT_FALSE(headerHasToken("websocket/13", "websocket"));
  EXPECT_FALSE(headerHasToken("upgrade", ""));
  EXPECT_FALSE(headerHasToken(", ,", ""));
}

}  // namespace
}  // namespace wslb::websocket
