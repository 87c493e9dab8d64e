#include "wslb/xds/xds_manager.h"

#include <spdlog/spdlog.h>

#include <map>
#include <stdexcept>

#include "envoy/config/core/v3/base.pb.h"
#include "wslb/xds/file_source.h"
#include "wslb/xds/grpc_source.h"
#include "wslb/xds/rest_source.h"

namespace wslb::xds {
namespace {

using ApiType = config::ApiConfigSource::ApiType;

const config::Cluster& staticCluster(const config::Bootstrap& bootstrap, const std::string& name) {
  for (const config::Cluster& cluster : bootstrap.clusters) {
    if (cluster.name == name) return cluster;
  }
  // The loader checks this; reaching here means a Bootstrap built by hand.
  throw std::runtime_error("xDS cluster \"" + name + "\" is not defined");
}

// Sources that are the same stream: equal api_config_sources share one.
std::string apiKey(const config::ApiConfigSource& api) {
  return std::to_string(static_cast<int>(api.api_type)) + "|" + api.cluster_name + "|" +
         std::to_string(api.refresh_delay.count()) + "|" +
         std::to_string(api.request_timeout.count()) + "|" +
         std::to_string(api.retry_base_interval.count()) + "|" +
         std::to_string(api.retry_max_interval.count()) + "|" +
         std::to_string(api.grpc_timeout.count()) + "|" +
         std::to_string(api.set_node_on_first_message_only);
}

envoy::config::core::v3::Node makeNode(const NodeInfo& info) {
  envoy::config::core::v3::Node node;
  node.set_id(info.id);
  node.set_cluster(info.cluster);
  node.set_user_agent_name("wslb");
  node.set_user_agent_version(WSLB_VERSION);
  return node;
}

}  // namespace

XdsManager::XdsManager(const config::Bootstrap& bootstrap, const upstream::ClusterManager& clusters,
                       NodeInfo node_info, RemovedHostsHandler on_removed) {
  const envoy::config::core::v3::Node node = makeNode(node_info);
  auto on_initialized = [this] { wake_.notify_all(); };

  // Group the EDS clusters by source.
  std::vector<EdsTarget*> ads_targets;
  std::map<std::string, std::pair<config::ApiConfigSource, std::vector<EdsTarget*>>> api_groups;
  std::map<std::pair<std::string, std::string>, std::vector<EdsTarget*>> file_groups;
  for (const config::Cluster& cluster : bootstrap.clusters) {
    if (cluster.type != config::Cluster::Type::kEds) continue;
    auto target = std::make_unique<EdsTarget>();
    target->cluster = clusters.find(cluster.name);
    if (!target->cluster) throw std::runtime_error("EDS cluster \"" + cluster.name + "\" unknown");
    target->resource_name = cluster.edsResourceName();
    const config::ConfigSource& source = cluster.eds.eds_config;
    target->initial_fetch_timeout = source.initial_fetch_timeout;
    switch (source.kind) {
      case config::ConfigSource::Kind::kAds:
        ads_targets.push_back(target.get());
        break;
      case config::ConfigSource::Kind::kApi: {
        auto& group = api_groups[apiKey(source.api)];
        group.first = source.api;
        group.second.push_back(target.get());
        break;
      }
      case config::ConfigSource::Kind::kPath:
        file_groups[{source.path, source.watched_directory}].push_back(target.get());
        break;
      case config::ConfigSource::Kind::kNone:
        throw std::runtime_error("EDS cluster \"" + cluster.name + "\" has no eds_config source");
    }
    targets_.push_back(std::move(target));
  }

  auto makeApplier = [&](std::vector<EdsTarget*> targets) -> EdsApplier& {
    appliers_.push_back(
        std::make_unique<EdsApplier>(std::move(targets), on_removed, on_initialized));
    return *appliers_.back();
  };
  if (!ads_targets.empty()) {
    const config::ApiConfigSource& ads = *bootstrap.dynamic_resources.ads_config;
    const GrpcFlavor flavor =
        ads.api_type == ApiType::kDeltaGrpc ? GrpcFlavor::kAdsDelta : GrpcFlavor::kAdsSotw;
    EdsApplier& applier = makeApplier(std::move(ads_targets));
    sources_.push_back(std::make_unique<GrpcSource>(
        flavor, ads.cluster_name, makeXdsChannel(staticCluster(bootstrap, ads.cluster_name), ads),
        ads, node, applier));
  }
  for (auto& [key, group] : api_groups) {
    const config::ApiConfigSource& api = group.first;
    EdsApplier& applier = makeApplier(std::move(group.second));
    const config::Cluster& xds_cluster = staticCluster(bootstrap, api.cluster_name);
    if (api.api_type == ApiType::kRest) {
      sources_.push_back(std::make_unique<RestSource>(xds_cluster, api, node, applier));
    } else {
      const GrpcFlavor flavor =
          api.api_type == ApiType::kDeltaGrpc ? GrpcFlavor::kDelta : GrpcFlavor::kSotw;
      sources_.push_back(std::make_unique<GrpcSource>(
          flavor, api.cluster_name, makeXdsChannel(xds_cluster, api), api, node, applier));
    }
  }
  for (auto& [key, group] : file_groups) {
    EdsApplier& applier = makeApplier(std::move(group));
    sources_.push_back(std::make_unique<FileSource>(key.first, key.second, applier));
  }
}

XdsManager::~XdsManager() {
  stop();
}

void XdsManager::markInitialized(const std::vector<std::string>& cluster_names) {
  for (const auto& target : targets_) {
    for (const auto& name : cluster_names) {
      if (target->cluster->name() == name) {
        target->initialized = true;
        break;
      }
    }
  }
}

void XdsManager::start() {
  for (auto& source : sources_) {
    spdlog::info("[xds] starting EDS source: {}", source->describe());
    source->start();
  }
  if (!targets_.empty()) init_timer_ = std::thread([this] { runInitTimer(); });
}

void XdsManager::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (init_timer_.joinable()) init_timer_.join();
  for (auto& source : sources_) source->stop();
}

void XdsManager::runInitTimer() {
  const auto started = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_) return;
    // The earliest deadline among clusters still waiting (0 = wait forever).
    std::optional<std::chrono::steady_clock::time_point> next;
    bool waiting = false;
    for (const auto& target : targets_) {
      if (target->initialized) continue;
      waiting = true;
      if (target->initial_fetch_timeout.count() <= 0) continue;
      const auto deadline = started + target->initial_fetch_timeout;
      if (std::chrono::steady_clock::now() >= deadline) {
        if (!target->initialized.exchange(true)) {
          target->cluster->stats().init_fetch_timeout.fetch_add(1, std::memory_order_relaxed);
          spdlog::warn(
              "[xds] cluster '{}': no assignment within initial_fetch_timeout ({} ms); "
              "starting without it",
              target->cluster->name(), target->initial_fetch_timeout.count());
        }
        continue;
      }
      if (!next || deadline < *next) next = deadline;
    }
    if (!waiting) {
      spdlog::info("[xds] every EDS cluster is initialized");
      return;
    }
    // Woken by stop() or by a target becoming initialized (EdsApplier's handler).
    if (next) {
      wake_.wait_until(lock, *next);
    } else {
      wake_.wait(lock);
    }
  }
}

bool XdsManager::initialized() const {
  for (const auto& target : targets_) {
    if (!target->initialized) return false;
  }
  return true;
}

bool XdsManager::hasGrpc() const {
  for (const auto& source : sources_) {
    if (source->isGrpc()) return true;
  }
  return false;
}

bool XdsManager::connected() const {
  for (const auto& source : sources_) {
    if (source->isGrpc() && !source->connected()) return false;
  }
  return true;
}

}  // namespace wslb::xds
