#include "wslb/xds/backoff.h"

#include <gtest/gtest.h>

namespace wslb::xds {
namespace {

using std::chrono::milliseconds;

TEST(JitteredBackoffTest, DoublesUpToTheMaximumWithinHalfToFullCeiling) {
  JitteredBackoff backoff(milliseconds(500), milliseconds(30000), /*seed=*/42);
  int64_t ceiling = 500;
  for (int i = 0; i < 12; ++i) {
    const int64_t delay = backoff.next().count();
    EXPECT_GE(delay, ceiling / 2) << i;
    EXPECT_LE(delay, ceiling) << i;
    ceiling = std::min<int64_t>(ceiling * 2, 30000);
  }
  backoff.reset();
  EXPECT_LE(backoff.next().count(), 500);
}

TEST(JitteredBackoffTest, DelaysDifferBetweenReplicas) {
  JitteredBackoff a(milliseconds(500), milliseconds(30000), 1);
  JitteredBackoff b(milliseconds(500), milliseconds(30000), 2);
  int same = 0;
  for (int i = 0; i < 8; ++i) same += a.next() == b.next() ? 1 : 0;
  EXPECT_LT(same, 8);
}

TEST(JitteredBackoffTest, ZeroBaseIsRaisedToOneMillisecond) {
  JitteredBackoff backoff(milliseconds(0), milliseconds(0), 3);
  EXPECT_LE(backoff.next().count(), 1);
}

}  // namespace
}  // namespace wslb::xds
