#pragma once
// Runs active health checks and the outlier-detection sweeps of every cluster on a thread of
// their own, off the data path.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "wslb/health/cluster_health_checker.h"
#include "wslb/upstream/cluster_manager.h"

namespace wslb::health {

/// Owns one io_context and its thread. For each cluster with health_checks it runs a
/// ClusterHealthChecker that follows the cluster's host set; for each cluster with
/// outlier_detection it runs the interval sweep that returns ejected hosts to service. When a
/// host turns unhealthy or is ejected and its cluster sets unhealthy_endpoint_drain_window, it
/// asks `drain` to close that host's live WebSockets over the window.
class HealthManager {
 public:
  /// Closes the live WebSockets relayed to `hosts` with Close 1001, spread over `window`.
  /// Called on the manager's thread.
  using DrainHosts = std::function<void(std::vector<upstream::HostSharedPtr> hosts,
                                        std::chrono::milliseconds window)>;

  /// Registers the outlier ejection listeners (start-up, before any traffic).
  HealthManager(const upstream::ClusterManager& clusters, DrainHosts drain);
  /// stop().
  ~HealthManager();

  /// Starts the thread: first checks of every host at once (after initial_jitter). Once.
  void start();
  /// Stops checks and sweeps and joins the thread; no DrainHosts call runs afterwards. Clears
  /// the callbacks this manager left on the clusters (host-set observers, outlier ejection
  /// listeners), so the clusters may outlive it and are freed with their last owner.
  /// Idempotent; any thread but the manager's.
  void stop();

  /// Whether any cluster needs this manager (health_checks or outlier_detection).
  bool active() const { return !checkers_.empty() || !sweeps_.empty(); }

 private:
  /// A host became unhealthy or was ejected (any thread); `window` is its cluster's
  /// unhealthy_endpoint_drain_window.
  void onHostUnhealthy(std::optional<std::chrono::milliseconds> window,
                       const upstream::HostSharedPtr& host);
  void startSweep(const upstream::ClusterStateSharedPtr& cluster);

  // The io_context outlives everything that uses it (declared first, destroyed last).
  boost::asio::io_context io_;
  const DrainHosts drain_;
  std::vector<std::shared_ptr<ClusterHealthChecker>> checkers_;
  std::vector<upstream::ClusterStateSharedPtr> sweeps_;  ///< clusters with outlier_detection.
  std::thread thread_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace wslb::health
