#include "wslb/upstream/cluster_state.h"

#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_util.h"

namespace wslb::upstream {
namespace {

using test::fill;
using test::makeHost;
using test::makeHosts;
using test::setOf;

config::Cluster clusterConfig(uint32_t max_connections, uint32_t max_pending = 1024,
                              config::LbPolicy policy = config::LbPolicy::kLeastRequest) {
  config::Cluster config;
  config.name = "backend";
  config.lb_policy = policy;
  config.default_thresholds.max_connections = max_connections;
  config.default_thresholds.max_pending_requests = max_pending;
  config.default_thresholds.max_retries = 5;
  return config;
}

config::Endpoint endpoint(std::string ip, uint32_t port) {
  config::Endpoint e;
  e.address.address = std::move(ip);
  e.address.port = port;
  return e;
}

TEST(ClusterStateTest, Accessors) {
  auto cluster = std::make_shared<ClusterState>(clusterConfig(7, 3), nullptr);
  EXPECT_EQ(cluster->name(), "backend");
  EXPECT_EQ(cluster->maxConnections(), 7u);
  EXPECT_EQ(cluster->maxPending(), 3u);
  EXPECT_EQ(cluster->maxRetries(), 5u);
  ASSERT_NE(cluster->hostSet(), nullptr);  // null becomes an empty set
  FastRandom random(1);
  EXPECT_FALSE(cluster->tryAcquire(random));
}

TEST(ClusterStateTest, ClusterCapRollsBackTheHost) {
  auto hosts = makeHosts(2, 10);
  auto cluster = std::make_shared<ClusterState>(clusterConfig(3), setOf(hosts));
  FastRandom random(2);
  std::vector<Slot> slots;
  for (int i = 0; i < 3; ++i) {
    slots.push_back(cluster->tryAcquire(random));
    ASSERT_TRUE(slots.back());
  }
  EXPECT_EQ(cluster->active(), 3u);
  const uint32_t before = hosts[0]->active() + hosts[1]->active();
  EXPECT_EQ(before, 3u);
  EXPECT_FALSE(cluster->tryAcquire(random));
  EXPECT_EQ(hosts[0]->active() + hosts[1]->active(), before);
  EXPECT_EQ(cluster->active(), 3u);
  slots.pop_back();
  EXPECT_TRUE(cluster->tryAcquire(random));
}

TEST(ClusterStateTest, HostRolledBackWhenClusterFillsAfterThePick) {
  // Drive the CAS path (not the early exit): the cluster fills while the picker chooses.
  auto hosts = makeHosts(2, 10);
  auto cluster = std::make_shared<ClusterState>(clusterConfig(1), setOf(hosts));
  Slot taken;
  class FillingRandom : public Random {
   public:
    std::function<void()> effect;
    uint64_t next() override {
      if (effect) std::exchange(effect, nullptr)();
      return 0;
    }
  } random;
  FastRandom plain(3);
  random.effect = [&] { taken = cluster->tryAcquire(plain); };  // runs inside the tie draw
  EXPECT_FALSE(cluster->tryAcquire(random));
  ASSERT_TRUE(taken);
  EXPECT_EQ(cluster->active(), 1u);
  EXPECT_EQ(hosts[0]->active() + hosts[1]->active(), 1u);  // only `taken`'s unit
}

TEST(ClusterStateTest, ExcludeIsPassedToThePicker) {
  auto hosts = makeHosts(2, 10);
  fill(*hosts[1], 5);
  auto cluster = std::make_shared<ClusterState>(clusterConfig(100), setOf(hosts));
  FastRandom random(4);
  const Host* exclude[] = {hosts[0].get()};
  Slot slot = cluster->tryAcquire(random, exclude);
  ASSERT_TRUE(slot);
  EXPECT_EQ(slot.hostPtr(), hosts[1]);
  test::drain(*hosts[1]);
}

TEST(ClusterStateTest, UsesTheConfiguredPolicy) {
  auto hosts = makeHosts(3, 10);
  fill(*hosts[0], 2);  // least-request would never pick host 0 first
  auto cluster = std::make_shared<ClusterState>(
      clusterConfig(100, 10, config::LbPolicy::kRoundRobin), setOf(hosts));
  FastRandom random(5);
  std::vector<Slot> slots;
  for (int i = 0; i < 3; ++i) slots.push_back(cluster->tryAcquire(random));
  EXPECT_EQ(slots[0].hostPtr(), hosts[0]);
  EXPECT_EQ(slots[1].hostPtr(), hosts[1]);
  EXPECT_EQ(slots[2].hostPtr(), hosts[2]);
  slots.clear();
  test::drain(*hosts[0]);
}

TEST(ClusterStateTest, NewHostSetIsUsedAtOnce) {
  auto old_hosts = makeHosts(1, 10);
  auto cluster = std::make_shared<ClusterState>(clusterConfig(100), setOf(old_hosts));
  FastRandom random(6);
  Slot first = cluster->tryAcquire(random);  // caches the snapshot on this thread
  EXPECT_EQ(first.hostPtr(), old_hosts[0]);
  auto new_host = makeHost(99, 10);
  cluster->setHostSet(setOf({new_host}));
  EXPECT_EQ(cluster->hostSet()->all_hosts[0], new_host);
  Slot second = cluster->tryAcquire(random);
  EXPECT_EQ(second.hostPtr(), new_host);
  cluster->setHostSet(makeHostSet({}));
  EXPECT_FALSE(cluster->tryAcquire(random));
}

TEST(ClusterStateTest, ClustersDoNotShareCachedSnapshots) {
  FastRandom random(7);
  for (int round = 0; round < 50; ++round) {
    // Fresh clusters each round, so addresses get reused by the allocator.
    auto a_host = makeHost(1, 10);
    auto b_host = makeHost(2, 10);
    auto a = std::make_shared<ClusterState>(clusterConfig(100), setOf({a_host}));
    auto b = std::make_shared<ClusterState>(clusterConfig(100), setOf({b_host}));
    EXPECT_EQ(a->tryAcquire(random).hostPtr(), a_host);
    EXPECT_EQ(b->tryAcquire(random).hostPtr(), b_host);
  }
}

TEST(ClusterStateTest, UpdateEndpointsReusesHostsAndRejectsBadInput) {
  auto config = clusterConfig(100);
  config.per_host_max_connections = 4;
  config.endpoints = {endpoint("10.0.0.1", 80)};
  auto cluster = std::make_shared<ClusterState>(config, buildHostSet(config, nullptr));
  FastRandom random(8);
  Slot slot = cluster->tryAcquire(random);
  HostSharedPtr host = slot.hostPtr();
  cluster->updateEndpoints({endpoint("10.0.0.2", 80), endpoint("10.0.0.1", 80)});
  auto set = cluster->hostSet();
  ASSERT_EQ(set->all_hosts.size(), 2u);
  EXPECT_EQ(set->all_hosts[1], host);
  EXPECT_EQ(host->active(), 1u);
  EXPECT_EQ(set->all_hosts[0]->cap(), 4u);

  EXPECT_THROW(cluster->updateEndpoints({endpoint("backend.svc", 80)}), std::invalid_argument);
  EXPECT_EQ(cluster->hostSet(), set);  // kept
}

// ---- pending queue ----

class PendingQueueTest : public ::testing::Test {
 protected:
  void make(uint32_t max_pending, uint32_t cap = 1) {
    hosts_ = makeHosts(1, cap);
    cluster_ = std::make_shared<ClusterState>(clusterConfig(100, max_pending), setOf(hosts_));
  }
  ClusterState::Waker record(std::string name) {
    return [this, name = std::move(name)] { woken_.push_back(name); };
  }

  FastRandom random_{9};
  std::vector<HostSharedPtr> hosts_;
  ClusterStateSharedPtr cluster_;
  std::vector<std::string> woken_;
};

TEST_F(PendingQueueTest, FifoOneWakePerRelease) {
  make(10, 3);
  std::vector<Slot> slots;
  for (int i = 0; i < 3; ++i) slots.push_back(cluster_->tryAcquire(random_));
  EXPECT_NE(cluster_->enqueueWaiter(record("a")), 0u);
  EXPECT_NE(cluster_->enqueueWaiter(record("b")), 0u);
  EXPECT_NE(cluster_->enqueueWaiter(record("c")), 0u);
  EXPECT_EQ(cluster_->pendingActive(), 3u);
  slots.pop_back();
  EXPECT_EQ(woken_, (std::vector<std::string>{"a"}));
  EXPECT_EQ(cluster_->pendingActive(), 2u);
  slots.pop_back();
  slots.pop_back();
  EXPECT_EQ(woken_, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(cluster_->pendingActive(), 0u);
}

TEST_F(PendingQueueTest, WakeOne) {
  make(10);
  EXPECT_FALSE(cluster_->wakeOne());
  cluster_->enqueueWaiter(record("a"));
  EXPECT_TRUE(cluster_->wakeOne());
  EXPECT_FALSE(cluster_->wakeOne());
  EXPECT_EQ(woken_, (std::vector<std::string>{"a"}));
}

TEST_F(PendingQueueTest, Cancel) {
  make(10);
  const auto a = cluster_->enqueueWaiter(record("a"));
  const auto b = cluster_->enqueueWaiter(record("b"));
  const auto c = cluster_->enqueueWaiter(record("c"));
  EXPECT_NE(a, b);
  EXPECT_TRUE(cluster_->cancelWaiter(a));
  EXPECT_FALSE(cluster_->cancelWaiter(a));  // already cancelled
  EXPECT_EQ(cluster_->pendingActive(), 2u);
  EXPECT_TRUE(cluster_->wakeOne());
  EXPECT_EQ(woken_, (std::vector<std::string>{"b"}));
  EXPECT_FALSE(cluster_->cancelWaiter(b));  // already woken
  EXPECT_TRUE(cluster_->cancelWaiter(c));
  EXPECT_FALSE(cluster_->cancelWaiter(0));
  EXPECT_FALSE(cluster_->cancelWaiter(12345));
  EXPECT_EQ(cluster_->pendingActive(), 0u);
  EXPECT_FALSE(cluster_->wakeOne());
}

TEST_F(PendingQueueTest, BoundedButFrontRequeueAlwaysFits) {
  make(2);
  EXPECT_NE(cluster_->enqueueWaiter(record("a")), 0u);
  EXPECT_NE(cluster_->enqueueWaiter(record("b")), 0u);
  EXPECT_EQ(cluster_->enqueueWaiter(record("c")), 0u);  // full
  EXPECT_EQ(cluster_->pendingActive(), 2u);
  EXPECT_NE(cluster_->enqueueWaiter(record("front"), /*at_front=*/true), 0u);
  EXPECT_EQ(cluster_->pendingActive(), 3u);
  cluster_->wakeOne();
  cluster_->wakeOne();
  EXPECT_EQ(woken_, (std::vector<std::string>{"front", "a"}));
  EXPECT_NE(cluster_->enqueueWaiter(record("d")), 0u);  // 1 queued, bound 2
  EXPECT_EQ(cluster_->enqueueWaiter(record("e")), 0u);
}

TEST_F(PendingQueueTest, DisabledWhenMaxPendingIsZero) {
  make(0);
  EXPECT_EQ(cluster_->enqueueWaiter(record("a")), 0u);
  EXPECT_EQ(cluster_->enqueueWaiter(record("a"), true), 0u);
  EXPECT_EQ(cluster_->pendingActive(), 0u);
  Slot slot = cluster_->tryAcquire(random_);
  auto result = cluster_->tryAcquireOrEnqueue(random_, record("b"));
  EXPECT_FALSE(result.slot);
  EXPECT_EQ(result.waiter, 0u);
}

TEST_F(PendingQueueTest, FrontRequeueGoesFirst) {
  make(10);
  cluster_->enqueueWaiter(record("a"));
  cluster_->enqueueWaiter(record("b"));
  cluster_->enqueueWaiter(record("lost-race"), true);
  while (cluster_->wakeOne()) {
  }
  EXPECT_EQ(woken_, (std::vector<std::string>{"lost-race", "a", "b"}));
}

TEST_F(PendingQueueTest, TryAcquireOrEnqueue) {
  make(10);
  auto first = cluster_->tryAcquireOrEnqueue(random_, record("unused"));
  ASSERT_TRUE(first.slot);
  EXPECT_EQ(first.waiter, 0u);
  EXPECT_EQ(cluster_->pendingActive(), 0u);

  auto second = cluster_->tryAcquireOrEnqueue(random_, record("second"));
  EXPECT_FALSE(second.slot);
  EXPECT_NE(second.waiter, 0u);
  EXPECT_EQ(cluster_->pendingActive(), 1u);
  first.slot.reset();
  EXPECT_EQ(woken_, (std::vector<std::string>{"second"}));
  // The woken waiter retries in front.
  auto retry = cluster_->tryAcquireOrEnqueue(random_, record("never"), {}, true);
  EXPECT_TRUE(retry.slot);
  EXPECT_EQ(cluster_->pendingActive(), 0u);
}

// Runs `before` / `after` around the real least-request pick, on chosen calls: lets a test put
// another worker's release at an exact point of tryAcquireOrEnqueue().
class HookedPicker : public Picker {
 public:
  std::vector<std::function<void()>> before;  // by call number
  std::vector<std::function<void()>> after;
  int calls = 0;
  HostSharedPtr pick(const HostSet& set, Random& random,
                     std::span<const Host* const> exclude) override {
    const size_t n = static_cast<size_t>(calls++);
    if (n < before.size() && before[n]) before[n]();
    HostSharedPtr host = inner_->pick(set, random, exclude);
    if (n < after.size() && after[n]) after[n]();
    return host;
  }

 private:
  PickerPtr inner_ = makeLeastRequestPicker();
};

TEST(TryAcquireOrEnqueueRaceTest, ReleaseBetweenFailedTryAndEnqueueIsNotMissed) {
  auto hosts = makeHosts(1, 1);
  auto picker = std::make_unique<HookedPicker>();
  HookedPicker& hooks = *picker;
  auto cluster =
      std::make_shared<ClusterState>(clusterConfig(100, 10), setOf(hosts), std::move(picker));
  FastRandom random(10);
  Slot held = cluster->tryAcquire(random);  // call 0
  ASSERT_TRUE(held);
  // Call 1 (the first try) sees the host full; "another worker" releases right after, while
  // nobody is queued yet, so that release wakes no one.
  hooks.after = {nullptr, [&] { held.reset(); }};
  bool woken = false;
  auto result = cluster->tryAcquireOrEnqueue(random, [&] { woken = true; });
  EXPECT_TRUE(result.slot);  // the retry after the enqueue found the freed slot
  EXPECT_EQ(result.waiter, 0u);
  EXPECT_EQ(cluster->pendingActive(), 0u);  // and withdrew the waiter
  EXPECT_FALSE(woken);
  EXPECT_EQ(hooks.calls, 3);
}

TEST(TryAcquireOrEnqueueRaceTest, WakeConsumedByASuccessfulRetryIsPassedOn) {
  auto hosts = makeHosts(1, 1);
  auto picker = std::make_unique<HookedPicker>();
  HookedPicker& hooks = *picker;
  auto cluster =
      std::make_shared<ClusterState>(clusterConfig(100, 10), setOf(hosts), std::move(picker));
  FastRandom random(11);
  Slot held = cluster->tryAcquire(random);  // call 0
  std::vector<std::string> woken;
  ASSERT_NE(cluster->enqueueWaiter([&] { woken.push_back("other"); }), 0u);
  // Call 1: the first try fails. Call 2 (the retry): just before it picks, another worker
  // releases; that wakes our waiter (queued at the front), then the retry takes the slot.
  hooks.before = {nullptr, nullptr, [&] { held.reset(); }};
  auto result = cluster->tryAcquireOrEnqueue(
      random, [&] { woken.push_back("ours"); }, {}, /*at_front=*/true);
  EXPECT_TRUE(result.slot);
  EXPECT_EQ(result.waiter, 0u);
  // Our stale wake arrived; the wake-up it carried was passed on to the next waiter.
  EXPECT_EQ(woken, (std::vector<std::string>{"ours", "other"}));
  EXPECT_EQ(cluster->pendingActive(), 0u);
}

TEST_F(PendingQueueTest, WakerMayPassTheWakeOnReentrantly) {
  make(10);
  Slot slot = cluster_->tryAcquire(random_);
  // "a" stopped waiting but its wake arrives anyway: it passes it on from inside the Waker.
  cluster_->enqueueWaiter([this] {
    woken_.push_back("a");
    cluster_->wakeOne();
  });
  cluster_->enqueueWaiter(record("b"));
  slot.reset();
  EXPECT_EQ(woken_, (std::vector<std::string>{"a", "b"}));
}

TEST_F(PendingQueueTest, NewHostSetWakesEveryWaiter) {
  make(10);
  cluster_->enqueueWaiter(record("a"));
  cluster_->enqueueWaiter(record("b"));
  cluster_->setHostSet(setOf(makeHosts(3, 1)));
  EXPECT_EQ(woken_, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(cluster_->pendingActive(), 0u);
}

}  // namespace
}  // namespace wslb::upstream
