#pragma once
// Counters of one HTTP connection manager (Envoy's http.<stat_prefix>.* stats). Shared by all
// workers; every field is an atomic, so any thread may update or read them.

#include <atomic>
#include <cstdint>
#include <string>

namespace wslb::stats {

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
