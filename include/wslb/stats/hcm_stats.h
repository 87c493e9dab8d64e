#pragma once
// Counters of one HTTP connection manager (Envoy's http.<stat_prefix>.* stats). Shared by all
// workers; every field is an atomic, so any thread may update or read them.

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wslb/stats/histogram.h"

namespace wslb::stats {

/// How a WebSocket upgrade request ended (http.<prefix>.websocket.upgrades{outcome}).
enum class UpgradeOutcome : uint8_t {
  kEstablished,          ///< 101 relayed; the WebSocket is open.
  kNoRoute,              ///< 404: no route matched.
  kBadRequest,           ///< 400/403/426: not a valid WebSocket upgrade, or not allowed here.
  kOverflow,             ///< 503: every pod full and no room in the pending queue.
  kPendingTimeout,       ///< 503: waited in the pending queue until pending_timeout.
  kNoHealthyUpstream,    ///< 503: the cluster has no eligible endpoint at all.
  kUpstreamConnectFail,  ///< 503: every connect attempt failed.
  kUpstreamReset,        ///< 503: the backend reset or closed before answering.
  kUpstreamTimeout,      ///< 504: the backend did not answer within the route timeout.
  kUpstreamNon101,       ///< the backend answered with another status (passed on).
  kCount
};

/// Stable lower-case label value ("established", "no_route", ...).
std::string_view upgradeOutcomeName(UpgradeOutcome outcome);

/// Buckets of WebSocket close codes seen in relayed Close frames, per side.
/// 1000-1015 each have their own; then 3000-3999, 4000-4999, anything else, and "none" (the
/// connection ended without a Close frame from that side).
inline constexpr size_t kCloseCodeBuckets = 20;
/// Bucket index of `code` (std::nullopt = no Close frame).
size_t closeCodeBucket(std::optional<uint16_t> code);
/// Label of a bucket: "1000".."1015", "3xxx", "4xxx", "other", "none".
std::string closeCodeLabel(size_t bucket);

struct HcmStats {
  explicit HcmStats(std::string prefix) : stat_prefix(std::move(prefix)) {}

  const std::string stat_prefix;
  std::atomic<uint64_t> downstream_cx_total{0};
  std::atomic<int64_t> downstream_cx_active{0};
  std::atomic<uint64_t> downstream_cx_destroy{0};
  std::atomic<uint64_t> downstream_cx_upgrades_total{0};
  std::atomic<int64_t> downstream_cx_upgrades_active{0};
  std::atomic<uint64_t> downstream_cx_rx_bytes_total{0};
  std::atomic<uint64_t> downstream_cx_tx_bytes_total{0};
  std::atomic<uint64_t> downstream_rq_total{0};
  std::atomic<uint64_t> downstream_rq_ws_on_non_ws_route{0};
  std::atomic<uint64_t> downstream_rq_1xx{0};
  std::atomic<uint64_t> downstream_rq_2xx{0};
  std::atomic<uint64_t> downstream_rq_3xx{0};
  std::atomic<uint64_t> downstream_rq_4xx{0};
  std::atomic<uint64_t> downstream_rq_5xx{0};
  std::atomic<uint64_t> downstream_rq_idle_timeout{0};
  std::atomic<uint64_t> downstream_rq_header_timeout{0};
  std::atomic<uint64_t> downstream_cx_idle_timeout{0};
  std::atomic<uint64_t> downstream_cx_max_duration_reached{0};

  /// Upgrade requests by outcome (index: UpgradeOutcome).
  std::array<std::atomic<uint64_t>, static_cast<size_t>(UpgradeOutcome::kCount)> upgrades{};
  /// Close codes sent by the client / by the backend (index: closeCodeBucket()).
  std::array<std::atomic<uint64_t>, kCloseCodeBuckets> client_close_codes{};
  std::array<std::atomic<uint64_t>, kCloseCodeBuckets> upstream_close_codes{};
  /// From the upgrade request's arrival to the 101 sent to the client (established only).
  Histogram websocket_handshake_ms;
  /// From the 101 to the end of the relay.
  Histogram websocket_duration_ms;

  /// Zeroes every counter (admin POST /reset_counters); the gauges (downstream_cx_active,
  /// downstream_cx_upgrades_active) and the histograms stay. Any thread.
  void resetCounters() {
    for (auto* c : {&downstream_cx_total, &downstream_cx_destroy, &downstream_cx_upgrades_total,
                    &downstream_cx_rx_bytes_total, &downstream_cx_tx_bytes_total,
                    &downstream_rq_total, &downstream_rq_ws_on_non_ws_route, &downstream_rq_1xx,
                    &downstream_rq_2xx, &downstream_rq_3xx, &downstream_rq_4xx, &downstream_rq_5xx,
                    &downstream_rq_idle_timeout, &downstream_rq_header_timeout,
                    &downstream_cx_idle_timeout, &downstream_cx_max_duration_reached}) {
      c->store(0, std::memory_order_relaxed);
    }
    for (auto& c : upgrades) c.store(0, std::memory_order_relaxed);
    for (auto& c : client_close_codes) c.store(0, std::memory_order_relaxed);
    for (auto& c : upstream_close_codes) c.store(0, std::memory_order_relaxed);
  }

  void countUpgrade(UpgradeOutcome outcome) {
    upgrades[static_cast<size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
  }

  /// Counts one response status in the matching downstream_rq_Nxx counter.
  void countResponse(unsigned status) {
    switch (status / 100) {
      case 1:
        downstream_rq_1xx.fetch_add(1, std::memory_order_relaxed);
        break;
      case 2:
        downstream_rq_2xx.fetch_add(1, std::memory_order_relaxed);
        break;
      case 3:
        downstream_rq_3xx.fetch_add(1, std::memory_order_relaxed);
        break;
      case 4:
        downstream_rq_4xx.fetch_add(1, std::memory_order_relaxed);
        break;
      default:
        downstream_rq_5xx.fetch_add(1, std::memory_order_relaxed);
        break;
    }
  }
};

}  // namespace wslb::stats

namespace wslb::stats {

/// RAII +1/-1 on a gauge. Move-only; the decrement happens exactly once.
class GaugeGuard {
 public:
  GaugeGuard() = default;
  explicit GaugeGuard(std::atomic<int64_t>& gauge) : gauge_(&gauge) {
    gauge_->fetch_add(1, std::memory_order_relaxed);
  }
  GaugeGuard(GaugeGuard&& o) noexcept : gauge_(o.gauge_) { o.gauge_ = nullptr; }
  GaugeGuard& operator=(GaugeGuard&& o) noexcept {
    if (this != &o) {
      reset();
      gauge_ = o.gauge_;
      o.gauge_ = nullptr;
    }
    return *this;
  }
  GaugeGuard(const GaugeGuard&) = delete;
  GaugeGuard& operator=(const GaugeGuard&) = delete;
  ~GaugeGuard() { reset(); }
  void reset() {
    if (gauge_ != nullptr) gauge_->fetch_sub(1, std::memory_order_relaxed);
    gauge_ = nullptr;
  }

 private:
  std::atomic<int64_t>* gauge_ = nullptr;
};

}  // namespace wslb::stats
