#include "wslb/health/health_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
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
    if (cluster->config().health_check) checkers_.push_back(makeChecker(cluster));
    if (cluster->outlierDetector() != nullptr) {
      sweeps_.push_back(cluster);
      watchEjections(cluster);
    }
  }
}

std::shared_ptr<ClusterHealthChecker> HealthManager::makeChecker(
    const upstream::ClusterStateSharedPtr& cluster) {
  std::weak_ptr<upstream::ClusterState> weak = cluster;
  return std::make_shared<ClusterHealthChecker>(io_, cluster,
                                                [this, weak](const upstream::HostSharedPtr& host) {
                                                  if (auto c = weak.lock())
                                                    onHostUnhealthy(c, host);
                                                });
}

void HealthManager::watchEjections(const upstream::ClusterStateSharedPtr& cluster) {
  // A weak reference: the detector belongs to the cluster, so a strong one would keep a cluster
  // that a reload removed alive for ever.
  std::weak_ptr<upstream::ClusterState> weak = cluster;
  cluster->outlierDetector()->setEjectionListener(
      [this, weak](const upstream::HostSharedPtr& host) {
        auto cluster = weak.lock();
        if (!cluster) return;
        spdlog::info("[health] cluster '{}': {} ejected by outlier detection", cluster->name(),
                     host->addressString());
        onHostUnhealthy(cluster, host);
      });
}

void HealthManager::observe(const std::shared_ptr<ClusterHealthChecker>& checker) {
  // Endpoints that come and go (EDS) are picked up as each new set is published.
  std::weak_ptr<ClusterHealthChecker> weak = checker;
  checker->cluster()->setHostSetObserver([this, weak] {
    asio::post(io_, [weak] {
      if (auto c = weak.lock()) c->syncHosts();
    });
  });
  asio::post(io_, [checker] { checker->syncHosts(); });
}

bool HealthManager::sweeping(const upstream::ClusterState* cluster) const {
  std::lock_guard lock(mutex_);
  for (const auto& c : sweeps_) {
    if (c.get() == cluster) return true;
  }
  return false;
}

void HealthManager::reconfigure(const upstream::ClusterManager& clusters) {
  std::vector<std::shared_ptr<ClusterHealthChecker>> checkers;
  std::vector<upstream::ClusterStateSharedPtr> sweeps;
  std::vector<upstream::ClusterStateSharedPtr> new_sweeps;
  std::vector<std::shared_ptr<ClusterHealthChecker>> old;
  {
    std::lock_guard lock(mutex_);
    if (stopped_.load()) return;
    for (const auto& cluster : clusters.clusters()) {
      if (cluster->config().health_check) checkers.push_back(makeChecker(cluster));
      if (cluster->outlierDetector() == nullptr) continue;
      sweeps.push_back(cluster);
      if (std::find(sweeps_.begin(), sweeps_.end(), cluster) == sweeps_.end()) {
        // Added by this reload: no traffic reaches it yet, so the listener may still be set.
        watchEjections(cluster);
        new_sweeps.push_back(cluster);
      }
    }
    // Clear before the new checkers observe: a kept cluster gets its new checker's observer.
    for (const auto& checker : checkers_) checker->cluster()->setHostSetObserver(nullptr);
    old = std::move(checkers_);
    checkers_ = checkers;
    sweeps_ = std::move(sweeps);  // a removed cluster's sweep ends at its next tick
  }
  if (!started_.load()) return;
  asio::post(io_, [old = std::move(old)] {
    for (const auto& checker : old) checker->stop();
  });
  for (const auto& checker : checkers) observe(checker);
  for (const auto& cluster : new_sweeps) startSweep(cluster);
}

HealthManager::~HealthManager() {
  stop();
}

void HealthManager::start() {
  // The thread runs even with nothing to check yet: a config reload may add checks.
  if (started_.exchange(true)) return;
  std::lock_guard lock(mutex_);
  for (const auto& checker : checkers_) observe(checker);
  for (const auto& cluster : sweeps_) startSweep(cluster);
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(io_);
    io_.run();
  });
}

void HealthManager::stop() {
  std::vector<std::shared_ptr<ClusterHealthChecker>> checkers;
  {
    std::lock_guard lock(mutex_);
    if (stopped_.exchange(true)) return;
    // After this no observer call can post new work (the observer lock orders it).
    // The clusters may outlive this manager: they must refer to it no more.
    for (const auto& checker : checkers_) checker->cluster()->setHostSetObserver(nullptr);
    for (const auto& cluster : sweeps_) cluster->outlierDetector()->setEjectionListener(nullptr);
    checkers = checkers_;
  }
  if (!thread_.joinable()) return;
  asio::post(io_, [this, checkers = std::move(checkers)] {
    for (const auto& checker : checkers) checker->stop();
    io_.stop();
  });
  thread_.join();
}

void HealthManager::startSweep(const upstream::ClusterStateSharedPtr& cluster) {
  // No captures: the lambda object is gone once this returns; parameters live in the frame.
  auto loop = [](HealthManager* self,
                 upstream::ClusterStateSharedPtr cluster) -> asio::awaitable<void> {
    upstream::OutlierDetector& detector = *cluster->outlierDetector();
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
      timer.expires_after(detector.config().interval);
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec || !self->sweeping(cluster.get()))
        co_return;  // stopped, or a reload removed the cluster
      for (const auto& host : detector.sweep()) {
        spdlog::info("[health] cluster '{}': {} returned to service after its ejection",
                     cluster->name(), host->addressString());
      }
    }
  };
  asio::co_spawn(io_, loop(this, cluster), asio::detached);
}

void HealthManager::onHostUnhealthy(const upstream::ClusterStateSharedPtr& cluster,
                                    const upstream::HostSharedPtr& host) {
  const auto window = cluster->config().unhealthy_endpoint_drain_window;
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
