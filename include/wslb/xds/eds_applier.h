#pragma once
// Applies EDS responses to the clusters that subscribed to them, and keeps Envoy's subscription
// stats. Shared by every source: gRPC (state of the world and delta, direct or ADS), REST and
// files.

#include <google/protobuf/repeated_ptr_field.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "wslb/upstream/cluster_state.h"

namespace wslb::xds {

/// One EDS cluster as the xDS client sees it. Owned by XdsManager; sources hold pointers.
struct EdsTarget {
  upstream::ClusterStateSharedPtr cluster;
  std::string resource_name;  ///< eds_cluster_config.service_name, or the cluster name.
  std::chrono::milliseconds initial_fetch_timeout{15000};
  /// Set by the first response that concerns this cluster (applied, rejected or empty) or by
  /// initial_fetch_timeout; /ready waits for every target.
  std::atomic<bool> initialized{false};
  /// An assignment was applied at least once (a state-of-the-world response without it is then
  /// an "empty" update: the previous endpoints stay).
  std::atomic<bool> has_assignment{false};
};

/// Called after an update removed endpoints that may still hold connections (control-plane
/// thread; must not block).
using RemovedHostsHandler = std::function<void(const upstream::ClusterStateSharedPtr& cluster,
                                               std::vector<upstream::HostSharedPtr> removed)>;

/// Called whenever a target becomes initialized (for readiness).
using InitializedHandler = std::function<void()>;

/// Applies responses for one source's targets. A response is all or nothing: every resource is
/// validated before any is applied, and one bad resource rejects the response (NACK), leaving
/// every cluster on its previous endpoints. Thread safety: one source thread calls the apply
/// methods; stats are atomics.
class EdsApplier {
 public:
  EdsApplier(std::vector<EdsTarget*> targets, RemovedHostsHandler on_removed,
             InitializedHandler on_initialized);

  /// The resource names this source subscribes to, in configuration order, without duplicates.
  const std::vector<std::string>& resourceNames() const { return names_; }

  /// A state-of-the-world update (gRPC SotW, REST, file) with version `version`.
  /// Resources for names this source did not subscribe to are ignored; a subscribed name absent
  /// from the response keeps its endpoints (EDS is not a full state-of-the-world type) and counts
  /// update_empty if it had an assignment before.
  /// `arrived`: when the update reached wslb (the start of update_duration).
  /// @return empty if applied, else the NACK message.
  std::string applySotw(
      const google::protobuf::RepeatedPtrField<google::protobuf::Any>& resources,
      const std::string& version,
      std::chrono::steady_clock::time_point arrived = std::chrono::steady_clock::now());

  /// A delta update: `added` resources replace their clusters' endpoints; `removed` names keep
  /// their endpoints (update_empty), as Envoy does. @return empty if applied, else the NACK.
  std::string applyDelta(
      const google::protobuf::RepeatedPtrField<envoy::service::discovery::v3::Resource>& added,
      const google::protobuf::RepeatedPtrField<std::string>& removed,
      const std::string& system_version,
      std::chrono::steady_clock::time_point arrived = std::chrono::steady_clock::now());

  /// Per-resource versions of the last applied delta resources (initial_resource_versions on a
  /// delta reconnect).
  std::map<std::string, std::string> resourceVersions() const;

  /// A fetch failed (stream broke, poll failed, file unreadable): update_attempt and
  /// update_failure for every target.
  void countFailure();

  /// A file could be parsed but not applied: update_attempt and update_rejected for every target,
  /// and the targets count as initialized (Envoy does not hold start-up on a rejected update).
  void countRejected();

 private:
  struct Decoded;
  std::string applyDecoded(std::vector<Decoded>& decoded, const std::string& version,
                           std::chrono::steady_clock::time_point arrived);
  void markInitialized(EdsTarget& target);
  std::vector<EdsTarget*> targetsFor(const std::string& name) const;

  std::vector<EdsTarget*> targets_;
  std::vector<std::string> names_;
  RemovedHostsHandler on_removed_;
  InitializedHandler on_initialized_;
  mutable std::mutex versions_mutex_;
  std::map<std::string, std::string> versions_;
};

}  // namespace wslb::xds
