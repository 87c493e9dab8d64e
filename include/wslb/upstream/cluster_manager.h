#pragma once
// Owns the runtime state of every configured cluster.

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "wslb/config/bootstrap.h"
#include "wslb/upstream/cluster_state.h"

namespace wslb::upstream {

/// Built at start-up from the static clusters. Endpoints change through
/// ClusterState::updateEndpoints()/setHostSet(); the set of clusters changes only when a config
/// reload calls replace(). A cluster dropped from the set is not destroyed while anything (a
/// Slot, a route of an older listener context) still holds it.
/// Thread safety: every method may be called from any thread. None is on the data path: routes
/// hold their ClusterStateSharedPtr.
class ClusterManager {
 public:
  /// Builds one ClusterState per cluster, with its initial host set from cluster.endpoints.
  /// @throws std::invalid_argument on bad input: empty or duplicate cluster name, or an endpoint
  ///         buildHostSet() rejects (non-IP address, bad port, duplicate ip:port).
  explicit ClusterManager(const std::vector<config::Cluster>& clusters);

  /// Builds the ClusterState for one cluster as the constructor does, without adding it.
  /// @throws std::invalid_argument as the constructor.
  static ClusterStateSharedPtr makeCluster(const config::Cluster& cluster);

  /// The cluster called `name`, or nullptr if none.
  ClusterStateSharedPtr find(std::string_view name) const;
  /// Every cluster, in configuration order (a copy: a reload may replace the set meanwhile).
  std::vector<ClusterStateSharedPtr> clusters() const;

  /// Config reload: makes `clusters` the whole set, in this order (names must be unique and
  /// non-empty). `configs` (optional): the configurations these clusters are about to get, which
  /// configOf() returns instead of their current config(); a reload stages the new set this way
  /// in a separate manager, so routes built from it see the new settings before any is applied.
  /// Control-plane thread.
  void replace(std::vector<ClusterStateSharedPtr> clusters,
               std::vector<config::Cluster> configs = {});

  /// The settings routes take from cluster `name` (e.g. its pending_timeout): the config given
  /// to replace() for it if any, else the cluster's config(); nullptr if there is no such
  /// cluster. Valid until the next replace(). Control-plane thread (start-up and reload).
  const config::Cluster* configOf(std::string_view name) const;

 private:
  mutable std::mutex mutex_;
  std::vector<ClusterStateSharedPtr> clusters_;
  std::map<std::string, ClusterStateSharedPtr, std::less<>> by_name_;
  std::map<std::string, config::Cluster, std::less<>> staged_configs_;
};

}  // namespace wslb::upstream
