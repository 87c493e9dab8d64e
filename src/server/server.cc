#include "wslb/server/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <fstream>
#include <stdexcept>

#include "listener_factory.h"
#include "wslb/stats/collect.h"
#include "wslb/websocket/close_frame.h"

namespace wslb::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

const char* toString(ServerState s) {
  switch (s) {
    case ServerState::kInitializing:
      return "INITIALIZING";
    case ServerState::kLive:
      return "LIVE";
    case ServerState::kDraining:
      return "DRAINING";
    case ServerState::kStopped:
      return "DRAINING";
  }
  return "LIVE";
}

Server::Server(ServerOptions options)
    : options_(std::move(options)), drain_timer_(control_io_), listener_drain_timer_(control_io_) {
  if (options_.concurrency == 0) options_.concurrency = 1;
  bootstrap_ = std::make_shared<const config::Bootstrap>(options_.bootstrap);
  const auto& bootstrap = *bootstrap_;
  clusters_ = std::make_unique<upstream::ClusterManager>(bootstrap.clusters);
  xds_ = makeXds(bootstrap, *clusters_);
  health_ = std::make_unique<health::HealthManager>(*clusters_, [this](auto hosts, auto window) {
    for (auto& worker : workers_) worker->goAwayHosts(hosts, window, websocket::kCloseGoingAway);
  });
  {
    std::lock_guard lock(live_mutex_);
    for (const auto& l : bootstrap.listeners) {
      listeners_.push_back(makeListenerContext(
          l, *clusters_, [this](const std::string& prefix) { return hcmStatsFor(prefix); }));
    }
  }
  connection_limit_ = std::make_shared<relay::DownstreamConnectionLimit>(
      bootstrap.max_active_downstream_connections.value_or(0));
  for (unsigned i = 0; i < options_.concurrency; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, connection_limit_));
  }
  // One acceptor per worker per listener on the same port (SO_REUSEPORT): the kernel spreads
  // new connections over the workers. Port 0: the first bind picks the port, the rest reuse it.
  for (size_t li = 0; li < bootstrap.listeners.size(); ++li) {
    auto ep = toEndpoint(bootstrap.listeners[li].address);
    for (auto& worker : workers_) {
      try {
        auto acceptor = makeAcceptor(worker->io(), ep);
        ep.port(acceptor.local_endpoint().port());
        if (listeners_[li]->stat_address.empty()) {
          listeners_[li]->stat_address = listenerStatAddress(acceptor);
        }
        worker->addListener(std::move(acceptor), listeners_[li]);
      } catch (const boost::system::system_error& e) {
        throw std::runtime_error("cannot bind listener \"" + bootstrap.listeners[li].name +
                                 "\" to " + ep.address().to_string() + ":" +
                                 std::to_string(ep.port()) + ": " + e.code().message());
      }
    }
    listener_ports_.push_back(ep.port());
    if (listeners_[li]->tls) listeners_[li]->tls->startWatching();
  }
  if (bootstrap.metrics_listener) startMetricsListener(*bootstrap.metrics_listener);
  if (bootstrap.admin.address) {
    const auto ep = toEndpoint(*bootstrap.admin.address);
    try {
      admin_ = std::make_unique<admin::AdminServer>(admin_io_, ep, makeAdminContext());
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("cannot bind admin listener to " + ep.address().to_string() + ":" +
                               std::to_string(ep.port()) + ": " + e.code().message());
    }
    if (!options_.admin_address_path.empty()) {
      std::ofstream out(options_.admin_address_path, std::ios::trunc);
      out << ep.address().to_string() << ':' << admin_->port() << '\n';
      if (!out) {
        throw std::runtime_error("cannot write admin address to " + options_.admin_address_path);
      }
    }
  }
}

std::shared_ptr<xds::XdsManager> Server::makeXds(const config::Bootstrap& bootstrap,
                                                 const upstream::ClusterManager& clusters) {
  return std::make_shared<xds::XdsManager>(bootstrap, clusters,
                                           xds::NodeInfo{bootstrap.node.id, bootstrap.node.cluster},
                                           [this](const upstream::ClusterStateSharedPtr& cluster,
                                                  std::vector<upstream::HostSharedPtr> removed) {
                                             scheduleRemovedDrain(cluster, std::move(removed));
                                           });
}

std::shared_ptr<stats::HcmStats> Server::hcmStatsFor(const std::string& stat_prefix) {
  if (auto it = hcm_stats_.find(stat_prefix); it != hcm_stats_.end()) {
    if (auto live = it->second.lock()) return live;
  }
  auto created = std::make_shared<stats::HcmStats>(stat_prefix);
  hcm_stats_[stat_prefix] = created;
  return created;
}

admin::AdminContext Server::makeAdminContext() {
  // Owns what the context points to, so a request still running on the admin thread when a
  // reload replaces the context reads valid memory.
  struct Owned {
    std::shared_ptr<const config::Bootstrap> bootstrap;
    std::vector<std::shared_ptr<stats::HcmStats>> stats;
  };
  auto owned = std::make_shared<Owned>();
  admin::AdminContext context;
  context.clusters = clusters_.get();
  {
    std::lock_guard lock(live_mutex_);
    owned->bootstrap = bootstrap_;
    context.config_time = config_time_;
  }
  // One entry per stats object: filter chains sharing a stat_prefix share one.
  for (const auto& chain : allChains()) {
    if (std::find(owned->stats.begin(), owned->stats.end(), chain->shared_stats) !=
        owned->stats.end()) {
      continue;
    }
    owned->stats.push_back(chain->shared_stats);
    context.hcm_stats.push_back(chain->shared_stats.get());
    context.hcm_listener_names.push_back(chain->name);
  }
  context.bootstrap = owned->bootstrap.get();
  context.keep_alive = owned;
  context.state = [this] { return readinessState(); };
  context.extra_stats = [this](std::vector<stats::Stat>& out) { appendControlPlaneStats(out); };
  context.reopen_logs = [this] {
    std::lock_guard lock(live_mutex_);
    for (const auto& listener : listeners_) {
      listener->access_log->reopen();
      for (const auto& chain : listener->other_chains) chain->access_log->reopen();
    }
    for (const auto& log : retired_access_logs_) log->reopen();
  };
  context.quit = [this] { shutdown(); };
  context.command_line = options_.command_line;
  context.start_time = start_time_;
  context.set_healthcheck_failed = [this](bool failed) { setHealthcheckFailed(failed); };
  context.drain_listeners = [this](const admin::DrainListenersOptions& o) { drainListeners(o); };
  return context;
}

std::shared_ptr<xds::XdsManager> Server::currentXds() const {
  std::lock_guard lock(live_mutex_);
  return xds_;
}

std::vector<std::shared_ptr<http::ListenerContext>> Server::listeners() const {
  std::lock_guard lock(live_mutex_);
  return listeners_;
}

uint16_t Server::listenerPort(size_t index) const {
  std::lock_guard lock(live_mutex_);
  return listener_ports_.at(index);
}

uint16_t Server::listenerPort(std::string_view name) const {
  std::lock_guard lock(live_mutex_);
  for (size_t i = 0; i < listeners_.size(); ++i) {
    if (listeners_[i]->name == name) return listener_ports_[i];
  }
  return 0;
}

std::vector<stats::Stat> Server::collectStats() const {
  std::vector<stats::Stat> out;
  for (const auto& cluster : clusters_->clusters()) stats::appendClusterStats(*cluster, out);
  for (const auto& hcm : allHcmStats()) stats::appendHcmStats(*hcm, out);
  appendControlPlaneStats(out);
  return out;
}

std::vector<std::shared_ptr<const http::ListenerContext>> Server::allChains() const {
  std::vector<std::shared_ptr<const http::ListenerContext>> out;
  for (const auto& listener : listeners()) {
    out.push_back(listener);
    for (const auto& chain : listener->other_chains) out.push_back(chain);
  }
  return out;
}

std::vector<std::shared_ptr<stats::HcmStats>> Server::allHcmStats() const {
  std::vector<std::shared_ptr<stats::HcmStats>> out;
  for (const auto& chain : allChains()) {
    if (std::find(out.begin(), out.end(), chain->shared_stats) == out.end()) {
      out.push_back(chain->shared_stats);
    }
  }
  return out;
}

void Server::appendControlPlaneStats(std::vector<stats::Stat>& out) const {
  connection_limit_->appendStats(out);  // listener.<address>.downstream_global_cx_overflow
  for (const auto& listener : listeners()) {
    if (!listener->tls) continue;
    const tls::ReloadStats& reloads = listener->tls->reloadStats();
    tls::appendHandshakeStats(*listener->tls_stats, reloads.success.load(), reloads.failure.load(),
                              "listener", "envoy_listener_address", listener->stat_address, out);
  }
  const auto xds = currentXds();
  if (xds->hasGrpc()) {
    out.emplace_back("control_plane.connected_state", "control_plane.connected_state",
                     stats::Tags{}, stats::StatType::kGauge, xds->connected() ? 1u : 0u);
  }
  auto add = [&out](const char* name, stats::StatType type, const std::atomic<uint64_t>& value) {
    out.emplace_back(name, name, stats::Tags{}, type, value.load(std::memory_order_relaxed));
  };
  add("server.reload_attempt", stats::StatType::kCounter, reload_stats_.attempt);
  add("server.reload_success", stats::StatType::kCounter, reload_stats_.success);
  add("server.reload_failed", stats::StatType::kCounter, reload_stats_.failed);
  add("server.reload_last_success_time", stats::StatType::kGauge, reload_stats_.last_success_time);
}

void Server::startMetricsListener(const config::MetricsListener& metrics) {
  const std::string& ip = metrics.address.address;
  const std::string bind = (ip.find(':') == std::string::npos ? ip : "[" + ip + "]") + ":" +
                           std::to_string(metrics.address.port);
  try {
    metrics_exposer_ = std::make_unique<prometheus::Exposer>(bind, 1);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot bind the metrics listener to " + bind + ": " + e.what());
  }
  metrics_collectable_ =
      std::make_shared<stats::PrometheusCollectable>([this] { return collectStats(); });
  metrics_exposer_->RegisterCollectable(metrics_collectable_, metrics.path);
  const auto ports = metrics_exposer_->GetListeningPorts();
  metrics_port_ = ports.empty() ? 0 : static_cast<uint16_t>(ports.front());
  spdlog::info("[main] metrics listener on {}:{}{}", ip, metrics_port_, metrics.path);
}

Server::~Server() {
  if (!shutdown_requested_.exchange(true)) finishShutdown();
  currentXds()->stop();
  if (control_thread_.joinable()) control_thread_.join();
}

int64_t Server::activeDownstreamConnections() const {
  // Every stats object still alive, so connections of listeners a reload removed count too.
  std::lock_guard lock(live_mutex_);
  int64_t total = 0;
  for (const auto& [prefix, weak] : hcm_stats_) {
    if (auto stats = weak.lock()) total += stats->downstream_cx_active.load();
  }
  return total;
}

std::string Server::readinessState() const {
  const ServerState state = state_.load();
  if (state == ServerState::kLive && !currentXds()->initialized()) return "PRE_INITIALIZING";
  if (state == ServerState::kLive && (healthcheck_failed_ || listeners_draining_)) {
    return "DRAINING";
  }
  return toString(state);
}

void Server::scheduleRemovedDrain(const upstream::ClusterStateSharedPtr& cluster,
                                  std::vector<upstream::HostSharedPtr> removed) {
  const config::Cluster& config = cluster->config();
  if (!config.removed_endpoint_drain_timeout) return;
  asio::post(control_io_, [this, cluster, removed = std::move(removed)]() mutable {
    const config::Cluster& config = cluster->config();
    auto timer =
        std::make_shared<asio::steady_timer>(control_io_, *config.removed_endpoint_drain_timeout);
    timer->async_wait([this, timer, cluster,
                       removed = std::move(removed)](const boost::system::error_code& ec) {
      if (ec || state_.load() == ServerState::kStopped) return;
      // Endpoints that came back meanwhile keep their connections.
      std::vector<upstream::HostSharedPtr> gone;
      size_t connections = 0;
      for (const auto& host : removed) {
        if ((host->healthFlags() & upstream::kPendingDynamicRemoval) != 0 && host->active() > 0) {
          connections += host->active();
          gone.push_back(host);
        }
      }
      if (gone.empty()) return;
      const auto window = cluster->config().removed_endpoint_drain_window;
      spdlog::info(
          "[main] cluster '{}': closing {} connection(s) to {} removed endpoint(s) with "
          "1001 over {} ms",
          cluster->name(), connections, gone.size(), window.count());
      for (auto& worker : workers_) {
        worker->goAwayHosts(gone, window, websocket::kCloseGoingAway);
      }
    });
  });
}

void Server::start() {
  currentXds()->start();
  health_->start();
  for (auto& w : workers_) w->start();
  // Live before the admin answers: /ready must never see the state before start-up ended (it
  // reports PRE_INITIALIZING while EDS clusters wait for their first assignment).
  state_ = ServerState::kLive;
  if (admin_) {
    admin_->start();
    admin_thread_ = std::thread([this] { admin_io_.run(); });
  }
  for (const auto& listener : listeners()) {
    spdlog::info("[main] listener '{}' on port {} with {} worker(s)", listener->name,
                 listenerPort(listener->name), workers_.size());
  }
  if (admin_) spdlog::info("[main] admin address: port {}", admin_->port());
  control_thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(control_io_);
    control_io_.run();
  });
}

int Server::run() {
  std::unique_ptr<asio::signal_set> signals;
  std::unique_ptr<asio::signal_set> hangup;
  std::function<void()> wait_hangup;
  if (options_.handle_signals) {
    signals = std::make_unique<asio::signal_set>(control_io_, SIGINT, SIGTERM);
    signals->async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      spdlog::warn("[main] caught {}", signo == SIGTERM ? "SIGTERM" : "SIGINT");
      shutdown();
    });
    if (options_.reload_on_sighup) {
      // SIGHUP re-reads the configuration, on the control thread, for as long as the server runs.
      hangup = std::make_unique<asio::signal_set>(control_io_, SIGHUP);
      wait_hangup = [this, &hangup, &wait_hangup] {
        hangup->async_wait([this, &wait_hangup](const boost::system::error_code& ec, int) {
          if (ec) return;
          spdlog::info("[main] caught SIGHUP: reloading the configuration");
          reload();
          wait_hangup();
        });
      };
      wait_hangup();
    }
  }
  start();
  wait();
  return 0;
}

void Server::finishShutdown() {
  std::lock_guard reload_lock(reload_mutex_);  // no reload half-way through while this runs
  metrics_exposer_.reset();                    // no scrape may run while the rest is torn down
  // No health check or drain request once the workers go.
  health_->stop();
  const auto left = activeDownstreamConnections();
  if (left > 0) spdlog::info("[main] closing {} connection(s) still open", left);
  for (auto& w : workers_) w->closeAll();
  // Give the workers a moment to run the close handlers (slots released, stats final).
  for (int i = 0; i < 100 && activeDownstreamConnections() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& w : workers_) w->stop();
  // Every worker is done: write what the access logs still hold.
  {
    std::lock_guard lock(live_mutex_);
    for (auto& listener : listeners_) {
      listener->access_log->stop();
      for (auto& chain : listener->other_chains) chain->access_log->stop();
    }
    for (auto& log : retired_access_logs_) log->stop();
  }
  currentXds()->stop();
  if (admin_) admin_->stop();
  admin_io_.stop();
  if (admin_thread_.joinable()) admin_thread_.join();
  state_ = ServerState::kStopped;
  control_io_.stop();
  spdlog::info("[main] exiting");
}

void Server::wait() {
  if (control_thread_.joinable()) control_thread_.join();
}

}  // namespace wslb::server
