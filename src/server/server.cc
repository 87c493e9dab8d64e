#include "wslb/server/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <fstream>
#include <stdexcept>

#include "wslb/server/listener_factory.h"
#include "wslb/stats/collect.h"
#include "wslb/websocket/close_frame.h"

namespace wslb::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

tcp::endpoint toEndpoint(const config::SocketAddress& a) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(a.address, ec);
  if (ec) throw std::invalid_argument("invalid listen address \"" + a.address + "\"");
  return tcp::endpoint(address, static_cast<uint16_t>(a.port));
}

tcp::acceptor makeAcceptor(asio::io_context& io, const tcp::endpoint& ep) {
  tcp::acceptor acceptor(io);
  acceptor.open(ep.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  int one = 1;
  if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    throw std::runtime_error("setsockopt(SO_REUSEPORT) failed");
  }
  // Accepted sockets inherit TCP_NODELAY.
  acceptor.set_option(tcp::no_delay(true));
  acceptor.bind(ep);
  acceptor.listen(asio::socket_base::max_listen_connections);
  return acceptor;
}

}  // namespace

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
  const auto& bootstrap = options_.bootstrap;
  clusters_ = std::make_unique<upstream::ClusterManager>(bootstrap.clusters);
  xds_ = std::make_unique<xds::XdsManager>(bootstrap, *clusters_,
                                           xds::NodeInfo{bootstrap.node.id, bootstrap.node.cluster},
                                           [this](const upstream::ClusterStateSharedPtr& cluster,
                                                  std::vector<upstream::HostSharedPtr> removed) {
                                             scheduleRemovedDrain(cluster, std::move(removed));
                                           });
  health_ = std::make_unique<health::HealthManager>(*clusters_, [this](auto hosts, auto window) {
    for (auto& worker : workers_) worker->goAwayHosts(hosts, window, websocket::kCloseGoingAway);
  });
  for (const auto& l : bootstrap.listeners) {
    listeners_.push_back(makeListenerContext(l, *clusters_));
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
    admin::AdminContext context;
    context.clusters = clusters_.get();
    context.hcm_stats = allHcmStats();
    for (const stats::HcmStats* hcm : context.hcm_stats) {
      for (const http::ListenerContext* chain : allChains()) {
        if (&chain->stats == hcm) {
          context.hcm_listener_names.push_back(chain->name);
          break;
        }
      }
    }
    context.state = [this] { return readinessState(); };
    context.extra_stats = [this](std::vector<stats::Stat>& out) { appendControlPlaneStats(out); };
    context.reopen_logs = [this] {
      for (const http::ListenerContext* chain : allChains()) chain->access_log->reopen();
    };
    context.quit = [this] { shutdown(); };
    context.bootstrap = &options_.bootstrap;
    context.command_line = options_.command_line;
    context.start_time = start_time_;
    context.set_healthcheck_failed = [this](bool failed) { setHealthcheckFailed(failed); };
    context.drain_listeners = [this](const admin::DrainListenersOptions& o) { drainListeners(o); };
    const auto ep = toEndpoint(*bootstrap.admin.address);
    try {
      admin_ = std::make_unique<admin::AdminServer>(admin_io_, ep, std::move(context));
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

std::vector<stats::Stat> Server::collectStats() const {
  std::vector<stats::Stat> out;
  for (const auto& cluster : clusters_->clusters()) stats::appendClusterStats(*cluster, out);
  for (const stats::HcmStats* hcm : allHcmStats()) stats::appendHcmStats(*hcm, out);
  appendControlPlaneStats(out);
  return out;
}

std::vector<const http::ListenerContext*> Server::allChains() const {
  std::vector<const http::ListenerContext*> out;
  for (const auto& listener : listeners_) {
    out.push_back(listener.get());
    for (const auto& chain : listener->other_chains) out.push_back(chain.get());
  }
  return out;
}

std::vector<stats::HcmStats*> Server::allHcmStats() const {
  std::vector<stats::HcmStats*> out;
  for (const http::ListenerContext* chain : allChains()) {
    if (std::find(out.begin(), out.end(), &chain->stats) == out.end()) out.push_back(&chain->stats);
  }
  return out;
}

void Server::appendControlPlaneStats(std::vector<stats::Stat>& out) const {
  connection_limit_->appendStats(out);  // listener.<address>.downstream_global_cx_overflow
  for (const auto& listener : listeners_) {
    if (!listener->tls) continue;
    const tls::ReloadStats& reloads = listener->tls->reloadStats();
    tls::appendHandshakeStats(*listener->tls_stats, reloads.success.load(), reloads.failure.load(),
                              "listener", "envoy_listener_address", listener->stat_address, out);
  }
  if (xds_->hasGrpc()) {
    out.emplace_back("control_plane.connected_state", "control_plane.connected_state",
                     stats::Tags{}, stats::StatType::kGauge, xds_->connected() ? 1u : 0u);
  }
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
  xds_->stop();
  if (control_thread_.joinable()) control_thread_.join();
}

int64_t Server::activeDownstreamConnections() const {
  int64_t total = 0;
  for (const stats::HcmStats* hcm : allHcmStats()) total += hcm->downstream_cx_active.load();
  return total;
}

std::string Server::readinessState() const {
  const ServerState state = state_.load();
  if (state == ServerState::kLive && !xds_->initialized()) return "PRE_INITIALIZING";
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
  xds_->start();
  health_->start();
  for (auto& w : workers_) w->start();
  if (admin_) {
    admin_->start();
    admin_thread_ = std::thread([this] { admin_io_.run(); });
  }
  for (size_t i = 0; i < listener_ports_.size(); ++i) {
    spdlog::info("[main] listener '{}' on port {} with {} worker(s)", listeners_[i]->name,
                 listener_ports_[i], workers_.size());
  }
  if (admin_) spdlog::info("[main] admin address: port {}", admin_->port());
  state_ = ServerState::kLive;
  control_thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(control_io_);
    control_io_.run();
  });
}

int Server::run() {
  std::unique_ptr<asio::signal_set> signals;
  if (options_.handle_signals) {
    signals = std::make_unique<asio::signal_set>(control_io_, SIGINT, SIGTERM);
    signals->async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      spdlog::warn("[main] caught {}", signo == SIGTERM ? "SIGTERM" : "SIGINT");
      shutdown();
    });
  }
  start();
  wait();
  return 0;
}

void Server::finishShutdown() {
  metrics_exposer_.reset();  // no scrape may run while the rest is torn down
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
  for (const http::ListenerContext* chain : allChains()) chain->access_log->stop();
  xds_->stop();
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
