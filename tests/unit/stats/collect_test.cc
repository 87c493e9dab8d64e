// Cluster stats read from the live state: EDS subscription stats, and per-endpoint series that
// follow the endpoint set (including removed endpoints that still hold connections).

#include "wslb/stats/collect.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "wslb/upstream/random.h"

namespace wslb::stats {
namespace {

config::Endpoint endpoint(uint32_t port, std::string hostname = {}) {
  config::Endpoint e;
  e.address = config::SocketAddress{"127.0.0.1", port};
  e.hostname = std::move(hostname);
  return e;
}

std::shared_ptr<upstream::ClusterState> makeCluster(config::Cluster::Type type) {
  config::Cluster c;
  c.name = "pods";
  c.type = type;
  return std::make_shared<upstream::ClusterState>(c, nullptr);
}

const Stat* find(const std::vector<Stat>& stats, const std::string& flat_name) {
  auto it = std::find_if(stats.begin(), stats.end(),
                         [&](const Stat& s) { return s.flat_name == flat_name; });
  return it == stats.end() ? nullptr : &*it;
}

TEST(CollectTest, EdsClustersHaveSubscriptionStatsStaticOnesDoNot) {
  auto eds = makeCluster(config::Cluster::Type::kEds);
  eds->stats().update_success = 3;
  eds->stats().version = 42;
  std::vector<Stat> out;
  appendClusterStats(*eds, out);
  ASSERT_NE(find(out, "cluster.pods.update_success"), nullptr);
  EXPECT_EQ(find(out, "cluster.pods.update_success")->value, 3u);
  EXPECT_EQ(find(out, "cluster.pods.version")->type, StatType::kGauge);
  EXPECT_NE(find(out, "cluster.pods.init_fetch_timeout"), nullptr);

  std::vector<Stat> static_out;
  appendClusterStats(*makeCluster(config::Cluster::Type::kStatic), static_out);
  EXPECT_EQ(find(static_out, "cluster.pods.update_success"), nullptr);
}

TEST(CollectTest, EndpointSeriesFollowTheSetAndRemovedOnesLastWhileBusy) {
  auto cluster = makeCluster(config::Cluster::Type::kEds);
  cluster->updateEndpoints({endpoint(9001, "pod-a"), endpoint(9002)});
  upstream::FastRandom random(7);
  // Take a slot on 9001 (exclude 9002 so the pick is certain).
  const upstream::Host* other = cluster->hostSet()->all_hosts[1].get();
  const upstream::Host* exclude[] = {other};
  upstream::Slot slot = cluster->tryAcquire(random, exclude);
  ASSERT_TRUE(slot);

  std::vector<Stat> out;
  appendClusterStats(*cluster, out);
  const Stat* active = find(out, "cluster.pods.endpoint.127.0.0.1_9001.cx_active");
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(active->value, 1u);
  EXPECT_EQ(active->tags, (Tags{{"envoy_cluster_name", "pods"},
                                {"envoy_endpoint_address", "127.0.0.1:9001"},
                                {"envoy_endpoint_hostname", "pod-a"}}));

  // Both pods leave: the busy one keeps its series, the idle one's disappear.
  cluster->updateEndpoints({endpoint(9003)});
  out.clear();
  appendClusterStats(*cluster, out);
  ASSERT_NE(find(out, "cluster.pods.endpoint.127.0.0.1_9001.cx_active"), nullptr);
  EXPECT_EQ(find(out, "cluster.pods.endpoint.127.0.0.1_9001.cx_active")->value, 1u);
  EXPECT_EQ(find(out, "cluster.pods.endpoint.127.0.0.1_9001.healthy")->value, 0u);
  EXPECT_EQ(find(out, "cluster.pods.endpoint.127.0.0.1_9002.cx_active"), nullptr);
  EXPECT_NE(find(out, "cluster.pods.endpoint.127.0.0.1_9003.cx_active"), nullptr);
  EXPECT_EQ(find(out, "cluster.pods.membership_total")->value, 1u);

  // Its last connection ends: the series go too.
  slot.reset();
  out.clear();
  appendClusterStats(*cluster, out);
  EXPECT_EQ(find(out, "cluster.pods.endpoint.127.0.0.1_9001.cx_active"), nullptr);
}

}  // namespace
}  // namespace wslb::stats
