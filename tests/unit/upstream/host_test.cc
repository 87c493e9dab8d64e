#include "wslb/upstream/host.h"

#include <gtest/gtest.h>

#include "wslb/config/bootstrap.h"

namespace wslb::upstream {
namespace {

TEST(HostTest, AddressStringIpv4AndIpv6) {
  EXPECT_EQ(Host("10.0.0.1", 80, 1, 1).addressString(), "10.0.0.1:80");
  EXPECT_EQ(Host("::1", 8080, 1, 1).addressString(), "[::1]:8080");
}

TEST(HostTest, TryAcquireStopsAtCap) {
  Host host("10.0.0.1", 80, 1, 3);
  EXPECT_TRUE(host.tryAcquire());
  EXPECT_TRUE(host.tryAcquire());
  EXPECT_TRUE(host.tryAcquire());
  EXPECT_FALSE(host.tryAcquire());
  EXPECT_EQ(host.active(), 3u);
  host.release();
  EXPECT_EQ(host.active(), 2u);
  EXPECT_TRUE(host.tryAcquire());
  EXPECT_FALSE(host.hasRoom());
}

TEST(HostTest, CapZeroNeverAcquires) {
  Host host("10.0.0.1", 80, 1, 0);
  EXPECT_FALSE(host.tryAcquire());
  EXPECT_EQ(host.active(), 0u);
}

TEST(HostTest, UnlimitedCap) {
  Host host("10.0.0.1", 80, 1, config::kUnlimited);
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(host.tryAcquire());
  EXPECT_EQ(host.active(), 10000u);
}

TEST(HostTest, LoweredCapRefusesUntilBelow) {
  Host host("10.0.0.1", 80, 1, 4);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(host.tryAcquire());
  host.setCap(2);
  EXPECT_FALSE(host.tryAcquire());
  host.release();
  host.release();
  EXPECT_FALSE(host.tryAcquire());  // 2 active, cap 2
  host.release();
  EXPECT_TRUE(host.tryAcquire());
}

TEST(HostTest, WeightZeroStoredAsOne) {
  Host host("10.0.0.1", 80, 0, 1);
  EXPECT_EQ(host.weight(), 1u);
  host.setWeight(5);
  EXPECT_EQ(host.weight(), 5u);
  host.setWeight(0);
  EXPECT_EQ(host.weight(), 1u);
}

TEST(HostTest, HealthFlags) {
  Host host("10.0.0.1", 80, 1, 1);
  EXPECT_TRUE(host.eligible());
  EXPECT_FALSE(host.degraded());
  host.setHealthFlag(kDegradedEdsHealth, true);
  EXPECT_TRUE(host.eligible());
  EXPECT_TRUE(host.degraded());
  host.setHealthFlag(kFailedEdsHealth, true);
  EXPECT_FALSE(host.eligible());
  host.setHealthFlag(kFailedEdsHealth, false);
  EXPECT_TRUE(host.eligible());
  host.setHealthFlag(kPendingDynamicRemoval, true);
  EXPECT_FALSE(host.eligible());
  EXPECT_EQ(host.healthFlags(), uint32_t{kDegradedEdsHealth | kPendingDynamicRemoval});
}

}  // namespace
}  // namespace wslb::upstream
