#include "wslb/health/health_manager.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace wslb::health {

namespace asio = boost::asio;

HealthManager::HealthManager(const upstream::ClusterManager& clusters, DrainHosts drain)
    : drain_(std::move(drain)) {
  for (const auto& cluster : clusters.clusters()) {
    const auto window = cluster->config().unhealthy_endpoint_drain_window;
    if (cluster->config().health_check) {
      checkers_.push_back(std::make_shared<ClusterHealthChecker>(
          io_, cluster,
          [this, window](const upstream::HostSharedPtr& host) { onHostUnhealthy(window, host); }));
    }
    if (upstream::OutlierDetector* detector = cluster->outlierDetector()) {
      sweeps_.push_back(cluster);
      // The detector belongs to the cluster: the listener holds no pointer to the cluster (that
      // would be a cycle that keeps it alive forever) and stop() clears it, as it refers to this
      // manager.
      detector->setEjectionListener(
          [this, window, name = cluster->name()](const upstream::HostSharedPtr& host) {
            spdlog::info("[health] cluster '{}': {} ejected by outlier detection", name,
                         host->addressString());
            onHostUnhealthy(window, host);
          });
    }
  }
}

HealthManager::~HealthManager() {
  stop();
}

void HealthManager::start() {
  if (!active() || started_.exchange(true)) return;
  for (const auto& checker : checkers_) {
    // Endpoints that come and go (EDS) are picked up as each new set is published.
    std::weak_ptr<ClusterHealthChecker> weak = checker;
    checker->cluster()->setHostSetObserver([this, weak] {
      asio::post(io_, [weak] {
        if (auto c = weak.lock()) c->syncHosts();
      });
    });
    asio::post(io_, [checker] { checker->syncHosts(); });
  }
  for (const auto& cluster : sweeps_) startSweep(cluster);
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(io_);
    io_.run();
  });
}

void HealthManager::stop() {
  if (stopped_.exchange(true)) return;
  // After this no observer or ejection listener call can post new work (their locks order it),
  // and the clusters, which may outlive this manager, refer to it no more.
  for (const auto& checker : checkers_) checker->cluster()->setHostSetObserver(nullptr);
  for (const auto& cluster : sweeps_) cluster->outlierDetector()->setEjectionListener(nullptr);
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    for (const auto& checker : checkers_) checker->stop();
    io_.stop();
  });
  thread_.join();
}

void HealthManager::startSweep(const upstream::ClusterStateSharedPtr& cluster) {
  auto loop = [](upstream::ClusterStateSharedPtr cluster) -> asio::awaitable<void> {
    upstream::OutlierDetector& detector = *cluster->outlierDetector();
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
      timer.expires_after(detector.config().interval);
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      for (const auto& host : detector.sweep()) {
        spdlog::info("[health] cluster '{}': {} returned to service after its ejection",
                     cluster->name(), host->addressString());
      }
    }
  };
  asio::co_spawn(io_, loop(cluster), asio::detached);
}

void HealthManager::onHostUnhealthy(std::optional<std::chrono::milliseconds> window,
                                    const upstream::HostSharedPtr& host) {
  if (!window || !drain_ || stopped_.load()) return;
  // Workers report ejections: hand the drain to this manager's thread.
  asio::post(io_, [this, host, window = *window] {
    if (stopped_.load() || host->eligible() || host->active() == 0) return;
    spdlog::info("[health] closing {} connection(s) to unhealthy endpoint {} with 1001 over {} ms",
                 host->active(), host->addressString(), window.count());
    drain_({host}, window);
  });
}

}  // namespace wslb::health
