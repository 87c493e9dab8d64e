#pragma once
// Passive outlier detection for one cluster: consecutive 5xx and consecutive gateway failures
// (Envoy's OutlierDetection without split_external_local_origin_errors).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "wslb/config/bootstrap.h"
#include "wslb/upstream/health_stats.h"
#include "wslb/upstream/host_set.h"
#include "wslb/upstream/random.h"

namespace wslb::upstream {

/// What one upstream attempt came to. Without split_external_local_origin_errors Envoy maps the
/// locally originated outcomes onto HTTP codes, and so does wslb: a connect failure or a reset
/// before the answer counts as 503, a connect or response timeout as 504 (both 5xx and gateway
/// failures).
enum class UpstreamResult {
  kConnectFailed,  ///< connect refused/unreachable, or reset before the answer: 503.
  kTimeout,        ///< connect_timeout, or no answer within the route timeout: 504.
  kResponse,       ///< the host answered with `status` (101 and every non-5xx reset the counts).
};

/// The HTTP code Envoy would count for `result` (`status` for kResponse).
unsigned outlierHttpCode(UpstreamResult result, unsigned status);

/// Thread safety: putResult() may be called from any worker; it touches only the host's atomic
/// counters unless a consecutive threshold is reached, and then takes the detector's mutex (rare:
/// at most once per threshold-many failures of a host). sweep() runs on the control thread.
class OutlierDetector {
 public:
  using Clock = std::chrono::steady_clock;
  /// Called (outside the detector's mutex, on the reporting worker's thread) after a host is
  /// ejected. It must not call back into the detector.
  using EjectionListener = std::function<void(const HostSharedPtr& host)>;

  /// @param hosts returns the cluster's current snapshot (consulted only when ejecting and in
  ///        sweep()). @param random draws the enforcing_* percentages (guarded by the mutex).
  /// @param now the clock (tests inject their own).
  OutlierDetector(const config::OutlierDetection& config,
                  std::function<HostSetConstSharedPtr()> hosts,
                  std::unique_ptr<Random> random = nullptr,
                  std::function<Clock::time_point()> now = nullptr);

  const config::OutlierDetection& config() const { return config_; }

  /// Sets or (with nullptr) clears the ejection listener. Any thread. Once it returns, the
  /// previous listener is not running and will not be called again, so its owner may go away;
  /// the detector belongs to a ClusterState, so the owner of a listener that refers to anything
  /// shorter-lived (or to that ClusterState, which would never be freed) must clear it.
  void setEjectionListener(EjectionListener listener);

  /// Counts one attempt's outcome on `host`. Any worker thread.
  void putResult(Host& host, UpstreamResult result, unsigned status = 0);

  /// The interval sweep: returns hosts whose ejection time is over to service (clearing
  /// kFailedOutlierCheck and their consecutive counts), lowers the ejection-time multiplier of
  /// hosts that stayed in service, and forgets ejected hosts that left the endpoint set.
  /// @return the hosts returned to service. Control thread.
  std::vector<HostSharedPtr> sweep();

  /// How long `host` stays ejected from its last ejection: base_ejection_time times the
  /// multiplier, at most max(max_ejection_time, base_ejection_time). Reads state the mutex
  /// guards: for sweep() and for tests that drive the detector from one thread.
  Clock::duration ejectionTime(const Host& host) const;

  OutlierDetectionStats& stats() { return stats_; }
  const OutlierDetectionStats& stats() const { return stats_; }

 private:
  enum class Kind { kConsecutive5xx, kConsecutiveGatewayFailure };
  void onConsecutiveFailure(Host& host, Kind kind);
  /// Caller holds mutex_. @return true if ejected.
  bool ejectLocked(const HostSharedPtr& host, size_t total_hosts, Kind kind);

  const config::OutlierDetection config_;
  const std::function<HostSetConstSharedPtr()> hosts_;
  const std::function<Clock::time_point()> now_;
  /// Guards listener_ and is held while it runs (rare: once per ejection), so that clearing it
  /// waits for a call in progress.
  std::mutex listener_mutex_;
  EjectionListener listener_;
  std::mutex mutex_;  ///< ejection decisions and the sweep; never taken per message.
  std::unique_ptr<Random> random_;
  std::vector<HostSharedPtr> ejected_;  ///< hosts carrying kFailedOutlierCheck (guarded).
  OutlierDetectionStats stats_;
};

}  // namespace wslb::upstream
