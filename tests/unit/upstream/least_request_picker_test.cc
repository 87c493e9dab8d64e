#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "test_util.h"
#include "wslb/upstream/picker.h"

namespace wslb::upstream {
namespace {

using test::fill;
using test::makeHost;
using test::makeHosts;
using test::setOf;
using ::testing::Return;
using ::testing::StrictMock;

class LeastRequestPickerTest : public ::testing::Test {
 protected:
  PickerPtr picker_ = makePicker(config::LbPolicy::kLeastRequest);
};

TEST_F(LeastRequestPickerTest, TieBrokenByScriptedDraw) {
  // Scripted draws prove the tie is broken by `next() % ties` over the exact scan.
  auto hosts = makeHosts(3, 10);
  auto set = setOf(hosts);
  StrictMock<test::MockRandom> random;
  EXPECT_CALL(random, next()).WillOnce(Return(5));  // 5 % 3 = 2
  EXPECT_EQ(picker_->pick(*set, random), hosts[2]);
}

TEST_F(LeastRequestPickerTest, PicksLeastActive) {
  auto hosts = makeHosts(3, 10);
  fill(*hosts[0], 3);
  fill(*hosts[1], 1);
  fill(*hosts[2], 2);
  auto set = setOf(hosts);
  StrictMock<test::MockRandom> random;  // a unique minimum needs no draw
  EXPECT_EQ(picker_->pick(*set, random), hosts[1]);
  EXPECT_EQ(hosts[1]->active(), 2u);
  // Now 3, 2, 2: a tie between hosts 1 and 2.
  EXPECT_CALL(random, next()).WillOnce(Return(1));
  EXPECT_EQ(picker_->pick(*set, random), hosts[2]);
  EXPECT_EQ(hosts[2]->active(), 3u);
}

TEST_F(LeastRequestPickerTest, WeightedLoadComparedByCrossMultiplication) {
  auto heavy = makeHost(1, 100, 3);  // 5 / 3 = 1.67
  auto light = makeHost(2, 100, 1);  // 2 / 1 = 2
  fill(*heavy, 5);
  fill(*light, 2);
  auto set = setOf({heavy, light});
  StrictMock<test::MockRandom> random;
  EXPECT_EQ(picker_->pick(*set, random), heavy);
  // 6 / 3 = 2 vs 2 / 1 = 2: an exact tie, drawn.
  EXPECT_CALL(random, next()).WillOnce(Return(1));
  EXPECT_EQ(picker_->pick(*set, random), light);
}

TEST_F(LeastRequestPickerTest, WeightTwoGetsTwiceTheConnections) {
  auto a = makeHost(1, config::kUnlimited, 2);
  auto b = makeHost(2, config::kUnlimited, 1);
  auto set = setOf({a, b});
  FastRandom random(1);
  for (int i = 0; i < 300; ++i) ASSERT_NE(picker_->pick(*set, random), nullptr);
  EXPECT_EQ(a->active(), 200u);
  EXPECT_EQ(b->active(), 100u);
}

TEST_F(LeastRequestPickerTest, FillsEveryCapExactlyThenRefuses) {
  std::vector<HostSharedPtr> hosts = {makeHost(1, 1), makeHost(2, 2), makeHost(3, 3),
                                      makeHost(4, 0)};
  auto set = setOf(hosts);
  FastRandom random(2);
  for (int i = 0; i < 6; ++i) {
    HostSharedPtr h = picker_->pick(*set, random);
    ASSERT_NE(h, nullptr) << i;
    for (const auto& host : hosts) ASSERT_LE(host->active(), host->cap());
  }
  EXPECT_EQ(hosts[0]->active(), 1u);
  EXPECT_EQ(hosts[1]->active(), 2u);
  EXPECT_EQ(hosts[2]->active(), 3u);
  EXPECT_EQ(hosts[3]->active(), 0u);
  EXPECT_EQ(picker_->pick(*set, random), nullptr);
  hosts[1]->release();
  EXPECT_EQ(picker_->pick(*set, random), hosts[1]);
}

TEST_F(LeastRequestPickerTest, EmptySetReturnsNull) {
  FastRandom random(3);
  EXPECT_EQ(picker_->pick(HostSet{}, random), nullptr);
  EXPECT_EQ(picker_->pick(*makeHostSet({}), random), nullptr);
}

TEST_F(LeastRequestPickerTest, SkipsIneligibleHosts) {
  auto hosts = makeHosts(3, 10);
  hosts[0]->setHealthFlag(kFailedEdsHealth, true);
  hosts[1]->setHealthFlag(kPendingDynamicRemoval, true);
  fill(*hosts[2], 5);  // the only eligible one, although the most loaded
  auto set = setOf(hosts);
  FastRandom random(4);
  EXPECT_EQ(picker_->pick(*set, random), hosts[2]);
  fill(*hosts[2], 4);
  EXPECT_EQ(picker_->pick(*set, random), nullptr);
  EXPECT_EQ(hosts[0]->active(), 0u);
  EXPECT_EQ(hosts[1]->active(), 0u);
}

TEST_F(LeastRequestPickerTest, HonoursExcludeList) {
  auto hosts = makeHosts(3, 10);
  fill(*hosts[1], 1);
  fill(*hosts[2], 2);
  auto set = setOf(hosts);
  StrictMock<test::MockRandom> random;
  const Host* exclude_first[] = {hosts[0].get()};
  EXPECT_EQ(picker_->pick(*set, random, exclude_first), hosts[1]);
  const Host* exclude_all[] = {hosts[0].get(), hosts[1].get(), hosts[2].get()};
  EXPECT_EQ(picker_->pick(*set, random, exclude_all), nullptr);
}

TEST_F(LeastRequestPickerTest, DegradedOnlyWhenNoHealthyHostHasRoom) {
  auto healthy = makeHost(1, 2);
  auto degraded = makeHost(2, 1);
  degraded->setHealthFlag(kDegradedEdsHealth, true);
  fill(*healthy, 1);  // healthy is more loaded than degraded, still preferred
  auto set = setOf({degraded, healthy});
  StrictMock<test::MockRandom> random;
  EXPECT_EQ(picker_->pick(*set, random), healthy);
  EXPECT_EQ(picker_->pick(*set, random), degraded);
  EXPECT_EQ(picker_->pick(*set, random), nullptr);
}

TEST_F(LeastRequestPickerTest, PriorityFailoverAndReturn) {
  auto p0a = makeHost(1, 1);
  auto p0b = makeHost(2, 1);
  auto p1 = makeHost(3, 10);
  auto set = makeHostSet({{0, p0a}, {0, p0b}, {1, p1}});
  FastRandom random(5);
  EXPECT_NE(picker_->pick(*set, random), p1);
  EXPECT_NE(picker_->pick(*set, random), p1);
  EXPECT_EQ(picker_->pick(*set, random), p1);  // priority 0 full
  EXPECT_EQ(picker_->pick(*set, random), p1);
  p0b->release();
  EXPECT_EQ(picker_->pick(*set, random), p0b);  // back to priority 0 as soon as it has room
}

TEST_F(LeastRequestPickerTest, DegradedOfPriorityZeroBeforePriorityOne) {
  auto degraded = makeHost(1, 1);
  degraded->setHealthFlag(kDegradedEdsHealth, true);
  auto p1 = makeHost(2, 1);
  auto set = makeHostSet({{0, degraded}, {1, p1}});
  FastRandom random(6);
  EXPECT_EQ(picker_->pick(*set, random), degraded);
  EXPECT_EQ(picker_->pick(*set, random), p1);
  EXPECT_EQ(picker_->pick(*set, random), nullptr);
}

TEST_F(LeastRequestPickerTest, EmptyPriorityIsSkipped) {
  auto p2 = makeHost(1, 1);
  auto set = makeHostSet({{2, p2}});
  FastRandom random(7);
  EXPECT_EQ(picker_->pick(*set, random), p2);
}

// A Random whose draw runs a side effect first: lets a test fill the chosen host between the
// choice and the CAS, the way another worker would.
class RacingRandom : public Random {
 public:
  std::vector<std::pair<uint64_t, std::function<void()>>> script;
  size_t calls = 0;
  uint64_t next() override {
    if (calls >= script.size()) return 0;
    auto& [value, effect] = script[calls++];
    if (effect) effect();
    return value;
  }
};

TEST_F(LeastRequestPickerTest, ChoosesAgainWhenTheCasLosesARace) {
  auto hosts = makeHosts(3, 1);
  auto set = setOf(hosts);
  RacingRandom random;
  // First draw chooses host 0 among three ties, but "another worker" takes it first.
  random.script.emplace_back(0, [&] { ASSERT_TRUE(hosts[0]->tryAcquire()); });
  random.script.emplace_back(1, nullptr);  // rescan: ties hosts 1 and 2, take index 1
  EXPECT_EQ(picker_->pick(*set, random), hosts[2]);
  EXPECT_EQ(random.calls, 2u);
  for (const auto& h : hosts) EXPECT_EQ(h->active(), h == hosts[1] ? 0u : 1u);
}

TEST_F(LeastRequestPickerTest, StatisticalTieSpread) {
  auto hosts = makeHosts(4, 1);
  auto set = setOf(hosts);
  FastRandom random(8);
  constexpr int kPicks = 1'000'000;
  std::vector<int> counts(hosts.size());
  for (int i = 0; i < kPicks; ++i) {
    HostSharedPtr h = picker_->pick(*set, random);
    ASSERT_NE(h, nullptr);
    ++counts[std::find(hosts.begin(), hosts.end(), h) - hosts.begin()];
    h->release();
  }
  // Binomial sd = sqrt(1e6 * 0.25 * 0.75) = 433; allow ~7 sd.
  for (int c : counts) EXPECT_NEAR(c, kPicks / 4, 3000);
}

// ---- large tiers (sampled path with exact fallback) ----

TEST_F(LeastRequestPickerTest, LargeSetUsesTwoSampledChoices) {
  constexpr uint32_t kN = 1000;
  auto hosts = makeHosts(kN, 10);
  fill(*hosts[100], 5);
  fill(*hosts[200], 1);
  auto set = setOf(hosts);
  // One 64-bit draw = two 32-bit samples, mapped by multiply-shift onto [0, n).
  auto draw = [](uint64_t index) { return (index * (uint64_t{1} << 32) + kN - 1) / kN; };
  test::ScriptedRandom random({draw(100) | (draw(200) << 32)});
  EXPECT_EQ(picker_->pick(*set, random), hosts[200]);
  EXPECT_EQ(random.calls(), 1);
}

TEST_F(LeastRequestPickerTest, LargeSetFillsAllCapsThenRefuses) {
  constexpr int kN = 10'000;
  constexpr uint32_t kCap = 3;
  auto hosts = makeHosts(kN, kCap);
  // Some hosts that must never be used, and some degraded ones used last.
  for (int i = 0; i < kN; i += 97) hosts[i]->setHealthFlag(kFailedEdsHealth, true);
  for (int i = 5; i < kN; i += 101) hosts[i]->setHealthFlag(kDegradedEdsHealth, true);
  uint64_t capacity = 0;
  uint64_t degraded_capacity = 0;
  for (const auto& h : hosts) {
    if (h->eligible()) capacity += kCap;
    if (h->eligible() && h->degraded()) degraded_capacity += kCap;
  }
  auto set = setOf(hosts);
  FastRandom random(9);
  for (uint64_t i = 0; i < capacity; ++i) {
    HostSharedPtr h = picker_->pick(*set, random);
    ASSERT_NE(h, nullptr) << "pick " << i << " of " << capacity;
    ASSERT_TRUE(h->eligible());
    ASSERT_LE(h->active(), kCap);
    // Degraded hosts only once every healthy host is full.
    if (i < capacity - degraded_capacity) {
      ASSERT_FALSE(h->degraded()) << i;
    }
  }
  EXPECT_EQ(picker_->pick(*set, random), nullptr);
  for (const auto& h : hosts) EXPECT_EQ(h->active(), h->eligible() ? kCap : 0u);
  // One slot frees anywhere: it is found.
  hosts[7777]->release();
  EXPECT_EQ(picker_->pick(*set, random), hosts[7777]);
}

TEST_F(LeastRequestPickerTest, LargeSetSpreadsEvenly) {
  constexpr int kN = 10'000;
  auto hosts = makeHosts(kN, config::kUnlimited);
  auto set = setOf(hosts);
  FastRandom random(10);
  for (int i = 0; i < 10 * kN; ++i) ASSERT_NE(picker_->pick(*set, random), nullptr);
  uint32_t max = 0;
  int near_mean = 0;
  for (const auto& h : hosts) {
    max = std::max(max, h->active());
    near_mean += h->active() >= 8 && h->active() <= 12;
  }
  // Two choices keep the spread tight around the mean (10): max <= mean + 3, and >= 95% of
  // hosts within +-2. Plain random placement (Poisson) would put only ~58% there.
  EXPECT_LE(max, 13u);
  EXPECT_GE(near_mean, kN * 95 / 100);
}

TEST_F(LeastRequestPickerTest, LargeSetExcludeAndPriorityFallback) {
  constexpr int kN = 500;
  auto hosts = makeHosts(kN, 1);
  std::vector<std::pair<uint32_t, HostSharedPtr>> with_priority;
  for (const auto& h : hosts) with_priority.emplace_back(0, h);
  auto backup = makeHost(60000, 1);
  with_priority.emplace_back(1, backup);
  auto set = makeHostSet(std::move(with_priority));
  // Everything of priority 0 full except host 321, which is excluded.
  for (int i = 0; i < kN; ++i) {
    if (i != 321) fill(*hosts[i], 1);
  }
  FastRandom random(11);
  const Host* exclude[] = {hosts[321].get()};
  EXPECT_EQ(picker_->pick(*set, random, exclude), backup);
  EXPECT_EQ(picker_->pick(*set, random), hosts[321]);
  EXPECT_EQ(picker_->pick(*set, random), nullptr);
}

}  // namespace
}  // namespace wslb::upstream
