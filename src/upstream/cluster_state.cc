#include "wslb/upstream/cluster_state.h"

#include <array>
#include <utility>

namespace wslb::upstream {
namespace {

/// Generations are unique across every ClusterState of the process, so a cached snapshot can be
/// recognised by its generation alone (no confusion with a later ClusterState at the same
/// address).
std::atomic<uint64_t> g_next_generation{1};

uint64_t nextGeneration() {
  return g_next_generation.fetch_add(1, std::memory_order_relaxed);
}

/// Per-thread cache of the snapshots this thread picked from, direct-mapped by ClusterState
/// address. Copying the shared snapshot pointer on every pick would lock and bump a reference
/// count that every worker shares (measured for std::atomic<std::shared_ptr>: ~13 ns alone,
/// ~110 ns per load with two threads on this machine). With the cache a pick reads one rarely
/// written atomic (generation_) and touches nothing shared.
/// Cost: a thread holds the last snapshot it used of each cluster until it picks from that
/// cluster again or exits, so an old HostSet (and removed Hosts) may outlive an update for a
/// while; nothing may rely on a Host being destroyed promptly.
struct CachedSnapshot {
  uint64_t generation = 0;
  HostSetConstSharedPtr set;
};
constexpr size_t kSnapshotCacheSize = 16;
thread_local std::array<CachedSnapshot, kSnapshotCacheSize> t_snapshots;

}  // namespace

ClusterState::ClusterState(const config::Cluster& config, HostSetConstSharedPtr hosts)
    : ClusterState(config, std::move(hosts), makePicker(config.lb_policy)) {}

ClusterState::ClusterState(const config::Cluster& config, HostSetConstSharedPtr hosts,
                           PickerPtr picker)
    : name_(config.name),
      config_(nullptr),
      picker_(picker ? std::move(picker) : makePicker(config.lb_policy)),
      host_set_(hosts ? std::move(hosts) : std::make_shared<const HostSet>()),
      generation_(nextGeneration()) {
  endpoints_ = config.endpoints;
  configs_.push_back(std::make_unique<const config::Cluster>(config));
  config_.store(configs_.back().get(), std::memory_order_release);
  if (config.tls) {
    // Throws TlsError (start-up, or a reload, fails with the file and the reason).
    tls_ = tls::makeClientContextProvider(name_, *config.tls);
    tls_->startWatching();
  }
  if (config.outlier_detection) {
    outlier_ =
        std::make_unique<OutlierDetector>(*config.outlier_detection, [this] { return hostSet(); });
  }
}

ClusterState::~ClusterState() = default;

void ClusterState::publishLocked(HostSetConstSharedPtr set) {
  if (!set) set = std::make_shared<const HostSet>();
  {
    std::lock_guard lock(snapshot_mutex_);
    host_set_ = std::move(set);
  }
  // After the store: a reader that sees the new generation also sees the new set.
  generation_.store(nextGeneration(), std::memory_order_release);
}

void ClusterState::setHostSet(HostSetConstSharedPtr set) {
  {
    std::lock_guard lock(update_mutex_);
    publishLocked(std::move(set));
  }
  notifyObserver();
  wakeAll();
}

void ClusterState::setHostSetObserver(std::function<void()> observer) {
  std::lock_guard lock(observer_mutex_);
  observer_ = std::move(observer);
}

void ClusterState::notifyObserver() {
  std::lock_guard lock(observer_mutex_);
  if (observer_) observer_();
}

void ClusterState::updateEndpoints(const std::vector<config::Endpoint>& endpoints) {
  {
    std::lock_guard lock(update_mutex_);
    config::Cluster source;
    source.name = name_;
    source.per_host_max_connections = config().per_host_max_connections;
    source.health_check = config().health_check;  // new hosts start failed until checked
    source.endpoints = endpoints;
    publishLocked(buildHostSet(source, hostSet().get()));
    endpoints_ = endpoints;
  }
  notifyObserver();
  wakeAll();
}

namespace {

bool sameThresholds(const config::Thresholds& a, const config::Thresholds& b) {
  return a.priority == b.priority && a.max_connections == b.max_connections &&
         a.max_pending_requests == b.max_pending_requests && a.max_requests == b.max_requests &&
         a.max_retries == b.max_retries && a.track_remaining == b.track_remaining;
}

bool sameRanges(const std::vector<config::StatusRange>& a,
                const std::vector<config::StatusRange>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].start != b[i].start || a[i].end != b[i].end) return false;
  }
  return true;
}

bool sameHealthCheck(const std::optional<config::HealthCheck>& a,
                     const std::optional<config::HealthCheck>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return a->timeout == b->timeout && a->interval == b->interval &&
         a->initial_jitter == b->initial_jitter && a->interval_jitter == b->interval_jitter &&
         a->interval_jitter_percent == b->interval_jitter_percent &&
         a->unhealthy_threshold == b->unhealthy_threshold &&
         a->healthy_threshold == b->healthy_threshold &&
         a->no_traffic_interval == b->no_traffic_interval &&
         a->no_traffic_healthy_interval == b->no_traffic_healthy_interval &&
         a->unhealthy_interval == b->unhealthy_interval &&
         a->unhealthy_edge_interval == b->unhealthy_edge_interval &&
         a->healthy_edge_interval == b->healthy_edge_interval && a->path == b->path &&
         a->host == b->host && sameRanges(a->expected_statuses, b->expected_statuses) &&
         sameRanges(a->retriable_statuses, b->retriable_statuses);
}

bool sameEds(const config::EdsClusterConfig& a, const config::EdsClusterConfig& b) {
  const auto& x = a.eds_config;
  const auto& y = b.eds_config;
  return a.service_name == b.service_name && x.kind == y.kind && x.path == y.path &&
         x.watched_directory == y.watched_directory &&
         x.initial_fetch_timeout == y.initial_fetch_timeout && x.api.api_type == y.api.api_type &&
         x.api.cluster_name == y.api.cluster_name && x.api.refresh_delay == y.api.refresh_delay;
}

// The fields applyConfig() applies or others read through config() (endpoints aside). Type,
// lb_policy and outlier_detection may not change live, which the reload checks before.
bool sameLiveSettings(const config::Cluster& a, const config::Cluster& b) {
  const bool same_high =
      a.high_thresholds.has_value() == b.high_thresholds.has_value() &&
      (!a.high_thresholds || sameThresholds(*a.high_thresholds, *b.high_thresholds));
  return a.connect_timeout == b.connect_timeout &&
         sameThresholds(a.default_thresholds, b.default_thresholds) && same_high &&
         a.per_host_max_connections == b.per_host_max_connections &&
         a.pending_timeout == b.pending_timeout &&
         a.removed_endpoint_drain_timeout == b.removed_endpoint_drain_timeout &&
         a.removed_endpoint_drain_window == b.removed_endpoint_drain_window &&
         a.unhealthy_endpoint_drain_window == b.unhealthy_endpoint_drain_window &&
         sameHealthCheck(a.health_check, b.health_check) && sameEds(a.eds, b.eds);
}

}  // namespace

void ClusterState::applyConfig(const config::Cluster& next) {
  {
    std::lock_guard lock(update_mutex_);
    const bool is_static = next.type == config::Cluster::Type::kStatic;
    const std::vector<config::Endpoint>& endpoints = is_static ? next.endpoints : endpoints_;
    config::Cluster source = next;
    source.name = name_;
    source.endpoints = endpoints;
    // Validate and build before anything is published: a throw leaves the cluster untouched.
    HostSetConstSharedPtr set = buildHostSet(source, hostSet().get());
    if (!sameLiveSettings(config(), next)) {
      auto stored = std::make_unique<config::Cluster>(next);
      stored->endpoints.clear();  // the host set holds them; keeps the retained copies small
      configs_.push_back(std::move(stored));
      config_.store(configs_.back().get(), std::memory_order_release);
    }
    endpoints_ = endpoints;
    publishLocked(std::move(set));
  }
  notifyObserver();
  wakeAll();
}

HostSetConstSharedPtr ClusterState::hostSet() const {
  std::lock_guard lock(snapshot_mutex_);
  return host_set_;
}

const HostSet& ClusterState::cachedHostSet() {
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  CachedSnapshot& entry =
      t_snapshots[(reinterpret_cast<uintptr_t>(this) >> 6) % kSnapshotCacheSize];
  if (entry.generation != generation) {
    // The set loaded here is at least as new as `generation` (see publishLocked()); if it is
    // newer, the next call sees a newer generation and loads again.
    entry.set = hostSet();
    entry.generation = generation;
  }
  return *entry.set;
}

Slot ClusterState::tryAcquire(Random& random, std::span<const Host* const> exclude) {
  const uint32_t max = maxConnections();
  // A cheap early exit only; the CAS below is what enforces the cap.
  if (active_.load(std::memory_order_relaxed) >= max) return {};
  HostSharedPtr host = picker_->pick(cachedHostSet(), random, exclude);
  if (!host) return {};
  uint32_t n = active_.load(std::memory_order_relaxed);
  do {
    if (n >= max) {
      host->release();  // the cluster is full: give the host unit back
      return {};
    }
  } while (!active_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel,
                                          std::memory_order_relaxed));
  return Slot(std::move(host), shared_from_this());
}

ClusterState::AcquireOrWait ClusterState::tryAcquireOrEnqueue(Random& random, Waker waker,
                                                              std::span<const Host* const> exclude,
                                                              bool at_front) {
  AcquireOrWait result;
  result.slot = tryAcquire(random, exclude);
  if (result.slot) return result;
  const WaiterId id = enqueueWaiter(std::move(waker), at_front);
  if (id == 0) return result;
  // A release between the failed try and the enqueue saw no waiter and woke nobody; the second
  // try below must see it. Releaser: host -1, cluster -1 (seq_cst RMW), then a seq_cst read of
  // pending_active_. Us: pending_active_ +1 (seq_cst RMW), then the seq_cst RMW below on the
  // cluster count. In the single order of seq_cst operations either the releaser's read comes
  // after our increment (it wakes a waiter), or its decrement comes before our RMW, which then
  // reads that decrement (an RMW reads the latest value) and synchronises with it, so the host
  // release is visible to the second try as well.
  active_.fetch_add(0, std::memory_order_seq_cst);
  result.slot = tryAcquire(random, exclude);
  if (!result.slot) {
    result.waiter = id;
  } else if (!cancelWaiter(id)) {
    wakeOne();  // we were woken meanwhile, but no longer need it: pass the wake-up on
  }
  return result;
}

ClusterState::WaiterId ClusterState::enqueueWaiter(Waker waker, bool at_front) {
  if (maxPending() == 0 || !waker) return 0;
  std::lock_guard lock(pending_mutex_);
  if (!at_front && waiters_.size() >= maxPending()) return 0;
  const WaiterId id = next_waiter_id_++;
  auto it = waiters_.emplace(at_front ? waiters_.begin() : waiters_.end(), id, std::move(waker));
  waiter_index_.emplace(id, it);
  pending_active_.fetch_add(1, std::memory_order_seq_cst);
  return id;
}

bool ClusterState::cancelWaiter(WaiterId id) {
  std::lock_guard lock(pending_mutex_);
  auto it = waiter_index_.find(id);
  if (it == waiter_index_.end()) return false;
  waiters_.erase(it->second);
  waiter_index_.erase(it);
  pending_active_.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

bool ClusterState::wakeOne() {
  if (pending_active_.load(std::memory_order_seq_cst) == 0) return false;
  Waker waker;
  {
    std::lock_guard lock(pending_mutex_);
    if (waiters_.empty()) return false;
    auto& [id, front] = waiters_.front();
    waker = std::move(front);
    waiter_index_.erase(id);
    waiters_.pop_front();
    pending_active_.fetch_sub(1, std::memory_order_relaxed);
  }
  waker();
  return true;
}

void ClusterState::wakeAll() {
  if (pending_active_.load(std::memory_order_seq_cst) == 0) return;
  std::list<std::pair<WaiterId, Waker>> woken;
  {
    std::lock_guard lock(pending_mutex_);
    woken.swap(waiters_);
    waiter_index_.clear();
    pending_active_.store(0, std::memory_order_relaxed);
  }
  for (auto& [id, waker] : woken) waker();
}

void ClusterState::releaseOne() {
  // seq_cst decrement then seq_cst read (in wakeOne()): pairs with tryAcquireOrEnqueue().
  active_.fetch_sub(1, std::memory_order_seq_cst);
  wakeOne();
}

}  // namespace wslb::upstream
