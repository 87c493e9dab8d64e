#pragma once
// Owns the runtime state of every configured cluster.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "wslb/config/bootstrap.h"
#include "wslb/upstream/cluster_state.h"

namespace wslb::upstream {

/// Built once at start-up from the static clusters; the set of clusters never changes
/// afterwards (endpoints do, through ClusterState::updateEndpoints()/setHostSet()).
/// Thread safety: const methods may be called from any thread.
class ClusterManager {
 public:
  /// Builds one ClusterState per cluster, with its initial host set from cluster.endpoints.
  /// @throws std::invalid_argument on bad input: empty or duplicate cluster name, or an endpoint
  ///         buildHostSet() rejects (non-IP address, bad port, duplicate ip:port).
  explicit ClusterManager(const std::vector<config::Cluster>& clusters);

  /// The cluster called `name`, or nullptr if none.
  ClusterStateSharedPtr find(std::string_view name) const;
  /// Every cluster, in configuration order.
  const std::vector<ClusterStateSharedPtr>& clusters() const { return clusters_; }

 private:
  std::vector<ClusterStateSharedPtr> clusters_;
  std::map<std::string, ClusterStateSharedPtr, std::less<>> by_name_;
};

}  // namespace wslb::upstream
