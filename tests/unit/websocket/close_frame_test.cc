#include "wslb/websocket/close_frame.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "frame_test_util.h"
#include "wslb/websocket/frame_tracker.h"

namespace wslb::websocket {
namespace {

using testing::Bytes;
using testing::parseFrames;

Bytes build(uint16_t code, std::string_view reason, std::optional<uint32_t> mask) {
  Bytes out(kMaxCloseFrameSize + 16, 0xee);
  const size_t n = writeCloseFrame(out.data(), code, reason, mask);
  EXPECT_LE(n, kMaxCloseFrameSize);
  for (size_t i = n; i < out.size(); ++i) EXPECT_EQ(out[i], 0xee) << "wrote past the end at " << i;
  out.resize(n);
  return out;
}

TEST(CloseFrameTest, Constants) {
  EXPECT_EQ(kCloseNormal, 1000);
  EXPECT_EQ(kCloseGoingAway, 1001);
  EXPECT_EQ(kCloseProtocolError, 1002);
  EXPECT_EQ(kCloseNoStatus, 1005);
  EXPECT_EQ(kCloseTooBig, 1009);
  EXPECT_EQ(kCloseInternalError, 1011);
  EXPECT_EQ(kMaxCloseFrameSize, 131u);
  EXPECT_EQ(kMaxCloseReasonSize, 123u);
}

TEST(CloseFrameTest, UnmaskedBytes) {
  EXPECT_EQ(build(kCloseGoingAway, "bye", std::nullopt),
            (Bytes{0x88, 0x05, 0x03, 0xe9, 'b', 'y', 'e'}));
  EXPECT_EQ(build(kCloseNormal, "", std::nullopt), (Bytes{0x88, 0x02, 0x03, 0xe8}));
}

TEST(CloseFrameTest, MaskedBytes) {
  const Bytes f = build(kCloseInternalError, "x", 0x01020304);
  const Bytes expected{0x88, 0x83, 0x01, 0x02, 0x03, 0x04, 0x03 ^ 0x01, 0xf3 ^ 0x02, 'x' ^ 0x03};
  EXPECT_EQ(f, expected);
}

TEST(CloseFrameTest, NoStatusWritesEmptyPayload) {
  EXPECT_EQ(build(kCloseNoStatus, "ignored", std::nullopt), (Bytes{0x88, 0x00}));
  EXPECT_EQ(build(kCloseNoStatus, "ignored", 0xa1b2c3d4),
            (Bytes{0x88, 0x80, 0xa1, 0xb2, 0xc3, 0xd4}));
}

TEST(CloseFrameTest, ReasonTruncatedToFit) {
  const Bytes f = build(kCloseNormal, std::string(500, 'a'), std::nullopt);
  ASSERT_EQ(f.size(), 2 + 125u);
  EXPECT_EQ(f[1], 125);
  const Bytes m = build(kCloseNormal, std::string(500, 'a'), 0x11223344);
  EXPECT_EQ(m.size(), kMaxCloseFrameSize);
  EXPECT_EQ(m[1], 0x80 | 125);
}

TEST(CloseFrameTest, Utf8Truncation) {
  EXPECT_EQ(utf8TruncatedSize("", 123), 0u);
  EXPECT_EQ(utf8TruncatedSize("abc", 3), 3u);
  EXPECT_EQ(utf8TruncatedSize("abcd", 3), 3u);
  // "é" is C3 A9: cut between its bytes -> leave it out.
  EXPECT_EQ(utf8TruncatedSize("ab\xc3\xa9", 3), 2u);
  EXPECT_EQ(utf8TruncatedSize("ab\xc3\xa9", 4), 4u);
  EXPECT_EQ(utf8TruncatedSize("ab\xc3\xa9z", 4), 4u);
  // U+1F600 is F0 9F 98 80.
  const std::string emoji = "\xf0\x9f\x98\x80";
  for (size_t max = 0; max < 4; ++max) EXPECT_EQ(utf8TruncatedSize("x" + emoji, 1 + max), 1u);
  EXPECT_EQ(utf8TruncatedSize("x" + emoji, 5), 5u);
  EXPECT_EQ(utf8TruncatedSize(emoji + emoji, 7), 4u);

  std::string reason(122, 'a');
  reason += "\xc3\xa9";  // bytes 122 and 123: the second does not fit
  const Bytes f = build(kCloseNormal, reason, std::nullopt);
  EXPECT_EQ(f.size(), 2 + 2 + 122u);
  EXPECT_EQ(f.back(), 'a');

  std::string exact(121, 'a');
  exact += "\xc3\xa9";  // ends exactly at 123 bytes
  EXPECT_EQ(build(kCloseNormal, exact, std::nullopt).size(), 2 + 2 + 123u);
}

TEST(CloseFrameTest, RoundTripsThroughFrameTracker) {
  const std::string reasons[] = {"",
                                 "bye",
                                 "drain: pod going away",
                                 std::string(123, 'r'),
                                 std::string(200, 'q'),
                                 "\xe2\x82\xac uro"};
  for (uint16_t code : {kCloseNormal, kCloseGoingAway, kCloseTooBig, kCloseInternalError,
                        uint16_t{4000}, kCloseNoStatus}) {
    for (const std::string& reason : reasons) {
      for (std::optional<uint32_t> mask : {std::optional<uint32_t>(), std::optional<uint32_t>(0),
                                           std::optional<uint32_t>(0xdeadbeef)}) {
        SCOPED_TRACE("code " + std::to_string(code) + " reason " + std::to_string(reason.size()) +
                     (mask ? " masked" : " unmasked"));
        const Bytes f = build(code, reason, mask);
        FrameTracker t(mask ? FrameTracker::Masking::kMasked : FrameTracker::Masking::kUnmasked,
                       FrameTracker::RsvPolicy::kNone);
        EXPECT_TRUE(t.feed(f.data(), f.size()));
        EXPECT_EQ(t.frames(), 1u);
        EXPECT_EQ(t.closes(), 1u);
        EXPECT_EQ(t.closeCode(), std::optional<uint16_t>(code));
        EXPECT_TRUE(t.atFrameBoundary());

        const auto frames = parseFrames(f);
        ASSERT_EQ(frames.size(), 1u);
        EXPECT_EQ(frames[0].b0, 0x88);
        EXPECT_EQ(frames[0].masked, mask.has_value());
        if (code == kCloseNoStatus) {
          EXPECT_EQ(frames[0].length, 0u);
        } else {
          const std::string expected_reason =
              reason.substr(0, utf8TruncatedSize(reason, kMaxCloseReasonSize));
          EXPECT_EQ(frames[0].unmasked_head.substr(2), expected_reason);
        }
      }
    }
  }
}

}  // namespace
}  // namespace wslb::websocket
