#pragma once
// Runs active health checks and the outlier-detection sweeps of every cluster on a thread of
// their own, off the data path.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
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
  /// Config reload: from now on check and sweep the clusters of `clusters` (every checker starts
  /// afresh; hosts keep their health flags, so a host that failed stays out until it passes).
  /// A removed cluster's checks stop and its sweep ends at its next tick. Clusters added here
  /// must not have had traffic yet (their ejection listener is set). Control-plane thread.
  void reconfigure(const upstream::ClusterManager& clusters);
  /// Stops checks and sweeps and joins the thread; no DrainHosts call runs afterwards. Clears
  /// the callbacks this manager left on the clusters (host-set observers, outlier ejection
  /// listeners), so the clusters may outlive it and are freed with their last owner.
  /// Idempotent; any thread but the manager's.
  void stop();

  /// Whether any cluster needs this manager (health_checks or outlier_detection).
  bool active() const {
    std::lock_guard lock(mutex_);
    return !checkers_.empty() || !sweeps_.empty();
  }

 private:
  /// A host of `cluster` became unhealthy or was ejected (any thread).
  void onHostUnhealthy(const upstream::ClusterStateSharedPtr& cluster,
                       const upstream::HostSharedPtr& host);
  void startSweep(const upstream::ClusterStateSharedPtr& cluster);
  std::shared_ptr<ClusterHealthChecker> makeChecker(const upstream::ClusterStateSharedPtr& cluster);
  /// Sets the cluster's outlier ejection listener (before the cluster has traffic).
  void watchEjections(const upstream::ClusterStateSharedPtr& cluster);
  /// Makes `checker` follow its cluster's host sets and runs its first sync (manager thread).
  void observe(const std::shared_ptr<ClusterHealthChecker>& checker);
  /// Whether `cluster`'s outlier sweep should go on.
  bool sweeping(const upstream::ClusterState* cluster) const;

  // The io_context outlives everything that uses it (declared first, destroyed last).
  boost::asio::io_context io_;
  const DrainHosts drain_;
  mutable std::mutex mutex_;  ///< guards checkers_ and sweeps_ (a reload replaces them).
  std::vector<std::shared_ptr<ClusterHealthChecker>> checkers_;
  std::vector<upstream::ClusterStateSharedPtr> sweeps_;  ///< clusters with outlier_detection.
  std::thread thread_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace wslb::health
