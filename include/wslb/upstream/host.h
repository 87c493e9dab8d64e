#pragma once
// One backend endpoint (a pod): address, weight, cap and the live counters every worker shares.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace wslb::upstream {

/// Bits of Host::healthFlags(). Any bit set except kDegradedEdsHealth makes a host ineligible.
enum HealthFlag : uint32_t {
  kFailedEdsHealth = 1u << 0,  ///< EDS/static health_status UNHEALTHY, DRAINING or TIMEOUT.
  kDegradedEdsHealth =
      1u << 1,  ///< health_status DEGRADED: used only when no healthy host has room.
  kPendingDynamicRemoval = 1u << 2,  ///< removed from the endpoint set; live connections remain.
  /// Failed its active health check (health_checks): set after unhealthy_threshold failures in a
  /// row (at once for a status outside expected_statuses), cleared after healthy_threshold
  /// passes. New hosts of a health-checked cluster start with it until their first pass.
  kFailedActiveHealthCheck = 1u << 3,
  /// Ejected by outlier detection until its ejection time is over.
  kFailedOutlierCheck = 1u << 4,
};

/// Outlier detection's per-host state. The consecutive counters are atomics written by workers
/// without a lock; the ejection bookkeeping is guarded by the cluster's OutlierDetector.
struct OutlierHostState {
  std::atomic<uint32_t> consecutive_5xx{0};
  std::atomic<uint32_t> consecutive_gateway_failure{0};
  // Guarded by OutlierDetector's mutex.
  uint32_t eject_time_backoff = 0;  ///< the ejection-time multiplier (times ejected, decaying).
  uint64_t num_ejections = 0;       ///< ejections enforced on this host, ever.
  std::chrono::steady_clock::time_point last_ejection{};
  std::chrono::steady_clock::time_point last_unejection{};
  bool ever_unejected = false;
};

/// Counters of one host. All atomics: written by workers, read by admin/stats threads.
struct HostStats {
  std::atomic<uint64_t> cx_total{0};
  std::atomic<uint64_t> cx_connect_fail{0};
  std::atomic<uint64_t> rx_bytes{0};     ///< bytes read from the host.
  std::atomic<uint64_t> tx_bytes{0};     ///< bytes written to the host.
  std::atomic<uint64_t> rx_messages{0};  ///< WebSocket data messages from the host.
  std::atomic<uint64_t> tx_messages{0};  ///< WebSocket data messages to the host.

  /// Zeroes every counter (admin POST /reset_counters). Any thread.
  void resetCounters() {
    for (auto* c :
         {&cx_total, &cx_connect_fail, &rx_bytes, &tx_bytes, &rx_messages, &tx_messages}) {
      c->store(0, std::memory_order_relaxed);
    }
  }
};

/// A backend endpoint. Shared (shared_ptr) between host-set snapshots, so its live count survives
/// endpoint updates. Thread safety: every method may be called from any thread. Weight, cap and
/// health flags are plain relaxed atomics: a change is seen by pickers "soon", never torn.
class Host {
 public:
  /// @param ip numeric IP literal, stored as given (buildHostSet() passes the canonical form).
  /// @param port TCP port.
  /// @param weight load-balancing weight; 0 is stored as 1.
  /// @param cap max active connections (config::kUnlimited = none; 0 = never picked).
  /// @param hostname endpoint.hostname, informational.
  Host(std::string ip, uint16_t port, uint32_t weight, uint32_t cap, std::string hostname = {});

  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  /// The IP literal. Immutable.
  const std::string& ip() const { return ip_; }
  /// The TCP port. Immutable.
  uint16_t port() const { return port_; }
  /// "ip:port" ("[::1]:80" for IPv6), the form used in /clusters and the envoy_endpoint_address
  /// label, and the key buildHostSet() matches hosts by. Immutable.
  const std::string& addressString() const { return address_string_; }
  /// endpoint.hostname (may be empty). A copy: the control plane may change it.
  std::string hostname() const {
    std::lock_guard lock(hostname_mutex_);
    return hostname_;
  }
  /// Sets endpoint.hostname (control plane). Admin and stats see it at their next read.
  void setHostname(std::string hostname) {
    std::lock_guard lock(hostname_mutex_);
    hostname_ = std::move(hostname);
  }

  /// The port active health checks connect to: endpoint.health_check_config.port_value when
  /// set, else port().
  uint16_t healthCheckPort() const {
    const uint16_t p = health_check_port_.load(std::memory_order_relaxed);
    return p == 0 ? port_ : p;
  }
  /// Sets health_check_config.port_value (control plane); 0 checks the serving port. The next
  /// check uses it.
  void setHealthCheckPort(uint16_t p) { health_check_port_.store(p, std::memory_order_relaxed); }

  /// Load-balancing weight, >= 1.
  uint32_t weight() const { return weight_.load(std::memory_order_relaxed); }
  /// Sets the weight (control plane); 0 is stored as 1.
  void setWeight(uint32_t w) { weight_.store(w == 0 ? 1 : w, std::memory_order_relaxed); }
  /// Max active connections (config::kUnlimited = none).
  uint32_t cap() const { return cap_.load(std::memory_order_relaxed); }
  /// Sets the cap (control plane). Lowering it below active() refuses new connections until
  /// enough live ones end; it never closes any.
  void setCap(uint32_t c) { cap_.store(c, std::memory_order_relaxed); }

  /// Live connections reserved on this host (Slots alive), summed over all workers.
  uint32_t active() const { return active_.load(std::memory_order_relaxed); }
  /// True when active() < cap() at the moment of the call (a hint; only tryAcquire() reserves).
  bool hasRoom() const { return active() < cap(); }

  /// HealthFlag bits currently set.
  uint32_t healthFlags() const { return health_flags_.load(std::memory_order_relaxed); }
  /// Sets (on = true) or clears one flag atomically, leaving the others alone.
  void setHealthFlag(HealthFlag f, bool on);
  /// True when the host may get new connections at all (no excluding flag set).
  bool eligible() const { return (healthFlags() & ~uint32_t{kDegradedEdsHealth}) == 0; }
  /// True when health_status is DEGRADED (picked only when no healthy host has room).
  bool degraded() const { return (healthFlags() & kDegradedEdsHealth) != 0; }

  /// Atomically takes one connection if active < cap (CAS loop; never check-then-add).
  /// @return true if reserved; the caller must call release() exactly once (normally via Slot).
  bool tryAcquire();
  /// Gives one connection back. Only Slot (and a picker/cluster rolling back) calls this.
  void release();

  /// Per-host counters (not touched by Host itself).
  HostStats& stats() { return stats_; }
  const HostStats& stats() const { return stats_; }

  /// Outlier detection's counters and ejection state (see OutlierHostState).
  OutlierHostState& outlier() { return outlier_; }
  const OutlierHostState& outlier() const { return outlier_; }

 private:
  // Everything a pick reads, and the count it writes, share one cache line: looking at a host
  // costs one line. Byte counters are written per message by the relay, so they get their own.
  alignas(64) std::atomic<uint32_t> active_{0};
  std::atomic<uint32_t> cap_;
  std::atomic<uint32_t> weight_;
  std::atomic<uint32_t> health_flags_{0};
  const std::string ip_;
  const uint16_t port_;
  std::atomic<uint16_t> health_check_port_{0};  ///< 0: port_.
  const std::string address_string_;
  // Read only by admin and stats, written only by EDS updates: a lock costs nothing that matters.
  mutable std::mutex hostname_mutex_;
  std::string hostname_;
  alignas(64) HostStats stats_;
  // Written once per upstream attempt outcome, not per message: a line of its own.
  alignas(64) OutlierHostState outlier_;
};

using HostSharedPtr = std::shared_ptr<Host>;

/// "ip:port" for an IPv4 literal, "[ip]:port" for an IPv6 one (contains ':').
std::string formatAddress(const std::string& ip, uint16_t port);

}  // namespace wslb::upstream
