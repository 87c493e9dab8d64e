#include "wslb/xds/backoff.h"

#include <algorithm>

namespace wslb::xds {

JitteredBackoff::JitteredBackoff(std::chrono::milliseconds base, std::chrono::milliseconds max,
                                 uint64_t seed)
    : base_(std::max(base, std::chrono::milliseconds(1))),
      max_(std::max(max, base_)),
      ceiling_(base_),
      random_(seed) {}

std::chrono::milliseconds JitteredBackoff::next() {
  const int64_t ceiling = ceiling_.count();
  std::uniform_int_distribution<int64_t> pick(ceiling / 2, ceiling);
  const std::chrono::milliseconds delay(pick(random_));
  ceiling_ = std::min(max_, ceiling_ * 2);
  return delay;
}

}  // namespace wslb::xds
