#pragma once
// One host's active health-check state machine and the timing rules between checks (Envoy's
// HealthCheckerImplBase semantics, no I/O).

#include <chrono>
#include <cstdint>

#include "wslb/config/bootstrap.h"
#include "wslb/upstream/random.h"

namespace wslb::health {

/// What one check came to.
enum class CheckResult {
  kSuccess,           ///< status in expected_statuses.
  kFailure,           ///< any other status: unhealthy at once (unhealthy_threshold ignored).
  kRetriableFailure,  ///< status in retriable_statuses: counts toward unhealthy_threshold.
  kNetworkFailure,    ///< connect failure, timeout, reset, bad answer: counts toward the threshold.
};

/// Whether a result changed the host's health.
enum class HealthTransition {
  kUnchanged,      ///< same health, nothing pending.
  kChangePending,  ///< same health, but a run toward the other state has started.
  kChanged,        ///< healthy <-> unhealthy.
};

/// Not thread-safe: owned by one host's check loop.
class ActiveHealthState {
 public:
  /// @param healthy the host's health now (false for a host that was never checked).
  explicit ActiveHealthState(bool healthy) : healthy_(healthy) {}

  /// Applies one result. A host's first result, if a success, makes it healthy at once (Envoy
  /// does this to start faster); otherwise healthy_threshold successes in a row are needed.
  /// kFailure makes a healthy host unhealthy at once; kNetworkFailure and kRetriableFailure
  /// only after unhealthy_threshold in a row.
  HealthTransition onResult(CheckResult result, uint32_t healthy_threshold,
                            uint32_t unhealthy_threshold);

  bool healthy() const { return healthy_; }

 private:
  bool healthy_;
  bool first_check_ = true;
  uint32_t num_healthy_ = 0;    ///< successes in a row while unhealthy.
  uint32_t num_unhealthy_ = 0;  ///< threshold-counted failures in a row while healthy.
};

/// The delay before a host's next check, before jitter (Envoy's rules):
///  - until the cluster's first upstream connection (`had_traffic` false): no_traffic_interval,
///    or no_traffic_healthy_interval for a healthy host when set;
///  - unhealthy: healthy_edge_interval while successes are accumulating (`last` kChangePending),
///    else unhealthy_interval;
///  - healthy: unhealthy_edge_interval while failures are accumulating, else interval.
std::chrono::milliseconds baseInterval(const config::HealthCheck& config, bool had_traffic,
                                       bool healthy, HealthTransition last);

/// `base` plus a random part of interval_jitter_percent of it and of interval_jitter.
std::chrono::milliseconds withJitter(std::chrono::milliseconds base,
                                     const config::HealthCheck& config, upstream::Random& random);

/// Classifies an HTTP status with expected_statuses and retriable_statuses.
CheckResult classifyStatus(const config::HealthCheck& config, unsigned status);

}  // namespace wslb::health
