// Many threads acquiring and releasing against small caps: the caps must hold at every instant
// and every count must return to zero.

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "test_util.h"
#include "wslb/upstream/cluster_state.h"

namespace wslb::upstream {
namespace {

constexpr int kThreads = 8;
constexpr int kOpsPerThread = 200'000;

struct StressParam {
  config::LbPolicy policy;
  int hosts;  // 10 = exact path; 64 = sampled path with fallback
};

class CapStressTest : public ::testing::TestWithParam<StressParam> {};

TEST_P(CapStressTest, CapsHoldAndCountsReturnToZero) {
  const StressParam param = GetParam();
  config::Cluster config;
  config.name = "stress";
  config.lb_policy = param.policy;
  std::vector<uint32_t> caps;
  uint32_t total_cap = 0;
  for (int i = 0; i < param.hosts; ++i) {
    caps.push_back(1 + i % 4);
    total_cap += caps.back();
    config::Endpoint e;
    e.address.address = "10.0.0." + std::to_string(i + 1);
    e.address.port = 80;
    e.max_connections = caps.back();
    if (i % 5 == 4) e.health = config::HealthStatus::kDegraded;
    config.endpoints.push_back(e);
  }
  // Cluster cap below the sum of host caps, so both limits bite. With many hosts the cluster cap
  // is close to the sum, so hosts fill up and the sampled picker falls back to its scan.
  config.default_thresholds.max_connections = param.hosts <= 32 ? total_cap * 3 / 5 : total_cap - 4;
  const uint32_t cluster_cap = config.default_thresholds.max_connections;
  auto cluster = std::make_shared<ClusterState>(config, buildHostSet(config, nullptr));

  std::unordered_map<const Host*, int> index;
  for (int i = 0; i < param.hosts; ++i) index[cluster->hostSet()->all_hosts[i].get()] = i;
  std::vector<std::atomic<int>> observed(param.hosts);
  std::atomic<int> cluster_observed{0};
  std::atomic<int> violations{0};
  std::atomic<uint64_t> acquired{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<bool> done{false};

  // Endpoint updates run concurrently: same addresses and caps, changing weights and health, so
  // Hosts are reused and snapshots replaced while workers pick.
  std::thread control([&] {
    FastRandom random(99);
    uint32_t round = 0;
    while (!done.load()) {
      auto endpoints = config.endpoints;
      for (auto& e : endpoints) {
        e.weight = 1 + static_cast<uint32_t>(random.next() % 4);
        if (random.next() % 8 == 0) e.health = config::HealthStatus::kDegraded;
      }
      cluster->updateEndpoints(endpoints);
      ++round;
      std::this_thread::yield();
    }
    EXPECT_GT(round, 0u);
  });

  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      FastRandom random(1000 + t);
      std::vector<Slot> held;
      // Together the threads can hold more than the capacity.
      const size_t max_held = 2 * total_cap / kThreads + 1;
      auto release_one = [&](size_t i) {
        observed[index.at(&held[i].host())].fetch_sub(1);
        cluster_observed.fetch_sub(1);
        held[i] = std::move(held.back());
        held.pop_back();
      };
      for (int op = 0; op < kOpsPerThread; ++op) {
        const uint64_t r = random.next();
        if (held.empty() || (held.size() < max_held && (r & 1) == 0)) {
          // Now and then exclude a host, as a retry after a connect failure would.
          const Host* exclude[1] = {held.empty() ? nullptr : &held[0].host()};
          const bool use_exclude = (r & 6) == 0;
          Slot slot =
              cluster->tryAcquire(random, use_exclude ? std::span<const Host* const>(exclude)
                                                      : std::span<const Host* const>());
          if (!slot) {
            refused.fetch_add(1, std::memory_order_relaxed);
            continue;
          }
          if (use_exclude && &slot.host() == exclude[0]) violations.fetch_add(1);
          const int i = index.at(&slot.host());
          if (observed[i].fetch_add(1) + 1 > static_cast<int>(caps[i])) violations.fetch_add(1);
          if (cluster_observed.fetch_add(1) + 1 > static_cast<int>(cluster_cap)) {
            violations.fetch_add(1);
          }
          acquired.fetch_add(1, std::memory_order_relaxed);
          held.push_back(std::move(slot));
        } else {
          release_one((r >> 8) % held.size());
        }
      }
      while (!held.empty()) release_one(held.size() - 1);
    });
  }
  for (auto& w : workers) w.join();
  done = true;
  control.join();

  EXPECT_EQ(violations.load(), 0);
  EXPECT_GT(acquired.load(), 0u);
  EXPECT_GT(refused.load(), 0u);  // the caps were actually reached
  EXPECT_EQ(cluster->active(), 0u);
  EXPECT_EQ(cluster_observed.load(), 0);
  for (int i = 0; i < param.hosts; ++i) {
    EXPECT_EQ(observed[i].load(), 0) << i;
    EXPECT_EQ(cluster->hostSet()->all_hosts[i]->active(), 0u) << i;
  }
}

std::string paramName(const ::testing::TestParamInfo<StressParam>& info) {
  std::string policy = info.param.policy == config::LbPolicy::kLeastRequest ? "LeastRequest"
                       : info.param.policy == config::LbPolicy::kRoundRobin ? "RoundRobin"
                                                                            : "Random";
  return policy + std::to_string(info.param.hosts) + "Hosts";
}

INSTANTIATE_TEST_SUITE_P(Policies, CapStressTest,
                         ::testing::Values(StressParam{config::LbPolicy::kLeastRequest, 10},
                                           StressParam{config::LbPolicy::kLeastRequest, 64},
                                           StressParam{config::LbPolicy::kRoundRobin, 10},
                                           StressParam{config::LbPolicy::kRandom, 64}),
                         paramName);

// Waiters follow the documented protocol; a lost wake-up would leave every thread waiting with
// nobody holding a slot, which the watchdog below turns into a failure instead of a hang.
TEST(PendingStressTest, NoWakeUpIsLost) {
  constexpr int kIterations = 20'000;
  config::Cluster config;
  config.name = "pending";
  config.per_host_max_connections = 1;
  config.default_thresholds.max_connections = 2;
  config.default_thresholds.max_pending_requests = 4;  // fewer than the threads: overflow too
  for (int i = 1; i <= 3; ++i) {
    config::Endpoint e;
    e.address.address = "10.0.0." + std::to_string(i);
    e.address.port = 80;
    config.endpoints.push_back(e);
  }
  auto cluster = std::make_shared<ClusterState>(config, buildHostSet(config, nullptr));
  std::atomic<uint64_t> progress{0};
  std::atomic<int> stalls{0};
  std::atomic<int> holders{0};
  std::atomic<int> violations{0};
  std::atomic<uint64_t> waits{0};
  std::atomic<uint64_t> overflows{0};

  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      FastRandom random(2000 + t);
      for (int it = 0; it < kIterations; ++it) {
        bool front = false;
        while (true) {
          auto woken = std::make_shared<std::atomic<bool>>(false);
          auto result = cluster->tryAcquireOrEnqueue(
              random, [woken] { woken->store(true); }, {}, front);
          if (result.slot) {
            if (holders.fetch_add(1) + 1 > 2) violations.fetch_add(1);
            for (int spin = static_cast<int>(random.next() % 4); spin > 0; --spin) {
              std::this_thread::yield();
            }
            holders.fetch_sub(1);
            result.slot.reset();
            progress.fetch_add(1);
            break;
          }
          if (result.waiter == 0) {
            overflows.fetch_add(1, std::memory_order_relaxed);
            front = false;
            std::this_thread::yield();
            continue;
          }
          waits.fetch_add(1, std::memory_order_relaxed);
          // Watchdog: give up only after a long stretch in which nobody made progress.
          uint64_t seen = progress.load();
          long idle = 0;
          while (!woken->load()) {
            std::this_thread::yield();
            const uint64_t now = progress.load();
            if (now != seen) {
              seen = now;
              idle = 0;
            } else if (++idle > 2'000'000) {
              stalls.fetch_add(1);
              if (!cluster->cancelWaiter(result.waiter)) cluster->wakeOne();
              break;
            }
          }
          front = true;  // woken (or gave up): retry, keeping the place in the queue
        }
      }
    });
  }
  for (auto& w : workers) w.join();

  EXPECT_EQ(stalls.load(), 0);
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(progress.load(), static_cast<uint64_t>(kThreads) * kIterations);
  EXPECT_GT(waits.load(), 0u);
  EXPECT_EQ(cluster->active(), 0u);
  EXPECT_EQ(cluster->pendingActive(), 0u);
  for (const auto& h : cluster->hostSet()->all_hosts) EXPECT_EQ(h->active(), 0u);
}

}  // namespace
}  // namespace wslb::upstream
