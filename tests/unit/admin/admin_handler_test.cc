#include "wslb/admin/admin_handler.h"

#include <gtest/gtest.h>

#include "wslb/upstream/random.h"

namespace wslb::admin {
namespace {

namespace bhttp = boost::beast::http;

config::Cluster makeCluster() {
  config::Cluster c;
  c.name = "ws";
  c.per_host_max_connections = 3;
  c.endpoints.push_back(config::Endpoint{{"10.0.0.1", 80}, "pod-a", 2, {}, {}, 0});
  c.endpoints.push_back(
      config::Endpoint{{"10.0.0.2", 80}, "", 1, config::HealthStatus::kUnhealthy, 7, 0});
  return c;
}

http::Response get(const AdminContext& ctx, const std::string& target,
                   bhttp::verb verb = bhttp::verb::get) {
  http::Request req{verb, target, 11};
  return handleAdminRequest(ctx, req);
}

TEST(AdminHandler, ClustersShowsCountsCapsAndHealth) {
  upstream::ClusterManager clusters({makeCluster()});
  auto slot = clusters.find("ws")->tryAcquire(upstream::threadRandom());
  ASSERT_TRUE(slot);
  const auto text = renderClusters(clusters);
  EXPECT_NE(text.find("ws::default_priority::max_connections::1024\n"), std::string::npos);
  EXPECT_NE(text.find("ws::10.0.0.1:80::cx_active::1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ws::10.0.0.1:80::hostname::pod-a\n"), std::string::npos);
  EXPECT_NE(text.find("ws::10.0.0.1:80::weight::2\n"), std::string::npos);
  EXPECT_NE(text.find("ws::10.0.0.1:80::max_connections::3\n"), std::string::npos);
  EXPECT_NE(text.find("ws::10.0.0.1:80::remaining_cx::2\n"), std::string::npos);
  EXPECT_NE(text.find("ws::10.0.0.2:80::health_flags::/failed_eds_health\n"), std::string::npos);
  EXPECT_NE(text.find("ws::10.0.0.2:80::max_connections::7\n"), std::string::npos);
  slot.reset();
  EXPECT_NE(renderClusters(clusters).find("ws::10.0.0.1:80::cx_active::0\n"), std::string::npos);
}

TEST(AdminHandler, ReadyFollowsState) {
  upstream::ClusterManager clusters({makeCluster()});
  std::string state = "LIVE";
  AdminContext ctx;
  ctx.clusters = &clusters;
  ctx.state = [&] { return state; };
  EXPECT_EQ(get(ctx, "/ready").result_int(), 200u);
  state = "DRAINING";
  auto res = get(ctx, "/ready");
  EXPECT_EQ(res.result_int(), 503u);
  EXPECT_EQ(res.body(), "DRAINING\n");
}

TEST(AdminHandler, QuitNeedsPost) {
  upstream::ClusterManager clusters({makeCluster()});
  int quits = 0;
  AdminContext ctx;
  ctx.clusters = &clusters;
  ctx.quit = [&] { ++quits; };
  const auto res = get(ctx, "/quitquitquit");
  EXPECT_EQ(res.result_int(), 405u);
  EXPECT_EQ(res.body(), "Method GET not allowed, POST required.");
  EXPECT_EQ(quits, 0);
  EXPECT_EQ(get(ctx, "/quitquitquit", bhttp::verb::post).result_int(), 200u);
  EXPECT_EQ(quits, 1);
}

TEST(AdminHandler, StatsFilterIsPercentDecoded) {
  upstream::ClusterManager clusters({makeCluster()});
  AdminContext ctx;
  ctx.clusters = &clusters;
  const auto body = get(ctx, "/stats?filter=%5Ecluster%5C.ws%5C.upstream_cx_active%24").body();
  EXPECT_EQ(body, "cluster.ws.upstream_cx_active: 0\n");
  EXPECT_EQ(get(ctx, "/stats?filter=%28").result_int(), 400u);
  const auto prom = get(ctx, "/stats/prometheus").body();
  EXPECT_NE(prom.find("envoy_cluster_endpoint_healthy{envoy_cluster_name=\"ws\","
                      "envoy_endpoint_address=\"10.0.0.2:80\"} 0\n"),
            std::string::npos)
      << prom;
  EXPECT_NE(prom.find("envoy_cluster_membership_healthy{envoy_cluster_name=\"ws\"} 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace wslb::admin
