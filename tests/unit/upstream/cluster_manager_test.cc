#include "wslb/upstream/cluster_manager.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace wslb::upstream {
namespace {

config::Cluster cluster(std::string name, std::vector<std::string> ips,
                        config::LbPolicy policy = config::LbPolicy::kLeastRequest) {
  config::Cluster c;
  c.name = std::move(name);
  c.lb_policy = policy;
  c.per_host_max_connections = 2;
  for (auto& ip : ips) {
    config::Endpoint e;
    e.address.address = std::move(ip);
    e.address.port = 8080;
    c.endpoints.push_back(std::move(e));
  }
  return c;
}

TEST(ClusterManagerTest, BuildsEveryClusterInOrder) {
  ClusterManager manager({cluster("a", {"10.0.0.1", "10.0.0.2"}), cluster("b", {"::1"})});
  ASSERT_EQ(manager.clusters().size(), 2u);
  EXPECT_EQ(manager.clusters()[0]->name(), "a");
  EXPECT_EQ(manager.clusters()[1]->name(), "b");
  EXPECT_EQ(manager.find("a"), manager.clusters()[0]);
  EXPECT_EQ(manager.find("b"), manager.clusters()[1]);
  EXPECT_EQ(manager.find("c"), nullptr);
  EXPECT_EQ(manager.find(""), nullptr);
  auto set = manager.find("a")->hostSet();
  ASSERT_EQ(set->all_hosts.size(), 2u);
  EXPECT_EQ(set->all_hosts[0]->addressString(), "10.0.0.1:8080");
  EXPECT_EQ(set->all_hosts[0]->cap(), 2u);
  EXPECT_EQ(manager.find("b")->hostSet()->all_hosts[0]->addressString(), "[::1]:8080");
}

TEST(ClusterManagerTest, ClustersAreUsable) {
  ClusterManager manager({cluster("a", {"10.0.0.1"})});
  FastRandom random(1);
  auto a = manager.find("a");
  Slot s1 = a->tryAcquire(random);
  Slot s2 = a->tryAcquire(random);
  EXPECT_TRUE(s1);
  EXPECT_TRUE(s2);
  EXPECT_FALSE(a->tryAcquire(random));  // per-host cap 2
  EXPECT_EQ(a->active(), 2u);
}

TEST(ClusterManagerTest, EmptyConfig) {
  ClusterManager manager({});
  EXPECT_TRUE(manager.clusters().empty());
  EXPECT_EQ(manager.find("a"), nullptr);
}

TEST(ClusterManagerTest, RejectsBadInput) {
  EXPECT_THROW(ClusterManager({cluster("a", {"pod-1.svc.cluster.local"})}), std::invalid_argument);
  EXPECT_THROW(ClusterManager({cluster("a", {"10.0.0.1"}), cluster("a", {"10.0.0.2"})}),
               std::invalid_argument);
  EXPECT_THROW(ClusterManager({cluster("", {"10.0.0.1"})}), std::invalid_argument);
  EXPECT_THROW(ClusterManager({cluster("a", {"10.0.0.1", "10.0.0.1"})}), std::invalid_argument);
}

}  // namespace
}  // namespace wslb::upstream
