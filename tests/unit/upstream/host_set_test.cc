#include "wslb/upstream/host_set.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "test_util.h"

namespace wslb::upstream {
namespace {

config::Endpoint endpoint(std::string ip, uint32_t port, uint32_t weight = 1,
                          config::HealthStatus health = config::HealthStatus::kUnknown,
                          std::optional<uint32_t> cap = std::nullopt, uint32_t priority = 0) {
  config::Endpoint e;
  e.address.address = std::move(ip);
  e.address.port = port;
  e.weight = weight;
  e.health = health;
  e.max_connections = cap;
  e.priority = priority;
  return e;
}

config::Cluster cluster(std::vector<config::Endpoint> endpoints, uint32_t per_host = 10) {
  config::Cluster c;
  c.name = "backend";
  c.per_host_max_connections = per_host;
  c.endpoints = std::move(endpoints);
  return c;
}

TEST(MakeHostSetTest, GroupsByPriorityKeepingEmptyOnes) {
  auto a = test::makeHost(1, 1);
  auto b = test::makeHost(2, 1);
  auto c = test::makeHost(3, 1);
  auto set = makeHostSet({{2, a}, {0, b}, {2, c}});
  ASSERT_EQ(set->hosts_by_priority.size(), 3u);
  EXPECT_EQ(set->hosts_by_priority[0], (std::vector<HostSharedPtr>{b}));
  EXPECT_TRUE(set->hosts_by_priority[1].empty());
  EXPECT_EQ(set->hosts_by_priority[2], (std::vector<HostSharedPtr>{a, c}));
  EXPECT_EQ(set->all_hosts, (std::vector<HostSharedPtr>{a, b, c}));
  EXPECT_TRUE(set->removed_hosts.empty());
}

TEST(CanonicalIpTest, AcceptsOnlyIpLiterals) {
  EXPECT_EQ(canonicalIp("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(canonicalIp("0:0:0:0:0:0:0:1"), "::1");
  EXPECT_EQ(canonicalIp("::FFFF:10.0.0.1"), "::ffff:10.0.0.1");
  EXPECT_EQ(canonicalIp("localhost"), std::nullopt);
  EXPECT_EQ(canonicalIp(""), std::nullopt);
  EXPECT_EQ(canonicalIp("10.0.0.256"), std::nullopt);
  EXPECT_EQ(canonicalIp("010.0.0.1"), std::nullopt);  // IPv4 is accepted only in canonical form
  EXPECT_EQ(canonicalIp("[::1]"), std::nullopt);
  EXPECT_EQ(canonicalIp("10.0.0.1:80"), std::nullopt);
}

TEST(BuildHostSetTest, CapFromEndpointOrCluster) {
  auto set = buildHostSet(cluster({endpoint("10.0.0.1", 80),
                                   endpoint("10.0.0.2", 80, 1, config::HealthStatus::kHealthy, 3)},
                                  7),
                          nullptr);
  ASSERT_EQ(set->all_hosts.size(), 2u);
  EXPECT_EQ(set->all_hosts[0]->cap(), 7u);
  EXPECT_EQ(set->all_hosts[1]->cap(), 3u);
  auto unlimited = buildHostSet(cluster({endpoint("10.0.0.1", 80)}, config::kUnlimited), nullptr);
  EXPECT_EQ(unlimited->all_hosts[0]->cap(), config::kUnlimited);
}

TEST(BuildHostSetTest, FieldsAndPriorities) {
  auto e = endpoint("::1", 9000, 4, config::HealthStatus::kHealthy, std::nullopt, 1);
  e.hostname = "pod-a";
  auto set = buildHostSet(cluster({endpoint("10.0.0.1", 80), e}), nullptr);
  ASSERT_EQ(set->hosts_by_priority.size(), 2u);
  const Host& h = *set->hosts_by_priority[1][0];
  EXPECT_EQ(h.ip(), "::1");
  EXPECT_EQ(h.port(), 9000);
  EXPECT_EQ(h.addressString(), "[::1]:9000");
  EXPECT_EQ(h.hostname(), "pod-a");
  EXPECT_EQ(h.weight(), 4u);
}

TEST(BuildHostSetTest, AReusedHostTakesTheNewHostname) {
  auto e = endpoint("10.0.0.1", 80);
  e.hostname = "pod-a";
  auto first = buildHostSet(cluster({e}), nullptr);
  e.hostname = "pod-a-renamed";
  auto second = buildHostSet(cluster({e}), first.get());
  ASSERT_EQ(second->all_hosts[0], first->all_hosts[0]);  // same Host, same live count
  EXPECT_EQ(second->all_hosts[0]->hostname(), "pod-a-renamed");
}

TEST(BuildHostSetTest, HealthStatusMapping) {
  using HS = config::HealthStatus;
  auto set = buildHostSet(
      cluster(
          {endpoint("10.0.0.1", 80, 1, HS::kUnknown), endpoint("10.0.0.2", 80, 1, HS::kHealthy),
           endpoint("10.0.0.3", 80, 1, HS::kUnhealthy), endpoint("10.0.0.4", 80, 1, HS::kDraining),
           endpoint("10.0.0.5", 80, 1, HS::kTimeout), endpoint("10.0.0.6", 80, 1, HS::kDegraded)}),
      nullptr);
  const auto& h = set->all_hosts;
  EXPECT_EQ(h[0]->healthFlags(), 0u);
  EXPECT_EQ(h[1]->healthFlags(), 0u);
  EXPECT_EQ(h[2]->healthFlags(), uint32_t{kFailedEdsHealth});
  EXPECT_EQ(h[3]->healthFlags(), uint32_t{kFailedEdsHealth});
  EXPECT_EQ(h[4]->healthFlags(), uint32_t{kFailedEdsHealth});
  EXPECT_EQ(h[5]->healthFlags(), uint32_t{kDegradedEdsHealth});
}

TEST(BuildHostSetTest, ReusesHostsAcrossUpdatesKeepingCounts) {
  auto first =
      buildHostSet(cluster({endpoint("10.0.0.1", 80), endpoint("10.0.0.2", 80)}, 10), nullptr);
  HostSharedPtr kept = first->all_hosts[1];
  test::fill(*kept, 4);

  using HS = config::HealthStatus;
  auto second = buildHostSet(
      cluster({endpoint("10.0.0.3", 80), endpoint("10.0.0.2", 80, 5, HS::kDegraded, 6)}, 10),
      first.get());
  ASSERT_EQ(second->all_hosts.size(), 2u);
  EXPECT_EQ(second->all_hosts[1].get(), kept.get());  // same object
  EXPECT_EQ(kept->active(), 4u);                      // live count kept
  EXPECT_EQ(kept->weight(), 5u);
  EXPECT_EQ(kept->cap(), 6u);
  EXPECT_TRUE(kept->degraded());
  EXPECT_NE(second->all_hosts[0].get(), first->all_hosts[0].get());
  EXPECT_EQ(second->all_hosts[0]->active(), 0u);

  // Health flags follow the update both ways.
  auto third = buildHostSet(cluster({endpoint("10.0.0.2", 80)}, 10), second.get());
  EXPECT_EQ(third->all_hosts[0].get(), kept.get());
  EXPECT_EQ(kept->healthFlags(), 0u);
  EXPECT_EQ(kept->cap(), 10u);
  test::drain(*kept);
}

TEST(BuildHostSetTest, MatchesCanonicalAddress) {
  auto first = buildHostSet(cluster({endpoint("0:0::1", 80)}), nullptr);
  auto second = buildHostSet(cluster({endpoint("::1", 80)}), first.get());
  EXPECT_EQ(first->all_hosts[0].get(), second->all_hosts[0].get());
  // Same IP, other port: another host.
  auto third = buildHostSet(cluster({endpoint("::1", 81)}), second.get());
  EXPECT_NE(third->all_hosts[0].get(), second->all_hosts[0].get());
}

TEST(BuildHostSetTest, RemovedHostsAreFlaggedAndKeptWhileBusy) {
  auto first = buildHostSet(cluster({endpoint("10.0.0.1", 80), endpoint("10.0.0.2", 80)}), nullptr);
  HostSharedPtr busy = first->all_hosts[0];
  HostSharedPtr idle = first->all_hosts[1];
  test::fill(*busy, 2);

  auto second = buildHostSet(cluster({endpoint("10.0.0.3", 80)}), first.get());
  EXPECT_TRUE(busy->healthFlags() & kPendingDynamicRemoval);
  EXPECT_TRUE(idle->healthFlags() & kPendingDynamicRemoval);
  EXPECT_FALSE(busy->eligible());
  // Removed by this update: both kept once.
  EXPECT_EQ(second->removed_hosts, (std::vector<HostSharedPtr>{busy, idle}));

  // Next update: only the busy one is carried on.
  auto third = buildHostSet(cluster({endpoint("10.0.0.3", 80)}), second.get());
  EXPECT_EQ(third->removed_hosts, (std::vector<HostSharedPtr>{busy}));

  // The address comes back: the same object (with its 2 live connections) is reused.
  auto fourth =
      buildHostSet(cluster({endpoint("10.0.0.3", 80), endpoint("10.0.0.1", 80)}), third.get());
  EXPECT_EQ(fourth->all_hosts[1].get(), busy.get());
  EXPECT_EQ(busy->active(), 2u);
  EXPECT_TRUE(busy->eligible());
  EXPECT_TRUE(fourth->removed_hosts.empty());

  // Drained: dropped from removed_hosts at the next update.
  auto fifth = buildHostSet(cluster({endpoint("10.0.0.3", 80)}), fourth.get());
  EXPECT_EQ(fifth->removed_hosts, (std::vector<HostSharedPtr>{busy}));
  test::drain(*busy);
  auto sixth = buildHostSet(cluster({endpoint("10.0.0.3", 80)}), fifth.get());
  EXPECT_TRUE(sixth->removed_hosts.empty());
}

TEST(BuildHostSetTest, RejectsBadInputWithoutSideEffects) {
  auto first = buildHostSet(cluster({endpoint("10.0.0.1", 80)}, 5), nullptr);
  const HostSharedPtr host = first->all_hosts[0];

  EXPECT_THROW(buildHostSet(cluster({endpoint("10.0.0.1", 80, 3), endpoint("pod.local", 80)}, 9),
                            first.get()),
               std::invalid_argument);
  EXPECT_EQ(host->cap(), 5u);  // untouched
  EXPECT_EQ(host->weight(), 1u);
  EXPECT_EQ(host->healthFlags(), 0u);

  EXPECT_THROW(buildHostSet(cluster({endpoint("10.0.0.1", 0)}), nullptr), std::invalid_argument);
  EXPECT_THROW(buildHostSet(cluster({endpoint("10.0.0.1", 65536)}), nullptr),
               std::invalid_argument);
  EXPECT_THROW(buildHostSet(cluster({endpoint("10.0.0.1", 80), endpoint("10.0.0.1", 80)}), nullptr),
               std::invalid_argument);
  try {
    buildHostSet(cluster({endpoint("10.0.0.1", 80), endpoint("example.com", 443)}), nullptr);
    FAIL() << "expected a throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("example.com"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("backend"), std::string::npos) << e.what();
  }
}

TEST(BuildHostSetTest, EmptyCluster) {
  auto set = buildHostSet(cluster({}), nullptr);
  EXPECT_TRUE(set->all_hosts.empty());
  EXPECT_TRUE(set->hosts_by_priority.empty());
}

}  // namespace
}  // namespace wslb::upstream
