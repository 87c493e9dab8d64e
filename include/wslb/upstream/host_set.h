#pragma once
// An immutable snapshot of a cluster's endpoints. Replaced whole on updates (copy-on-write);
// readers hold a shared_ptr and never lock.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wslb/config/bootstrap.h"
#include "wslb/upstream/host.h"

namespace wslb::upstream {

/// Immutable once published. The Host objects inside are shared with older and newer snapshots
/// (their counters and flags are atomics and do change).
struct HostSet {
  /// Hosts by priority: hosts_by_priority[0] is tried first; the next priority only when no host
  /// of the previous one has room.
  std::vector<std::vector<HostSharedPtr>> hosts_by_priority;
  /// Every host in the set, in a stable order (endpoint order of the config / assignment).
  std::vector<HostSharedPtr> all_hosts;
  /// Hosts no longer in the endpoint set (flag kPendingDynamicRemoval): those removed by the
  /// update that built this set, plus older removed ones that still had live connections.
  /// Never picked; kept so their counts survive if the address comes back, and so admin/stats
  /// can show them until they drain.
  std::vector<HostSharedPtr> removed_hosts;
};

using HostSetConstSharedPtr = std::shared_ptr<const HostSet>;

/// Builds a HostSet from hosts carrying their priority. Empty priorities are kept as empty
/// vectors. Order within a priority and in all_hosts follows the input.
HostSetConstSharedPtr makeHostSet(std::vector<std::pair<uint32_t, HostSharedPtr>> hosts);

/// The canonical text of an IP literal (inet_ntop form: "::1" for "0:0::1"), or nullopt if
/// `address` is not a numeric IPv4/IPv6 address (hostnames are rejected).
std::optional<std::string> canonicalIp(std::string_view address);

/// Builds the snapshot for `cluster.endpoints`. Hosts are keyed by "ip:port" (canonical IP).
/// A key present in `previous` (all_hosts or removed_hosts) REUSES that Host object, so its live
/// count survives; its weight, cap and health flags are updated in place (visible to readers of
/// older snapshots at once). New keys get new Hosts. Hosts of `previous` that are gone get
/// kPendingDynamicRemoval and stay in removed_hosts (see there) while they have live connections.
/// Cap = endpoint.max_connections if set, else cluster.per_host_max_connections
/// (config::kUnlimited = no cap). health UNHEALTHY/DRAINING/TIMEOUT -> kFailedEdsHealth,
/// DEGRADED -> kDegradedEdsHealth, others clear both. With cluster.health_check, a NEW host starts
/// with kFailedActiveHealthCheck (Envoy's rule); reused hosts keep their active-check state.
/// Validates everything before touching any Host: on error nothing is modified.
/// @throws std::invalid_argument naming the endpoint: non-IP address, port 0 or > 65535,
///         the same ip:port twice.
/// Thread safety: call from one (control-plane) thread per cluster at a time; pickers may run
/// concurrently on `previous`.
HostSetConstSharedPtr buildHostSet(const config::Cluster& cluster, const HostSet* previous);

}  // namespace wslb::upstream
