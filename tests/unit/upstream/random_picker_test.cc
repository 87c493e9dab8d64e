#include <gtest/gtest.h>

#include <algorithm>

#include "test_util.h"
#include "wslb/upstream/picker.h"

namespace wslb::upstream {
namespace {

using test::fill;
using test::makeHost;
using test::makeHosts;
using test::setOf;

TEST(RandomPickerTest, SkipsFullAndIneligibleHosts) {
  auto picker = makePicker(config::LbPolicy::kRandom);
  auto hosts = makeHosts(5, 3);
  fill(*hosts[0], 3);
  hosts[1]->setHealthFlag(kFailedEdsHealth, true);
  hosts[2]->setHealthFlag(kPendingDynamicRemoval, true);
  auto set = setOf(hosts);
  FastRandom random(1);
  for (int i = 0; i < 6; ++i) {
    HostSharedPtr h = picker->pick(*set, random);
    ASSERT_TRUE(h == hosts[3] || h == hosts[4]) << i;
  }
  EXPECT_EQ(picker->pick(*set, random), nullptr);
  EXPECT_EQ(hosts[1]->active(), 0u);
  EXPECT_EQ(hosts[2]->active(), 0u);
}

TEST(RandomPickerTest, FindsTheLastFreeSlotOfALargeSet) {
  auto picker = makePicker(config::LbPolicy::kRandom);
  auto hosts = makeHosts(10'000, 1);
  for (const auto& h : hosts) fill(*h, 1);
  hosts[4321]->release();
  auto set = setOf(hosts);
  FastRandom random(2);
  EXPECT_EQ(picker->pick(*set, random), hosts[4321]);
  EXPECT_EQ(picker->pick(*set, random), nullptr);
}

TEST(RandomPickerTest, SpreadsUniformly) {
  auto picker = makePicker(config::LbPolicy::kRandom);
  auto hosts = makeHosts(4, config::kUnlimited);
  auto set = setOf(hosts);
  FastRandom random(3);
  constexpr int kPicks = 400'000;
  for (int i = 0; i < kPicks; ++i) ASSERT_NE(picker->pick(*set, random), nullptr);
  for (const auto& h : hosts) EXPECT_NEAR(h->active(), kPicks / 4, 2000);
}

TEST(RandomPickerTest, DegradedAndPriorityFallback) {
  auto picker = makePicker(config::LbPolicy::kRandom);
  auto healthy = makeHost(1, 2);
  auto degraded = makeHost(2, 1);
  degraded->setHealthFlag(kDegradedEdsHealth, true);
  auto backup = makeHost(3, 1);
  auto set = makeHostSet({{0, healthy}, {0, degraded}, {1, backup}});
  FastRandom random(4);
  EXPECT_EQ(picker->pick(*set, random), healthy);
  EXPECT_EQ(picker->pick(*set, random), healthy);
  EXPECT_EQ(picker->pick(*set, random), degraded);
  EXPECT_EQ(picker->pick(*set, random), backup);
  EXPECT_EQ(picker->pick(*set, random), nullptr);
}

}  // namespace
}  // namespace wslb::upstream
