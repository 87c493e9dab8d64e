// ClusterHealthChecker against real HTTP servers on 127.0.0.1: flags follow the answers, stats
// count each check, endpoints that come and go are followed.

#include "wslb/health/cluster_health_checker.h"

#include <gtest/gtest.h>

#include "health_test_util.h"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>

namespace wslb::health {
namespace {

using test::endpointAt;
using test::StatusServer;
using test::waitFor;

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

uint16_t closedPort() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();  // closed again when `a` goes
}

/// A checker on its own io thread over a cluster of the given endpoints.
struct Harness {
  /// @param health_check_ports health_check_config.port_value by serving port.
  explicit Harness(std::vector<uint16_t> ports, uint32_t unhealthy_threshold = 2,
                   uint32_t healthy_threshold = 2,
                   const std::map<uint16_t, uint16_t>& health_check_ports = {}) {
    config::Cluster c;
    c.name = "svc";
    config::HealthCheck hc;
    hc.timeout = 500ms;
    hc.interval = 50ms;
    hc.no_traffic_interval = 50ms;  // no traffic in this test
    hc.unhealthy_threshold = unhealthy_threshold;
    hc.healthy_threshold = healthy_threshold;
    hc.path = "/healthz";
    c.health_check = hc;
    for (uint16_t p : ports) {
      config::Endpoint& e = c.endpoints.emplace_back(endpointAt(p));
      if (auto it = health_check_ports.find(p); it != health_check_ports.end()) {
        e.health_check_port = it->second;
      }
    }
    cluster = std::make_shared<upstream::ClusterState>(c, upstream::buildHostSet(c, nullptr));
    checker = std::make_shared<ClusterHealthChecker>(
        io, cluster, [this](const upstream::HostSharedPtr&) { ++unhealthy_calls; });
    asio::post(io, [this] { checker->syncHosts(); });
    thread = std::thread([this] {
      auto guard = asio::make_work_guard(io);
      io.run();
    });
  }
  ~Harness() {
    asio::post(io, [this] {
      checker->stop();
      io.stop();
    });
    thread.join();
  }
  upstream::HostSharedPtr host(size_t i) { return cluster->hostSet()->all_hosts.at(i); }
  bool failed(size_t i) {
    return (host(i)->healthFlags() & upstream::kFailedActiveHealthCheck) != 0;
  }

  asio::io_context io;
  upstream::ClusterStateSharedPtr cluster;
  std::shared_ptr<ClusterHealthChecker> checker;
  std::atomic<int> unhealthy_calls{0};
  std::thread thread;
};

TEST(ClusterHealthChecker, HostsStartFailedAndPassTheirFirstCheck) {
  StatusServer server;
  Harness h({server.port()});
  EXPECT_TRUE(waitFor([&] { return !h.failed(0); }));
  const std::string request = server.lastRequest();
  EXPECT_NE(request.find("GET /healthz HTTP/1.1\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("Host: svc\r\n"), std::string::npos) << request;  // the cluster name
  EXPECT_NE(request.find("User-Agent: Envoy/HC\r\n"), std::string::npos) << request;
}

TEST(ClusterHealthChecker, BadStatusIsImmediateAndRecoveryTakesHealthyThreshold) {
  StatusServer server;
  Harness h({server.port()}, /*unhealthy_threshold=*/5, /*healthy_threshold=*/3);
  ASSERT_TRUE(waitFor([&] { return !h.failed(0); }));
  server.status = 503;
  const int before = server.requests.load();
  ASSERT_TRUE(waitFor([&] { return h.failed(0); }));
  // One 503 was enough although unhealthy_threshold is 5.
  EXPECT_LE(server.requests.load() - before, 2);
  // The callback runs right after the flag is set, on the checker's thread.
  EXPECT_TRUE(waitFor([&] { return h.unhealthy_calls.load() == 1; }));
  std::this_thread::sleep_for(50ms);  // and only once
  EXPECT_EQ(h.unhealthy_calls.load(), 1);
  server.status = 200;
  const int at_recovery = server.requests.load();
  ASSERT_TRUE(waitFor([&] { return !h.failed(0); }));
  EXPECT_GE(server.requests.load() - at_recovery, 3);
  const auto& stats = h.cluster->healthCheckStats();
  EXPECT_GE(stats.failure.load(), 1u);
  EXPECT_EQ(stats.network_failure.load(), 0u);
}

TEST(ClusterHealthChecker, ClosedPortFailsAfterUnhealthyThresholdNetworkFailures) {
  StatusServer server;
  const uint16_t closed = closedPort();
  Harness h({server.port(), closed}, /*unhealthy_threshold=*/2);
  ASSERT_TRUE(waitFor([&] { return !h.failed(0); }));
  ASSERT_TRUE(waitFor([&] { return h.cluster->healthCheckStats().network_failure.load() >= 3; }));
  EXPECT_TRUE(h.failed(1));  // never passed
  EXPECT_FALSE(h.failed(0));
  const auto& stats = h.cluster->healthCheckStats();
  // Every attempt ends in exactly one of success or failure; one check per host may be in
  // flight while the counters are read.
  EXPECT_TRUE(waitFor([&] {
    const uint64_t done = stats.success.load() + stats.failure.load();
    const uint64_t attempts = stats.attempt.load();
    return attempts >= done && attempts <= done + 2;
  }));
  EXPECT_LE(stats.network_failure.load(), stats.failure.load());
}

TEST(ClusterHealthChecker, FollowsEndpointsThatComeAndGo) {
  StatusServer a;
  StatusServer b;
  Harness h({a.port()});
  ASSERT_TRUE(waitFor([&] { return !h.failed(0); }));
  h.cluster->updateEndpoints({endpointAt(a.port()), endpointAt(b.port())});
  EXPECT_TRUE(h.failed(1));  // new: unhealthy until its first check
  asio::post(h.io, [&] { h.checker->syncHosts(); });
  EXPECT_TRUE(waitFor([&] { return !h.failed(1); }));
  h.cluster->updateEndpoints({endpointAt(b.port())});
  asio::post(h.io, [&] { h.checker->syncHosts(); });
  EXPECT_TRUE(waitFor([&] {
    std::atomic<size_t> n{99};
    asio::post(h.io, [&] { n = h.checker->sessionCount(); });
    std::this_thread::sleep_for(20ms);
    return n.load() == 1;
  }));
  const int a_requests = a.requests.load();
  std::this_thread::sleep_for(300ms);
  EXPECT_LE(a.requests.load() - a_requests, 1);  // no longer checked
}

// health_check_config.port_value: the checks go to that port, never to the serving one, and
// its answer alone decides; an update that drops it moves the checks back to the serving port.
TEST(ClusterHealthChecker, ChecksTheHealthCheckPortInsteadOfTheServingPort) {
  StatusServer serving;
  StatusServer health;
  serving.status = 503;  // would fail the host if it were checked
  Harness h({serving.port()}, /*unhealthy_threshold=*/1, /*healthy_threshold=*/1,
            {{serving.port(), health.port()}});
  EXPECT_EQ(h.host(0)->port(), serving.port());
  EXPECT_EQ(h.host(0)->healthCheckPort(), health.port());
  ASSERT_TRUE(waitFor([&] { return !h.failed(0); }));
  health.status = 500;
  ASSERT_TRUE(waitFor([&] { return h.failed(0); }));
  health.status = 200;
  ASSERT_TRUE(waitFor([&] { return !h.failed(0); }));
  EXPECT_EQ(serving.requests.load(), 0);
  EXPECT_GE(health.requests.load(), 3);

  // The same host (same address) without port_value: now the serving port answers.
  h.cluster->updateEndpoints({endpointAt(serving.port())});
  EXPECT_EQ(h.host(0)->healthCheckPort(), serving.port());
  ASSERT_TRUE(waitFor([&] { return h.failed(0); }));
  EXPECT_GE(serving.requests.load(), 1);
  serving.status = 200;
  EXPECT_TRUE(waitFor([&] { return !h.failed(0); }));
}

}  // namespace
}  // namespace wslb::health
