// Backends that refuse, decline or die; bad requests. wslb keeps serving and counts stay exact.

#include <gtest/gtest.h>

#include <algorithm>

#include "test_support.h"

namespace wslb::test {
namespace {

TEST(Failures, ConnectRefusedGoesToTheNextPod) {
  auto backends = startEchoBackends(1);
  const uint16_t dead = unusedPort();
  ConfigSpec spec;
  spec.ports = {dead, backends[0]->port()};
  InProcessWslb lb(makeConfig(spec));
  // Connections stay open, so once pod-1 holds one, the dead pod (0 active) is always the least
  // loaded and is tried first: each upgrade fails over to pod-1.
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<WsClient>(lb.port()));
    EXPECT_EQ(clients.back()->backendId(), "pod-1");
  }
  const auto stats = lb.admin("/stats");
  // The first upgrade saw a tie (both at 0) and may have picked pod-1 directly.
  const bool three =
      stats.find("cluster.backend.upstream_cx_connect_fail: 3\n") != std::string::npos;
  const bool four =
      stats.find("cluster.backend.upstream_cx_connect_fail: 4\n") != std::string::npos;
  EXPECT_TRUE(three || four) << stats;
  EXPECT_NE(stats.find("cluster.backend.endpoint.127.0.0.1_" + std::to_string(dead) +
                       ".cx_connect_fail: " + (four ? "4" : "3") + "\n"),
            std::string::npos);
  EXPECT_NE(stats.find("cluster.backend.upstream_cx_active: 4\n"), std::string::npos);
  clients.clear();
  EXPECT_TRUE(waitFor([&] {
    return lb.admin("/stats").find("cluster.backend.upstream_cx_active: 0\n") != std::string::npos;
  }));
}

TEST(Failures, AllPodsRefusingIs503AndNoSlotLeaks) {
  ConfigSpec spec;
  spec.ports = {unusedPort(), unusedPort()};
  spec.max_retries = 5;
  InProcessWslb lb(makeConfig(spec));
  auto r = rawRequest(lb.port(), upgradeRequest());
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.headers.count("x-envoy-overloaded"), 0u);
  const auto stats = lb.admin("/stats");
  EXPECT_NE(stats.find("cluster.backend.upstream_cx_connect_fail: 2\n"), std::string::npos)
      << stats;
  EXPECT_NE(stats.find("cluster.backend.upstream_cx_active: 0\n"), std::string::npos);
}

TEST(Failures, UnhealthyEndpointsAreSkippedAndNoneHealthyIs503AtOnce) {
  auto backends = startEchoBackends(2);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  spec.max_pending = 10;
  spec.pending_timeout = "30s";
  spec.endpoint_health[backends[0]->port()] = "UNHEALTHY";
  {
    InProcessWslb lb(makeConfig(spec));
    for (int i = 0; i < 3; ++i) {
      WsClient c(lb.port());
      EXPECT_EQ(c.backendId(), "pod-2");
    }
  }
  spec.endpoint_health[backends[1]->port()] = "DRAINING";
  InProcessWslb lb(makeConfig(spec));
  const auto start = std::chrono::steady_clock::now();
  auto r = rawRequest(lb.port(), upgradeRequest());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));  // no 30 s wait
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.body, "no healthy upstream");
  EXPECT_EQ(r.headers.count("x-envoy-overloaded"), 0u);
  const auto stats = lb.admin("/stats");
  EXPECT_NE(stats.find("cluster.backend.upstream_cx_none_healthy: 1\n"), std::string::npos);
  EXPECT_NE(stats.find("cluster.backend.upstream_cx_overflow: 0\n"), std::string::npos);
  EXPECT_NE(stats.find("cluster.backend.membership_healthy: 0\n"), std::string::npos);
}

TEST(Failures, MaxRetriesAtItsLimitStillConnects) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  spec.max_retries = 4294967295u;
  InProcessWslb lb(makeConfig(spec));
  WsClient c(lb.port());
  EXPECT_EQ(c.backendId(), "pod-1");
}

TEST(Failures, NonSwitchingProtocolsAnswerPassesThrough) {
  echo::EchoServer::Options o;
  o.id = "refuser";
  o.reject_status = 403;
  echo::EchoServer backend(o);
  backend.start();
  ConfigSpec spec;
  spec.ports = {backend.port()};
  spec.per_host_max = 1;
  InProcessWslb lb(makeConfig(spec));
  for (int i = 0; i < 3; ++i) {  // the cap is 1: a leaked slot would make the 2nd a 503
    auto r = rawRequest(lb.port(), upgradeRequest());
    EXPECT_EQ(r.status, 403u);
    EXPECT_EQ(r.body, "rejected by refuser");
    EXPECT_EQ(r.headers["x-backend-id"], "refuser");
  }
  EXPECT_NE(lb.admin("/stats").find("cluster.backend.upstream_cx_active: 0\n"), std::string::npos);
}

TEST(Failures, BadRequestsGetClearStatusesAndServerKeepsServing) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb lb(makeConfig(spec));
  const uint16_t p = lb.port();

  EXPECT_EQ(rawRequest(p, "GARBAGE\r\n\r\n").status, 400u);
  EXPECT_EQ(rawRequest(p, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n").status, 400u);
  // Bad Sec-WebSocket-Key.
  EXPECT_EQ(rawRequest(p,
                       "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: "
                       "Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: "
                       "13\r\n\r\n")
                .status,
            400u);
  // Missing key.
  EXPECT_EQ(rawRequest(p,
                       "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: "
                       "Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .status,
            400u);
  // Wrong version -> 426 naming the supported one.
  auto r = rawRequest(p,
                      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: "
                      "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 8\r\n\r\n");
  EXPECT_EQ(r.status, 426u);
  EXPECT_EQ(r.headers["sec-websocket-version"], "13");
  // Upgrade on POST.
  EXPECT_EQ(rawRequest(p,
                       "POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: "
                       "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n")
                .status,
            400u);
  // Headers over 60 KiB -> 431.
  EXPECT_EQ(
      rawRequest(p, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n")
          .status,
      431u);
  // Missing Host on HTTP/1.1.
  EXPECT_EQ(rawRequest(p, "GET / HTTP/1.1\r\n\r\n").status, 400u);

  WsClient c(p);
  c.sendText("still serving");
  EXPECT_EQ(c.receive(), "still serving");
  EXPECT_NE(lb.admin("/stats").find("cluster.backend.upstream_cx_active: 1\n"), std::string::npos);
}

TEST(Failures, NoRouteIs404AndDisabledUpgradeIs403) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb lb(makeConfig(spec));
  // Route "/" catches everything here; a non-websocket upgrade is refused.
  auto r = rawRequest(lb.port(),
                      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: "
                      "Upgrade\r\n\r\n");
  EXPECT_EQ(r.status, 403u);
}

TEST(Failures, BackendKilledMidStreamReleasesSlots) {
  auto backends = startEchoBackends(2);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb lb(makeConfig(spec));
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 6; ++i) clients.push_back(std::make_unique<WsClient>(lb.port()));
  backends[0]->stop();  // closes every connection it holds
  // The clients of the dead pod see their connection end (and close their side).
  int ended = 0;
  for (auto& c : clients) {
    if (c->backendId() != "pod-1") continue;
    boost::system::error_code ec;
    boost::beast::flat_buffer b;
    c->stream().read(b, ec);
    if (ec) ++ended;
  }
  EXPECT_EQ(ended, 3);
  clients.erase(std::remove_if(clients.begin(), clients.end(),
                               [](const auto& c) { return c->backendId() == "pod-1"; }),
                clients.end());
  EXPECT_TRUE(waitFor([&] {
    return lb.admin("/stats").find("cluster.backend.upstream_cx_active: 3\n") != std::string::npos;
  }));
  WsClient fresh(lb.port());
  EXPECT_EQ(fresh.backendId(), "pod-2");
}

TEST(Failures, NoRouteMatchIs404) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  auto yaml = makeConfig(spec);
  // Restrict the only route to /ws.
  yaml.replace(yaml.find("prefix: \"/\""), 11, "prefix: \"/ws\"");
  InProcessWslb lb(yaml);
  EXPECT_EQ(rawRequest(lb.port(), upgradeRequest("/other")).status, 404u);
  WsClient c(lb.port(), "/ws/chat");
  c.sendText("ok");
  EXPECT_EQ(c.receive(), "ok");
}

}  // namespace
}  // namespace wslb::test
