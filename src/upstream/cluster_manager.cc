#include "wslb/upstream/cluster_manager.h"

#include <stdexcept>

namespace wslb::upstream {

ClusterManager::ClusterManager(const std::vector<config::Cluster>& clusters) {
  clusters_.reserve(clusters.size());
  for (const config::Cluster& cluster : clusters) {
    if (by_name_.contains(cluster.name)) {
      throw std::invalid_argument("duplicate cluster name '" + cluster.name + "'");
    }
    auto state = makeCluster(cluster);
    by_name_.emplace(cluster.name, state);
    clusters_.push_back(std::move(state));
  }
}

ClusterStateSharedPtr ClusterManager::makeCluster(const config::Cluster& cluster) {
  if (cluster.name.empty()) throw std::invalid_argument("a cluster has an empty name");
  return std::make_shared<ClusterState>(cluster, buildHostSet(cluster, nullptr));
}

ClusterStateSharedPtr ClusterManager::find(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<ClusterStateSharedPtr> ClusterManager::clusters() const {
  std::lock_guard lock(mutex_);
  return clusters_;
}

void ClusterManager::replace(std::vector<ClusterStateSharedPtr> clusters,
                             std::vector<config::Cluster> configs) {
  std::map<std::string, ClusterStateSharedPtr, std::less<>> by_name;
  for (const auto& cluster : clusters) by_name.emplace(cluster->name(), cluster);
  std::map<std::string, config::Cluster, std::less<>> staged;
  for (auto& config : configs) {
    std::string name = config.name;
    staged.emplace(std::move(name), std::move(config));
  }
  std::lock_guard lock(mutex_);
  clusters_ = std::move(clusters);
  by_name_ = std::move(by_name);
  staged_configs_ = std::move(staged);
}

const config::Cluster* ClusterManager::configOf(std::string_view name) const {
  std::lock_guard lock(mutex_);
  if (auto it = staged_configs_.find(name); it != staged_configs_.end()) return &it->second;
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second->config();
}

}  // namespace wslb::upstream
