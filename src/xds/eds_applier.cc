#include "wslb/xds/eds_applier.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <unordered_set>

#include "wslb/xds/assignment.h"

namespace wslb::xds {

struct EdsApplier::Decoded {
  Assignment assignment;
  std::string resource_version;  ///< delta only.
};

namespace {

void inc(std::atomic<uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
}

// Hosts of `before` that are not in `after` (removed by this update).
std::vector<upstream::HostSharedPtr> removedHosts(const upstream::HostSet& before,
                                                  const upstream::HostSet& after) {
  std::unordered_set<const upstream::Host*> kept;
  kept.reserve(after.all_hosts.size());
  for (const auto& host : after.all_hosts) kept.insert(host.get());
  std::vector<upstream::HostSharedPtr> removed;
  for (const auto& host : before.all_hosts) {
    if (!kept.contains(host.get())) removed.push_back(host);
  }
  return removed;
}

}  // namespace

EdsApplier::EdsApplier(std::vector<EdsTarget*> targets, RemovedHostsHandler on_removed,
                       InitializedHandler on_initialized)
    : targets_(std::move(targets)),
      on_removed_(std::move(on_removed)),
      on_initialized_(std::move(on_initialized)) {
  std::set<std::string> seen;
  for (const EdsTarget* target : targets_) {
    if (seen.insert(target->resource_name).second) names_.push_back(target->resource_name);
  }
}

std::vector<EdsTarget*> EdsApplier::targetsFor(const std::string& name) const {
  std::vector<EdsTarget*> out;
  for (EdsTarget* target : targets_) {
    if (target->resource_name == name) out.push_back(target);
  }
  return out;
}

void EdsApplier::markInitialized(EdsTarget& target) {
  if (!target.initialized.exchange(true) && on_initialized_) on_initialized_();
}

std::string EdsApplier::applyDecoded(std::vector<Decoded>& decoded, const std::string& version,
                                     std::chrono::steady_clock::time_point arrived) {
  std::set<std::string> names;
  for (const Decoded& d : decoded) {
    if (!names.insert(d.assignment.cluster_name).second) {
      return "ClusterLoadAssignment \"" + d.assignment.cluster_name + "\" appears twice";
    }
  }
  const uint64_t version_hash = versionHash(version);
  for (Decoded& d : decoded) {
    for (EdsTarget* target : targetsFor(d.assignment.cluster_name)) {
      const auto& cluster = target->cluster;
      const upstream::HostSetConstSharedPtr before = cluster->hostSet();
      try {
        cluster->updateEndpoints(d.assignment.endpoints);
      } catch (const std::exception& e) {
        // decodeAssignment() checks what buildHostSet() checks, so this is not expected; the
        // cluster keeps its endpoints either way.
        spdlog::error("[xds] cluster '{}': update failed: {}", cluster->name(), e.what());
        inc(cluster->stats().update_attempt);
        inc(cluster->stats().update_rejected);
        markInitialized(*target);
        continue;
      }
      auto& stats = cluster->stats();
      inc(stats.update_attempt);
      inc(stats.update_success);
      stats.version.store(version_hash, std::memory_order_relaxed);
      // Envoy's update_time (ms since the epoch) and update_duration (ms spent on the update):
      // from the update's arrival (decoding included) until the workers can see the host set.
      stats.update_duration.record(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - arrived)
              .count());
      stats.update_time.store(
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count()),
          std::memory_order_relaxed);
      target->has_assignment = true;
      markInitialized(*target);
      const upstream::HostSetConstSharedPtr after = cluster->hostSet();
      spdlog::info("[xds] cluster '{}': applied version '{}': {} endpoint(s)", cluster->name(),
                   version, after->all_hosts.size());
      std::vector<upstream::HostSharedPtr> removed = removedHosts(*before, *after);
      if (!removed.empty() && on_removed_) on_removed_(cluster, std::move(removed));
    }
  }
  return {};
}

std::string EdsApplier::applySotw(
    const google::protobuf::RepeatedPtrField<google::protobuf::Any>& resources,
    const std::string& version, std::chrono::steady_clock::time_point arrived) {
  std::vector<Decoded> decoded;
  decoded.reserve(resources.size());
  std::string error;
  for (const google::protobuf::Any& any : resources) {
    Decoded d;
    if (DecodeResult r = unpackAssignment(any, d.assignment); !r.ok()) {
      error = r.error;
      break;
    }
    if (targetsFor(d.assignment.cluster_name).empty()) {
      spdlog::debug("[xds] ignoring ClusterLoadAssignment '{}': not subscribed",
                    d.assignment.cluster_name);
      continue;
    }
    decoded.push_back(std::move(d));
  }
  if (error.empty()) error = applyDecoded(decoded, version, arrived);
  std::set<std::string> present;
  for (const Decoded& d : decoded) present.insert(d.assignment.cluster_name);
  for (EdsTarget* target : targets_) {
    auto& stats = target->cluster->stats();
    if (!error.empty()) {
      inc(stats.update_attempt);
      inc(stats.update_rejected);
      markInitialized(*target);
    } else if (!present.contains(target->resource_name)) {
      // Envoy: "updates ending with empty cluster load assignment and continuing with previous
      // config". Only a cluster that had an assignment is told; others keep waiting.
      if (target->has_assignment) {
        inc(stats.update_attempt);
        inc(stats.update_empty);
      }
    }
  }
  if (!error.empty()) {
    spdlog::warn("[xds] rejected version '{}': {}", version, error);
  }
  return error;
}

std::string EdsApplier::applyDelta(
    const google::protobuf::RepeatedPtrField<envoy::service::discovery::v3::Resource>& added,
    const google::protobuf::RepeatedPtrField<std::string>& removed,
    const std::string& system_version, std::chrono::steady_clock::time_point arrived) {
  std::vector<Decoded> decoded;
  std::string error;
  for (const auto& resource : added) {
    Decoded d;
    if (DecodeResult r = unpackAssignment(resource.resource(), d.assignment); !r.ok()) {
      error = r.error;
      break;
    }
    if (!resource.name().empty() && resource.name() != d.assignment.cluster_name) {
      error = "resource \"" + resource.name() + "\" holds ClusterLoadAssignment \"" +
              d.assignment.cluster_name + "\"";
      break;
    }
    if (targetsFor(d.assignment.cluster_name).empty()) continue;
    d.resource_version = resource.version();
    decoded.push_back(std::move(d));
  }
  if (error.empty()) error = applyDecoded(decoded, system_version, arrived);
  if (!error.empty()) {
    for (EdsTarget* target : targets_) {
      inc(target->cluster->stats().update_attempt);
      inc(target->cluster->stats().update_rejected);
      markInitialized(*target);
    }
    spdlog::warn("[xds] rejected delta update '{}': {}", system_version, error);
    return error;
  }
  {
    std::lock_guard lock(versions_mutex_);
    for (const Decoded& d : decoded) versions_[d.assignment.cluster_name] = d.resource_version;
  }
  for (const std::string& name : removed) {
    for (EdsTarget* target : targetsFor(name)) {
      // Envoy keeps the endpoints of a removed assignment ("continuing with previous config").
      inc(target->cluster->stats().update_attempt);
      inc(target->cluster->stats().update_empty);
      markInitialized(*target);
      spdlog::warn(
          "[xds] cluster '{}': assignment removed by the control plane; keeping the "
          "previous endpoints",
          target->cluster->name());
    }
    std::lock_guard lock(versions_mutex_);
    versions_.erase(name);
  }
  return {};
}

std::map<std::string, std::string> EdsApplier::resourceVersions() const {
  std::lock_guard lock(versions_mutex_);
  return versions_;
}

void EdsApplier::countFailure() {
  for (EdsTarget* target : targets_) {
    inc(target->cluster->stats().update_attempt);
    inc(target->cluster->stats().update_failure);
  }
}

void EdsApplier::countRejected() {
  for (EdsTarget* target : targets_) {
    inc(target->cluster->stats().update_attempt);
    inc(target->cluster->stats().update_rejected);
    markInitialized(*target);
  }
}

}  // namespace wslb::xds
