// Admin endpoints: counts per pod equal the backends' own counts, in Envoy's formats.

#include <gtest/gtest.h>

#include <regex>

#include "test_support.h"

namespace wslb::test {
namespace {

TEST(Admin, ClustersAndPrometheusMatchBackendCounts) {
  auto backends = startEchoBackends(3);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  spec.endpoint_caps[backends[0]->port()] = 2;  // pod-1 fills first, the rest spread
  InProcessWslb lb(makeConfig(spec));
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 9; ++i) clients.push_back(std::make_unique<WsClient>(lb.port()));
  clients[8]->close(1000);
  clients.pop_back();
  ASSERT_TRUE(waitFor(
      [&] { return backends[0]->active() + backends[1]->active() + backends[2]->active() == 8; }));
  ASSERT_TRUE(waitFor([&] {
    return lb.admin("/stats").find("cluster.backend.upstream_cx_active: 8\n") != std::string::npos;
  }));

  const auto clusters = lb.admin("/clusters");
  const auto prom = lb.admin("/stats/prometheus");
  for (const auto& b : backends) {
    const std::string addr = "127.0.0.1:" + std::to_string(b->port());
    EXPECT_NE(
        clusters.find("backend::" + addr + "::cx_active::" + std::to_string(b->active()) + "\n"),
        std::string::npos)
        << clusters;
    const std::regex series(
        "envoy_cluster_endpoint_cx_active\\{envoy_cluster_name=\"backend\","
        "envoy_endpoint_address=\"" +
        addr + "\",envoy_endpoint_hostname=\"pod-[0-9]\"\\} " + std::to_string(b->active()) + "\n");
    EXPECT_TRUE(std::regex_search(prom, series)) << addr << "\n" << prom;
  }
  const std::string pod1 = "{envoy_cluster_name=\"backend\",envoy_endpoint_address=\"127.0.0.1:" +
                           std::to_string(backends[0]->port()) +
                           "\",envoy_endpoint_hostname=\"pod-1\"}";
  EXPECT_NE(prom.find("envoy_cluster_endpoint_max_connections" + pod1 + " 2\n"), std::string::npos)
      << prom;
  EXPECT_NE(prom.find("envoy_cluster_endpoint_remaining_cx" + pod1 + " 0\n"), std::string::npos);
  EXPECT_NE(clusters.find("backend::default_priority::max_connections::1024\n"), std::string::npos);
  EXPECT_NE(clusters.find("::health_flags::healthy\n"), std::string::npos);
  EXPECT_NE(clusters.find("::weight::1\n"), std::string::npos);
  EXPECT_NE(prom.find("# TYPE envoy_cluster_upstream_cx_active gauge\n"
                      "envoy_cluster_upstream_cx_active{envoy_cluster_name=\"backend\"} 8\n"),
            std::string::npos)
      << prom;
  EXPECT_NE(prom.find("envoy_cluster_upstream_cx_total{envoy_cluster_name=\"backend\"} 9\n"),
            std::string::npos);
  EXPECT_NE(prom.find("envoy_cluster_membership_total{envoy_cluster_name=\"backend\"} 3\n"),
            std::string::npos);
  EXPECT_NE(prom.find("envoy_cluster_membership_healthy{envoy_cluster_name=\"backend\"} 3\n"),
            std::string::npos);
  EXPECT_NE(prom.find("envoy_cluster_circuit_breakers_default_cx_open{envoy_cluster_name="
                      "\"backend\"} 0\n"),
            std::string::npos);
  EXPECT_NE(prom.find("envoy_cluster_circuit_breakers_default_remaining_cx{envoy_cluster_name="
                      "\"backend\"} 1016\n"),
            std::string::npos);
  EXPECT_NE(prom.find("envoy_http_downstream_cx_upgrades_active{envoy_http_conn_manager_prefix="
                      "\"ingress_ws\"} 8\n"),
            std::string::npos);
}

TEST(Admin, ReadyStatsFilterAndPostOnlyMutations) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb lb(makeConfig(spec));
  unsigned status = 0;
  EXPECT_EQ(lb.admin("/ready", "GET", &status), "LIVE\n");
  EXPECT_EQ(status, 200u);
  const auto filtered = lb.admin("/stats?filter=upstream_cx_active");
  EXPECT_EQ(filtered, "cluster.backend.upstream_cx_active: 0\n");
  EXPECT_EQ(lb.admin("/stats?usedonly").find(": 0\n"), std::string::npos);
  lb.admin("/stats?filter=(", "GET", &status);
  EXPECT_EQ(status, 400u);
  EXPECT_NE(lb.admin("/stats?format=json").find("{\"stats\":[{\"name\":"), std::string::npos);
  EXPECT_EQ(lb.admin("/quitquitquit", "GET", &status), "Method GET not allowed, POST required.");
  EXPECT_EQ(status, 405u);
  EXPECT_EQ(lb.server().state(), server::ServerState::kLive);
  lb.admin("/no/such/thing", "GET", &status);
  EXPECT_EQ(status, 404u);
}

TEST(Admin, QuitQuitQuitDrainsAndStops) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb lb(makeConfig(spec));
  unsigned status = 0;
  lb.admin("/quitquitquit", "POST", &status);
  EXPECT_EQ(status, 200u);
  lb.server().wait();
  EXPECT_EQ(lb.server().state(), server::ServerState::kStopped);
}

}  // namespace
}  // namespace wslb::test
