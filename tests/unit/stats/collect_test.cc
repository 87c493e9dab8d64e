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

namespace wslb::stats {
namespace {

TEST(CollectHcmTest, UpgradeOutcomesCloseCodesAndHistograms) {
  HcmStats h("ingress");
  h.countUpgrade(UpgradeOutcome::kEstablished);
  h.countUpgrade(UpgradeOutcome::kEstablished);
  h.countUpgrade(UpgradeOutcome::kPendingTimeout);
  h.client_close_codes[closeCodeBucket(1000)] += 3;
  h.upstream_close_codes[closeCodeBucket(std::nullopt)] += 1;
  h.upstream_close_codes[closeCodeBucket(4001)] += 2;
  h.websocket_handshake_ms.record(2);
  std::vector<Stat> out;
  appendHcmStats(h, out);
  const Stat* established = find(out, "http.ingress.websocket.upgrades.established");
  ASSERT_NE(established, nullptr);
  EXPECT_EQ(established->value, 2u);
  EXPECT_EQ(established->tag_extracted_name, "http.websocket.upgrades");
  EXPECT_EQ(established->tags,
            (Tags{{"envoy_http_conn_manager_prefix", "ingress"}, {"outcome", "established"}}));
  EXPECT_EQ(find(out, "http.ingress.websocket.upgrades.pending_timeout")->value, 1u);
  EXPECT_EQ(find(out, "http.ingress.websocket.upgrades.overflow")->value, 0u);  // always there
  EXPECT_EQ(find(out, "http.ingress.websocket.closes.client.1000")->value, 3u);
  EXPECT_EQ(find(out, "http.ingress.websocket.closes.upstream.none")->value, 1u);
  EXPECT_EQ(find(out, "http.ingress.websocket.closes.upstream.4xxx")->value, 2u);
  EXPECT_EQ(find(out, "http.ingress.websocket.closes.client.1001"), nullptr);  // never seen
  const Stat* handshake = find(out, "http.ingress.websocket.handshake_ms");
  ASSERT_NE(handshake, nullptr);
  EXPECT_EQ(handshake->type, StatType::kHistogram);
  EXPECT_EQ(handshake->histogram->count, 1u);
}

TEST(CloseCodeBucketTest, Labels) {
  EXPECT_EQ(closeCodeLabel(closeCodeBucket(1000)), "1000");
  EXPECT_EQ(closeCodeLabel(closeCodeBucket(1015)), "1015");
  EXPECT_EQ(closeCodeLabel(closeCodeBucket(3000)), "3xxx");
  EXPECT_EQ(closeCodeLabel(closeCodeBucket(4999)), "4xxx");
  EXPECT_EQ(closeCodeLabel(closeCodeBucket(2000)), "other");
  EXPECT_EQ(closeCodeLabel(closeCodeBucket(std::nullopt)), "none");
}

}  // namespace
}  // namespace wslb::stats
