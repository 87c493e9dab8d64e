#pragma once
// Reads the live atomics (the same ones the picker and sessions use) into Stat samples, so what
// the stats say can never disagree with the caps.

#include <vector>

#include "wslb/stats/hcm_stats.h"
#include "wslb/stats/stat.h"
#include "wslb/upstream/cluster_state.h"

namespace wslb::stats {

/// Appends cluster.<name>.* (incl. circuit_breakers.default.* and membership_*) and, per
/// endpoint, cluster.<name>.endpoint.<addr>.* samples. Any thread.
void appendClusterStats(const upstream::ClusterState& cluster, std::vector<Stat>& out);

/// Appends http.<stat_prefix>.* samples. Any thread.
void appendHcmStats(const HcmStats& hcm, std::vector<Stat>& out);

/// Envoy's sanitisation of an address for use inside a flat stat name: "10.0.0.1:80" ->
/// "10.0.0.1_80" (':' -> '_').
std::string sanitizeForStatName(std::string_view text);

}  // namespace wslb::stats
