#pragma once
// A fixed-bucket histogram of milliseconds, shared by every worker (atomics, no lock), rendered
// as a Prometheus histogram and as Envoy's quantile line in /stats.

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

namespace wslb::stats {

/// Envoy's default histogram bucket bounds (stats_config.histogram_bucket_settings unset), in
/// the histogram's unit (milliseconds here).
inline constexpr std::array<double, 19> kDefaultBuckets = {
    0.5,  1,    5,     10,    25,    50,     100,    250,     500,    1000,
    2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};

/// What a histogram held at one moment.
struct HistogramSnapshot {
  std::vector<double> bounds;        ///< upper bounds, ascending (the +Inf bucket is implied).
  std::vector<uint64_t> cumulative;  ///< samples <= bounds[i]; size bounds.size().
  uint64_t count = 0;                ///< all samples (the +Inf bucket).
  double sum = 0;                    ///< sum of samples.

  /// The value below which a fraction `q` (0..1) of samples lie, interpolated linearly inside
  /// the bucket (as Prometheus' histogram_quantile does); 0 when empty.
  double quantile(double q) const;
};

/// Records are relaxed atomic increments: a reader may see a sample in `count` before `sum`, which
/// only matters for the instant of the read. Header-only, so components below stats/ (upstream/)
/// can hold one.
class Histogram {
 public:
  Histogram() = default;
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  /// Adds one sample (milliseconds; negative values count as 0). Any thread; never allocates.
  void record(double value) {
    if (!(value > 0)) value = 0;
    const auto it = std::lower_bound(kDefaultBuckets.begin(), kDefaultBuckets.end(), value);
    buckets_[static_cast<size_t>(it - kDefaultBuckets.begin())].fetch_add(
        1, std::memory_order_relaxed);
    sum_micros_.fetch_add(static_cast<uint64_t>(std::llround(value * 1000.0)),
                          std::memory_order_relaxed);
  }
  /// Any thread.
  std::shared_ptr<const HistogramSnapshot> snapshot() const {
    auto out = std::make_shared<HistogramSnapshot>();
    out->bounds.assign(kDefaultBuckets.begin(), kDefaultBuckets.end());
    out->cumulative.reserve(kDefaultBuckets.size());
    uint64_t running = 0;
    for (size_t i = 0; i < kDefaultBuckets.size(); ++i) {
      running += buckets_[i].load(std::memory_order_relaxed);
      out->cumulative.push_back(running);
    }
    out->count = running + buckets_.back().load(std::memory_order_relaxed);
    out->sum = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1000.0;
    return out;
  }
  /// Forgets every sample (POST /reset_counters). Any thread.
  void reset() {
    for (auto& bucket : buckets_) bucket.store(0, std::memory_order_relaxed);
    sum_micros_.store(0, std::memory_order_relaxed);
  }

 private:
  std::array<std::atomic<uint64_t>, kDefaultBuckets.size() + 1> buckets_{};  ///< last: > max
  std::atomic<uint64_t> sum_micros_{0};
};

}  // namespace wslb::stats
