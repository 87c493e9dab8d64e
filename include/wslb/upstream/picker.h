#pragma once
// Chooses a host with room and reserves a slot on it atomically.

#include <memory>
#include <span>

#include "wslb/config/bootstrap.h"
#include "wslb/upstream/host_set.h"
#include "wslb/upstream/random.h"

namespace wslb::upstream {

/// A picker never returns a host that is full, ineligible or in `exclude`; the reservation is
/// atomic, so caps hold under any concurrency. Pickers are stateless or use only atomics, so one
/// instance is shared by all workers. Thread safety: pick() may be called from any thread.
class Picker {
 public:
  virtual ~Picker() = default;
  /// Reserves one connection on a host of `set` (host.tryAcquire() succeeded) and returns it,
  /// or nullptr when no eligible host has room. The caller owns the reservation (wraps it in a
  /// Slot, or calls host->release()). Priority 0 first; the next priority only when no host of
  /// the previous one has room; DEGRADED hosts only when no healthy host of that priority has
  /// room. Never allocates and never locks.
  /// @param random the calling thread's Random.
  /// @param exclude hosts already tried by this request (connect failures); usually empty.
  virtual HostSharedPtr pick(const HostSet& set, Random& random,
                             std::span<const Host* const> exclude = {}) = 0;
};

using PickerPtr = std::unique_ptr<Picker>;

/// LEAST_REQUEST (wslb default): least active connections weighted (active / weight) among
/// hosts with room; ties spread at random. Exact scan for small sets; for large sets, sampled
/// choices with a guaranteed full-scan fallback, so it never refuses while a host has room.
/// ROUND_ROBIN and RANDOM skip full hosts the same way.
PickerPtr makePicker(config::LbPolicy policy);

/// The individual pickers (makePicker() chooses among them).
PickerPtr makeLeastRequestPicker();
PickerPtr makeRoundRobinPicker();
PickerPtr makeRandomPicker();

/// Tiers with at most this many hosts are scanned exactly by the least-request picker; larger
/// ones are sampled first (see least_request_picker.cc).
inline constexpr size_t kLeastRequestExactScanMax = 32;

}  // namespace wslb::upstream
