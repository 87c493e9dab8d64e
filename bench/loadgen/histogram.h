#pragma once
// A fixed-size log-linear latency histogram: recording a sample never allocates.

#include <array>
#include <cstddef>
#include <cstdint>

namespace wslb::loadgen {

/// Values (nanoseconds) below 32 get a bucket each; above, every power of two is split into 32
/// equal buckets, so a bucket is at most ~3 % of its value wide. Covers the whole uint64_t range.
///
/// Thread safety: none; each thread records into its own histogram and the owner merges them
/// after the threads have been joined.
class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 5;
  static constexpr uint64_t kSubCount = uint64_t{1} << kSubBits;
  static constexpr size_t kBucketCount = (64 - kSubBits + 1) * kSubCount;

  void record(uint64_t value_ns) noexcept {
    ++buckets_[bucketOf(value_ns)];
    ++count_;
    if (value_ns > max_) max_ = value_ns;
  }

  void merge(const LatencyHistogram& other) noexcept;

  uint64_t count() const noexcept { return count_; }
  uint64_t max() const noexcept { return max_; }

  /// The value below which a fraction @p q (0..1) of the samples lie, as the midpoint of the
  /// bucket holding that sample (never above the largest sample). 0 when empty.
  uint64_t quantile(double q) const noexcept;

  static size_t bucketOf(uint64_t value) noexcept {
    if (value < kSubCount) return static_cast<size_t>(value);
    const unsigned exponent = 63u - static_cast<unsigned>(__builtin_clzll(value));
    const unsigned shift = exponent - kSubBits;
    return static_cast<size_t>((shift + 1) * kSubCount + ((value >> shift) - kSubCount));
  }
  static uint64_t bucketLow(size_t index) noexcept;
  static uint64_t bucketWidth(size_t index) noexcept;

 private:
  std::array<uint64_t, kBucketCount> buckets_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace wslb::loadgen
