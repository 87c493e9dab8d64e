// Messages relay intact both ways: text, binary, 1 MiB, fragmented, ping/pong, close codes,
// bytes sent right after the handshake, and the idle timeout.

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <random>

#include "test_support.h"

namespace wslb::test {
namespace {

class Relay : public ::testing::Test {
 protected:
  Relay() : backends_(startEchoBackends(2)) {
    ConfigSpec spec;
    spec.ports = portsOf(backends_);
    lb_ = std::make_unique<InProcessWslb>(makeConfig(spec));
  }
  std::vector<std::unique_ptr<echo::EchoServer>> backends_;
  std::unique_ptr<InProcessWslb> lb_;
};

std::string randomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

TEST_F(Relay, TextAndBinary) {
  WsClient c(lb_->port());
  c.sendText("hello");
  bool binary = true;
  EXPECT_EQ(c.receive(&binary), "hello");
  EXPECT_FALSE(binary);
  const auto payload = randomBytes(300, 1);
  c.sendBinary(payload);
  EXPECT_EQ(c.receive(&binary), payload);
  EXPECT_TRUE(binary);
}

TEST_F(Relay, OneMebibyteMessage) {
  WsClient c(lb_->port());
  const auto payload = randomBytes(1 << 20, 2);
  c.sendBinary(payload);
  EXPECT_EQ(c.receive(), payload);
}

TEST_F(Relay, FragmentedMessage) {
  WsClient c(lb_->port());
  const auto payload = randomBytes(100000, 3);
  c.sendFragmented(payload, 7, true);
  EXPECT_EQ(c.receive(), payload);
  c.sendFragmented(std::string(5000, 'x'), 3, false);
  bool binary = true;
  EXPECT_EQ(c.receive(&binary), std::string(5000, 'x'));
  EXPECT_FALSE(binary);
}

TEST_F(Relay, PingPong) {
  WsClient c(lb_->port());
  c.ping("are you there");
  c.sendText("sync");  // the pong arrives before the echo of this message
  EXPECT_EQ(c.receive(), "sync");
  ASSERT_EQ(c.pongs().size(), 1u);
  EXPECT_EQ(c.pongs()[0], "are you there");
}

TEST_F(Relay, CloseCodesPassBothWays) {
  for (uint16_t code : {1000, 1001, 4001, 4999}) {
    WsClient c(lb_->port());
    c.sendText("x");
    c.receive();
    EXPECT_EQ(c.close(code), code);  // the backend echoes the code back through wslb
  }
  EXPECT_TRUE(waitFor([&] { return backends_[0]->active() + backends_[1]->active() == 0; }));
  EXPECT_TRUE(waitFor([&] {
    return lb_->admin("/stats").find("cluster.backend.upstream_cx_active: 0\n") !=
           std::string::npos;
  }));
}

TEST_F(Relay, ManyMessagesInterleavedAcrossConnections) {
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 20; ++i) clients.push_back(std::make_unique<WsClient>(lb_->port()));
  for (int round = 0; round < 50; ++round) {
    for (size_t i = 0; i < clients.size(); ++i) {
      clients[i]->sendText("m" + std::to_string(round) + "-" + std::to_string(i));
    }
    for (size_t i = 0; i < clients.size(); ++i) {
      EXPECT_EQ(clients[i]->receive(), "m" + std::to_string(round) + "-" + std::to_string(i));
    }
  }
  const auto stats = lb_->admin("/stats");
  EXPECT_NE(stats.find("http.ingress_ws.downstream_cx_upgrades_active: 20\n"), std::string::npos);
}

// A client may send its first frame in the same packet as the upgrade request; those bytes must
// reach the backend after the handshake.
TEST_F(Relay, BytesRightAfterTheRequestAreForwarded) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), lb_->port()});
  // A masked text frame "hi" (mask key 0x01020304).
  const unsigned char frame[] = {0x81, 0x82, 0x01, 0x02, 0x03, 0x04, 'h' ^ 0x01, 'i' ^ 0x02};
  std::string raw = upgradeRequest();
  raw.append(reinterpret_cast<const char*>(frame), sizeof frame);
  asio::write(s, asio::buffer(raw));
  std::string got;
  char buf[4096];
  // Read until the 101 head and the echoed 4-byte frame (0x81 0x02 'h' 'i') have arrived.
  while (got.find("\r\n\r\n") == std::string::npos || got.size() < got.find("\r\n\r\n") + 4 + 4) {
    size_t n = s.read_some(asio::buffer(buf));
    got.append(buf, n);
  }
  EXPECT_EQ(got.rfind("HTTP/1.1 101", 0), 0u);
  EXPECT_EQ(got.substr(got.find("\r\n\r\n") + 4), std::string("\x81\x02hi", 4));
}

TEST(RelayCounts, MessagesAndBytesPerEndpointBothWays) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  spec.per_host_max = 10;
  InProcessWslb lb(makeConfig(spec));
  const std::string ep =
      "cluster.backend.endpoint.127.0.0.1_" + std::to_string(backends[0]->port()) + ".";
  {
    WsClient c(lb.port());
    for (int i = 0; i < 5; ++i) {
      c.sendText("message " + std::to_string(i));
      c.receive();
    }
    c.sendFragmented(std::string(3000, 'f'), 3, true);  // one message in three frames
    c.receive();
    c.ping("p");  // control frames are not messages
    c.sendText("last");
    c.receive();
    const auto stats = lb.admin("/stats");
    EXPECT_NE(stats.find(ep + "tx_messages_total: 7\n"), std::string::npos) << stats;
    EXPECT_NE(stats.find(ep + "rx_messages_total: 7\n"), std::string::npos) << stats;
    EXPECT_NE(stats.find(ep + "max_connections: 10\n"), std::string::npos);
    EXPECT_NE(stats.find(ep + "remaining_cx: 9\n"), std::string::npos);
  }
  const auto prom = lb.admin("/stats/prometheus");
  EXPECT_NE(prom.find("# TYPE envoy_cluster_endpoint_tx_bytes_total counter"), std::string::npos);
  EXPECT_NE(prom.find("# TYPE envoy_cluster_endpoint_rx_messages_total counter"),
            std::string::npos);
}

TEST(RelayIdle, IdleTimeoutClosesAndReleasesTheSlot) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  spec.idle_timeout = "0.4s";
  InProcessWslb lb(makeConfig(spec));
  WsClient c(lb.port());
  c.sendText("x");
  EXPECT_EQ(c.receive(), "x");
  EXPECT_TRUE(waitFor([&] { return backends[0]->active() == 0; }));
  EXPECT_TRUE(waitFor([&] {
    return lb.admin("/stats").find("http.ingress_ws.downstream_rq_idle_timeout: 1\n") !=
           std::string::npos;
  }));
  EXPECT_NE(lb.admin("/stats").find("cluster.backend.upstream_cx_active: 0\n"), std::string::npos);
}

}  // namespace
}  // namespace wslb::test
