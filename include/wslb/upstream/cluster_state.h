#pragma once
// The runtime state of one cluster: current host set, cluster-wide cap, counters, pending queue.

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "wslb/config/bootstrap.h"
#include "wslb/stats/histogram.h"
#include "wslb/tls/context_provider.h"
#include "wslb/tls/handshake_stats.h"
#include "wslb/upstream/health_stats.h"
#include "wslb/upstream/host_set.h"
#include "wslb/upstream/outlier_detector.h"
#include "wslb/upstream/picker.h"
#include "wslb/upstream/slot.h"

namespace wslb::upstream {

/// Cluster-level counters (Envoy's cluster.<name>.* names). ClusterState never touches them:
/// the session counts what it decides (overflow, pending, connect failures).
struct ClusterStats {
  std::atomic<uint64_t> upstream_cx_total{0};
  std::atomic<uint64_t> upstream_cx_connect_fail{0};
  std::atomic<uint64_t> upstream_cx_connect_timeout{0};
  std::atomic<uint64_t> upstream_cx_overflow{0};
  std::atomic<uint64_t> upstream_cx_none_healthy{0};  ///< no eligible endpoint at all
  std::atomic<uint64_t> upstream_rq_pending_total{0};
  std::atomic<uint64_t> upstream_rq_pending_overflow{0};
  std::atomic<uint64_t> upstream_cx_destroy{0};
  std::atomic<uint64_t> upstream_cx_destroy_local{0};   ///< wslb ended it (client side, timeout).
  std::atomic<uint64_t> upstream_cx_destroy_remote{0};  ///< the backend closed or reset first.
  stats::Histogram upstream_cx_connect_ms;  ///< TCP connect time of established connections.
  stats::Histogram upstream_cx_length_ms;   ///< connected to closed.
  std::atomic<uint64_t> upstream_cx_rx_bytes_total{0};
  std::atomic<uint64_t> upstream_cx_tx_bytes_total{0};

  // EDS subscription (type EDS clusters only), Envoy's cluster.<name>.* names. Written by the xDS
  // client (wslb::xds).
  std::atomic<uint64_t> update_attempt{0};      ///< responses, polls and fetch failures.
  std::atomic<uint64_t> update_success{0};      ///< assignments applied.
  std::atomic<uint64_t> update_rejected{0};     ///< assignments NACKed (invalid).
  std::atomic<uint64_t> update_failure{0};      ///< stream/fetch failures (network, bad file).
  std::atomic<uint64_t> update_empty{0};        ///< updates without this cluster's assignment.
  std::atomic<uint64_t> init_fetch_timeout{0};  ///< initial_fetch_timeout expired.
  std::atomic<uint64_t> version{0};             ///< hash of the last applied version_info (gauge).
  std::atomic<uint64_t> update_time{
      0};                            ///< when an assignment was last applied, ms since the epoch.
  stats::Histogram update_duration;  ///< ms from an update's arrival to its host set published.

  /// Zeroes every counter above (admin POST /reset_counters); `version` and `update_time` are
  /// gauges and the histograms are not counters (Envoy resets neither). Any thread.
  void resetCounters() {
    for (auto* c : {&upstream_cx_total, &upstream_cx_connect_fail, &upstream_cx_connect_timeout,
                    &upstream_cx_overflow, &upstream_cx_none_healthy, &upstream_rq_pending_total,
                    &upstream_rq_pending_overflow, &upstream_cx_destroy, &upstream_cx_destroy_local,
                    &upstream_cx_destroy_remote, &upstream_cx_rx_bytes_total,
                    &upstream_cx_tx_bytes_total, &update_attempt, &update_success, &update_rejected,
                    &update_failure, &update_empty, &init_fetch_timeout}) {
      c->store(0, std::memory_order_relaxed);
    }
  }
};

/// Shared by all workers. Must be owned by a std::shared_ptr (tryAcquire() uses
/// shared_from_this()). Thread safety: every method may be called from any thread.
///
/// Pending-queue protocol (when tryAcquire() finds no room):
///  - tryAcquireOrEnqueue() tries, enqueues the Waker, then tries once more, so a slot released
///    between the failed try and the enqueue is not missed. Prefer it to calling tryAcquire()
///    and enqueueWaiter() yourself.
///  - A Waker is called at most once, from whatever thread released a slot (or published a host
///    set), outside any lock. It must not throw or block: it only posts to its own executor; the
///    posted handler retries with tryAcquireOrEnqueue(..., at_front = true) to keep its place.
///  - A waiter that stops waiting (timeout, client gone, session destroyed) calls cancelWaiter().
///    If that returns false, the Waker has been or is being called, and that wake-up was meant
///    for a slot this waiter will not take: call wakeOne() to pass it on, and ignore the stale
///    wake when it arrives. (tryAcquireOrEnqueue() does this itself when its retry succeeds.)
///  - Waiters still queued when the ClusterState is destroyed are dropped without a call.
class ClusterState : public std::enable_shared_from_this<ClusterState> {
 public:
  /// A pending upgrade's wake-up: called (from the releasing thread) when a slot may be free.
  /// The callee must post to its own executor and retry; it is removed from the queue.
  using Waker = std::function<void()>;
  /// Identifies a queued waiter; 0 is never a valid id.
  using WaiterId = uint64_t;

  /// Result of tryAcquireOrEnqueue(): exactly one of three outcomes.
  struct AcquireOrWait {
    Slot slot;            ///< set: acquired, nothing queued (but see the protocol above).
    WaiterId waiter = 0;  ///< non-zero: queued; the Waker will be called (or cancel it).
    /// Neither set: no room and the queue is full or disabled (max_pending_requests 0): 503.
  };

  /// @param config copied; its endpoints are not used (the host set comes from `hosts`).
  /// @param hosts initial snapshot (null is taken as an empty set).
  ClusterState(const config::Cluster& config, HostSetConstSharedPtr hosts);
  /// As above, with `picker` instead of the one config.lb_policy selects (tests, custom policy).
  ClusterState(const config::Cluster& config, HostSetConstSharedPtr hosts, PickerPtr picker);
  ~ClusterState();

  /// The cluster name. Immutable.
  const std::string& name() const { return name_; }
  /// The cluster's current configuration: as given at construction, or the last one passed to
  /// applyConfig(). The reference stays valid for the life of this ClusterState (replaced
  /// configurations are kept, see applyConfig()), so a session may hold it across a reload.
  /// Any thread; one atomic load.
  const config::Cluster& config() const { return *config_.load(std::memory_order_acquire); }

  /// A config reload changed this cluster (same name; the caller has checked that only fields
  /// that may change live differ: see docs/reload.md). Publishes `config` for config() and the
  /// thresholds, and rebuilds the host set with its caps: from config.endpoints for a static
  /// cluster, from the last EDS assignment for an EDS one. Hosts are reused, so live counts
  /// survive; a lower cap only refuses new connections. A new configuration object is kept only
  /// when a setting differs (not for endpoint-only changes). Control-plane thread (serialised with
  /// updateEndpoints()). @throws std::invalid_argument as updateEndpoints() (nothing changed).
  void applyConfig(const config::Cluster& config);

  /// The current snapshot (any thread; admin and stats use it). Takes a short lock; the data
  /// path (tryAcquire()) does not call it.
  HostSetConstSharedPtr hostSet() const;
  /// Publishes a new snapshot (control-plane thread) and wakes every pending waiter, since the
  /// new set may have room (woken waiters that still find none re-queue at the front).
  void setHostSet(HostSetConstSharedPtr set);
  /// buildHostSet(config() with `endpoints`, current set) + setHostSet(). Serialised with other
  /// updates of this cluster. @throws std::invalid_argument (see buildHostSet()); the current
  /// set is then kept unchanged.
  void updateEndpoints(const std::vector<config::Endpoint>& endpoints);

  /// Reserves a host and a cluster-wide unit atomically: picker's host reservation, then a CAS
  /// on the cluster count below max_connections (rolled back on the host if the cluster is full).
  /// Returns an empty Slot when nothing has room; does NOT count overflow (the caller decides).
  /// Never locks on the common path (the snapshot is cached per thread, see cluster_state.cc).
  /// @param random the calling thread's Random. @param exclude hosts this request already tried.
  Slot tryAcquire(Random& random, std::span<const Host* const> exclude = {});

  /// tryAcquire(); if no room, enqueueWaiter(waker, at_front) and tryAcquire() once more (if that
  /// succeeds the waiter is cancelled again). See the protocol in the class comment.
  AcquireOrWait tryAcquireOrEnqueue(Random& random, Waker waker,
                                    std::span<const Host* const> exclude = {},
                                    bool at_front = false);

  /// Connections reserved on this cluster (Slots alive).
  uint32_t active() const { return active_.load(std::memory_order_relaxed); }
  /// circuit_breakers DEFAULT thresholds of the current config() (a reload may change them; a
  /// lower max_connections only refuses new reservations).
  uint32_t maxConnections() const { return config().default_thresholds.max_connections; }
  uint32_t maxPending() const { return config().default_thresholds.max_pending_requests; }
  uint32_t maxRetries() const { return config().default_thresholds.max_retries; }

  /// Appends `waker` to the pending FIFO (bounded by max_pending_requests) and counts it in
  /// pendingActive(). With `at_front`, inserts before all others (a woken waiter that lost the
  /// race for the freed slot re-queues there); a front insert is accepted even when the queue is
  /// full, so the queue can exceed the bound by the waiters woken at the same moment.
  /// @return the waiter's id, or 0 if refused (queue full, or max_pending_requests is 0).
  /// Prefer tryAcquireOrEnqueue(), which closes the race with a concurrent release.
  WaiterId enqueueWaiter(Waker waker, bool at_front = false);
  /// Removes a waiter (timeout or client gone); its Waker will not be called.
  /// @return false if it is not queued (already woken, cancelled, or never existed); after a
  ///         wake-up, call wakeOne() to pass it on (see the protocol above).
  bool cancelWaiter(WaiterId id);
  /// Pops the first waiter, if any, and calls its Waker (outside the lock).
  /// @return true if a waiter was woken. Cheap (no lock) when nobody waits.
  bool wakeOne();
  /// Waiters currently queued (upstream_rq_pending_active).
  uint32_t pendingActive() const { return pending_active_.load(std::memory_order_relaxed); }

  /// Envoy-style cluster counters, updated by the sessions (see ClusterStats).
  ClusterStats& stats() { return stats_; }
  const ClusterStats& stats() const { return stats_; }

  /// Reports how an upstream attempt on `host` ended, for outlier detection (a no-op when the
  /// cluster has no outlier_detection). Workers call it once per connect failure or timeout and
  /// once per answer to a forwarded request (`status`); never for anything after a 101.
  /// Lock-free except when a consecutive-failure threshold is reached (see OutlierDetector).
  void reportUpstreamResult(Host& host, UpstreamResult result, unsigned status = 0) {
    if (outlier_) outlier_->putResult(host, result, status);
  }
  /// The outlier detector, or nullptr without outlier_detection.
  OutlierDetector* outlierDetector() { return outlier_.get(); }
  const OutlierDetector* outlierDetector() const { return outlier_.get(); }
  /// cluster.<name>.health_check.* counters, written by the active health checker.
  HealthCheckStats& healthCheckStats() { return health_check_stats_; }
  const HealthCheckStats& healthCheckStats() const { return health_check_stats_; }

  /// Called (on the publishing thread, after the new set is visible) whenever a new host set is
  /// published; the health checker uses it to follow endpoints that come and go. nullptr
  /// clears it. Any thread; the callback must not block or call back into this cluster's
  /// update methods.
  void setHostSetObserver(std::function<void()> observer);

  /// TLS toward the endpoints (transport_socket): the provider of the current client context,
  /// null for plain TCP. Any thread.
  const tls::ClientContextProvider* tls() const { return tls_.get(); }
  /// cluster.<name>.ssl.* (handshakes toward the endpoints). Any thread.
  tls::HandshakeStats& tlsStats() const { return tls_stats_; }

 private:
  friend class Slot;
  /// Called by Slot after the host is released: cluster count -1, then wakeOne().
  void releaseOne();
  /// The current snapshot for the calling thread without touching a shared reference count.
  const HostSet& cachedHostSet();
  /// Pops every waiter and calls their Wakers (outside the lock).
  void wakeAll();
  /// Stores `set` and a new generation. Caller holds update_mutex_.
  void publishLocked(HostSetConstSharedPtr set);

  const std::string name_;
  /// The current configuration (config()). Points into configs_.
  std::atomic<const config::Cluster*> config_;
  /// Every configuration this cluster has had, oldest first (guarded by update_mutex_ after
  /// construction). Kept so config() references never dangle; only reloads that change the
  /// cluster add one, without its endpoint list.
  std::vector<std::unique_ptr<const config::Cluster>> configs_;
  /// The endpoints the current host set was built from (static config or last EDS assignment),
  /// so applyConfig() can re-apply caps. Guarded by update_mutex_.
  std::vector<config::Endpoint> endpoints_;
  const PickerPtr picker_;
  std::unique_ptr<tls::ClientContextProvider> tls_;
  mutable tls::HandshakeStats tls_stats_;
  /// The published snapshot. Guarded by a mutex rather than std::atomic<std::shared_ptr>
  /// (libstdc++ 12 implements that with an internal spin lock whose load path unlocks with
  /// relaxed order, which ThreadSanitizer rightly reports). Pickers do not read it: they use
  /// the per-thread cache, which takes this lock only after a new set was published.
  mutable std::mutex snapshot_mutex_;
  HostSetConstSharedPtr host_set_;
  /// Process-unique number of the published snapshot (changes with every setHostSet()).
  std::atomic<uint64_t> generation_;
  std::mutex update_mutex_;  ///< serialises updateEndpoints() (control plane only).

  alignas(64) std::atomic<uint32_t> active_{0};
  alignas(64) std::atomic<uint32_t> pending_active_{0};
  std::mutex pending_mutex_;  ///< pending queue only (slow path: every host full).
  std::list<std::pair<WaiterId, Waker>> waiters_;
  std::unordered_map<WaiterId, std::list<std::pair<WaiterId, Waker>>::iterator> waiter_index_;
  WaiterId next_waiter_id_ = 1;
  ClusterStats stats_;
  HealthCheckStats health_check_stats_;
  std::unique_ptr<OutlierDetector> outlier_;  ///< set when config has outlier_detection.
  std::mutex observer_mutex_;                 ///< guards observer_ (control plane only).
  std::function<void()> observer_;
  /// Calls observer_ (if any) after a publish.
  void notifyObserver();
};

using ClusterStateSharedPtr = std::shared_ptr<ClusterState>;

}  // namespace wslb::upstream
