// The global downstream connection limit: exact under concurrency, units given back exactly once.

#include "wslb/relay/connection_limit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "wslb/relay/connection_tracker.h"

namespace wslb::relay {
namespace {

TEST(DownstreamConnectionLimitTest, AcquiresUpToTheMaximumOnly) {
  DownstreamConnectionLimit limit(2);
  EXPECT_TRUE(limit.enabled());
  EXPECT_TRUE(limit.tryAcquire());
  EXPECT_TRUE(limit.tryAcquire());
  EXPECT_FALSE(limit.tryAcquire());
  EXPECT_EQ(limit.active(), 2u);
  limit.release();
  EXPECT_EQ(limit.active(), 1u);
  EXPECT_TRUE(limit.tryAcquire());
  EXPECT_FALSE(limit.tryAcquire());
}

TEST(DownstreamConnectionLimitTest, ZeroMeansNoLimitAndNoCounting) {
  DownstreamConnectionLimit limit(0);
  EXPECT_FALSE(limit.enabled());
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limit.tryAcquire());
  EXPECT_EQ(limit.active(), 0u);
  auto [admission, admitted] = ConnectionAdmission::tryTake(limit);
  EXPECT_TRUE(admitted);
  EXPECT_FALSE(admission);  // nothing held, nothing to give back
}

TEST(DownstreamConnectionLimitTest, ConcurrentAcquiresNeverExceedTheMaximum) {
  constexpr uint64_t kMax = 37;
  constexpr int kThreads = 4;
  constexpr int kRounds = 20000;
  DownstreamConnectionLimit limit(kMax);
  std::atomic<uint64_t> held{0};
  std::atomic<uint64_t> peak{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        if (!limit.tryAcquire()) continue;
        const uint64_t now = held.fetch_add(1) + 1;
        uint64_t seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        held.fetch_sub(1);
        limit.release();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(peak.load(), kMax);
  EXPECT_EQ(limit.active(), 0u);
}

TEST(DownstreamConnectionLimitTest, AdmissionsGiveTheirUnitBackExactlyOnce) {
  DownstreamConnectionLimit limit(1);
  {
    auto [a, admitted] = ConnectionAdmission::tryTake(limit);
    ASSERT_TRUE(admitted);
    EXPECT_TRUE(a);
    auto [b, b_admitted] = ConnectionAdmission::tryTake(limit);
    EXPECT_FALSE(b_admitted);
    EXPECT_FALSE(b);
    ConnectionAdmission moved = std::move(a);
    EXPECT_EQ(limit.active(), 1u);
    moved.reset();
    moved.reset();
    EXPECT_EQ(limit.active(), 0u);
  }
  EXPECT_EQ(limit.active(), 0u);
}

TEST(DownstreamConnectionLimitTest, GuardReleasesGaugeAndUnitTogether) {
  DownstreamConnectionLimit limit(3);
  std::atomic<int64_t> gauge{0};
  {
    auto [admission, admitted] = ConnectionAdmission::tryTake(limit);
    ASSERT_TRUE(admitted);
    DownstreamCxGuard guard(gauge, std::move(admission));
    EXPECT_EQ(gauge.load(), 1);
    EXPECT_EQ(limit.active(), 1u);
    DownstreamCxGuard moved = std::move(guard);  // session -> relay
    guard.reset();                               // the moved-from guard holds nothing
    EXPECT_EQ(gauge.load(), 1);
    EXPECT_EQ(limit.active(), 1u);
  }
  EXPECT_EQ(gauge.load(), 0);
  EXPECT_EQ(limit.active(), 0u);
}

TEST(DownstreamConnectionLimitTest, TrackerHandsTheAcceptedUnitToOneTaker) {
  DownstreamConnectionLimit limit(2);
  ConnectionTracker tracker;
  tracker.setAcceptedAdmission(ConnectionAdmission::tryTake(limit).first);
  EXPECT_EQ(limit.active(), 1u);
  ConnectionAdmission taken = tracker.takeAcceptedAdmission();
  EXPECT_TRUE(taken);
  EXPECT_FALSE(tracker.takeAcceptedAdmission());  // taken once only
  // A unit nobody took is given back when the next one is set.
  tracker.setAcceptedAdmission(ConnectionAdmission::tryTake(limit).first);
  tracker.setAcceptedAdmission(ConnectionAdmission{});
  EXPECT_EQ(limit.active(), 1u);
  taken.reset();
  EXPECT_EQ(limit.active(), 0u);
}

TEST(DownstreamConnectionLimitTest, OverflowCountersPerListenerAreStats) {
  DownstreamConnectionLimit limit(1);
  auto& a = limit.listenerOverflowCounter("127.0.0.1_10000");
  auto& again = limit.listenerOverflowCounter("127.0.0.1_10000");
  EXPECT_EQ(&a, &again);
  limit.listenerOverflowCounter("[__1]_10001").fetch_add(2);
  a.fetch_add(5);
  std::vector<stats::Stat> out;
  limit.appendStats(out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].flat_name, "listener.127.0.0.1_10000.downstream_global_cx_overflow");
  EXPECT_EQ(out[0].tag_extracted_name, "listener.downstream_global_cx_overflow");
  EXPECT_EQ(out[0].tags, (stats::Tags{{"envoy_listener_address", "127.0.0.1_10000"}}));
  EXPECT_EQ(out[0].value, 5u);
  EXPECT_EQ(out[1].flat_name, "listener.[__1]_10001.downstream_global_cx_overflow");
  EXPECT_EQ(out[1].value, 2u);
}

}  // namespace
}  // namespace wslb::relay
