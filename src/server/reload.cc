// Configuration reload (SIGHUP, Server::reload()): the new configuration is loaded and every
// runtime piece it needs is built first (clusters to add, listener contexts, bound sockets, EDS
// sources); only when all of that succeeded is anything live changed, and from then on nothing
// can fail. So a bad file, or a port that cannot be bound, leaves the running configuration
// exactly as it was. Live connections keep what they started with: their listener context,
// their route, their cluster and their slot.

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <optional>

#include "listener_factory.h"
#include "wslb/config/loader.h"
#include "wslb/server/server.h"

namespace wslb::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string addressText(const config::SocketAddress& a) {
  std::string text = a.address;
  text += ':';
  text += std::to_string(a.port);
  return text;
}

bool sameAddress(const config::SocketAddress& a, const config::SocketAddress& b) {
  return a.address == b.address && a.port == b.port;
}

bool sameAddress(const std::optional<config::SocketAddress>& a,
                 const std::optional<config::SocketAddress>& b) {
  return a.has_value() == b.has_value() && (!a || sameAddress(*a, *b));
}

bool sameOutlier(const std::optional<config::OutlierDetection>& a,
                 const std::optional<config::OutlierDetection>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return a->consecutive_5xx == b->consecutive_5xx &&
         a->consecutive_gateway_failure == b->consecutive_gateway_failure &&
         a->enforcing_consecutive_5xx == b->enforcing_consecutive_5xx &&
         a->enforcing_consecutive_gateway_failure == b->enforcing_consecutive_gateway_failure &&
         a->interval == b->interval && a->base_ejection_time == b->base_ejection_time &&
         a->max_ejection_time == b->max_ejection_time &&
         a->max_ejection_percent == b->max_ejection_percent &&
         a->always_eject_one_host == b->always_eject_one_host;
}

std::string clusterPath(size_t index) {
  std::string path = "static_resources.clusters[";
  path += std::to_string(index);
  path += ']';
  return path;
}

std::string listenerPath(size_t index) {
  std::string path = "static_resources.listeners[";
  path += std::to_string(index);
  path += ']';
  return path;
}

// What a running cluster cannot change in place: its picker and outlier detector are built once
// and read by the workers without a lock. Renaming the cluster replaces it instead.
void checkClusterChange(const config::Cluster& running, const config::Cluster& next, size_t index,
                        std::vector<std::string>& errors) {
  auto error = [&](const char* field, const char* what) {
    std::string e = clusterPath(index);
    e += '.';
    e += field;
    e += ": cluster '";
    e += next.name;
    e += "' cannot change its ";
    e += what;
    e += " on reload (restart, or give the cluster a new name to replace it)";
    errors.push_back(std::move(e));
  };
  if (running.type != next.type) error("type", "type");
  if (running.lb_policy != next.lb_policy) error("lb_policy", "lb_policy");
  if (!sameOutlier(running.outlier_detection, next.outlier_detection)) {
    error("outlier_detection", "outlier_detection");
  }
  // The cluster's TLS context is built with it. New certificate files under the same names
  // are picked up without a reload (they are watched).
  if (running.tls != next.tls) error("transport_socket", "transport_socket");
}

// The EDS subscriptions a configuration asks for; the xDS client is rebuilt when this changes.
std::string edsKey(const config::Bootstrap& b) {
  std::string key;
  auto api = [&key](const config::ApiConfigSource& a) {
    key += std::to_string(static_cast<int>(a.api_type));
    key += '|';
    key += a.cluster_name;
    for (auto d : {a.refresh_delay, a.request_timeout, a.retry_base_interval, a.retry_max_interval,
                   a.grpc_timeout}) {
      key += '|';
      key += std::to_string(d.count());
    }
    key += a.set_node_on_first_message_only ? "|1" : "|0";
  };
  if (b.dynamic_resources.ads_config) api(*b.dynamic_resources.ads_config);
  for (const config::Cluster& c : b.clusters) {
    if (c.type != config::Cluster::Type::kEds) continue;
    const config::ConfigSource& source = c.eds.eds_config;
    key += '\n';
    key += c.name;
    key += '|';
    key += c.edsResourceName();
    key += '|';
    key += std::to_string(static_cast<int>(source.kind));
    key += '|';
    key += std::to_string(source.initial_fetch_timeout.count());
    switch (source.kind) {
      case config::ConfigSource::Kind::kApi:
        key += '|';
        api(source.api);
        // The control plane's own (static) cluster: its endpoints are where the stream goes.
        for (const config::Cluster& xds : b.clusters) {
          if (xds.name != source.api.cluster_name) continue;
          for (const config::Endpoint& e : xds.endpoints) {
            key += '|';
            key += addressText(e.address);
          }
        }
        break;
      case config::ConfigSource::Kind::kPath:
        key += '|';
        key += source.path;
        key += '|';
        key += source.watched_directory;
        break;
      default:
        break;
    }
  }
  if (b.dynamic_resources.ads_config) {
    for (const config::Cluster& xds : b.clusters) {
      if (xds.name != b.dynamic_resources.ads_config->cluster_name) continue;
      for (const config::Endpoint& e : xds.endpoints) {
        key += "|ads:";
        key += addressText(e.address);
      }
    }
  }
  return key;
}

// A listener of the new configuration, built and (if it needs a socket) bound.
struct PreparedListener {
  std::shared_ptr<http::ListenerContext> context;
  std::vector<tcp::acceptor> acceptors;  ///< one per worker; empty: the running socket stays.
  uint16_t port = 0;
};

}  // namespace

ReloadResult Server::reload() {
  return reload(std::optional<config::Bootstrap>{});
}

ReloadResult Server::reload(config::Bootstrap next) {
  return reload(std::optional<config::Bootstrap>(std::move(next)));
}

ReloadResult Server::reload(std::optional<config::Bootstrap> next) {
  auto run = [this, &next] {
    ReloadResult result;
    if (!next) {
      if (options_.config_path.empty() && options_.config_yaml.empty()) {
        result.errors.push_back(
            "no configuration to re-read (the server was not started from "
            "-c/--config-path or --config-yaml)");
        return recordReload(std::move(result));
      }
      config::LoadResult loaded = config::loadBootstrap(options_.config_path, options_.config_yaml);
      for (const auto& w : loaded.warnings) result.warnings.push_back(w.str());
      if (!loaded.ok()) {
        for (const auto& e : loaded.errors) result.errors.push_back(e.str());
        return recordReload(std::move(result));
      }
      next = std::move(loaded.bootstrap);
    }
    ReloadResult applied = applyReload(std::move(*next));
    result.ok = applied.ok;
    result.errors = std::move(applied.errors);
    result.warnings.insert(result.warnings.end(), applied.warnings.begin(), applied.warnings.end());
    return recordReload(std::move(result));
  };
  if (std::this_thread::get_id() == control_thread_.get_id()) return run();
  if (state_.load() != ServerState::kLive || !control_thread_.joinable()) {
    ReloadResult result;
    result.errors.push_back("the server is not running");
    return recordReload(std::move(result));
  }
  auto task = std::make_shared<std::packaged_task<ReloadResult()>>(run);
  auto done = task->get_future();
  asio::post(control_io_, [task] { (*task)(); });
  // The control loop stops only at the very end of a shutdown; do not wait for ever then.
  while (done.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    if (state_.load() == ServerState::kStopped) {
      ReloadResult result;
      result.errors.push_back("the server stopped before the reload ran");
      return result;
    }
  }
  return done.get();
}

ReloadResult Server::recordReload(ReloadResult result) {
  reload_stats_.attempt.fetch_add(1, std::memory_order_relaxed);
  for (const auto& w : result.warnings) spdlog::warn("[reload] {}", w);
  if (result.ok) {
    reload_stats_.success.fetch_add(1, std::memory_order_relaxed);
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch());
    reload_stats_.last_success_time.store(static_cast<uint64_t>(now.count()),
                                          std::memory_order_relaxed);
  } else {
    reload_stats_.failed.fetch_add(1, std::memory_order_relaxed);
    for (const auto& e : result.errors) spdlog::error("[reload] {}", e);
    spdlog::error("[reload] configuration rejected ({} error(s)); the running one is unchanged",
                  result.errors.size());
  }
  return result;
}

ReloadResult Server::applyReload(config::Bootstrap next) {
  std::lock_guard reload_lock(reload_mutex_);
  ReloadResult result;
  auto& errors = result.errors;
  if (state_.load() != ServerState::kLive || shutdown_requested_.load() || !accepting_) {
    errors.push_back("the server is draining");
    return result;
  }
  std::shared_ptr<const config::Bootstrap> running;
  {
    std::lock_guard lock(live_mutex_);
    running = bootstrap_;
  }

  // Process-wide settings take effect at start-up only: keep the running ones.
  auto restartOnly = [&result](const char* field) {
    std::string w = field;
    w += " changed: it applies only at start-up; the running value is kept until a restart";
    result.warnings.push_back(std::move(w));
  };
  const bool node_overridden =
      !options_.command_line.service_node.empty() || !options_.command_line.service_cluster.empty();
  if (!node_overridden &&
      (next.node.id != running->node.id || next.node.cluster != running->node.cluster)) {
    restartOnly("node");
  }
  next.node = running->node;
  if (!sameAddress(next.admin.address, running->admin.address)) restartOnly("admin.address");
  next.admin = running->admin;
  const bool same_metrics =
      next.metrics_listener.has_value() == running->metrics_listener.has_value() &&
      (!next.metrics_listener ||
       (sameAddress(next.metrics_listener->address, running->metrics_listener->address) &&
        next.metrics_listener->path == running->metrics_listener->path));
  if (!same_metrics) restartOnly("node.metadata.wslb.metrics_listener");
  next.metrics_listener = running->metrics_listener;
  if (next.max_active_downstream_connections != running->max_active_downstream_connections) {
    restartOnly("overload_manager (max_active_downstream_connections)");
  }
  next.max_active_downstream_connections = running->max_active_downstream_connections;

  // Clusters: kept ones (same name) are changed in place at commit; added ones are built now.
  std::vector<upstream::ClusterStateSharedPtr> cluster_set;
  std::vector<std::pair<upstream::ClusterStateSharedPtr, const config::Cluster*>> kept_clusters;
  size_t added_clusters = 0;
  for (size_t i = 0; i < next.clusters.size(); ++i) {
    const config::Cluster& c = next.clusters[i];
    try {
      if (auto live = clusters_->find(c.name)) {
        checkClusterChange(live->config(), c, i, errors);
        // Validates the endpoints the commit will apply (a throw-away set, nothing shared).
        if (c.type == config::Cluster::Type::kStatic) upstream::buildHostSet(c, nullptr);
        kept_clusters.emplace_back(live, &c);
        cluster_set.push_back(std::move(live));
      } else {
        cluster_set.push_back(upstream::ClusterManager::makeCluster(c));
        ++added_clusters;
      }
    } catch (const std::exception& e) {
      std::string message = clusterPath(i);
      message += ": ";
      message += e.what();
      errors.push_back(std::move(message));
    }
  }
  if (!errors.empty()) return result;
  // The new set as routes are to see it: kept clusters with the settings they are about to get.
  upstream::ClusterManager staged({});
  staged.replace(cluster_set, next.clusters);

  // Listeners: a new context for each; a new socket only where the address changed or the
  // listener is new (a kept socket never stops accepting).
  std::vector<PreparedListener> prepared;
  for (size_t i = 0; i < next.listeners.size(); ++i) {
    const config::Listener& l = next.listeners[i];
    PreparedListener p;
    std::optional<size_t> running_index;
    for (size_t j = 0; j < running->listeners.size(); ++j) {
      if (running->listeners[j].name == l.name) running_index = j;
    }
    const bool keep_socket =
        running_index && sameAddress(running->listeners[*running_index].address, l.address);
    try {
      std::shared_ptr<tls::HandshakeStats> running_tls_stats;
      {
        std::lock_guard lock(live_mutex_);
        if (keep_socket) {
          p.port = listener_ports_.at(*running_index);
          running_tls_stats = listeners_.at(*running_index)->tls_stats;
        }
        p.context = makeListenerContext(
            l, staged, [this](const std::string& prefix) { return hcmStatsFor(prefix); },
            std::move(running_tls_stats));
      }
      if (!keep_socket) {
        auto ep = toEndpoint(l.address);
        try {
          for (auto& worker : workers_) {
            p.acceptors.push_back(makeAcceptor(worker->io(), ep));
            ep.port(p.acceptors.back().local_endpoint().port());
          }
        } catch (const boost::system::system_error& e) {
          throw std::runtime_error("cannot bind listener '" + l.name + "' to " +
                                   addressText(l.address) + ": " + e.code().message());
        }
        p.port = ep.port();
      }
      auto endpoint = toEndpoint(l.address);
      endpoint.port(p.port);
      p.context->stat_address = listenerStatAddress(endpoint);
    } catch (const std::exception& e) {
      std::string message = listenerPath(i);
      message += ": ";
      message += e.what();
      errors.push_back(std::move(message));
      continue;
    }
    prepared.push_back(std::move(p));
  }
  if (!errors.empty()) return result;

  // EDS: a new client only when the subscriptions change; it replaces the old one whole.
  std::shared_ptr<xds::XdsManager> new_xds;
  if (edsKey(next) != edsKey(*running)) {
    try {
      new_xds = makeXds(next, staged);
    } catch (const std::exception& e) {
      errors.push_back(std::string("EDS: ") + e.what());
      return result;
    }
  }

  // ---- Commit: nothing below can fail. ----
  for (const auto& [cluster, config] : kept_clusters) {
    try {
      cluster->applyConfig(*config);
    } catch (const std::exception& e) {
      // Checked above (same endpoints, same validation); reaching here is a bug.
      spdlog::error("[reload] cluster '{}': {}", cluster->name(), e.what());
    }
  }
  const size_t removed_clusters = clusters_->clusters().size() - kept_clusters.size();
  clusters_->replace(cluster_set);
  if (new_xds) {
    std::vector<std::string> kept_names;
    for (const auto& [cluster, config] : kept_clusters) kept_names.push_back(cluster->name());
    new_xds->markInitialized(kept_names);
    std::shared_ptr<xds::XdsManager> old_xds;
    {
      std::lock_guard lock(live_mutex_);
      old_xds = std::exchange(xds_, new_xds);
    }
    old_xds->stop();
    new_xds->start();
  }
  health_->reconfigure(*clusters_);

  // Every worker switches at once to the new set; the control thread waits until each has.
  std::vector<std::future<void>> switched;
  for (size_t w = 0; w < workers_.size(); ++w) {
    std::vector<Worker::ListenerUpdate> updates;
    for (auto& p : prepared) {
      Worker::ListenerUpdate update;
      update.context = p.context;
      if (!p.acceptors.empty()) update.acceptor.emplace(std::move(p.acceptors[w]));
      updates.push_back(std::move(update));
    }
    auto promise = std::make_shared<std::promise<void>>();
    switched.push_back(promise->get_future());
    workers_[w]->applyListeners(std::move(updates), [promise] { promise->set_value(); });
  }
  for (auto& f : switched) {
    if (f.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      spdlog::warn("[reload] a worker has not switched its listeners yet; it will shortly");
    }
  }
  size_t added_listeners = 0;
  {
    std::lock_guard lock(live_mutex_);
    for (const auto& old : listeners_) {
      // Its certificates are not watched any more; its live connections keep their contexts.
      if (old->tls) old->tls->stopWatching();
      retired_access_logs_.push_back(old->access_log);
      for (const auto& chain : old->other_chains) retired_access_logs_.push_back(chain->access_log);
    }
    listeners_.clear();
    listener_ports_.clear();
    for (const auto& p : prepared) {
      if (p.context->tls) p.context->tls->startWatching();
      if (!p.acceptors.empty()) ++added_listeners;
      listeners_.push_back(p.context);
      listener_ports_.push_back(p.port);
    }
    bootstrap_ = std::make_shared<const config::Bootstrap>(std::move(next));
    config_time_ = std::chrono::system_clock::now();
  }
  sweepRetiredAccessLogs();
  if (admin_) admin_->setContext(makeAdminContext());
  spdlog::info(
      "[reload] configuration applied: {} listener(s) ({} with a new socket), {} cluster(s) ({} "
      "added, {} removed){}",
      prepared.size(), added_listeners, cluster_set.size(), added_clusters, removed_clusters,
      new_xds ? "; EDS subscriptions restarted" : "");
  result.ok = true;
  return result;
}

void Server::sweepRetiredAccessLogs() {
  std::vector<std::shared_ptr<accesslog::AccessLog>> done;
  {
    std::lock_guard lock(live_mutex_);
    std::erase_if(retired_access_logs_, [&done](std::shared_ptr<accesslog::AccessLog>& log) {
      // Only this list holds it: every connection of its context has ended.
      if (log.use_count() != 1) return false;
      done.push_back(std::move(log));
      return true;
    });
  }
  for (auto& log : done) log->stop();  // writes what it holds, joins its writer (not locked)
}

}  // namespace wslb::server
