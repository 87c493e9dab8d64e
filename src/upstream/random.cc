#include "wslb/upstream/random.h"

#include <random>

namespace wslb::upstream {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

uint64_t deviceSeed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

FastRandom::FastRandom() : FastRandom(deviceSeed()) {}

FastRandom::FastRandom(uint64_t seed) {
  // splitmix64 never yields four zero words, which xoshiro must not start from.
  for (uint64_t& word : s_) word = splitmix64(seed);
}

uint64_t FastRandom::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

Random& threadRandom() {
  thread_local FastRandom random;
  return random;
}

}  // namespace wslb::upstream
