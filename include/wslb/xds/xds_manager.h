#pragma once
// The xDS client: one source per distinct EDS config source, feeding the EDS clusters.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "wslb/config/bootstrap.h"
#include "wslb/upstream/cluster_manager.h"
#include "wslb/xds/eds_applier.h"
#include "wslb/xds/source.h"

namespace wslb::xds {

/// What the node says about itself on the first request of every stream.
struct NodeInfo {
  std::string id;       ///< node.id (or --service-node).
  std::string cluster;  ///< node.cluster (or --service-cluster).
};

/// Builds the sources from the bootstrap: every EDS cluster with `ads: {}` shares the one ADS
/// stream of dynamic_resources.ads_config; clusters with the same api_config_source share one
/// stream (or poller), subscribing to all their resource names at once; clusters reading the
/// same file share one watcher. Nothing runs until start().
/// Thread safety: initialized(), connected(), hasGrpc() from any thread; the rest from the
/// thread that owns the manager.
class XdsManager {
 public:
  /// @throws std::runtime_error at start-up for an EDS file that does not exist or cannot be
  ///         watched, or an EDS cluster the ClusterManager does not know.
  XdsManager(const config::Bootstrap& bootstrap, const upstream::ClusterManager& clusters,
             NodeInfo node, RemovedHostsHandler on_removed);
  ~XdsManager();

  /// Config reload: the clusters named here already have endpoints from before (the reload kept
  /// them), so they do not hold readiness back while the new subscription starts.
  /// Before start().
  void markInitialized(const std::vector<std::string>& cluster_names);
  /// Starts every source, and the initial_fetch_timeout timer.
  void start();
  /// Stops every source (joins their threads). Idempotent.
  void stop();

  /// True when every EDS cluster has had its first update (applied, rejected or empty) or its
  /// initial_fetch_timeout expired. True at once when there are no EDS clusters.
  bool initialized() const;
  /// True when at least one source is a gRPC stream.
  bool hasGrpc() const;
  /// control_plane.connected_state: every gRPC stream is established.
  bool connected() const;
  /// Number of sources (for tests and logs).
  size_t sourceCount() const { return sources_.size(); }

 private:
  void runInitTimer();

  std::vector<std::unique_ptr<EdsTarget>> targets_;
  std::vector<std::unique_ptr<EdsApplier>> appliers_;
  std::vector<std::unique_ptr<Source>> sources_;

  std::mutex mutex_;  ///< guards stopping_ for the init timer.
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread init_timer_;
};

}  // namespace wslb::xds
