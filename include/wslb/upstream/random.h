#pragma once
// Randomness source for pickers, injectable in tests.

#include <cstdint>

namespace wslb::upstream {

class Random {
 public:
  virtual ~Random() = default;
  /// A uniformly distributed 64-bit value. Called only from the thread that owns this object.
  virtual uint64_t next() = 0;
};

/// xoshiro256** seeded through splitmix64. Not thread-safe: one instance per thread.
class FastRandom final : public Random {
 public:
  /// Seeds from std::random_device.
  FastRandom();
  /// Deterministic sequence for `seed` (any value, 0 included).
  explicit FastRandom(uint64_t seed);
  uint64_t next() override;

 private:
  uint64_t s_[4];
};

/// A process-wide thread_local FastRandom for the calling thread (seeded from std::random_device
/// on first use in each thread). Use it only on the calling thread.
Random& threadRandom();

/// Maps a 32-bit random value onto [0, n) by multiply-shift (no division). n must be > 0.
inline uint32_t scaleToRange(uint32_t r, uint32_t n) {
  return static_cast<uint32_t>((static_cast<uint64_t>(r) * n) >> 32);
}

}  // namespace wslb::upstream
