#include "histogram.h"

#include <algorithm>
#include <cmath>

namespace wslb::loadgen {

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (size_t i = 0; i < kBucketCount; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::bucketLow(size_t index) noexcept {
  if (index < kSubCount) return index;
  const unsigned shift = static_cast<unsigned>(index / kSubCount) - 1;
  return (kSubCount + index % kSubCount) << shift;
}

uint64_t LatencyHistogram::bucketWidth(size_t index) noexcept {
  if (index < kSubCount) return 1;
  return uint64_t{1} << (index / kSubCount - 1);
}

uint64_t LatencyHistogram::quantile(double q) const noexcept {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank (1-based) of the sample asked for.
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      const uint64_t mid = bucketLow(i) + bucketWidth(i) / 2;
      return std::min(mid, max_);
    }
  }
  return max_;
}

}  // namespace wslb::loadgen
