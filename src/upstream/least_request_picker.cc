// LEAST_REQUEST: least active connections per unit of weight, among hosts with room.
//
// Cost model. A tier (one priority) with at most kLeastRequestExactScanMax (32) hosts is scanned
// exactly: every usable host is compared, ties are collected and one is drawn at random
// (`next() % ties`), so equal hosts share the load evenly. Scanning 32 hosts costs about as much
// as a few cache misses, so the exact answer is cheap there.
//
// A larger tier is sampled first: draws continue until kSampleChoices (2) healthy hosts with room
// are found or kMaxSampleDraws (16) draws are spent, and the less loaded of those found is
// reserved ("power of two choices", weighted). That is O(1) per pick at any size and keeps the
// spread close to least-loaded. When the samples find nothing with room (a nearly full, mostly
// ineligible, or degraded-only tier), an exact scan of the whole tier follows, so the picker
// never refuses while an eligible host has room; this O(n) path only runs when at most a small
// fraction of the tier has room. In the exact scan of a large tier ties go to the first least
// loaded host after a random starting point (one draw instead of a tie list).
//
// Races. The choice is made on relaxed reads; only Host::tryAcquire() reserves. If its CAS finds
// the host full (another thread took the last unit), the choice is made again, a bounded number
// of times, and then firstFit() walks the tier reserving the first host that takes it.

#include <array>
#include <cstdint>

#include "picker_common.h"
#include "wslb/upstream/picker.h"

namespace wslb::upstream {
namespace {

using detail::HostClass;
using detail::lessLoaded;
using detail::usableAs;

constexpr size_t kExactScanMax = kLeastRequestExactScanMax;
constexpr int kMaxScanAttempts = 4;
constexpr int kSampleChoices = 2;
constexpr int kMaxSampleDraws = 16;
constexpr int kSampleAttempts = 2;

/// The least loaded usable hosts of one class seen so far, with their ties.
template <size_t Capacity>
struct Best {
  std::array<uint32_t, Capacity> ties;
  uint32_t count = 0;
  uint64_t active = 0;
  uint64_t weight = 1;

  void offer(uint32_t index, const Host& host) {
    const uint64_t a = host.active();
    const uint64_t w = host.weight();
    if (count == 0 || lessLoaded(a, w, active, weight)) {
      ties[0] = index;
      count = 1;
      active = a;
      weight = w;
    } else if (Capacity > 1 && count < Capacity && !lessLoaded(active, weight, a, w)) {
      ties[count++] = index;
    }
  }
};

class LeastRequestPicker final : public Picker {
 public:
  // wslb::Picker
  HostSharedPtr pick(const HostSet& set, Random& random,
                     std::span<const Host* const> exclude) override {
    for (const std::vector<HostSharedPtr>& tier : set.hosts_by_priority) {
      if (tier.empty()) continue;
      const HostSharedPtr* host = nullptr;
      if (tier.size() <= kExactScanMax) {
        host = pickSmall(tier, random, exclude);
      } else {
        host = pickSampled(tier, random, exclude);
        if (host == nullptr) host = pickLarge(tier, random, exclude);
      }
      if (host != nullptr) return *host;
    }
    return nullptr;
  }

 private:
  /// Exact scan with a uniform draw among ties.
  static const HostSharedPtr* pickSmall(const std::vector<HostSharedPtr>& tier, Random& random,
                                        std::span<const Host* const> exclude) {
    for (int attempt = 0; attempt < kMaxScanAttempts; ++attempt) {
      Best<kExactScanMax> healthy;
      Best<kExactScanMax> degraded;
      for (uint32_t i = 0; i < tier.size(); ++i) {
        const Host& host = *tier[i];
        if (usableAs(host, HostClass::kHealthy, exclude)) {
          healthy.offer(i, host);
        } else if (healthy.count == 0 && usableAs(host, HostClass::kDegraded, exclude)) {
          degraded.offer(i, host);
        }
      }
      const auto& best = healthy.count > 0 ? healthy : degraded;
      if (best.count == 0) return nullptr;
      const uint32_t chosen =
          best.count == 1 ? best.ties[0] : best.ties[random.next() % best.count];
      if (tier[chosen]->tryAcquire()) return &tier[chosen];
    }
    return detail::firstFit(tier, 0, exclude);
  }

  /// Weighted power-of-two-choices over healthy hosts; nullptr means "fall back to a scan".
  static const HostSharedPtr* pickSampled(const std::vector<HostSharedPtr>& tier, Random& random,
                                          std::span<const Host* const> exclude) {
    const auto n = static_cast<uint32_t>(tier.size());
    for (int attempt = 0; attempt < kSampleAttempts; ++attempt) {
      Best<1> best;
      int found = 0;
      for (int draws = 0; draws < kMaxSampleDraws && found < kSampleChoices; draws += 2) {
        const uint64_t r = random.next();  // two 32-bit draws from one call
        for (const uint32_t half : {static_cast<uint32_t>(r), static_cast<uint32_t>(r >> 32)}) {
          const uint32_t i = scaleToRange(half, n);
          if (usableAs(*tier[i], HostClass::kHealthy, exclude)) {
            best.offer(i, *tier[i]);
            ++found;
          }
        }
      }
      if (best.count == 0) return nullptr;
      if (tier[best.ties[0]]->tryAcquire()) return &tier[best.ties[0]];
    }
    return nullptr;
  }

  /// Exact scan of a large tier from a random starting point.
  static const HostSharedPtr* pickLarge(const std::vector<HostSharedPtr>& tier, Random& random,
                                        std::span<const Host* const> exclude) {
    const size_t n = tier.size();
    const size_t start = detail::randomIndex(random, n);
    for (int attempt = 0; attempt < kMaxScanAttempts; ++attempt) {
      Best<1> healthy;
      Best<1> degraded;
      size_t i = start;
      for (size_t k = 0; k < n; ++k) {
        const Host& host = *tier[i];
        if (usableAs(host, HostClass::kHealthy, exclude)) {
          healthy.offer(static_cast<uint32_t>(i), host);
        } else if (healthy.count == 0 && usableAs(host, HostClass::kDegraded, exclude)) {
          degraded.offer(static_cast<uint32_t>(i), host);
        }
        if (++i == n) i = 0;
      }
      const auto& best = healthy.count > 0 ? healthy : degraded;
      if (best.count == 0) return nullptr;
      if (tier[best.ties[0]]->tryAcquire()) return &tier[best.ties[0]];
    }
    return detail::firstFit(tier, start, exclude);
  }
};

}  // namespace

PickerPtr makeLeastRequestPicker() {
  return std::make_unique<LeastRequestPicker>();
}

}  // namespace wslb::upstream
