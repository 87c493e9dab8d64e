#pragma once
// The process-wide cap on active downstream connections (the overload manager's
// envoy.resource_monitors.global_downstream_max_connections) and the per-connection guard that
// holds one unit of it for exactly as long as the listener counts the connection in
// downstream_cx_active.

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "wslb/stats/hcm_stats.h"
#include "wslb/stats/stat.h"

namespace wslb::relay {

/// Shared by every worker. tryAcquire() is one compare-exchange loop on one atomic, so the count
/// is exact under concurrency: it never goes above the maximum.
class DownstreamConnectionLimit {
 public:
  /// @param max_active_connections 0 = no limit (nothing is counted).
  explicit DownstreamConnectionLimit(uint64_t max_active_connections)
      : max_(max_active_connections) {}
  DownstreamConnectionLimit(const DownstreamConnectionLimit&) = delete;
  DownstreamConnectionLimit& operator=(const DownstreamConnectionLimit&) = delete;

  bool enabled() const noexcept { return max_ != 0; }
  uint64_t max() const noexcept { return max_; }
  /// Connections holding a unit now (0 when not enabled). Any thread.
  uint64_t active() const noexcept { return active_.load(std::memory_order_relaxed); }

  /// Takes one unit if the count is below the maximum (always succeeds when not enabled, without
  /// counting). Any thread.
  bool tryAcquire() noexcept;
  /// Gives back a unit taken by tryAcquire() on an enabled limit. Any thread.
  void release() noexcept;

  /// The downstream_global_cx_overflow counter of the listener bound to `stat_address` (Envoy's
  /// form, "127.0.0.1_10000"); created on first use. The reference stays valid as long as the
  /// limit. Start-up (or any thread; it takes a lock): workers keep the reference.
  std::atomic<uint64_t>& listenerOverflowCounter(const std::string& stat_address);

  /// Appends listener.<address>.downstream_global_cx_overflow for every registered listener.
  /// Any thread.
  void appendStats(std::vector<stats::Stat>& out) const;

 private:
  const uint64_t max_;
  std::atomic<uint64_t> active_{0};
  mutable std::mutex listeners_mutex_;  // start-up registration and stats reads only
  std::deque<std::pair<std::string, std::atomic<uint64_t>>> listeners_;
};

/// One unit of a DownstreamConnectionLimit, given back when destroyed or reset(). Move-only.
/// Empty (holds nothing) when default-constructed or taken from a limit that is not enabled.
class ConnectionAdmission {
 public:
  ConnectionAdmission() = default;
  /// Takes a unit of `limit`; returns an empty admission plus false when the limit is reached.
  static std::pair<ConnectionAdmission, bool> tryTake(DownstreamConnectionLimit& limit) noexcept {
    if (!limit.tryAcquire()) return {ConnectionAdmission(), false};
    return {ConnectionAdmission(limit.enabled() ? &limit : nullptr), true};
  }
  ConnectionAdmission(ConnectionAdmission&& o) noexcept
      : limit_(std::exchange(o.limit_, nullptr)) {}
  ConnectionAdmission& operator=(ConnectionAdmission&& o) noexcept {
    if (this != &o) {
      reset();
      limit_ = std::exchange(o.limit_, nullptr);
    }
    return *this;
  }
  ConnectionAdmission(const ConnectionAdmission&) = delete;
  ConnectionAdmission& operator=(const ConnectionAdmission&) = delete;
  ~ConnectionAdmission() { reset(); }

  /// Whether a unit is held.
  explicit operator bool() const noexcept { return limit_ != nullptr; }
  void reset() noexcept {
    if (limit_ != nullptr) limit_->release();
    limit_ = nullptr;
  }

 private:
  explicit ConnectionAdmission(DownstreamConnectionLimit* limit) : limit_(limit) {}
  DownstreamConnectionLimit* limit_ = nullptr;
};

/// What one downstream connection holds while it is open: +1 on its listener's
/// downstream_cx_active and its unit of the global limit, both given back together by reset()
/// or the destructor, on every close path. Move-only: the session hands it to the relay.
class DownstreamCxGuard {
 public:
  DownstreamCxGuard() = default;
  DownstreamCxGuard(std::atomic<int64_t>& active_gauge, ConnectionAdmission admission)
      : gauge_(active_gauge), admission_(std::move(admission)) {}
  /// Holds the admission only, until countIn() names the gauge (a TLS connection: its filter
  /// chain, and so its stats, are known once the handshake has read the SNI).
  explicit DownstreamCxGuard(ConnectionAdmission admission) : admission_(std::move(admission)) {}
  /// Starts counting in `active_gauge` (+1 now, -1 at reset()).
  void countIn(std::atomic<int64_t>& active_gauge) { gauge_ = stats::GaugeGuard(active_gauge); }
  DownstreamCxGuard(DownstreamCxGuard&&) noexcept = default;
  DownstreamCxGuard& operator=(DownstreamCxGuard&&) noexcept = default;

  void reset() noexcept {
    gauge_.reset();
    admission_.reset();
  }

 private:
  stats::GaugeGuard gauge_;
  ConnectionAdmission admission_;
};

}  // namespace wslb::relay
