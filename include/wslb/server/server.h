#pragma once
// Wires everything: clusters, listeners, workers, the admin listener, signals and draining.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "wslb/admin/admin_server.h"
#include "wslb/config/bootstrap.h"
#include "wslb/health/health_manager.h"
#include "wslb/http/listener_context.h"
#include "wslb/server/worker.h"
#include "wslb/stats/prometheus_collectable.h"
#include "wslb/upstream/cluster_manager.h"
#include "wslb/xds/xds_manager.h"

#include <prometheus/exposer.h>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>

namespace wslb::server {

/// --drain-strategy: how the WebSockets still open when the drain time ends are closed.
enum class DrainStrategy {
  kGradual,    ///< Close 1001 spread evenly over drain_window.
  kImmediate,  ///< Close 1001 to all of them at once.
};

struct ServerOptions {
  config::Bootstrap bootstrap;
  unsigned concurrency = 1;  ///< worker threads (>= 1).
  /// --drain-time-s (Envoy default 600 s): how long open connections may go on after a drain
  /// begins before wslb closes them.
  std::chrono::milliseconds drain_time{600000};
  DrainStrategy drain_strategy = DrainStrategy::kGradual;
  /// --drain-window-s: with kGradual, the span over which the Close frames are sent.
  std::chrono::milliseconds drain_window{10000};
  /// After the last Close went out: how long peers have to answer it before what is left is
  /// closed and the process exits.
  std::chrono::milliseconds close_grace{5000};
  std::string admin_address_path;          ///< --admin-address-path: write "ip:port" here.
  bool handle_signals = true;              ///< SIGTERM/SIGINT start a drain.
  admin::CommandLineOptions command_line;  ///< what /server_info reports (main fills it).
  /// What reload() re-reads (-c and --config-yaml, merged as at start-up). Both empty: reload()
  /// without an argument fails.
  std::string config_path;
  std::string config_yaml;
  /// SIGHUP reloads the configuration (with handle_signals).
  bool reload_on_sighup = true;
};

/// The outcome of one configuration reload.
struct ReloadResult {
  bool ok = false;
  std::vector<std::string> errors;    ///< why it was rejected (YAML paths where known).
  std::vector<std::string> warnings;  ///< loader warnings and restart-only changes not applied.
};

/// server.reload_* counters (and the gauge of the last success). Atomics: any thread.
struct ReloadStats {
  std::atomic<uint64_t> attempt{0};
  std::atomic<uint64_t> success{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> last_success_time{0};  ///< Unix seconds; 0 = never.
};

enum class ServerState { kInitializing, kLive, kDraining, kStopped };
const char* toString(ServerState s);

class Server {
 public:
  /// Builds clusters and routes and binds every listener and the admin port (port 0 picks a free
  /// one). Throws std::exception with a clear message on failure (start-up only).
  explicit Server(ServerOptions options);
  ~Server();

  /// Starts workers and admin, then blocks until shut down. Returns the exit code (0).
  int run();
  /// Starts workers and admin and returns (tests); pair with shutdown() + wait().
  void start();
  /// Begins the drain (SIGTERM, POST /quitquitquit): stop accepting now; let open connections go
  /// on for up to drain_time; then send WebSocket Close 1001 at frame boundaries to those still
  /// open (spread over drain_window with kGradual) and close plain HTTP ones; stop once every
  /// connection has ended, or close_grace after the last Close. Any thread; idempotent.
  void shutdown();
  /// Blocks until the server has stopped (after start()).
  void wait();

  ServerState state() const { return state_.load(); }
  /// The state /ready reports: "PRE_INITIALIZING" while an EDS cluster waits for its first
  /// assignment (or its initial_fetch_timeout); "DRAINING" after POST /healthcheck/fail (until
  /// /healthcheck/ok) or /drain_listeners; else toString(state()).
  std::string readinessState() const;
  /// POST /healthcheck/fail (true) and /healthcheck/ok (false): only readiness changes; the
  /// listeners keep accepting. Any thread.
  void setHealthcheckFailed(bool failed) { healthcheck_failed_ = failed; }
  /// POST /drain_listeners: readiness fails at once. With `skip_exit` nothing else changes.
  /// Otherwise the drain of shutdown() runs, except that with `graceful` the listeners keep
  /// accepting until drain_time ends. Any thread; does not block.
  void drainListeners(const admin::DrainListenersOptions& options);
  /// Re-reads the configuration the server started with (ServerOptions::config_path and
  /// config_yaml) and applies it; what SIGHUP does. See reload(config::Bootstrap).
  ReloadResult reload();
  /// Applies `next` as the new configuration without dropping a live connection: listeners,
  /// routes, clusters, caps and timeouts (docs/reload.md says what applies live and what needs a
  /// restart). All or nothing: everything new (clusters, listener contexts, bound sockets, EDS
  /// sources) is built first, and any error rejects the whole reload, leaving the running
  /// configuration untouched. Errors are logged; server.reload_* stats count the outcome.
  /// Any thread after start() (runs on the control thread; blocks until applied everywhere).
  ReloadResult reload(config::Bootstrap next);
  const ReloadStats& reloadStats() const { return reload_stats_; }

  /// Port of the listener at `index` in the current configuration. Any thread.
  uint16_t listenerPort(size_t index) const;
  /// Port of the listener called `name`, 0 if there is none. Any thread.
  uint16_t listenerPort(std::string_view name) const;
  uint16_t adminPort() const { return admin_ ? admin_->port() : 0; }
  /// The metrics listener's port (0 if none is configured).
  uint16_t metricsPort() const { return metrics_port_; }
  /// Every stat sample now: clusters, listeners, control plane. Any thread.
  std::vector<stats::Stat> collectStats() const;
  const upstream::ClusterManager& clusters() const { return *clusters_; }
  /// The current listeners (a copy: a reload may replace them). Any thread.
  std::vector<std::shared_ptr<http::ListenerContext>> listeners() const;
  /// Sum of downstream_cx_active over all listeners. Any thread.
  int64_t activeDownstreamConnections() const;

 private:
  // The drain sequence (src/server/drain.cc); control thread except requestDrain().
  void requestDrain(bool keep_accepting);
  void beginDrain(bool keep_accepting);
  void stopAccepting();
  /// Polls until every connection has ended (then stops) or `deadline`, then runs `then`.
  void waitForConnections(std::chrono::steady_clock::time_point deadline,
                          std::function<void()> then);
  void closeRemaining();
  void finishShutdown();
  /// EDS removed `removed` from `cluster`: if the cluster sets removed_endpoint_drain_timeout,
  /// schedule Close 1001 for their live WebSockets. Any thread.
  void appendControlPlaneStats(std::vector<stats::Stat>& out) const;
  /// Every filter chain's context of every listener. Takes live_mutex_.
  std::vector<std::shared_ptr<const http::ListenerContext>> allChains() const;
  /// The http.<stat_prefix>.* counters of every chain, each object once. Takes live_mutex_.
  std::vector<std::shared_ptr<stats::HcmStats>> allHcmStats() const;
  /// Binds node.metadata.wslb.metrics_listener (start-up; throws on failure).
  void startMetricsListener(const config::MetricsListener& metrics);
  void scheduleRemovedDrain(const upstream::ClusterStateSharedPtr& cluster,
                            std::vector<upstream::HostSharedPtr> removed);
  /// The xDS client for `bootstrap`'s EDS clusters, found in `clusters` (may throw).
  std::shared_ptr<xds::XdsManager> makeXds(const config::Bootstrap& bootstrap,
                                           const upstream::ClusterManager& clusters);
  /// The counters of listeners with this stat_prefix: the live ones if any context still holds
  /// them (so a reload keeps counting where it was), else new ones. Caller holds live_mutex_.
  std::shared_ptr<stats::HcmStats> hcmStatsFor(const std::string& stat_prefix);
  /// What the admin endpoints read, for the current listeners and configuration.
  admin::AdminContext makeAdminContext();
  std::shared_ptr<xds::XdsManager> currentXds() const;
  // Reload (src/server/reload.cc), on the control thread.
  ReloadResult reload(std::optional<config::Bootstrap> next);
  ReloadResult applyReload(config::Bootstrap next);
  /// Counts and logs the outcome.
  ReloadResult recordReload(ReloadResult result);
  /// Stops the access logs of replaced listener contexts that no connection uses any more.
  void sweepRetiredAccessLogs();

  ServerOptions options_;
  std::unique_ptr<upstream::ClusterManager> clusters_;
  /// Replaced by a reload that changes EDS subscriptions; guarded by live_mutex_.
  std::shared_ptr<xds::XdsManager> xds_;
  std::unique_ptr<health::HealthManager> health_;  ///< active checks, outlier sweeps.
  std::shared_ptr<stats::PrometheusCollectable> metrics_collectable_;
  std::unique_ptr<prometheus::Exposer> metrics_exposer_;
  uint16_t metrics_port_ = 0;
  /// Guards what a reload replaces and other threads read: xds_, listeners_, listener_ports_,
  /// bootstrap_, hcm_stats_, retired_access_logs_. Never taken on the data path.
  mutable std::mutex live_mutex_;
  /// Serialises reload() with the final shutdown.
  std::mutex reload_mutex_;
  /// The configuration running now (start-up's, then each applied reload's, with the
  /// restart-only fields kept as they were).
  std::shared_ptr<const config::Bootstrap> bootstrap_;
  /// When bootstrap_ became the running configuration (start, then each applied reload).
  std::chrono::system_clock::time_point config_time_ = std::chrono::system_clock::now();
  std::vector<std::shared_ptr<http::ListenerContext>> listeners_;
  std::vector<uint16_t> listener_ports_;
  /// Every listener's counters by stat_prefix, while some context holds them.
  std::map<std::string, std::weak_ptr<stats::HcmStats>> hcm_stats_;
  /// Access logs of contexts a reload replaced: kept here so the last reference is dropped (and
  /// the writer joined) on the control thread, never on a worker.
  std::vector<std::shared_ptr<accesslog::AccessLog>> retired_access_logs_;
  ReloadStats reload_stats_;
  /// overload_manager's global cap on downstream connections, shared by the workers.
  std::shared_ptr<relay::DownstreamConnectionLimit> connection_limit_;
  std::vector<std::unique_ptr<Worker>> workers_;
  boost::asio::io_context control_io_;  ///< signals, drain timer; runs in run()/wait().
  boost::asio::io_context admin_io_;
  std::unique_ptr<admin::AdminServer> admin_;
  std::thread admin_thread_;
  std::thread control_thread_;
  boost::asio::steady_timer drain_timer_;
  boost::asio::steady_timer listener_drain_timer_;  ///< /drain_listeners?graceful (control thread).
  const std::chrono::system_clock::time_point start_time_ = std::chrono::system_clock::now();
  std::atomic<ServerState> state_{ServerState::kInitializing};
  std::atomic<bool> healthcheck_failed_{false};
  std::atomic<bool> listeners_draining_{false};
  std::atomic<bool> shutdown_requested_{false};
  bool accepting_ = true;  ///< control thread: the listeners have not been stopped yet.
};

}  // namespace wslb::server
