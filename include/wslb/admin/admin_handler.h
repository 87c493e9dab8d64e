#pragma once
// Envoy's admin endpoints over the live state (/ready, /stats, /clusters, /server_info,
// /config_dump, the POST mutations) plus wslb's live page. Pure request -> response, so it is
// tested without sockets.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "wslb/config/bootstrap.h"
#include "wslb/http/upstream_request.h"
#include "wslb/stats/hcm_stats.h"
#include "wslb/stats/stat.h"
#include "wslb/upstream/cluster_manager.h"

namespace wslb::admin {

/// The command line the server runs with, as /server_info reports it (Envoy's
/// admin.v3.CommandLineOptions, the fields wslb's CLI has). Filled by main; plain data.
struct CommandLineOptions {
  uint64_t base_id = 0;
  uint32_t concurrency = 1;
  std::string config_path;
  std::string config_yaml;
  std::string admin_address_path;
  std::string log_level = "info";
  std::string component_log_level;
  std::string log_format;
  std::string log_path;
  std::string service_cluster;
  std::string service_node;
  std::chrono::seconds drain_time{600};
  std::chrono::seconds parent_shutdown_time{900};
  std::string drain_strategy = "Gradual";  ///< Envoy's enum names: Gradual | Immediate.
  std::string mode = "Serve";              ///< Envoy's enum names: Serve | Validate.
  bool disable_hot_restart = false;
};

/// POST /drain_listeners query flags (Envoy's names).
struct DrainListenersOptions {
  bool graceful = false;      ///< ?graceful: keep accepting for the drain time, then stop.
  bool skip_exit = false;     ///< ?skip_exit: never stop the listeners (readiness still fails).
  bool inbound_only = false;  ///< ?inboundonly: every wslb listener is inbound, so the same.
};

/// What the admin endpoints read and may trigger. Every pointer stays valid while the context
/// does: it points into the server or into what `keep_alive` owns.
struct AdminContext {
  const upstream::ClusterManager* clusters = nullptr;
  /// One per stat_prefix of each listener's filter chains, in bootstrap order; hcm_stats[i]
  /// belongs to the listener named hcm_listener_names[i] (when given).
  /// Non-const for POST /reset_counters (the counters are atomics; any thread).
  std::vector<stats::HcmStats*> hcm_stats;
  std::vector<std::string> hcm_listener_names;
  /// The effective configuration (/config_dump, listener names). Optional.
  const config::Bootstrap* bootstrap = nullptr;
  /// What /server_info reports as command_line_options.
  CommandLineOptions command_line;
  /// When the server started (uptime).
  std::chrono::system_clock::time_point start_time = std::chrono::system_clock::now();
  /// When `bootstrap` became the running configuration (config_dump's last_updated).
  std::chrono::system_clock::time_point config_time = std::chrono::system_clock::now();
  /// "LIVE", "DRAINING", "PRE_INITIALIZING", "INITIALIZING" (Envoy's server states); what
  /// /ready and /server_info report. Any thread.
  std::function<std::string()> state;
  /// Starts a graceful shutdown (POST /quitquitquit). Any thread; must not block.
  std::function<void()> quit;
  /// POST /healthcheck/fail (true) and /healthcheck/ok (false). Any thread; must not block.
  std::function<void(bool failed)> set_healthcheck_failed;
  /// POST /drain_listeners. Any thread; must not block.
  std::function<void(const DrainListenersOptions&)> drain_listeners;
  /// Adds stats that live outside clusters and listeners (control_plane.*). Optional.
  std::function<void(std::vector<stats::Stat>&)> extra_stats;
  /// Reopens every access log file (POST /reopen_logs, after log rotation). Must not block.
  std::function<void()> reopen_logs;
  /// Owns what hcm_stats and bootstrap point to when a config reload built them (optional).
  std::shared_ptr<const void> keep_alive;
};

/// Handles one admin request. Mutating endpoints require POST: any other method gets Envoy's
/// answer, 405 "Method GET not allowed, POST required.", and changes nothing.
/// Thread safety: may run on the admin thread while workers update the atomics it reads.
http::Response handleAdminRequest(const AdminContext& context, const http::Request& request);

/// The /clusters text for every cluster (Envoy's `cluster::host::stat::value` lines).
std::string renderClusters(const upstream::ClusterManager& clusters);

/// POST /reset_counters: zeroes every counter (cluster, endpoint, HTTP connection manager),
/// leaving gauges (cx_active, pending, membership, the EDS `version`) alone. Any thread.
void resetCounters(const AdminContext& context);

}  // namespace wslb::admin
