#pragma once
// Reconnect delays for control-plane streams and polls.

#include <chrono>
#include <cstdint>
#include <random>

namespace wslb::xds {

/// Jittered exponential backoff: the ceiling starts at `base` and doubles after every failure up
/// to `max`; each delay is drawn uniformly from [ceiling/2, ceiling], so replicas that lost the
/// same control plane do not come back in lockstep, and a delay is never near zero (no tight
/// reconnect loop). Envoy's defaults are base 500 ms, max 30 s.
/// Thread safety: none (one source thread owns it).
class JitteredBackoff {
 public:
  JitteredBackoff(std::chrono::milliseconds base, std::chrono::milliseconds max,
                  uint64_t seed = std::random_device{}());

  /// The delay before the next attempt; raises the ceiling for the one after.
  std::chrono::milliseconds next();
  /// Back to `base` (after a successful exchange).
  void reset() { ceiling_ = base_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds ceiling_;
  std::mt19937_64 random_;
};

}  // namespace wslb::xds
