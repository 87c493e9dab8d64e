// EDS through the real server: updates while WebSockets flow, and the drain of removed
// endpoints at frame boundaries. The sources themselves are tested end to end against a control
// plane in tests/peers/xds/.

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdio>
#include <thread>

#include "test_support.h"

namespace wslb::test {
namespace {

namespace asio = boost::asio;
namespace bws = boost::beast::websocket;
using tcp = asio::ip::tcp;

std::string endpointYaml(const std::string& ip, uint16_t port) {
  return "    - endpoint: {address: {socket_address: {address: " + ip +
         ", port_value: " + std::to_string(port) + "}}}\n";
}

// A DiscoveryResponse file for cluster "pods" with `backend` plus `extra` unreachable addresses.
std::string edsFile(const std::string& version, std::vector<uint16_t> backends, int extra = 0) {
  std::string out = "version_info: \"" + version +
                    "\"\nresources:\n- \"@type\": "
                    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment\n"
                    "  cluster_name: pods\n  endpoints:\n  - lb_endpoints:\n";
  for (uint16_t port : backends) out += endpointYaml("127.0.0.1", port);
  for (int i = 0; i < extra; ++i) {
    out +=
        endpointYaml("10.9." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1), 8080);
  }
  if (backends.empty() && extra == 0) out += "    []\n";
  return out;
}

// Replaces `path` atomically (the only kind of change file-based EDS watches for).
void replaceFile(const std::string& path, const std::string& text) {
  writeFile(path + ".tmp", text);
  ASSERT_EQ(std::rename((path + ".tmp").c_str(), path.c_str()), 0);
}

std::string edsConfig(const std::string& path, const std::string& cluster_metadata = "") {
  return R"(
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
static_resources:
  listeners:
  - name: ws
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ws
          upgrade_configs: [{upgrade_type: websocket}]
          route_config:
            virtual_hosts:
            - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: pods, timeout: 0s}}]}
          http_filters: [{name: envoy.filters.http.router}]
  clusters:
  - name: pods
    type: EDS
    connect_timeout: 1s
    eds_cluster_config: {eds_config: {path_config_source: {path: )" +
         path + "}}}\n" + cluster_metadata;
}

TEST(EdsTest, TenThousandEndpointUpdatesDoNotDisturbLiveRelays) {
  auto backends = startEchoBackends(1);
  const uint16_t backend = backends[0]->port();
  const std::string dir = makeTempDir();
  const std::string path = dir + "/eds.yaml";
  writeFile(path, edsFile("1", {backend}));
  InProcessWslb wslb(edsConfig(path));
  ASSERT_TRUE(waitFor([&] { return wslb.stat("cluster.pods.membership_total") == 1; }));

  constexpr int kClients = 8;
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(std::make_unique<WsClient>(wslb.port()));
  ASSERT_TRUE(activeBecomes(*backends[0], kClients));

  // Echo on every connection, without pause, while the set grows to 10,001 endpoints and back.
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> echoes{0};
  std::atomic<int64_t> slowest_us{0};
  std::string failure;
  std::thread pinger([&] {
    try {
      for (uint64_t n = 0; !stop && n < 1000000; ++n) {
        for (auto& client : clients) {
          const auto start = std::chrono::steady_clock::now();
          const std::string payload = "m" + std::to_string(n);
          client->sendText(payload);
          if (client->receive() != payload) throw std::runtime_error("wrong echo");
          const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
          if (us > slowest_us) slowest_us = us;
          ++echoes;
        }
      }
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
  for (int round = 0; round < 3; ++round) {
    replaceFile(path, edsFile(std::to_string(2 * round + 2), {backend}, 10000));
    EXPECT_TRUE(waitFor([&] { return wslb.stat("cluster.pods.membership_total") == 10001; }));
    replaceFile(path, edsFile(std::to_string(2 * round + 3), {backend}));
    EXPECT_TRUE(waitFor([&] { return wslb.stat("cluster.pods.membership_total") == 1; }));
  }
  const uint64_t before = echoes;
  EXPECT_TRUE(waitFor([&] { return echoes > before + 100; }));  // still flowing afterwards
  stop = true;
  pinger.join();
  EXPECT_EQ(failure, "");
  EXPECT_EQ(wslb.stat("cluster.pods.update_success"), 7u);
  // A generous bound: an update that stalled workers would show as a multi-second echo.
  EXPECT_LT(slowest_us.load(), 2000000) << "slowest echo during updates";
  std::printf("slowest echo while 10,000-endpoint updates applied: %lld us\n",
              static_cast<long long>(slowest_us.load()));
  // The backend's connections were never touched and its count never reset.
  EXPECT_EQ(backends[0]->active(), static_cast<uint64_t>(kClients));
  EXPECT_EQ(wslb.stat("cluster.pods.endpoint.127.0.0.1_" + std::to_string(backend) + ".cx_active"),
            static_cast<uint64_t>(kClients));
  for (auto& client : clients) client->close(1000);
  EXPECT_TRUE(activeBecomes(*backends[0], 0));
}

// A reload that points the EDS cluster at another source rebuilds the xDS client: the new source
// is read at once, the old one is no longer watched, the kept cluster's live WebSocket and its
// counters carry on.
TEST(EdsTest, ReloadOntoAnotherSourceRestartsTheSubscription) {
  auto backends = startEchoBackends(2);
  const uint16_t a = backends[0]->port();
  const uint16_t b = backends[1]->port();
  const std::string dir = makeTempDir();
  const std::string first = dir + "/first.yaml";
  const std::string second = dir + "/second.yaml";
  writeFile(first, edsFile("1", {a}));
  writeFile(second, edsFile("1", {a, b}));
  InProcessWslb wslb(edsConfig(first));
  ASSERT_TRUE(waitFor([&] { return wslb.stat("cluster.pods.membership_total") == 1; }));
  WsClient on_a(wslb.port());
  ASSERT_TRUE(activeBecomes(*backends[0], 1));

  auto r = reloadYaml(wslb, edsConfig(second));
  ASSERT_TRUE(r.ok);
  ASSERT_TRUE(waitFor([&] { return wslb.stat("cluster.pods.membership_total") == 2; }));
  EXPECT_EQ(wslb.stat("cluster.pods.update_success"), 2u);
  on_a.sendText("still here");
  EXPECT_EQ(on_a.receive(), "still here");
  WsClient on_b(wslb.port());  // the least loaded endpoint, known only from the new source
  EXPECT_EQ(on_b.backendId(), backends[1]->id());
  EXPECT_EQ(wslb.stat("cluster.pods.upstream_cx_active"), 2u);

  // The old file changes first, then the new one: only the new one's update applies.
  replaceFile(first, edsFile("2", {}));
  replaceFile(second, edsFile("2", {a, b}, 5));
  ASSERT_TRUE(waitFor([&] { return wslb.stat("cluster.pods.membership_total") == 7; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(wslb.stat("cluster.pods.membership_total"), 7u);
  EXPECT_EQ(wslb.stat("cluster.pods.update_success"), 3u);
  EXPECT_EQ(on_a.close(1000), 1000);
  EXPECT_EQ(on_b.close(1000), 1000);
  EXPECT_TRUE(waitFor([&] { return wslb.stat("cluster.pods.upstream_cx_active") == 0; }));
}

// A WebSocket backend that records each message's size and the close code it receives.
class RecordingBackend {
 public:
  RecordingBackend() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~RecordingBackend() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    if (thread_.joinable()) thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::vector<size_t> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  int closeCode() const { return close_code_; }

 private:
  void serve() {
    try {
      tcp::socket socket(io_);
      acceptor_.accept(socket);
      timeval tv{20, 0};
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      bws::stream<tcp::socket> ws(std::move(socket));
      ws.read_message_max(16 * 1024 * 1024);
      ws.accept();
      for (;;) {
        boost::beast::flat_buffer buffer;
        boost::system::error_code ec;
        ws.read(buffer, ec);
        if (ec == bws::error::closed) {
          close_code_ = ws.reason().code;
          return;
        }
        if (ec) return;
        std::lock_guard lock(mutex_);
        messages_.push_back(buffer.size());
      }
    } catch (const std::exception&) {
    }
  }
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<size_t> messages_;
  std::atomic<int> close_code_{0};
};

// Reads from `socket` until a Close frame (server to client, unmasked) arrives; returns its code.
int readCloseCode(tcp::socket& socket) {
  std::string data;
  char buf[4096];
  for (;;) {
    // The server's frames before the Close are skipped by their length.
    size_t pos = 0;
    while (data.size() >= pos + 2) {
      const auto b0 = static_cast<uint8_t>(data[pos]);
      const auto b1 = static_cast<uint8_t>(data[pos + 1]);
      size_t header = 2;
      uint64_t length = b1 & 0x7f;
      if (length == 126) {
        if (data.size() < pos + 4) break;
        length = (static_cast<uint8_t>(data[pos + 2]) << 8) | static_cast<uint8_t>(data[pos + 3]);
        header = 4;
      } else if (length == 127) {
        return -2;  // not expected in this test
      }
      if (data.size() < pos + header + length) break;
      if ((b0 & 0x0f) == 0x8 && length >= 2) {
        return (static_cast<uint8_t>(data[pos + header]) << 8) |
               static_cast<uint8_t>(data[pos + header + 1]);
      }
      pos += header + length;
    }
    boost::system::error_code ec;
    const size_t n = socket.read_some(asio::buffer(buf), ec);
    if (ec) return -1;
    data.append(buf, n);
  }
}

TEST(EdsTest, RemovedEndpointIsClosedWith1001AtFrameBoundariesBothWays) {
  RecordingBackend backend;
  const std::string dir = makeTempDir();
  const std::string path = dir + "/eds.yaml";
  writeFile(path, edsFile("1", {backend.port()}));
  InProcessWslb wslb(edsConfig(path, R"(    metadata:
      filter_metadata:
        wslb: {removed_endpoint_drain_timeout: 0s}
)"));
  ASSERT_TRUE(waitFor([&] { return wslb.stat("cluster.pods.membership_total") == 1; }));

  asio::io_context io;
  tcp::socket client(io);
  client.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), wslb.port()));
  timeval tv{20, 0};
  ::setsockopt(client.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  asio::write(client, asio::buffer(upgradeRequest("/")));
  std::string head;
  char c;
  while (head.find("\r\n\r\n") == std::string::npos && client.read_some(asio::buffer(&c, 1))) {
    head += c;
  }
  ASSERT_NE(head.find(" 101 "), std::string::npos) << head;

  // One masked binary frame of 100,000 bytes, of which only the first half is sent now.
  constexpr size_t kPayload = 100000;
  std::string frame = {static_cast<char>(0x82), static_cast<char>(0x80 | 127)};
  for (int shift = 56; shift >= 0; shift -= 8)
    frame += static_cast<char>((kPayload >> shift) & 255);
  frame += std::string("\x11\x22\x33\x44", 4);
  std::string payload(kPayload, 'x');
  const char key[4] = {0x11, 0x22, 0x33, 0x44};
  for (size_t i = 0; i < kPayload; ++i) payload[i] = static_cast<char>(payload[i] ^ key[i % 4]);
  const uint64_t sent_before = wslb.stat("cluster.pods.upstream_cx_tx_bytes_total");
  asio::write(client, asio::buffer(frame + payload.substr(0, kPayload / 2)));
  // The relay must have read that half: bytes still in its socket when the drain starts are not
  // part of a frame in flight, and would be dropped after the Close.
  ASSERT_TRUE(waitFor([&] {
    return wslb.stat("cluster.pods.upstream_cx_tx_bytes_total") >=
           sent_before + frame.size() + kPayload / 2;
  }));

  // The pod leaves the set: the drain starts at once (timeout 0s).
  replaceFile(path, edsFile("2", {}));
  // Toward the client the stream is at a boundary: its Close comes now, mid-upload.
  EXPECT_EQ(readCloseCode(client), 1001);
  // Toward the backend the Close must wait for the end of the frame in flight.
  asio::write(client, asio::buffer(payload.substr(kPayload / 2)));
  ASSERT_TRUE(waitFor([&] { return backend.closeCode() != 0; }));
  EXPECT_EQ(backend.closeCode(), 1001);
  EXPECT_EQ(backend.messages(), std::vector<size_t>{kPayload});
  // The client closes too (after the backend's Close reply, which wslb does not forward); the
  // relay ends and the slot is released.
  client.close();
  EXPECT_TRUE(waitFor([&] { return wslb.stat("cluster.pods.upstream_cx_active") == 0; }));
}

}  // namespace
}  // namespace wslb::test
