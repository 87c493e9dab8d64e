#include "wslb/upstream/cluster_manager.h"

#include <stdexcept>

namespace wslb::upstream {

ClusterManager::ClusterManager(const std::vector<config::Cluster>& clusters) {
  clusters_.reserve(clusters.size());
  for (const config::Cluster& cluster : clusters) {
    if (cluster.name.empty()) throw std::invalid_argument("a cluster has an empty name");
    if (by_name_.contains(cluster.name)) {
      throw std::invalid_argument("duplicate cluster name '" + cluster.name + "'");
    }
    auto state = std::make_shared<ClusterState>(cluster, buildHostSet(cluster, nullptr));
    by_name_.emplace(cluster.name, state);
    clusters_.push_back(std::move(state));
  }
}

ClusterStateSharedPtr ClusterManager::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

}  // namespace wslb::upstream
