#pragma once
// Counters of a cluster's active health checker and outlier detector (Envoy's names).

#include <atomic>
#include <cstdint>

namespace wslb::upstream {

/// cluster.<name>.health_check.*: written by the health checker's thread, read by stats/admin.
/// The `healthy` gauge is not kept here: it is counted from the hosts' flags when read.
struct HealthCheckStats {
  std::atomic<uint64_t> attempt{0};          ///< checks started.
  std::atomic<uint64_t> success{0};          ///< checks passed.
  std::atomic<uint64_t> failure{0};          ///< checks failed, network failures included.
  std::atomic<uint64_t> network_failure{0};  ///< connect, timeout, reset, unparsable answer.

  /// Zeroes every counter (admin POST /reset_counters). Any thread.
  void resetCounters() {
    for (auto* c : {&attempt, &success, &failure, &network_failure}) {
      c->store(0, std::memory_order_relaxed);
    }
  }
};

/// cluster.<name>.outlier_detection.*: written by workers (ejections) and the detector's
/// interval sweep, read by stats/admin.
struct OutlierDetectionStats {
  std::atomic<uint64_t> ejections_active{0};  ///< gauge: hosts ejected now.
  std::atomic<uint64_t> ejections_overflow{0};
  std::atomic<uint64_t> ejections_enforced_total{0};
  std::atomic<uint64_t> ejections_enforced_consecutive_5xx{0};
  std::atomic<uint64_t> ejections_detected_consecutive_5xx{0};
  std::atomic<uint64_t> ejections_enforced_consecutive_gateway_failure{0};
  std::atomic<uint64_t> ejections_detected_consecutive_gateway_failure{0};

  /// Zeroes every counter (not the ejections_active gauge). Any thread.
  void resetCounters() {
    for (auto* c :
         {&ejections_overflow, &ejections_enforced_total, &ejections_enforced_consecutive_5xx,
          &ejections_detected_consecutive_5xx, &ejections_enforced_consecutive_gateway_failure,
          &ejections_detected_consecutive_gateway_failure}) {
      c->store(0, std::memory_order_relaxed);
    }
  }
};

}  // namespace wslb::upstream
