// The HTTP phase over TransportSocket with Beast, then the same SSL object driven the relay's
// way (read_some / write_some on readiness) without a second handshake; the handshake timeout
// hook.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "tls_test_util.h"
#include "wslb/tls/client_context.h"

namespace wslb::tls {
namespace {

namespace bhttp = boost::beast::http;
using namespace testing;

class StreamTest : public ::testing::Test {
 protected:
  // A connected pair of TransportSockets on io_: ours as the server, a client toward it.
  void makePair(bool tls) {
    tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket client(io_);
    client.connect(acceptor.local_endpoint());
    tcp::socket accepted = acceptor.accept();
    error_code ec;
    if (tls) {
      server_.emplace(TransportSocket::server(std::move(accepted), contexts_, ec));
      ASSERT_FALSE(ec);
      client_.emplace(TransportSocket::client(std::move(client), client_context_, ec));
      ASSERT_FALSE(ec);
    } else {
      server_.emplace(std::move(accepted));
      client_.emplace(std::move(client));
    }
  }

  TempDir dir_;
  TestCa ca_{dir_.path(), "ca"};
  CertFiles leaf_ = ca_.issue("leaf", "ws.test", {"ws.test"}, "5");
  std::shared_ptr<const ServerContextSet> contexts_ =
      std::make_shared<const ServerContextSet>(std::vector<ServerChain>{{{}, serverTls(leaf_)}});
  std::shared_ptr<const ClientContext> client_context_ =
      std::make_shared<const ClientContext>(clientTls(ca_.cert(), "ws.test"));
  asio::io_context io_;
  std::optional<TransportSocket> server_;
  std::optional<TransportSocket> client_;
};

// The upgrade exchange with Beast, then raw bytes both ways on the same objects.
void upgradeThenRelay(asio::io_context& io, TransportSocket& server, TransportSocket& client) {
  std::string server_log;
  bool server_done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto [hec] = co_await server.async_handshake(kAsTuple);
        if (hec) co_return;
        boost::beast::flat_buffer buffer;
        bhttp::request<bhttp::string_body> request;
        auto [rec, rn] = co_await bhttp::async_read(server, buffer, request, kAsTuple);
        if (rec) co_return;
        server_log =
            std::string(request.target()) + " " + std::string(request[bhttp::field::upgrade]);
        bhttp::response<bhttp::string_body> response(bhttp::status::switching_protocols, 11);
        response.set(bhttp::field::upgrade, "websocket");
        response.set(bhttp::field::connection, "Upgrade");
        auto [wec, wn] = co_await bhttp::async_write(server, response, kAsTuple);
        if (wec) co_return;
        // Bytes that came with the request head would be handed over as well (Relay::start).
        EXPECT_EQ(buffer.size(), 0u);
        server_done = true;
      },
      asio::detached);
  bool client_done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto [hec] = co_await client.async_handshake(kAsTuple);
        if (hec) co_return;
        bhttp::request<bhttp::string_body> request(bhttp::verb::get, "/chat", 11);
        request.set(bhttp::field::host, "ws.test");
        request.set(bhttp::field::upgrade, "websocket");
        request.set(bhttp::field::connection, "Upgrade");
        auto [wec, wn] = co_await bhttp::async_write(client, request, kAsTuple);
        if (wec) co_return;
        boost::beast::flat_buffer buffer;
        bhttp::response<bhttp::string_body> response;
        auto [rec, rn] = co_await bhttp::async_read(client, buffer, response, kAsTuple);
        if (rec || response.result() != bhttp::status::switching_protocols) co_return;
        client_done = true;
      },
      asio::detached);
  ASSERT_TRUE(runUntil(io, [&] { return server_done && client_done; }));
  EXPECT_EQ(server_log, "/chat websocket");

  // The relay's way: readiness, then non-blocking calls on the same SSL (no new handshake).
  error_code ec;
  const std::string message = "\x81\x05hello";
  EXPECT_EQ(client.write_some(asio::buffer(message), ec), message.size());
  EXPECT_FALSE(ec);
  char scratch[64 * 1024];
  bool readable = false;
  server.async_wait(server.readWait(), [&](error_code) { readable = true; });
  ASSERT_TRUE(runUntil(io, [&] { return readable; }));
  const size_t got = server.read_some(asio::buffer(scratch), ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(std::string(scratch, got), message);
  EXPECT_FALSE(server.hasBufferedPlaintext());
  EXPECT_EQ(server.read_some(asio::buffer(scratch), ec), 0u);
  EXPECT_EQ(ec, asio::error::would_block);

  // Half-close: the client's close_notify reads as eof on the server, which can still write.
  client.shutdown(tcp::socket::shutdown_send, ec);
  bool eof = false;
  for (int i = 0; i < 100 && !eof; ++i) {
    bool ready = false;
    server.async_wait(server.readWait(), [&](error_code) { ready = true; });
    ASSERT_TRUE(runUntil(io, [&] { return ready; }));
    server.read_some(asio::buffer(scratch), ec);
    eof = ec == asio::error::eof;
  }
  EXPECT_TRUE(eof);
  EXPECT_EQ(server.write_some(asio::buffer(std::string_view("bye")), ec), 3u);
  bool read_back = false;
  asio::async_read(client, asio::buffer(scratch, 3),
                   [&](error_code rec, size_t n) { read_back = !rec && n == 3; });
  EXPECT_TRUE(runUntil(io, [&] { return read_back; }));
}

TEST_F(StreamTest, BeastOverTlsThenRelayStyleOnTheSameSsl) {
  makePair(true);
  upgradeThenRelay(io_, *server_, *client_);
  EXPECT_EQ(server_->alpnProtocol(), "");                              // the client offered none
  EXPECT_STREQ(SSL_get_version(server_->native_handle()), "TLSv1.2");  // client default max
}

TEST_F(StreamTest, PlainTcpTakesTheSamePath) {
  makePair(false);
  const std::string message = "\x81\x05hello";
  bool handshaken = false;
  server_->async_handshake([&](error_code ec) { handshaken = !ec; });
  ASSERT_TRUE(runUntil(io_, [&] { return handshaken; }));
  error_code ec;
  client_->write_some(asio::buffer(message), ec);
  char scratch[64];
  bool readable = false;
  server_->async_wait(server_->readWait(), [&](error_code) { readable = true; });
  ASSERT_TRUE(runUntil(io_, [&] { return readable; }));
  EXPECT_EQ(server_->read_some(asio::buffer(scratch), ec), message.size());
  EXPECT_FALSE(server_->isTls());
}

// Plain TCP read_some / write_some never block, though the descriptors here were never made
// non-blocking (the relay no longer spends an ioctl on each): would_block instead. Were either
// call blocking, the test would hang until ctest's timeout.
TEST_F(StreamTest, PlainReadAndWriteNeverBlockWhateverTheDescriptorMode) {
  makePair(false);
  error_code ec;
  char scratch[64 * 1024] = {};
  EXPECT_EQ(server_->read_some(asio::buffer(scratch), ec), 0u);
  EXPECT_EQ(ec, asio::error::would_block);

  // Fill the client's send buffer and the server's receive buffer: the last write is refused.
  size_t sent = 0;
  for (int i = 0; i < 10'000; ++i) {
    sent += client_->write_some(asio::buffer(scratch), ec);
    if (ec) break;
  }
  EXPECT_EQ(ec, asio::error::would_block);
  EXPECT_GT(sent, 0u);

  // All of it arrives, then the end of the stream.
  client_->shutdown(tcp::socket::shutdown_send, ec);
  size_t received = 0;
  for (int i = 0; i < 10'000 && received < sent; ++i) {
    const size_t n = server_->read_some(asio::buffer(scratch), ec);
    received += n;
    if (ec == asio::error::would_block) {
      bool ready = false;
      server_->async_wait(server_->readWait(), [&](error_code) { ready = true; });
      ASSERT_TRUE(runUntil(io_, [&] { return ready; }));
    } else {
      ASSERT_FALSE(ec) << ec.message();
    }
  }
  EXPECT_EQ(received, sent);
  bool eof = false;
  for (int i = 0; i < 100 && !eof; ++i) {
    server_->read_some(asio::buffer(scratch), ec);
    eof = ec == asio::error::eof;
    if (ec == asio::error::would_block) {
      bool ready = false;
      server_->async_wait(server_->readWait(), [&](error_code) { ready = true; });
      ASSERT_TRUE(runUntil(io_, [&] { return ready; }));
    }
  }
  EXPECT_TRUE(eof);
}

TEST_F(StreamTest, HandshakeTimeoutHook) {
  // A client that connects and never sends a ClientHello.
  tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket silent(io_);
  silent.connect(acceptor.local_endpoint());
  error_code ec;
  TransportSocket server = TransportSocket::server(acceptor.accept(), contexts_, ec);
  ASSERT_FALSE(ec);
  asio::steady_timer deadline(io_);
  deadline.expires_after(std::chrono::milliseconds(100));
  deadline.async_wait([&](error_code tec) {
    error_code ignored;
    if (!tec) server.cancel(ignored);  // what a session's deadline does
  });
  std::optional<error_code> result;
  server.async_handshake([&](error_code hec) { result = hec; });
  ASSERT_TRUE(runUntil(io_, [&] { return result.has_value(); }));
  EXPECT_EQ(*result, asio::error::operation_aborted);
}

TEST_F(StreamTest, PeerGoneMidHandshake) {
  tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket gone(io_);
  gone.connect(acceptor.local_endpoint());
  error_code ec;
  TransportSocket server = TransportSocket::server(acceptor.accept(), contexts_, ec);
  gone.close();
  std::optional<error_code> result;
  server.async_handshake([&](error_code hec) { result = hec; });
  ASSERT_TRUE(runUntil(io_, [&] { return result.has_value(); }));
  EXPECT_TRUE(*result);
}

}  // namespace
}  // namespace wslb::tls
