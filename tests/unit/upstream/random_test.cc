#include "wslb/upstream/random.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace wslb::upstream {
namespace {

TEST(FastRandomTest, SameSeedSameSequence) {
  FastRandom a(42);
  FastRandom b(42);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next(), b.next());
}

TEST(FastRandomTest, DifferentSeedsDiffer) {
  FastRandom a(1);
  FastRandom b(2);
  int equal = 0;
  for (int i = 0; i < 100; ++i) equal += a.next() == b.next();
  EXPECT_EQ(equal, 0);
}

TEST(FastRandomTest, SeedZeroIsUsable) {
  FastRandom r(0);
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(r.next());
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(FastRandomTest, RoughlyUniform) {
  FastRandom r(7);
  constexpr int kBuckets = 10;
  constexpr int kDraws = 100000;
  int counts[kBuckets] = {};
  for (int i = 0; i < kDraws; ++i)
    ++counts[scaleToRange(static_cast<uint32_t>(r.next()), kBuckets)];
  for (int c : counts) EXPECT_NEAR(c, kDraws / kBuckets, kDraws / kBuckets * 0.05);
}

TEST(FastRandomTest, ScaleToRangeBounds) {
  EXPECT_EQ(scaleToRange(0, 7), 0u);
  EXPECT_EQ(scaleToRange(0xffffffffu, 7), 6u);
  EXPECT_EQ(scaleToRange(0x80000000u, 2), 1u);
}

TEST(FastRandomTest, ThreadRandomIsPerThread) {
  Random* main_random = &threadRandom();
  EXPECT_EQ(main_random, &threadRandom());
  Random* other = nullptr;
  std::thread([&] { other = &threadRandom(); }).join();
  EXPECT_NE(main_random, other);
}

}  // namespace
}  // namespace wslb::upstream
