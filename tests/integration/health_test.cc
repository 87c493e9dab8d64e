// Active HTTP health checks and passive outlier detection end to end: real echo backends, a
// health gate whose /healthz answer the test flips, a closed port, and wslb in-process.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/error.hpp>
#include <set>
#include <string>
#include <thread>

#include "test_support.h"

namespace wslb::test {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

/// A TCP front for one echo backend: `GET /healthz` is answered here with `health_status`
/// (counted), every other connection is piped to the backend untouched (WebSockets included).
class HealthGate {
 public:
  explicit HealthGate(uint16_t backend_port)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        backend_(asio::ip::make_address("127.0.0.1"), backend_port) {
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~HealthGate() {
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return port_; }

  std::atomic<unsigned> health_status{200};
  std::atomic<uint64_t> answered_ok{0};     ///< /healthz answered with 200.
  std::atomic<uint64_t> answered_error{0};  ///< /healthz answered with anything else.

 private:
  static constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

  asio::awaitable<void> accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kAsTuple);
      if (ec) co_return;
      asio::co_spawn(io_, serve(std::make_shared<tcp::socket>(std::move(socket))), asio::detached);
    }
  }

  static asio::awaitable<void> pump(std::shared_ptr<tcp::socket> from,
                                    std::shared_ptr<tcp::socket> to) {
    std::array<char, 16384> buf;
    for (;;) {
      auto [rec, n] = co_await from->async_read_some(asio::buffer(buf), kAsTuple);
      if (rec) break;
      auto [wec, w] = co_await asio::async_write(*to, asio::buffer(buf.data(), n), kAsTuple);
      if (wec) break;
    }
    boost::system::error_code ignored;
    from->close(ignored);
    to->close(ignored);
  }

  asio::awaitable<void> serve(std::shared_ptr<tcp::socket> client) {
    asio::streambuf head;
    auto [ec, n] = co_await asio::async_read_until(*client, head, "\r\n\r\n", kAsTuple);
    if (ec) co_return;
    const std::string first(asio::buffers_begin(head.data()),
                            asio::buffers_begin(head.data()) + 13);
    if (first == "GET /healthz ") {
      const unsigned status = health_status.load();
      (status == 200 ? answered_ok : answered_error).fetch_add(1);
      const std::string reply = "HTTP/1.1 " + std::to_string(status) +
                                " X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
      co_await asio::async_write(*client, asio::buffer(reply), kAsTuple);
      co_return;
    }
    auto upstream = std::make_shared<tcp::socket>(io_);
    auto [cec] = co_await upstream->async_connect(backend_, kAsTuple);
    if (cec) co_return;
    auto [wec, w] = co_await asio::async_write(*upstream, head.data(), kAsTuple);
    if (wec) co_return;
    asio::co_spawn(io_, pump(upstream, client), asio::detached);
    co_await pump(client, upstream);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  tcp::endpoint backend_;
  uint16_t port_ = 0;
  std::thread thread_;
};

/// makeConfig() with `keys` (YAML lines indented for the cluster) added to cluster "backend".
std::string withClusterKeys(std::string yaml, const std::string& keys) {
  const std::string anchor = "    circuit_breakers:\n";
  const size_t at = yaml.find(anchor);
  EXPECT_NE(at, std::string::npos);
  yaml.insert(at, keys);
  return yaml;
}

const std::string kHealthChecks =
    "    health_checks:\n"
    "    - timeout: 1s\n"
    "      interval: 0.1s\n"
    "      no_traffic_interval: 0.1s\n"
    "      unhealthy_threshold: 2\n"
    "      healthy_threshold: 2\n"
    "      http_health_check: {path: /healthz}\n";

std::string flagsLine(uint16_t port) {
  return "backend::127.0.0.1:" + std::to_string(port) + "::health_flags::";
}

/// The health_flags value /clusters shows for the endpoint on `port` ("" if absent).
std::string healthFlags(InProcessWslb& lb, uint16_t port) {
  const std::string body = lb.admin("/clusters");
  const std::string key = flagsLine(port);
  const size_t at = body.find(key);
  if (at == std::string::npos) return "";
  const size_t end = body.find('\n', at);
  return body.substr(at + key.size(), end - at - key.size());
}

TEST(HealthChecks, FailingEndpointIsAvoidedAndComesBack) {
  auto pods = startEchoBackends(2);
  HealthGate gate1(pods[0]->port());
  HealthGate gate2(pods[1]->port());
  ConfigSpec spec;
  spec.ports = {gate1.port(), gate2.port()};
  InProcessWslb lb(withClusterKeys(makeConfig(spec), kHealthChecks));

  // Hosts start unhealthy and pass their first check.
  ASSERT_TRUE(waitFor([&] { return lb.stat("cluster.backend.health_check.healthy") == 2; }));
  EXPECT_EQ(healthFlags(lb, gate2.port()), "healthy");

  std::vector<std::unique_ptr<WsClient>> held;
  for (int i = 0; i < 4; ++i) held.push_back(std::make_unique<WsClient>(lb.port()));
  std::set<std::string> ids;
  for (const auto& c : held) ids.insert(c->backendId());
  EXPECT_EQ(ids, (std::set<std::string>{"pod-1", "pod-2"}));

  gate2.health_status = 503;
  ASSERT_TRUE(waitFor([&] { return healthFlags(lb, gate2.port()) == "/failed_active_hc"; }));
  EXPECT_EQ(healthFlags(lb, gate1.port()), "healthy");
  const std::string json = lb.admin("/clusters?format=json");
  EXPECT_NE(json.find("\"failed_active_health_check\": true"), std::string::npos) << json;
  EXPECT_EQ(lb.stat("cluster.backend.health_check.healthy"), 1u);

  // Without unhealthy_endpoint_drain_window its live WebSockets stay open.
  for (auto& c : held) {
    c->sendText("still here");
    EXPECT_EQ(c->receive(), "still here");
  }
  // New upgrades avoid it, although it holds fewer connections.
  for (int i = 0; i < 6; ++i) {
    held.push_back(std::make_unique<WsClient>(lb.port()));
    EXPECT_EQ(held.back()->backendId(), "pod-1");
  }

  gate2.health_status = 200;
  ASSERT_TRUE(waitFor([&] { return healthFlags(lb, gate2.port()) == "healthy"; }));
  // Back in service it is the least loaded endpoint: new upgrades land there.
  held.push_back(std::make_unique<WsClient>(lb.port()));
  EXPECT_EQ(held.back()->backendId(), "pod-2");

  // The checker's counters match what the gates answered (polled: a check may be in flight).
  EXPECT_TRUE(waitFor([&] {
    const uint64_t ok = gate1.answered_ok + gate2.answered_ok;
    const uint64_t bad = gate1.answered_error + gate2.answered_error;
    const uint64_t success = lb.stat("cluster.backend.health_check.success");
    const uint64_t failure = lb.stat("cluster.backend.health_check.failure");
    const uint64_t attempt = lb.stat("cluster.backend.health_check.attempt");
    return success == ok && failure == bad && attempt >= success + failure &&
           attempt <= success + failure + 2;
  }));
  EXPECT_GE(gate2.answered_error.load(), 1u);
  EXPECT_EQ(lb.stat("cluster.backend.health_check.network_failure"), 0u);
  for (auto& c : held) c->close(1000);
}

// endpoint.health_check_config.port_value: the checks go to a separate health port (a gate in
// front of nothing this test uses for traffic), and its answer alone decides; the WebSockets go
// to the serving ports.
TEST(HealthChecks, HealthCheckPortDecidesForTheServingPort) {
  auto pods = startEchoBackends(2);
  HealthGate health1(pods[0]->port());
  HealthGate health2(pods[1]->port());
  ConfigSpec spec;
  spec.ports = {pods[0]->port(), pods[1]->port()};
  spec.endpoint_health_check_ports = {{pods[0]->port(), health1.port()},
                                      {pods[1]->port(), health2.port()}};
  health2.health_status = 503;
  InProcessWslb lb(withClusterKeys(makeConfig(spec), kHealthChecks));

  ASSERT_TRUE(waitFor([&] { return lb.stat("cluster.backend.health_check.healthy") == 1; }));
  EXPECT_EQ(healthFlags(lb, pods[0]->port()), "healthy");
  EXPECT_EQ(healthFlags(lb, pods[1]->port()), "/failed_active_hc");
  std::vector<std::unique_ptr<WsClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<WsClient>(lb.port()));
    EXPECT_EQ(held.back()->backendId(), "pod-1");
  }

  health2.health_status = 200;
  ASSERT_TRUE(waitFor([&] { return healthFlags(lb, pods[1]->port()) == "healthy"; }));
  held.push_back(std::make_unique<WsClient>(lb.port()));
  EXPECT_EQ(held.back()->backendId(), "pod-2");  // the least loaded, now that it passes
  EXPECT_GE(health1.answered_ok.load(), 1u);
  EXPECT_GE(health2.answered_error.load(), 1u);
  EXPECT_EQ(lb.stat("cluster.backend.health_check.network_failure"), 0u);
  for (auto& c : held) c->close(1000);
}

TEST(HealthChecks, UnhealthyEndpointDrainWindowClosesItsWebSockets) {
  auto pods = startEchoBackends(2);
  HealthGate gate1(pods[0]->port());
  HealthGate gate2(pods[1]->port());
  ConfigSpec spec;
  spec.ports = {gate1.port(), gate2.port()};
  spec.pending_timeout = "1s";  // makeConfig's metadata line; the drain key joins it below
  std::string yaml = withClusterKeys(makeConfig(spec), kHealthChecks);
  const std::string metadata = "wslb: {pending_timeout: 1s}";
  yaml.replace(yaml.find(metadata), metadata.size(),
               "wslb: {pending_timeout: 1s, unhealthy_endpoint_drain_window: 0.2s}");
  InProcessWslb lb(yaml);
  ASSERT_TRUE(waitFor([&] { return lb.stat("cluster.backend.health_check.healthy") == 2; }));

  std::vector<std::unique_ptr<WsClient>> held;
  for (int i = 0; i < 4; ++i) held.push_back(std::make_unique<WsClient>(lb.port()));
  gate2.health_status = 500;
  ASSERT_TRUE(waitFor([&] { return healthFlags(lb, gate2.port()) == "/failed_active_hc"; }));
  for (auto& c : held) {
    c->sendText("x");
    if (c->backendId() == "pod-1") {
      EXPECT_EQ(c->receive(), "x");
      continue;
    }
    // The echo may come first; the Close 1001 follows within the window.
    boost::system::error_code ec;
    try {
      for (int i = 0; i < 3; ++i) c->receive();
    } catch (const boost::system::system_error& e) {
      ec = e.code();
    }
    EXPECT_EQ(ec, boost::beast::websocket::error::closed);
    EXPECT_EQ(c->stream().reason().code, 1001);
  }
}

// A reload that changes only the health checks of a kept cluster: added, they start on the hosts
// the cluster already has (live WebSockets stay); removed, no host keeps a failed check's flag.
TEST(HealthChecks, ReloadAddsAndRemovesHealthChecksOnKeptHosts) {
  auto pods = startEchoBackends(2);
  HealthGate gate1(pods[0]->port());
  HealthGate gate2(pods[1]->port());
  gate2.health_status = 503;
  ConfigSpec spec;
  spec.ports = {gate1.port(), gate2.port()};
  const std::string unchecked = makeConfig(spec);
  InProcessWslb lb(unchecked);
  std::vector<std::unique_ptr<WsClient>> held;
  for (int i = 0; i < 2; ++i) held.push_back(std::make_unique<WsClient>(lb.port()));
  EXPECT_NE(held[0]->backendId(), held[1]->backendId());  // no checks: both in service

  auto added = reloadYaml(lb, withClusterKeys(unchecked, kHealthChecks));
  ASSERT_TRUE(added.ok);
  ASSERT_TRUE(waitFor([&] { return healthFlags(lb, gate2.port()) == "/failed_active_hc"; }));
  ASSERT_TRUE(waitFor([&] { return healthFlags(lb, gate1.port()) == "healthy"; }));
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<WsClient>(lb.port()));
    EXPECT_EQ(held.back()->backendId(), "pod-1");
  }
  for (auto& c : held) {  // the WebSocket on the failing host was not touched
    c->sendText("kept");
    EXPECT_EQ(c->receive(), "kept");
  }

  auto removed = reloadYaml(lb, unchecked);
  ASSERT_TRUE(removed.ok);
  EXPECT_EQ(healthFlags(lb, gate2.port()), "healthy");
  const uint64_t checks = gate2.answered_error;
  // pod-2 holds 1 connection to pod-1's 4: the least loaded, and back in service.
  held.push_back(std::make_unique<WsClient>(lb.port()));
  EXPECT_EQ(held.back()->backendId(), "pod-2");
  std::this_thread::sleep_for(300ms);                  // three check intervals: none comes any more
  EXPECT_LE(gate2.answered_error.load(), checks + 1);  // at most one was in flight
  EXPECT_EQ(lb.stat("server.reload_success"), 2u);
  for (auto& c : held) c->close(1000);
}

const std::string kOutlier =
    "    outlier_detection:\n"
    "      consecutive_5xx: 3\n"
    "      interval: 0.2s\n"
    "      base_ejection_time: 1s\n"
    "      max_ejection_percent: 50\n";

TEST(OutlierDetection, RefusingEndpointIsEjectedAndReturns) {
  auto pods = startEchoBackends(2);
  const uint16_t closed = unusedPort();
  ConfigSpec spec;
  spec.ports = {pods[0]->port(), pods[1]->port(), closed};
  InProcessWslb lb(withClusterKeys(makeConfig(spec), kOutlier));
  EXPECT_EQ(healthFlags(lb, closed), "healthy");

  // Held connections keep the live pods busier than the closed one, so least-request tries it
  // first every time until it is ejected; each failed connect is retried on a live pod.
  std::vector<std::unique_ptr<WsClient>> held;
  for (int i = 0; i < 10 && healthFlags(lb, closed) == "healthy"; ++i) {
    held.push_back(std::make_unique<WsClient>(lb.port()));
  }
  ASSERT_EQ(healthFlags(lb, closed), "/failed_outlier_check");
  const std::string json = lb.admin("/clusters?format=json");
  EXPECT_NE(json.find("\"failed_outlier_check\": true"), std::string::npos);
  EXPECT_EQ(lb.stat("cluster.backend.upstream_cx_connect_fail"), 3u);
  EXPECT_EQ(lb.stat("cluster.backend.outlier_detection.ejections_active"), 1u);
  EXPECT_EQ(lb.stat("cluster.backend.outlier_detection.ejections_enforced_total"), 1u);
  EXPECT_EQ(lb.stat("cluster.backend.outlier_detection.ejections_enforced_consecutive_5xx"), 1u);
  EXPECT_EQ(lb.stat("cluster.backend.outlier_detection.ejections_detected_consecutive_5xx"), 1u);
  EXPECT_EQ(lb.stat("cluster.backend.outlier_detection.ejections_overflow"), 0u);

  // Ejected: new upgrades never try it.
  for (int i = 0; i < 5; ++i) held.push_back(std::make_unique<WsClient>(lb.port()));
  EXPECT_EQ(lb.stat("cluster.backend.upstream_cx_connect_fail"), 3u);

  // Back after base_ejection_time (1 s, checked every 0.2 s).
  const auto ejected_seen = std::chrono::steady_clock::now();
  ASSERT_TRUE(waitFor([&] { return healthFlags(lb, closed) == "healthy"; }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - ejected_seen, 4s);
  EXPECT_EQ(lb.stat("cluster.backend.outlier_detection.ejections_active"), 0u);

  // Still refusing: three more failures eject it again.
  for (int i = 0; i < 10 && healthFlags(lb, closed) == "healthy"; ++i) {
    held.push_back(std::make_unique<WsClient>(lb.port()));
  }
  EXPECT_EQ(healthFlags(lb, closed), "/failed_outlier_check");
  EXPECT_EQ(lb.stat("cluster.backend.upstream_cx_connect_fail"), 6u);
  EXPECT_EQ(lb.stat("cluster.backend.outlier_detection.ejections_enforced_total"), 2u);
  for (auto& c : held) c->close(1000);
}

TEST(OutlierDetection, FiveHundredsAnswersToTheUpgradeEject) {
  auto pods = startEchoBackends(1);
  echo::EchoServer::Options o;
  o.id = "broken";
  o.reject_status = 503;
  echo::EchoServer broken(o);
  broken.start();
  ConfigSpec spec;
  spec.ports = {pods[0]->port(), broken.port()};
  spec.max_retries = 0;
  InProcessWslb lb(withClusterKeys(makeConfig(spec), kOutlier));

  // Hold one WebSocket on pod-1 so the broken endpoint is the least loaded one. Until then a
  // tie may send an upgrade to the broken one: its 503 reaches the client and counts (a 101
  // from pod-1 resets only pod-1's run: the counts are per endpoint).
  std::vector<std::unique_ptr<WsClient>> held;
  int rejected = 0;
  for (int i = 0; i < 20 && held.empty(); ++i) {
    try {
      held.push_back(std::make_unique<WsClient>(lb.port()));
    } catch (const std::exception&) {
      ++rejected;
    }
  }
  ASSERT_EQ(held.size(), 1u);
  for (int i = 0; i < 10 && healthFlags(lb, broken.port()) == "healthy"; ++i) {
    const HttpResult r = rawRequest(lb.port(), upgradeRequest());
    if (r.status == 503) ++rejected;
  }
  EXPECT_EQ(rejected, 3);
  EXPECT_EQ(healthFlags(lb, broken.port()), "/failed_outlier_check");
  // Ejected: upgrades succeed on the healthy endpoint.
  WsClient after(lb.port());
  EXPECT_EQ(after.backendId(), "pod-1");
  EXPECT_EQ(lb.stat("cluster.backend.outlier_detection.ejections_enforced_consecutive_5xx"), 1u);
  after.close(1000);
  for (auto& c : held) c->close(1000);
}

TEST(OutlierDetection, WebSocketClosesAndNon5xxAnswersNeverEject) {
  auto pods = startEchoBackends(2);
  ConfigSpec spec;
  spec.ports = {pods[0]->port(), pods[1]->port()};
  // The strictest settings: a single failure of either kind would eject.
  InProcessWslb lb(withClusterKeys(makeConfig(spec),
                                   "    outlier_detection:\n"
                                   "      consecutive_5xx: 1\n"
                                   "      consecutive_gateway_failure: 1\n"
                                   "      enforcing_consecutive_gateway_failure: 100\n"
                                   "      max_ejection_percent: 100\n"));
  for (int i = 0; i < 40; ++i) {
    WsClient c(lb.port());
    c.sendText("m" + std::to_string(i));
    EXPECT_EQ(c.receive(), "m" + std::to_string(i));
    if (i % 4 == 3) {
      c.abort();  // a reset after the 101 is no upstream failure either
    } else {
      c.close(i % 2 == 0 ? 1000 : 1001);
    }
  }
  // Plain requests answered 200 by the backends.
  for (int i = 0; i < 5; ++i) {
    const HttpResult r =
        rawRequest(lb.port(), "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(r.status, 200u);
  }
  EXPECT_EQ(lb.stat("cluster.backend.outlier_detection.ejections_enforced_total"), 0u);
  EXPECT_EQ(lb.stat("cluster.backend.outlier_detection.ejections_detected_consecutive_5xx"), 0u);
  EXPECT_EQ(
      lb.stat("cluster.backend.outlier_detection.ejections_detected_consecutive_gateway_failure"),
      0u);
  EXPECT_EQ(lb.stat("cluster.backend.outlier_detection.ejections_active"), 0u);
  EXPECT_EQ(healthFlags(lb, pods[0]->port()), "healthy");
  EXPECT_EQ(healthFlags(lb, pods[1]->port()), "healthy");
}

}  // namespace
}  // namespace wslb::test
