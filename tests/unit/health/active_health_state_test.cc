// The per-host active health-check state machine, the timing rules and status classification.

#include "wslb/health/active_health_state.h"

#include <gtest/gtest.h>

#include <deque>

namespace wslb::health {
namespace {

using namespace std::chrono_literals;
using T = HealthTransition;
using R = CheckResult;

class FixedRandom : public upstream::Random {
 public:
  explicit FixedRandom(uint64_t value) : value_(value) {}
  uint64_t next() override { return value_; }

 private:
  uint64_t value_;
};

TEST(ActiveHealthState, FirstSuccessMakesANewHostHealthyAtOnce) {
  ActiveHealthState s(false);
  EXPECT_EQ(s.onResult(R::kSuccess, 3, 3), T::kChanged);
  EXPECT_TRUE(s.healthy());
}

TEST(ActiveHealthState, AfterAFailedFirstCheckHealthyThresholdPassesAreNeeded) {
  ActiveHealthState s(false);
  EXPECT_EQ(s.onResult(R::kNetworkFailure, 3, 2), T::kUnchanged);
  EXPECT_EQ(s.onResult(R::kSuccess, 3, 2), T::kChangePending);
  EXPECT_EQ(s.onResult(R::kSuccess, 3, 2), T::kChangePending);
  EXPECT_EQ(s.onResult(R::kSuccess, 3, 2), T::kChanged);
  EXPECT_TRUE(s.healthy());
}

TEST(ActiveHealthState, AFailureInterruptsARunOfPasses) {
  ActiveHealthState s(false);
  s.onResult(R::kFailure, 2, 2);
  EXPECT_EQ(s.onResult(R::kSuccess, 2, 2), T::kChangePending);
  EXPECT_EQ(s.onResult(R::kNetworkFailure, 2, 2), T::kUnchanged);
  EXPECT_EQ(s.onResult(R::kSuccess, 2, 2), T::kChangePending);
  EXPECT_EQ(s.onResult(R::kSuccess, 2, 2), T::kChanged);
}

TEST(ActiveHealthState, NetworkFailuresNeedUnhealthyThresholdInARow) {
  ActiveHealthState s(true);
  EXPECT_EQ(s.onResult(R::kNetworkFailure, 1, 3), T::kChangePending);
  EXPECT_EQ(s.onResult(R::kNetworkFailure, 1, 3), T::kChangePending);
  EXPECT_EQ(s.onResult(R::kSuccess, 1, 3), T::kUnchanged);  // the run starts again
  EXPECT_EQ(s.onResult(R::kNetworkFailure, 1, 3), T::kChangePending);
  EXPECT_EQ(s.onResult(R::kRetriableFailure, 1, 3), T::kChangePending);
  EXPECT_TRUE(s.healthy());
  EXPECT_EQ(s.onResult(R::kNetworkFailure, 1, 3), T::kChanged);
  EXPECT_FALSE(s.healthy());
}

TEST(ActiveHealthState, AnUnexpectedStatusIsUnhealthyAtOnce) {
  ActiveHealthState s(true);
  EXPECT_EQ(s.onResult(R::kFailure, 1, 5), T::kChanged);
  EXPECT_FALSE(s.healthy());
}

TEST(ActiveHealthState, ThresholdOfOne) {
  ActiveHealthState s(true);
  s.onResult(R::kSuccess, 1, 1);  // first check, already healthy
  EXPECT_EQ(s.onResult(R::kNetworkFailure, 1, 1), T::kChanged);
  EXPECT_EQ(s.onResult(R::kSuccess, 1, 1), T::kChanged);
}

config::HealthCheck timing() {
  config::HealthCheck c;
  c.interval = 1000ms;
  c.no_traffic_interval = 60000ms;
  return c;
}

TEST(HealthCheckTiming, NoTrafficIntervalUntilTheFirstConnection) {
  config::HealthCheck c = timing();
  EXPECT_EQ(baseInterval(c, false, true, T::kUnchanged), 60000ms);
  EXPECT_EQ(baseInterval(c, false, false, T::kUnchanged), 60000ms);
  c.no_traffic_healthy_interval = 90000ms;
  EXPECT_EQ(baseInterval(c, false, true, T::kUnchanged), 90000ms);
  EXPECT_EQ(baseInterval(c, false, false, T::kUnchanged), 60000ms);
}

TEST(HealthCheckTiming, IntervalsByStateWithTraffic) {
  config::HealthCheck c = timing();
  EXPECT_EQ(baseInterval(c, true, true, T::kUnchanged), 1000ms);
  EXPECT_EQ(baseInterval(c, true, true, T::kChangePending), 1000ms);
  EXPECT_EQ(baseInterval(c, true, false, T::kChanged), 1000ms);
  c.unhealthy_interval = 5000ms;
  EXPECT_EQ(baseInterval(c, true, false, T::kChanged), 5000ms);
  EXPECT_EQ(baseInterval(c, true, true, T::kChangePending), 5000ms);  // edge defaults to it
  EXPECT_EQ(baseInterval(c, true, false, T::kChangePending), 1000ms);
  c.unhealthy_edge_interval = 200ms;
  c.healthy_edge_interval = 300ms;
  EXPECT_EQ(baseInterval(c, true, true, T::kChangePending), 200ms);
  EXPECT_EQ(baseInterval(c, true, false, T::kChangePending), 300ms);
  EXPECT_EQ(baseInterval(c, true, true, T::kChanged), 1000ms);
}

TEST(HealthCheckTiming, JitterStaysWithinItsBounds) {
  config::HealthCheck c = timing();
  FixedRandom big(~uint64_t{0});
  EXPECT_EQ(withJitter(1000ms, c, big), 1000ms);
  c.interval_jitter = 100ms;
  c.interval_jitter_percent = 10;
  FixedRandom zero(0);
  EXPECT_EQ(withJitter(1000ms, c, zero), 1000ms);
  for (uint64_t draw : {1ull, 99ull, 12345ull, ~0ull}) {
    FixedRandom r(draw);
    const auto d = withJitter(1000ms, c, r);
    EXPECT_GE(d, 1000ms);
    EXPECT_LT(d, 1200ms);
  }
}

TEST(HealthCheckStatus, DefaultExpectsOnly200) {
  config::HealthCheck c;
  EXPECT_EQ(classifyStatus(c, 200), R::kSuccess);
  EXPECT_EQ(classifyStatus(c, 204), R::kFailure);
  EXPECT_EQ(classifyStatus(c, 503), R::kFailure);
}

TEST(HealthCheckStatus, RangesAreHalfOpen) {
  config::HealthCheck c;
  c.expected_statuses = {{200, 300}, {418, 419}};
  c.retriable_statuses = {{503, 505}};
  EXPECT_EQ(classifyStatus(c, 200), R::kSuccess);
  EXPECT_EQ(classifyStatus(c, 299), R::kSuccess);
  EXPECT_EQ(classifyStatus(c, 300), R::kFailure);
  EXPECT_EQ(classifyStatus(c, 418), R::kSuccess);
  EXPECT_EQ(classifyStatus(c, 503), R::kRetriableFailure);
  EXPECT_EQ(classifyStatus(c, 504), R::kRetriableFailure);
  EXPECT_EQ(classifyStatus(c, 505), R::kFailure);
}

}  // namespace
}  // namespace wslb::health
