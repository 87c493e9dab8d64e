#pragma once
// Helpers shared by the pickers (private to src/upstream/).

#include <cstdint>
#include <span>
#include <vector>

#include "wslb/upstream/host.h"
#include "wslb/upstream/random.h"

namespace wslb::upstream::detail {

/// Healthy hosts are tried before degraded ones within a priority.
enum class HostClass { kHealthy, kDegraded };

inline bool isExcluded(const Host* host, std::span<const Host* const> exclude) {
  for (const Host* h : exclude) {
    if (h == host) return true;
  }
  return false;
}

/// The class of `host` if it may get a new connection now (eligible, room, not excluded).
/// Returns false for a host that can't be used.
inline bool usableAs(const Host& host, HostClass want, std::span<const Host* const> exclude) {
  const uint32_t flags = host.healthFlags();
  const uint32_t wanted = want == HostClass::kHealthy ? 0u : uint32_t{kDegradedEdsHealth};
  return flags == wanted && host.active() < host.cap() && !isExcluded(&host, exclude);
}

/// True when a's load (active / weight) is below b's; cross-multiplied, no division.
inline bool lessLoaded(uint64_t active_a, uint64_t weight_a, uint64_t active_b, uint64_t weight_b) {
  return active_a * weight_b < active_b * weight_a;
}

/// Walks `hosts` once from `start` (healthy first, then degraded) and reserves the first that
/// takes it. Returns nullptr only if every eligible host was full when it was tried, which makes
/// it the guaranteed fallback of every picker. O(n).
inline const HostSharedPtr* firstFit(const std::vector<HostSharedPtr>& hosts, size_t start,
                                     std::span<const Host* const> exclude) {
  const size_t n = hosts.size();
  for (HostClass cls : {HostClass::kHealthy, HostClass::kDegraded}) {
    size_t i = start;
    for (size_t k = 0; k < n; ++k) {
      const HostSharedPtr& host = hosts[i];
      if (usableAs(*host, cls, exclude) && host->tryAcquire()) return &host;
      if (++i == n) i = 0;
    }
  }
  return nullptr;
}

/// A 32-bit draw from `random` mapped onto [0, n).
inline size_t randomIndex(Random& random, size_t n) {
  return scaleToRange(static_cast<uint32_t>(random.next()), static_cast<uint32_t>(n));
}

}  // namespace wslb::upstream::detail
