#pragma once
// Which endpoints the admin views list, shared by /clusters (text and JSON) and /live.json.

#include <cstddef>
#include <utility>
#include <vector>

#include "wslb/upstream/host_set.h"

namespace wslb::admin {

/// Every endpoint of `set` with its priority, then the endpoints removed by EDS that still hold
/// connections (priority 0), as Envoy lists hosts pending removal.
inline std::vector<std::pair<size_t, const upstream::Host*>> listedHosts(
    const upstream::HostSet& set) {
  std::vector<std::pair<size_t, const upstream::Host*>> hosts;
  for (size_t priority = 0; priority < set.hosts_by_priority.size(); ++priority) {
    for (const auto& host : set.hosts_by_priority[priority])
      hosts.emplace_back(priority, host.get());
  }
  for (const auto& host : set.removed_hosts) {
    if (host->active() > 0) hosts.emplace_back(0, host.get());
  }
  return hosts;
}

}  // namespace wslb::admin
