#include "wslb/upstream/slot.h"

#include <gtest/gtest.h>

#include <thread>
#include <utility>

#include "test_util.h"
#include "wslb/upstream/cluster_state.h"

namespace wslb::upstream {
namespace {

using test::makeHosts;
using test::setOf;

class SlotTest : public ::testing::Test {
 protected:
  SlotTest() {
    config::Cluster config;
    config.name = "c";
    config.default_thresholds.max_connections = 100;
    hosts_ = makeHosts(1, 10);
    cluster_ = std::make_shared<ClusterState>(config, setOf(hosts_));
  }
  Host& host() { return *hosts_[0]; }

  FastRandom random_{1};
  std::vector<HostSharedPtr> hosts_;
  ClusterStateSharedPtr cluster_;
};

TEST_F(SlotTest, EmptySlot) {
  Slot slot;
  EXPECT_FALSE(slot);
  slot.reset();
  EXPECT_EQ(slot.clusterPtr(), nullptr);
}

TEST_F(SlotTest, DestructorReleasesHostAndCluster) {
  {
    Slot slot = cluster_->tryAcquire(random_);
    ASSERT_TRUE(slot);
    EXPECT_EQ(&slot.host(), &host());
    EXPECT_EQ(slot.clusterPtr(), cluster_);
    EXPECT_EQ(host().active(), 1u);
    EXPECT_EQ(cluster_->active(), 1u);
  }
  EXPECT_EQ(host().active(), 0u);
  EXPECT_EQ(cluster_->active(), 0u);
}

TEST_F(SlotTest, ResetReleasesExactlyOnce) {
  Slot keep = cluster_->tryAcquire(random_);  // so a double release would show as 0
  Slot slot = cluster_->tryAcquire(random_);
  EXPECT_EQ(host().active(), 2u);
  slot.reset();
  EXPECT_FALSE(slot);
  EXPECT_EQ(host().active(), 1u);
  EXPECT_EQ(cluster_->active(), 1u);
  slot.reset();
  EXPECT_EQ(host().active(), 1u);
  EXPECT_EQ(cluster_->active(), 1u);
}

TEST_F(SlotTest, MoveConstructionTransfersOwnership) {
  Slot keep = cluster_->tryAcquire(random_);
  Slot a = cluster_->tryAcquire(random_);
  Slot b(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_TRUE(b);
  a.reset();
  { Slot gone(std::move(a)); }
  EXPECT_EQ(host().active(), 2u);
  b.reset();
  EXPECT_EQ(host().active(), 1u);
  EXPECT_EQ(cluster_->active(), 1u);
}

TEST_F(SlotTest, MoveAssignmentReleasesTheOldReservationFirst) {
  Slot keep = cluster_->tryAcquire(random_);
  Slot a = cluster_->tryAcquire(random_);
  Slot b = cluster_->tryAcquire(random_);
  EXPECT_EQ(host().active(), 3u);
  a = std::move(b);  // a's own unit is released, b's moves into a
  EXPECT_EQ(host().active(), 2u);
  EXPECT_EQ(cluster_->active(), 2u);
  EXPECT_TRUE(a);
  EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move)
  Slot& alias = a;
  a = std::move(alias);  // self-move: nothing happens
  EXPECT_TRUE(a);
  EXPECT_EQ(host().active(), 2u);
  a = Slot();
  EXPECT_EQ(host().active(), 1u);
  EXPECT_EQ(cluster_->active(), 1u);
}

TEST_F(SlotTest, HostOnlySlot) {
  ASSERT_TRUE(host().tryAcquire());
  {
    Slot slot(hosts_[0], nullptr);
    EXPECT_TRUE(slot);
  }
  EXPECT_EQ(host().active(), 0u);
  EXPECT_EQ(cluster_->active(), 0u);
}

TEST_F(SlotTest, KeepsHostAndClusterAlive) {
  Slot slot = cluster_->tryAcquire(random_);
  std::weak_ptr<Host> weak_host = hosts_[0];
  std::weak_ptr<ClusterState> weak_cluster = cluster_;
  hosts_.clear();
  cluster_->setHostSet(makeHostSet({}));
  cluster_.reset();
  EXPECT_FALSE(weak_cluster.expired());
  EXPECT_EQ(weak_host.lock()->active(), 1u);
  auto cluster = weak_cluster.lock();
  slot.reset();
  EXPECT_EQ(weak_host.lock()->active(), 0u);
  EXPECT_EQ(cluster->active(), 0u);
}

TEST_F(SlotTest, ReleasedOnAnotherThread) {
  Slot slot = cluster_->tryAcquire(random_);
  std::thread([s = std::move(slot)]() mutable { s.reset(); }).join();
  EXPECT_EQ(host().active(), 0u);
  EXPECT_EQ(cluster_->active(), 0u);
}

TEST_F(SlotTest, ReleaseWakesTheFirstWaiter) {
  Slot slot = cluster_->tryAcquire(random_);
  int woken = 0;
  ASSERT_NE(cluster_->enqueueWaiter([&] { ++woken; }), 0u);
  ASSERT_NE(cluster_->enqueueWaiter([&] { woken += 10; }), 0u);
  slot.reset();
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(cluster_->pendingActive(), 1u);
}

}  // namespace
}  // namespace wslb::upstream
