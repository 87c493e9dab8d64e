// Passive outlier detection: consecutive 5xx / gateway failures, enforcement, ejection time,
// max_ejection_percent, and ClusterState's wiring.

#include "wslb/upstream/outlier_detector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "test_util.h"
#include "wslb/upstream/cluster_state.h"

namespace wslb::upstream {
namespace {

using namespace std::chrono_literals;
using test::makeHosts;
using test::ScriptedRandom;
using test::setOf;
using Clock = OutlierDetector::Clock;

/// A detector over a fixed host list with a hand-driven clock.
struct Fixture {
  explicit Fixture(config::OutlierDetection config, int host_count = 10,
                   std::deque<uint64_t> draws = {})
      : hosts(makeHosts(host_count, config::kUnlimited)),
        set(setOf(hosts)),
        detector(
            config, [this] { return set; }, std::make_unique<ScriptedRandom>(std::move(draws)),
            [this] { return now; }) {
    detector.setEjectionListener([this](const HostSharedPtr& h) { ejected.push_back(h); });
  }
  void fail(int host, unsigned status, int times = 1) {
    for (int i = 0; i < times; ++i) {
      detector.putResult(*hosts[host], UpstreamResult::kResponse, status);
    }
  }
  bool isEjected(int host) const { return (hosts[host]->healthFlags() & kFailedOutlierCheck) != 0; }
  const OutlierDetectionStats& stats() const { return detector.stats(); }

  std::vector<HostSharedPtr> hosts;
  HostSetConstSharedPtr set;
  Clock::time_point now = Clock::time_point() + 1000s;
  std::vector<HostSharedPtr> ejected;
  OutlierDetector detector;
};

config::OutlierDetection consecutive5xx(uint32_t n) {
  config::OutlierDetection c;
  c.consecutive_5xx = n;
  c.max_ejection_percent = 100;
  c.base_ejection_time = 1000ms;
  return c;
}

TEST(OutlierDetector, EjectsAfterConsecutive5xx) {
  Fixture f(consecutive5xx(3));
  f.fail(0, 500, 2);
  EXPECT_FALSE(f.isEjected(0));
  f.fail(0, 500);
  EXPECT_TRUE(f.isEjected(0));
  EXPECT_FALSE(f.hosts[0]->eligible());
  EXPECT_EQ(f.stats().ejections_active, 1u);
  EXPECT_EQ(f.stats().ejections_enforced_total, 1u);
  EXPECT_EQ(f.stats().ejections_enforced_consecutive_5xx, 1u);
  EXPECT_EQ(f.stats().ejections_detected_consecutive_5xx, 1u);
  ASSERT_EQ(f.ejected.size(), 1u);
  EXPECT_EQ(f.ejected[0], f.hosts[0]);
  // Further failures of an ejected host eject nothing more.
  f.fail(0, 500, 10);
  EXPECT_EQ(f.stats().ejections_enforced_total, 1u);
}

TEST(OutlierDetector, SuccessesAndNon5xxAnswersResetTheRun) {
  for (unsigned reset_status : {101u, 200u, 404u, 426u}) {
    Fixture f(consecutive5xx(3));
    f.fail(0, 500, 2);
    f.fail(0, reset_status);
    f.fail(0, 500, 2);
    EXPECT_FALSE(f.isEjected(0)) << reset_status;
    EXPECT_EQ(f.hosts[0]->outlier().consecutive_5xx, 2u);
    f.fail(0, 500);
    EXPECT_TRUE(f.isEjected(0)) << reset_status;
  }
}

TEST(OutlierDetector, ConnectFailuresAndTimeoutsCountAs5xx) {
  Fixture f(consecutive5xx(3));
  f.detector.putResult(*f.hosts[0], UpstreamResult::kConnectFailed);
  f.detector.putResult(*f.hosts[0], UpstreamResult::kTimeout);
  EXPECT_EQ(f.hosts[0]->outlier().consecutive_5xx, 2u);
  EXPECT_EQ(f.hosts[0]->outlier().consecutive_gateway_failure, 2u);
  f.detector.putResult(*f.hosts[0], UpstreamResult::kConnectFailed);
  EXPECT_TRUE(f.isEjected(0));
  EXPECT_EQ(outlierHttpCode(UpstreamResult::kConnectFailed, 0), 503u);
  EXPECT_EQ(outlierHttpCode(UpstreamResult::kTimeout, 0), 504u);
}

TEST(OutlierDetector, GatewayFailuresAreDetectedButNotEnforcedByDefault) {
  config::OutlierDetection c = consecutive5xx(100);
  c.consecutive_gateway_failure = 2;  // enforcing_consecutive_gateway_failure stays 0
  Fixture f(c);
  f.fail(0, 502, 2);
  EXPECT_FALSE(f.isEjected(0));
  EXPECT_EQ(f.stats().ejections_detected_consecutive_gateway_failure, 1u);
  EXPECT_EQ(f.stats().ejections_enforced_total, 0u);
  EXPECT_EQ(f.hosts[0]->outlier().consecutive_gateway_failure, 0u);  // the run restarts
}

TEST(OutlierDetector, EnforcedGatewayFailureEjects) {
  config::OutlierDetection c = consecutive5xx(100);
  c.consecutive_gateway_failure = 3;
  c.enforcing_consecutive_gateway_failure = 100;
  Fixture f(c);
  f.fail(0, 503, 2);
  f.fail(0, 500);  // a 5xx that is not a gateway failure ends the gateway run
  f.fail(0, 504, 2);
  EXPECT_FALSE(f.isEjected(0));
  f.fail(0, 502);
  EXPECT_TRUE(f.isEjected(0));
  EXPECT_EQ(f.stats().ejections_enforced_consecutive_gateway_failure, 1u);
  EXPECT_EQ(f.stats().ejections_enforced_consecutive_5xx, 0u);
}

TEST(OutlierDetector, EnforcingPercentageIsDrawn) {
  config::OutlierDetection c = consecutive5xx(1);
  c.enforcing_consecutive_5xx = 50;
  Fixture f(c, 10, {70, 20});  // 70 % 100 >= 50: not enforced; 20 < 50: enforced
  f.fail(0, 500);
  EXPECT_FALSE(f.isEjected(0));
  EXPECT_EQ(f.stats().ejections_detected_consecutive_5xx, 1u);
  f.fail(0, 500);
  EXPECT_TRUE(f.isEjected(0));
  EXPECT_EQ(f.stats().ejections_detected_consecutive_5xx, 2u);
  EXPECT_EQ(f.stats().ejections_enforced_consecutive_5xx, 1u);
}

TEST(OutlierDetector, MaxEjectionPercentCapsEjections) {
  config::OutlierDetection c = consecutive5xx(1);
  c.max_ejection_percent = 50;
  Fixture f(c, 4);
  f.fail(0, 500);
  f.fail(1, 500);
  f.fail(2, 500);  // 3 of 4 would be 75%
  EXPECT_TRUE(f.isEjected(0));
  EXPECT_TRUE(f.isEjected(1));
  EXPECT_FALSE(f.isEjected(2));
  EXPECT_EQ(f.stats().ejections_active, 2u);
  EXPECT_EQ(f.stats().ejections_overflow, 1u);
}

TEST(OutlierDetector, DefaultPercentEjectsNothingInASmallClusterUnlessAlwaysEjectOneHost) {
  config::OutlierDetection c = consecutive5xx(1);
  c.max_ejection_percent = 10;  // Envoy's default: one of 3 hosts is 33%
  {
    Fixture f(c, 3);
    f.fail(0, 500);
    EXPECT_FALSE(f.isEjected(0));
    EXPECT_EQ(f.stats().ejections_overflow, 1u);
  }
  c.always_eject_one_host = true;
  {
    Fixture f(c, 3);
    f.fail(0, 500);
    f.fail(1, 500);
    EXPECT_TRUE(f.isEjected(0));
    EXPECT_FALSE(f.isEjected(1));
    EXPECT_EQ(f.stats().ejections_overflow, 1u);
  }
  {
    Fixture f(c, 10);  // 10 hosts: one is exactly 10%, a second would be 20%
    f.fail(0, 500);
    f.fail(1, 500);
    EXPECT_TRUE(f.isEjected(0));
    EXPECT_FALSE(f.isEjected(1));
  }
}

TEST(OutlierDetector, HostReturnsAfterBaseEjectionTimeAtASweep) {
  Fixture f(consecutive5xx(2));
  f.fail(0, 500, 2);
  ASSERT_TRUE(f.isEjected(0));
  f.now += 999ms;
  EXPECT_TRUE(f.detector.sweep().empty());
  EXPECT_TRUE(f.isEjected(0));
  f.now += 1ms;
  auto returned = f.detector.sweep();
  ASSERT_EQ(returned.size(), 1u);
  EXPECT_EQ(returned[0], f.hosts[0]);
  EXPECT_FALSE(f.isEjected(0));
  EXPECT_TRUE(f.hosts[0]->eligible());
  EXPECT_EQ(f.stats().ejections_active, 0u);
  EXPECT_EQ(f.hosts[0]->outlier().consecutive_5xx, 0u);
}

TEST(OutlierDetector, EjectionTimeGrowsWithEachEjectionAndIsCapped) {
  config::OutlierDetection c = consecutive5xx(1);
  c.max_ejection_time = 2500ms;
  Fixture f(c);
  const std::vector<Clock::duration> expected = {1000ms, 2000ms, 2500ms, 2500ms};
  for (size_t round = 0; round < expected.size(); ++round) {
    f.fail(0, 500);
    ASSERT_TRUE(f.isEjected(0)) << round;
    EXPECT_EQ(f.detector.ejectionTime(*f.hosts[0]), expected[round]) << round;
    f.now += expected[round] - 1ms;
    f.detector.sweep();
    EXPECT_TRUE(f.isEjected(0)) << round;
    f.now += 1ms;
    f.detector.sweep();
    EXPECT_FALSE(f.isEjected(0)) << round;
  }
  EXPECT_EQ(f.hosts[0]->outlier().num_ejections, 4u);
}

TEST(OutlierDetector, MultiplierDecaysWhileTheHostStaysInService) {
  Fixture f(consecutive5xx(1));
  f.fail(0, 500);
  f.now += 1s;
  f.detector.sweep();  // returned; multiplier 1
  f.fail(0, 500);
  EXPECT_EQ(f.detector.ejectionTime(*f.hosts[0]), 2000ms);
  f.now += 2s;
  f.detector.sweep();  // returned; multiplier 2
  ASSERT_FALSE(f.isEjected(0));
  f.now += 1s;         // base_ejection_time in service
  f.detector.sweep();  // 2 -> 1
  f.detector.sweep();  // 1 -> 0
  EXPECT_EQ(f.hosts[0]->outlier().eject_time_backoff, 0u);
  f.fail(0, 500);
  EXPECT_EQ(f.detector.ejectionTime(*f.hosts[0]), 1000ms);
}

TEST(OutlierDetector, EjectedHostLeavingTheSetIsForgotten) {
  Fixture f(consecutive5xx(1));
  f.fail(0, 500);
  ASSERT_EQ(f.stats().ejections_active, 1u);
  f.set = setOf({f.hosts.begin() + 1, f.hosts.end()});
  EXPECT_TRUE(f.detector.sweep().empty());
  EXPECT_EQ(f.stats().ejections_active, 0u);
  EXPECT_FALSE(f.isEjected(0));
  // A host not in the set is never ejected.
  f.fail(0, 500);
  EXPECT_FALSE(f.isEjected(0));
}

TEST(OutlierDetector, ConcurrentFailuresEjectExactlyOnce) {
  Fixture f(consecutive5xx(1000));
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        f.detector.putResult(*f.hosts[0], UpstreamResult::kConnectFailed);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(f.isEjected(0));
  EXPECT_EQ(f.stats().ejections_enforced_total, 1u);
  EXPECT_EQ(f.stats().ejections_active, 1u);
  EXPECT_EQ(f.ejected.size(), 1u);
}

TEST(ClusterStateOutlier, ReportsReachTheDetectorOnlyWhenConfigured) {
  config::Cluster plain;
  plain.name = "plain";
  auto hosts = makeHosts(2, config::kUnlimited);
  auto without = std::make_shared<ClusterState>(plain, setOf(hosts));
  EXPECT_EQ(without->outlierDetector(), nullptr);
  for (int i = 0; i < 10; ++i) without->reportUpstreamResult(*hosts[0], UpstreamResult::kTimeout);
  EXPECT_TRUE(hosts[0]->eligible());

  config::Cluster with = plain;
  with.name = "with";
  with.outlier_detection = consecutive5xx(2);
  auto cluster = std::make_shared<ClusterState>(with, setOf(hosts));
  ASSERT_NE(cluster->outlierDetector(), nullptr);
  cluster->reportUpstreamResult(*hosts[1], UpstreamResult::kResponse, 503);
  cluster->reportUpstreamResult(*hosts[1], UpstreamResult::kResponse, 503);
  EXPECT_FALSE(hosts[1]->eligible());
  // The picker skips it.
  FastRandom random(1);
  for (int i = 0; i < 20; ++i) {
    Slot slot = cluster->tryAcquire(random);
    ASSERT_TRUE(slot);
    EXPECT_EQ(&slot.host(), hosts[0].get());
  }
}

config::Endpoint endpointAt(const std::string& ip) {
  config::Endpoint e;
  e.address = {ip, 80};
  return e;
}

TEST(ClusterStateHealth, NewHostsOfAHealthCheckedClusterStartFailed) {
  config::Cluster c;
  c.name = "hc";
  c.health_check = config::HealthCheck{};
  c.endpoints.push_back(endpointAt("10.0.0.1"));
  auto cluster = std::make_shared<ClusterState>(c, buildHostSet(c, nullptr));
  auto first = cluster->hostSet()->all_hosts.at(0);
  EXPECT_NE(first->healthFlags() & kFailedActiveHealthCheck, 0u);
  first->setHealthFlag(kFailedActiveHealthCheck, false);  // its first check passed
  int notified = 0;
  cluster->setHostSetObserver([&] { ++notified; });
  cluster->updateEndpoints({endpointAt("10.0.0.1"), endpointAt("10.0.0.2")});
  EXPECT_EQ(notified, 1);
  const auto set = cluster->hostSet();
  EXPECT_EQ(set->all_hosts.at(0), first);
  EXPECT_EQ(first->healthFlags() & kFailedActiveHealthCheck, 0u);  // kept
  EXPECT_NE(set->all_hosts.at(1)->healthFlags() & kFailedActiveHealthCheck, 0u);

  config::Cluster plain;
  plain.name = "plain";
  plain.endpoints = c.endpoints;
  EXPECT_EQ(buildHostSet(plain, nullptr)->all_hosts.at(0)->healthFlags(), 0u);
}

}  // namespace
}  // namespace wslb::upstream
