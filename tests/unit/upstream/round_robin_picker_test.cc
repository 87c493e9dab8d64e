#include <gtest/gtest.h>

#include "test_util.h"
#include "wslb/upstream/picker.h"

namespace wslb::upstream {
namespace {

using test::fill;
using test::makeHost;
using test::makeHosts;
using test::setOf;
using ::testing::StrictMock;

TEST(RoundRobinPickerTest, RotatesWithoutDrawing) {
  auto picker = makePicker(config::LbPolicy::kRoundRobin);
  auto hosts = makeHosts(3, 100);
  auto set = setOf(hosts);
  StrictMock<test::MockRandom> random;  // never drawn from
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 3; ++i) EXPECT_EQ(picker->pick(*set, random), hosts[i]);
  }
  for (const auto& h : hosts) EXPECT_EQ(h->active(), 3u);
}

TEST(RoundRobinPickerTest, SkipsFullAndIneligibleHosts) {
  auto picker = makePicker(config::LbPolicy::kRoundRobin);
  auto hosts = makeHosts(4, 2);
  fill(*hosts[1], 2);
  hosts[2]->setHealthFlag(kFailedEdsHealth, true);
  auto set = setOf(hosts);
  FastRandom random(1);
  // Only hosts 0 and 3 have room: 2 + 2 picks, then nothing.
  for (int i = 0; i < 4; ++i) {
    HostSharedPtr h = picker->pick(*set, random);
    ASSERT_TRUE(h == hosts[0] || h == hosts[3]) << i;
  }
  EXPECT_EQ(hosts[0]->active(), 2u);
  EXPECT_EQ(hosts[3]->active(), 2u);
  EXPECT_EQ(hosts[2]->active(), 0u);
  EXPECT_EQ(picker->pick(*set, random), nullptr);
}

TEST(RoundRobinPickerTest, ExcludeDegradedAndPriorities) {
  auto picker = makePicker(config::LbPolicy::kRoundRobin);
  auto a = makeHost(1, 1);
  auto degraded = makeHost(2, 1);
  degraded->setHealthFlag(kDegradedEdsHealth, true);
  auto backup = makeHost(3, 1);
  auto set = makeHostSet({{0, degraded}, {0, a}, {1, backup}});
  FastRandom random(2);
  const Host* exclude[] = {a.get()};
  EXPECT_EQ(picker->pick(*set, random, exclude), degraded);
  EXPECT_EQ(picker->pick(*set, random), a);
  EXPECT_EQ(picker->pick(*set, random), backup);
  EXPECT_EQ(picker->pick(*set, random), nullptr);
}

}  // namespace
}  // namespace wslb::upstream
