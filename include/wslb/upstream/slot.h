#pragma once
// RAII reservation of one connection on a host and its cluster.

#include <memory>

#include "wslb/upstream/host.h"

namespace wslb::upstream {

class ClusterState;

/// Holds one unit of a host's cap and one of its cluster's cap. Move-only. The destructor (or
/// reset()) releases both exactly once and then wakes the first pending waiter of the cluster,
/// if any. May be destroyed on any thread; one Slot object must not be used by two threads at
/// once. The Slot keeps its Host and ClusterState alive.
class Slot {
 public:
  /// An empty Slot (operator bool false).
  Slot() = default;
  /// Adopts a reservation already made: host->tryAcquire() and one unit of the cluster's count
  /// both succeeded. `cluster` may be null (host-only reservation, used by tests and tools).
  Slot(HostSharedPtr host, std::shared_ptr<ClusterState> cluster);
  /// Moves the reservation; `other` becomes empty and releases nothing.
  Slot(Slot&& other) noexcept;
  /// Releases this Slot's own reservation (if any), then takes `other`'s.
  Slot& operator=(Slot&& other) noexcept;
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  ~Slot() { reset(); }

  /// True while the Slot holds a reservation.
  explicit operator bool() const { return host_ != nullptr; }
  /// The reserved host. Only valid while operator bool is true.
  Host& host() const { return *host_; }
  const HostSharedPtr& hostPtr() const { return host_; }
  /// The cluster the unit was taken from (null for an empty or host-only Slot).
  const std::shared_ptr<ClusterState>& clusterPtr() const { return cluster_; }
  /// Releases now: host count -1, cluster count -1, then wakes one pending waiter. Idempotent:
  /// a second call (or the destructor afterwards) does nothing.
  void reset() noexcept;

 private:
  HostSharedPtr host_;
  std::shared_ptr<ClusterState> cluster_;
};

}  // namespace wslb::upstream
