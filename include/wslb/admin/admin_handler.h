#pragma once
// Envoy's admin endpoints over the live state: /ready, /stats, /stats/prometheus, /clusters,
// /quitquitquit. Pure request -> response, so it is tested without sockets.

#include <functional>
#include <string>
#include <vector>

#include "wslb/http/upstream_request.h"
#include "wslb/stats/hcm_stats.h"
#include "wslb/stats/stat.h"
#include "wslb/upstream/cluster_manager.h"

namespace wslb::admin {

/// What the admin endpoints read and may trigger. All pointers outlive the admin server.
struct AdminContext {
  const upstream::ClusterManager* clusters = nullptr;
  std::vector<const stats::HcmStats*> hcm_stats;
  /// "LIVE", "DRAINING", ... (Envoy's server states). Any thread.
  std::function<std::string()> state;
  /// Starts a graceful shutdown (POST /quitquitquit). Any thread; must not block.
  std::function<void()> quit;
  /// Adds stats that live outside clusters and listeners (control_plane.*). Optional.
  std::function<void(std::vector<stats::Stat>&)> extra_stats;
};

/// Handles one admin request. Mutating endpoints require POST (GET -> 400, as Envoy).
/// Thread safety: may run on the admin thread while workers update the atomics it reads.
http::Response handleAdminRequest(const AdminContext& context, const http::Request& request);

/// The /clusters text for every cluster (Envoy's `cluster::host::stat::value` lines).
std::string renderClusters(const upstream::ClusterManager& clusters);

}  // namespace wslb::admin
