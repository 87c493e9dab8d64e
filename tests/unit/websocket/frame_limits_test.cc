// FrameTracker size limits: where the tracker stops, what it reports, and that an unlimited
// tracker is unaffected.

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "frame_test_util.h"
#include "wslb/websocket/frame_tracker.h"

namespace wslb::websocket {
namespace {

using testing::appendFrameOfSize;
using testing::appendHeader;
using testing::Bytes;
using testing::kFin;
using testing::kOpBinary;
using testing::kOpCont;
using testing::kOpPing;
using testing::kOpText;
using Masking = FrameTracker::Masking;

constexpr uint32_t kMask = 0x11223344;

FrameTracker limited(Masking masking, uint32_t max_frame, uint32_t max_message) {
  FrameTracker t(masking);
  t.setLimits(FrameLimits{max_frame, max_message});
  return t;
}

TEST(FrameLimitsTest, FrameExactlyAtTheLimitPasses) {
  FrameTracker t = limited(Masking::kUnmasked, 100, 0);
  Bytes b;
  appendFrameOfSize(b, kFin | kOpBinary, 100, std::nullopt);
  EXPECT_EQ(t.feedUntilLimit(b.data(), b.size()), b.size());
  EXPECT_FALSE(t.overLimit());
  EXPECT_EQ(t.messages(), 1u);
  EXPECT_TRUE(t.atFrameBoundary());
}

TEST(FrameLimitsTest, FrameOneByteOverStopsBeforeItsHeader) {
  FrameTracker t = limited(Masking::kMasked, 100, 0);
  Bytes b;
  appendFrameOfSize(b, kFin | kOpText, 10, kMask);
  const size_t first = b.size();
  appendFrameOfSize(b, kFin | kOpBinary, 101, kMask);
  appendFrameOfSize(b, kFin | kOpText, 1, kMask);  // ignored
  EXPECT_EQ(t.feedUntilLimit(b.data(), b.size()), first);
  EXPECT_TRUE(t.overLimit());
  EXPECT_TRUE(t.ok());
  EXPECT_TRUE(t.atFrameBoundary());
  EXPECT_EQ(t.bytesToFrameEnd(), 0u);
  EXPECT_EQ(t.frames(), 1u);  // the oversized frame is not counted
  EXPECT_EQ(t.messages(), 1u);
  // Everything later is ignored.
  EXPECT_EQ(t.feedUntilLimit(b.data(), b.size()), 0u);
  EXPECT_EQ(t.feedToBoundary(b.data(), b.size()), 0u);
  EXPECT_EQ(t.frames(), 1u);
}

TEST(FrameLimitsTest, FragmentedMessageOverTheMessageLimit) {
  FrameTracker t = limited(Masking::kUnmasked, 0, 250);
  Bytes b;
  appendFrameOfSize(b, kOpText, 100, std::nullopt);
  appendFrameOfSize(b, kOpCont, 100, std::nullopt);
  appendFrameOfSize(b, kFin | kOpPing, 5, std::nullopt);   // control frames do not count
  appendFrameOfSize(b, kFin | kOpCont, 50, std::nullopt);  // exactly 250: passes
  const size_t ok_size = b.size();
  appendFrameOfSize(b, kOpBinary, 200, std::nullopt);
  appendFrameOfSize(b, kFin | kOpCont, 51, std::nullopt);              // 251: over
  EXPECT_EQ(t.feedUntilLimit(b.data(), b.size()), ok_size + 4 + 200);  // 16-bit length form
  EXPECT_TRUE(t.overLimit());
  EXPECT_EQ(t.messages(), 1u);
  EXPECT_EQ(t.pings(), 1u);
}

TEST(FrameLimitsTest, MessageLimitAlsoBoundsASingleFrame) {
  FrameTracker t = limited(Masking::kUnmasked, 0, 1000);
  Bytes b;
  appendHeader(b, kFin | kOpBinary, 70000, std::nullopt);  // 64-bit length form
  EXPECT_EQ(t.feedUntilLimit(b.data(), b.size()), 0u);
  EXPECT_TRUE(t.overLimit());
}

TEST(FrameLimitsTest, HeaderSplitAcrossChunksReportsPendingBytes) {
  FrameTracker t = limited(Masking::kMasked, 200, 0);
  Bytes b;
  appendFrameOfSize(b, kFin | kOpText, 3, kMask);
  const size_t first = b.size();
  appendHeader(b, kFin | kOpBinary, 300, kMask);  // 2 + 2 + 4 = 8 header bytes
  // First chunk ends 5 bytes into the second header.
  const size_t cut = first + 5;
  EXPECT_EQ(t.feedUntilLimit(b.data(), cut), cut);
  EXPECT_EQ(t.pendingHeaderBytes(), 5u);
  EXPECT_FALSE(t.overLimit());
  // The rest of the header: the frame is over the limit, and its header began earlier.
  EXPECT_EQ(t.feedUntilLimit(b.data() + cut, b.size() - cut), 0u);
  EXPECT_TRUE(t.overLimit());
  EXPECT_EQ(t.pendingHeaderBytes(), 0u);
}

TEST(FrameLimitsTest, PendingHeaderBytesAtEveryCut) {
  // Every prefix of a 64-bit-length masked header (14 bytes) reports its own size.
  Bytes b;
  appendHeader(b, kFin | kOpBinary, 0x10000, kMask);
  ASSERT_EQ(b.size(), 14u);
  for (size_t cut = 1; cut < b.size(); ++cut) {
    FrameTracker t = limited(Masking::kMasked, 0x20000, 0);
    t.feedUntilLimit(b.data(), cut);
    EXPECT_EQ(t.pendingHeaderBytes(), cut) << "cut " << cut;
  }
  FrameTracker t = limited(Masking::kMasked, 0x20000, 0);
  t.feedUntilLimit(b.data(), b.size());
  EXPECT_EQ(t.pendingHeaderBytes(), 0u);  // complete: in the payload now
}

TEST(FrameLimitsTest, FeedToBoundaryStopsBeforeAnOversizedFrame) {
  FrameTracker t = limited(Masking::kUnmasked, 10, 0);
  Bytes b;
  appendFrameOfSize(b, kFin | kOpText, 8, std::nullopt);
  // Inside the first frame: feedToBoundary ends it, then stops.
  t.feedUntilLimit(b.data(), 4);
  Bytes rest(b.begin() + 4, b.end());
  appendFrameOfSize(rest, kFin | kOpText, 11, std::nullopt);
  EXPECT_EQ(t.feedToBoundary(rest.data(), rest.size()), b.size() - 4);
  EXPECT_FALSE(t.overLimit());
  EXPECT_EQ(t.feedToBoundary(rest.data() + (b.size() - 4), rest.size() - (b.size() - 4)), 0u);
}

TEST(FrameLimitsTest, NoLimitsMeansNoChange) {
  FrameTracker limited_none(Masking::kUnmasked);
  limited_none.setLimits(FrameLimits{});
  FrameTracker plain(Masking::kUnmasked);
  Bytes b;
  appendFrameOfSize(b, kOpBinary, 70000, std::nullopt);
  appendFrameOfSize(b, kFin | kOpCont, 70000, std::nullopt);
  EXPECT_EQ(limited_none.feedUntilLimit(b.data(), b.size()), b.size());
  plain.feed(b.data(), b.size());
  EXPECT_FALSE(limited_none.overLimit());
  EXPECT_EQ(limited_none.messages(), plain.messages());
  EXPECT_EQ(limited_none.messageBytes(), plain.messageBytes());
  EXPECT_FALSE(FrameLimits{}.any());
  EXPECT_TRUE((FrameLimits{0, 1}).any());
}

TEST(FrameLimitsTest, ProtocolErrorStillWinsOverLimits) {
  FrameTracker t = limited(Masking::kMasked, 10, 0);
  Bytes b;
  appendFrameOfSize(b, kFin | kOpText, 100, std::nullopt);  // unmasked from a client
  EXPECT_EQ(t.feedUntilLimit(b.data(), b.size()), b.size());
  EXPECT_FALSE(t.ok());
  EXPECT_FALSE(t.overLimit());
}

}  // namespace
}  // namespace wslb::websocket
