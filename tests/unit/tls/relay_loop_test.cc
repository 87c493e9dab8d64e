// 10 MB through a relay-style loop between two TLS connections, the way src/relay/relay.cc
// pumps bytes: wait for readiness, read_some into a scratch buffer, write_some to the other
// side, and only when that would block keep the rest in a spill buffer written with
// asio::async_write (reading stops meanwhile).

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <cstring>

#include "tls_test_util.h"
#include "wslb/tls/client_context.h"

namespace wslb::tls {
namespace {

using namespace testing;

constexpr size_t kTotal = 10 * 1024 * 1024;
constexpr size_t kScratch = 64 * 1024;

unsigned char patternAt(size_t i) {
  return static_cast<unsigned char>((i * 7 + i / 251) & 0xff);
}

// One direction of a relay: src -> dst.
class Pump {
 public:
  Pump(TransportSocket& src, TransportSocket& dst) : src_(src), dst_(dst) {}

  void start() { waitReadable(); }
  bool done() const { return done_; }
  size_t spills() const { return spills_; }
  size_t relayed() const { return relayed_; }
  std::string error() const { return error_; }

 private:
  void waitReadable() {
    // Plaintext already inside the SSL object will not make the socket readable.
    if (src_.hasBufferedPlaintext()) {
      asio::post(src_.get_executor(), [this] { onReadable({}); });
      return;
    }
    src_.async_wait(src_.readWait(), [this](error_code ec) { onReadable(ec); });
  }

  void onReadable(error_code wait_ec) {
    if (wait_ec) return fail("wait: " + wait_ec.message());
    for (int i = 0; i < 16; ++i) {
      error_code ec;
      const size_t n = src_.read_some(asio::buffer(scratch_, kScratch), ec);
      if (ec == asio::error::would_block) break;
      if (ec == asio::error::eof) {
        dst_.shutdown(tcp::socket::shutdown_send, ec);  // close_notify, then FIN
        done_ = true;
        return;
      }
      if (ec) return fail("read: " + ec.message());
      relayed_ += n;
      size_t written = dst_.write_some(asio::buffer(scratch_, n), ec);
      if (ec == asio::error::would_block) {
        written = 0;
      } else if (ec) {
        return fail("write: " + ec.message());
      }
      if (written < n) {
        ++spills_;
        spill_.assign(scratch_ + written, scratch_ + n);
        asio::async_write(dst_, asio::buffer(spill_), [this](error_code wec, size_t) {
          if (wec) return fail("spill: " + wec.message());
          waitReadable();
        });
        return;
      }
      if (n < kScratch) break;
    }
    waitReadable();
  }

  void fail(std::string what) {
    error_ = std::move(what);
    done_ = true;
  }

  TransportSocket& src_;
  TransportSocket& dst_;
  unsigned char scratch_[kScratch];
  std::vector<unsigned char> spill_;
  size_t spills_ = 0;
  size_t relayed_ = 0;
  bool done_ = false;
  std::string error_;
};

TEST(RelayLoop, TenMegabytesThroughTwoTlsConnections) {
  TempDir dir;
  TestCa ca(dir.path(), "ca");
  const CertFiles leaf = ca.issue("leaf", "relay.test", {"relay.test"}, "7");
  auto contexts =
      std::make_shared<const ServerContextSet>(std::vector<ServerChain>{{{}, serverTls(leaf)}});
  config::UpstreamTls client_tls = clientTls(ca.cert(), "relay.test");
  client_tls.common_tls_context.tls_params.max_version = config::TlsVersion::kTls1_3;
  auto client_context = std::make_shared<const ClientContext>(client_tls);

  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  // A connected TLS pair: (client side, server side).
  auto makePair = [&] {
    tcp::socket client(io);
    client.connect(acceptor.local_endpoint());
    error_code ec;
    TransportSocket server = TransportSocket::server(acceptor.accept(), contexts, ec);
    TransportSocket tls_client = TransportSocket::client(std::move(client), client_context, ec);
    return std::make_pair(std::move(tls_client), std::move(server));
  };
  auto [source, downstream] = makePair();  // the WebSocket client and our listener side
  auto [upstream, sink] = makePair();      // our backend side and the backend

  int handshakes = 0;
  for (TransportSocket* s : {&source, &downstream, &upstream, &sink}) {
    s->async_handshake([&](error_code ec) {
      EXPECT_FALSE(ec) << ec.message();
      ++handshakes;
    });
  }
  ASSERT_TRUE(runUntil(io, [&] { return handshakes == 4; }));
  // Small socket buffers so that the relay's writes would block.
  error_code ec;
  for (TransportSocket* s : {&source, &downstream, &upstream, &sink}) {
    s->set_option(tcp::no_delay(true), ec);  // as wslb does on both sides
  }
  upstream.socket().set_option(asio::socket_base::send_buffer_size(16 * 1024), ec);
  sink.socket().set_option(asio::socket_base::receive_buffer_size(256 * 1024), ec);

  Pump pump(downstream, upstream);
  pump.start();

  // The source writes the pattern with async_write, then closes its sending side.
  std::vector<unsigned char> data(kTotal);
  for (size_t i = 0; i < kTotal; ++i) data[i] = patternAt(i);
  bool sent = false;
  asio::async_write(source, asio::buffer(data), [&](error_code wec, size_t n) {
    EXPECT_FALSE(wec);
    EXPECT_EQ(n, kTotal);
    error_code ignored;
    source.shutdown(tcp::socket::shutdown_send, ignored);
    sent = true;
  });

  // The sink starts reading only once the relay had to spill: so would_block is exercised
  // whatever the scheduling.
  ASSERT_TRUE(runUntil(io, [&] { return pump.spills() > 0 || pump.done(); }));
  ASSERT_GT(pump.spills(), 0u);
  size_t received = 0;
  size_t mismatches = 0;
  bool sink_done = false;
  std::vector<unsigned char> buffer(kScratch);
  std::function<void()> readMore = [&] {
    sink.async_read_some(asio::buffer(buffer), [&](error_code rec, size_t n) {
      for (size_t i = 0; i < n; ++i) {
        if (buffer[i] != patternAt(received + i)) ++mismatches;
      }
      received += n;
      if (rec) {
        EXPECT_EQ(rec, asio::error::eof);
        sink_done = true;
        return;
      }
      readMore();
    });
  };
  readMore();
  for (int i = 0; i < 600 && !(sink_done && sent && pump.done()); ++i) {
    io.run_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(sent);
  EXPECT_TRUE(pump.done());
  EXPECT_EQ(pump.error(), "");
  EXPECT_TRUE(sink_done);
  EXPECT_EQ(received, kTotal);
  EXPECT_EQ(pump.relayed(), kTotal);
  EXPECT_EQ(mismatches, 0u);
  std::cout << "[ relay ] 10 MiB relayed with " << pump.spills() << " spills\n";
}

}  // namespace
}  // namespace wslb::tls
