#include "wslb/websocket/frame_tracker.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "frame_test_util.h"

namespace wslb::websocket {
namespace {

using testing::appendFrame;
using testing::appendFrameOfSize;
using testing::appendHeader;
using testing::Bytes;
using testing::closePayload;
using testing::feedByteByByte;
using testing::feedSplit;
using testing::feedWhole;
using testing::kFin;
using testing::kOpBinary;
using testing::kOpClose;
using testing::kOpCont;
using testing::kOpPing;
using testing::kOpPong;
using testing::kOpText;
using testing::kRsv1;
using testing::kRsv2;
using testing::kRsv3;
using testing::LengthForm;
using testing::parseFrames;
using testing::Snapshot;
using testing::snapshot;
using Masking = FrameTracker::Masking;
using RsvPolicy = FrameTracker::RsvPolicy;

constexpr uint32_t kMaskKey = 0x37fa213d;  // the key of the RFC 6455 §5.7 examples

std::optional<uint32_t> maskFor(Masking m) {
  return m == Masking::kMasked ? std::optional<uint32_t>(kMaskKey) : std::nullopt;
}

const char* name(Masking m) {
  return m == Masking::kMasked ? "masked" : "unmasked";
}

static_assert(sizeof(FrameTracker) <= 56, "FrameTracker lives per direction per connection");

// Mixed stream: every length form, a fragmented message with control frames interleaved
// (first fragment with RSV1, as permessage-deflate sends it), a Close at the end.
Bytes mixedStream(std::optional<uint32_t> mask) {
  Bytes s;
  appendFrame(s, kFin | kOpText, "Hello", mask);
  appendFrame(s, kFin | kOpBinary, "", mask);
  appendFrameOfSize(s, kFin | kOpBinary, 125, mask);
  appendFrameOfSize(s, kFin | kOpBinary, 126, mask);
  appendFrameOfSize(s, kFin | kOpText, 65535, mask);
  appendFrameOfSize(s, kFin | kOpBinary, 65536, mask);
  appendFrame(s, kRsv1 | kOpText, "frag1", mask);
  appendFrame(s, kFin | kOpPing, "p", mask);
  appendFrameOfSize(s, kOpCont, 300, mask);
  appendFrame(s, kFin | kOpPong, "", mask);
  appendFrame(s, kFin | kOpCont, "end", mask);
  appendFrameOfSize(s, kFin | kOpPing, 125, mask);
  appendFrame(s, kFin | kOpClose, closePayload(kCloseGoingAway, "going away"), mask);
  return s;
}

Snapshot mixedStreamExpected() {
  Snapshot e;
  e.frames = 13;
  e.messages = 7;
  e.pings = 2;
  e.pongs = 1;
  e.closes = 1;
  e.message_bytes = 5 + 300 + 3;
  e.close_code = kCloseGoingAway;
  return e;
}

TEST(FrameTrackerTest, StartsEmptyAtBoundary) {
  for (Masking m : {Masking::kMasked, Masking::kUnmasked}) {
    FrameTracker t(m);
    EXPECT_EQ(snapshot(t), Snapshot{}) << name(m);
    EXPECT_TRUE(t.ok());
    EXPECT_EQ(t.error(), FrameError::kNone);
    EXPECT_TRUE(t.feed(nullptr, 0));
    EXPECT_EQ(t.feedToBoundary(nullptr, 0), 0u);
    EXPECT_EQ(snapshot(t), Snapshot{});
  }
}

TEST(FrameTrackerTest, EveryLengthEncodingMaskedAndUnmasked) {
  const uint64_t lengths[] = {0, 1, 2, 124, 125, 126, 127, 1000, 65535, 65536, 65537, 200000};
  for (Masking m : {Masking::kMasked, Masking::kUnmasked}) {
    for (uint64_t len : lengths) {
      SCOPED_TRACE(std::string(name(m)) + " length " + std::to_string(len));
      Bytes s;
      appendFrameOfSize(s, kFin | kOpBinary, len, maskFor(m));
      const size_t header = s.size() - len;
      EXPECT_EQ(header,
                2 + (len < 126 ? 0 : (len <= 0xffff ? 2 : 8)) + (m == Masking::kMasked ? 4 : 0));
      FrameTracker t(m);
      // Header only: the frame is counted, its payload is outstanding.
      t.feed(s.data(), header);
      EXPECT_EQ(t.frames(), 1u);
      EXPECT_EQ(t.messages(), len == 0 ? 1u : 0u);
      EXPECT_EQ(t.messageBytes(), len);
      EXPECT_EQ(t.bytesToFrameEnd(), std::optional<uint64_t>(len));
      EXPECT_EQ(t.atFrameBoundary(), len == 0);
      t.feed(s.data() + header, len);
      Snapshot e;
      e.frames = 1;
      e.messages = 1;
      e.message_bytes = static_cast<uint32_t>(len);
      EXPECT_EQ(snapshot(t), e);
    }
  }
}

TEST(FrameTrackerTest, LargestLengthIsAccepted) {
  Bytes s;
  const uint64_t max = std::numeric_limits<int64_t>::max();
  appendHeader(s, kFin | kOpBinary, max, std::nullopt);
  FrameTracker t(Masking::kUnmasked);
  EXPECT_TRUE(t.feed(s.data(), s.size()));
  EXPECT_EQ(t.bytesToFrameEnd(), std::optional<uint64_t>(max));
  EXPECT_EQ(t.messageBytes(), std::numeric_limits<uint32_t>::max());
  const Bytes chunk(65536, 0);
  t.feed(chunk.data(), chunk.size());
  EXPECT_EQ(t.bytesToFrameEnd(), std::optional<uint64_t>(max - 65536));
}

TEST(FrameTrackerTest, MixedStreamWholeAndByteByByte) {
  for (Masking m : {Masking::kMasked, Masking::kUnmasked}) {
    SCOPED_TRACE(name(m));
    const Bytes s = mixedStream(maskFor(m));
    EXPECT_EQ(feedWhole(FrameTracker(m), s), mixedStreamExpected());
    EXPECT_EQ(feedByteByByte(FrameTracker(m), s), mixedStreamExpected());
  }
}

TEST(FrameTrackerTest, MixedStreamEveryTwoWaySplit) {
  for (Masking m : {Masking::kMasked, Masking::kUnmasked}) {
    SCOPED_TRACE(name(m));
    const Bytes s = mixedStream(maskFor(m));
    const Snapshot expected = mixedStreamExpected();
    for (size_t split = 0; split <= s.size(); ++split) {
      const Snapshot got = feedSplit(FrameTracker(m), s, split);
      if (got != expected) {
        ADD_FAILURE() << "split at " << split << ": " << got << " != " << expected;
        break;
      }
    }
  }
}

// Every 3-way split of a stream of small frames, so each header is cut at every pair of points.
TEST(FrameTrackerTest, SmallFramesEveryThreeWaySplit) {
  for (Masking m : {Masking::kMasked, Masking::kUnmasked}) {
    SCOPED_TRACE(name(m));
    Bytes s;
    appendFrame(s, kOpText, "ab", maskFor(m));
    appendFrame(s, kFin | kOpPing, "", maskFor(m));
    appendFrameOfSize(s, kFin | kOpCont, 130, maskFor(m));
    appendFrame(s, kFin | kOpClose, closePayload(4321), maskFor(m));
    Snapshot expected;
    expected.frames = 4;
    expected.messages = 1;
    expected.pings = 1;
    expected.closes = 1;
    expected.message_bytes = 132;
    expected.close_code = 4321;
    ASSERT_EQ(feedWhole(FrameTracker(m), s), expected);
    bool failed = false;
    for (size_t a = 0; a <= s.size() && !failed; ++a) {
      for (size_t b = a; b <= s.size() && !failed; ++b) {
        FrameTracker t(m);
        t.feed(s.data(), a);
        t.feed(s.data() + a, b - a);
        t.feed(s.data() + b, s.size() - b);
        if (snapshot(t) != expected) {
          ADD_FAILURE() << "splits " << a << "," << b << ": " << snapshot(t);
          failed = true;
        }
      }
    }
  }
}

TEST(FrameTrackerTest, FragmentedMessageWithInterleavedControlFrames) {
  const auto mask = maskFor(Masking::kMasked);
  Bytes first, ping, middle, pong, last;
  appendFrame(first, kOpBinary, "aaaa", mask);
  appendFrame(ping, kFin | kOpPing, "hb", mask);
  appendFrame(middle, kOpCont, "bbbbbb", mask);
  appendFrame(pong, kFin | kOpPong, "hb", mask);
  appendFrame(last, kFin | kOpCont, "cc", mask);

  FrameTracker t(Masking::kMasked);
  t.feed(first.data(), first.size());
  EXPECT_TRUE(t.inMessage());
  EXPECT_EQ(t.messages(), 0u);
  EXPECT_EQ(t.messageBytes(), 4u);
  t.feed(ping.data(), ping.size());
  EXPECT_EQ(t.pings(), 1u);
  EXPECT_TRUE(t.inMessage());
  EXPECT_EQ(t.messageBytes(), 4u);
  t.feed(middle.data(), middle.size());
  EXPECT_EQ(t.messageBytes(), 10u);
  t.feed(pong.data(), pong.size());
  EXPECT_EQ(t.pongs(), 1u);
  EXPECT_EQ(t.messages(), 0u);
  // The message completes with the last byte of the final fragment, not with its header.
  t.feed(last.data(), last.size() - 1);
  EXPECT_EQ(t.messages(), 0u);
  EXPECT_TRUE(t.inMessage());
  EXPECT_EQ(t.messageBytes(), 12u);
  t.feed(last.data() + last.size() - 1, 1);
  EXPECT_EQ(t.messages(), 1u);
  EXPECT_FALSE(t.inMessage());
  EXPECT_EQ(t.messageBytes(), 12u);  // kept until the next message starts
  EXPECT_EQ(t.frames(), 5u);
  EXPECT_TRUE(t.atFrameBoundary());

  Bytes next;
  appendFrame(next, kFin | kOpText, "z", mask);
  t.feed(next.data(), next.size());
  EXPECT_EQ(t.messages(), 2u);
  EXPECT_EQ(t.messageBytes(), 1u);
  EXPECT_TRUE(t.ok());
}

TEST(FrameTrackerTest, CloseCodeMaskedAndUnmasked) {
  for (Masking m : {Masking::kMasked, Masking::kUnmasked}) {
    for (uint16_t code : {uint16_t{1000}, uint16_t{1001}, uint16_t{1011}, uint16_t{3000},
                          uint16_t{4999}, uint16_t{0xffff}}) {
      for (const std::string& reason : {std::string(), std::string("bye"), std::string(123, 'r')}) {
        SCOPED_TRACE(std::string(name(m)) + " code " + std::to_string(code) + " reason " +
                     std::to_string(reason.size()));
        Bytes s;
        appendFrame(s, kFin | kOpClose, closePayload(code, reason), maskFor(m));
        Snapshot e;
        e.frames = 1;
        e.closes = 1;
        e.close_code = code;
        EXPECT_EQ(feedWhole(FrameTracker(m), s), e);
        for (size_t split = 0; split <= s.size(); ++split) {
          ASSERT_EQ(feedSplit(FrameTracker(m), s, split), e) << "split " << split;
        }
        EXPECT_EQ(feedByteByByte(FrameTracker(m), s), e);
      }
    }
  }
}

TEST(FrameTrackerTest, CloseCodeKnownOnlyAfterBothCodeBytes) {
  Bytes s;
  appendFrame(s, kFin | kOpClose, closePayload(1001, "xyz"), kMaskKey);
  const size_t header = 6;
  FrameTracker t(Masking::kMasked);
  t.feed(s.data(), header + 1);
  EXPECT_EQ(t.closes(), 1u);
  EXPECT_EQ(t.closeCode(), std::nullopt);
  EXPECT_EQ(t.bytesToFrameEnd(), std::optional<uint64_t>(4));
  t.feed(s.data() + header + 1, 1);
  EXPECT_EQ(t.closeCode(), std::optional<uint16_t>(1001));
  EXPECT_EQ(t.bytesToFrameEnd(), std::optional<uint64_t>(3));
  EXPECT_FALSE(t.atFrameBoundary());
  t.feed(s.data() + header + 2, 3);
  EXPECT_TRUE(t.atFrameBoundary());
}

TEST(FrameTrackerTest, EmptyCloseReportsNoStatus) {
  for (Masking m : {Masking::kMasked, Masking::kUnmasked}) {
    Bytes s;
    appendFrame(s, kFin | kOpClose, "", maskFor(m));
    FrameTracker t(m);
    t.feed(s.data(), s.size());
    EXPECT_EQ(t.closeCode(), std::optional<uint16_t>(kCloseNoStatus)) << name(m);
    EXPECT_EQ(t.closes(), 1u);
    EXPECT_TRUE(t.atFrameBoundary());
  }
}

TEST(FrameTrackerTest, FirstCloseCodeWins) {
  Bytes s;
  appendFrame(s, kFin | kOpClose, closePayload(1000), std::nullopt);
  appendFrame(s, kFin | kOpPing, "", std::nullopt);
  appendFrame(s, kFin | kOpClose, closePayload(1011), std::nullopt);
  Snapshot e;
  e.frames = 3;
  e.pings = 1;
  e.closes = 2;
  e.close_code = 1000;
  EXPECT_EQ(feedWhole(FrameTracker(Masking::kUnmasked), s), e);
}

TEST(FrameTrackerTest, ClosesSaturate) {
  Bytes s;
  for (int i = 0; i < 300; ++i) appendFrame(s, kFin | kOpClose, "", std::nullopt);
  FrameTracker t(Masking::kUnmasked);
  t.feed(s.data(), s.size());
  EXPECT_EQ(t.closes(), 255u);
  EXPECT_EQ(t.frames(), 300u);
  EXPECT_TRUE(t.ok());
}

struct Violation {
  const char* name;
  Masking masking;
  Bytes valid_prefix;  // frames accepted before the violation
  Bytes bad;
  FrameError error;
  RsvPolicy rsv = RsvPolicy::kPerMessageDeflate;
};

std::vector<Violation> violations() {
  const auto m = maskFor(Masking::kMasked);
  std::vector<Violation> v;
  auto add = [&](const char* name, Bytes prefix, Bytes bad, FrameError error,
                 Masking masking = Masking::kMasked,
                 RsvPolicy rsv = RsvPolicy::kPerMessageDeflate) {
    v.push_back(Violation{name, masking, std::move(prefix), std::move(bad), error, rsv});
  };
  Bytes text_open;
  appendFrame(text_open, kOpText, "part", m);
  Bytes close;
  appendFrame(close, kFin | kOpClose, closePayload(1000), m);
  Bytes b;

  for (uint8_t op : {0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf}) {
    b.clear();
    appendFrame(b, static_cast<uint8_t>(kFin | op), "", m);
    add("reserved opcode", {}, b, FrameError::kReservedOpcode);
  }
  b.clear();
  appendFrame(b, kFin | kRsv2 | kOpText, "x", m);
  add("rsv2 on text", {}, b, FrameError::kReservedBits);
  b.clear();
  appendFrame(b, kFin | kRsv3 | kOpBinary, "x", m);
  add("rsv3 on binary", {}, b, FrameError::kReservedBits);
  b.clear();
  appendFrame(b, kFin | kRsv1 | kOpCont, "x", m);
  add("rsv1 on continuation", text_open, b, FrameError::kReservedBits);
  b.clear();
  appendFrame(b, kFin | kRsv1 | kOpPing, "", m);
  add("rsv1 on ping", {}, b, FrameError::kReservedBits);
  b.clear();
  appendFrame(b, kFin | kRsv1 | kOpText, "x", m);
  add("rsv1 with policy none", {}, b, FrameError::kReservedBits, Masking::kMasked,
      RsvPolicy::kNone);
  b.clear();
  appendFrame(b, kOpPing, "", m);
  add("fragmented ping", {}, b, FrameError::kControlFragmented);
  b.clear();
  appendFrame(b, kOpClose, "", m);
  add("fragmented close", {}, b, FrameError::kControlFragmented);
  b.clear();
  appendFrameOfSize(b, kFin | kOpPing, 126, m);
  add("ping of 126 bytes", {}, b, FrameError::kControlTooLong);
  b.clear();
  appendHeader(b, kFin | kOpPong, 100, m, LengthForm::k16);
  add("pong with 16-bit length", {}, b, FrameError::kControlTooLong);
  b.clear();
  appendFrame(b, kFin | kOpClose, "x", m);
  add("close with 1-byte payload", {}, b, FrameError::kCloseTooShort);
  b.clear();
  appendFrame(b, kFin | kOpText, "x", std::nullopt);
  add("unmasked client frame", {}, b, FrameError::kMissingMask);
  b.clear();
  appendFrame(b, kFin | kOpText, "x", kMaskKey);
  add("masked server frame", {}, b, FrameError::kUnexpectedMask, Masking::kUnmasked);
  b.clear();
  appendHeader(b, kFin | kOpBinary, uint64_t{1} << 63, m);
  add("64-bit length with MSB set", {}, b, FrameError::kLengthMsbSet);
  b.clear();
  appendFrameOfSize(b, kFin | kOpBinary, 0, m);
  b[1] = 0x80 | 127;
  b.insert(b.begin() + 2, {0xff, 0, 0, 0, 0, 0, 0, 0});
  add("64-bit length 0xff00..00", {}, b, FrameError::kLengthMsbSet);
  b.clear();
  appendFrame(b, kFin | kOpBinary, std::string(125, 'x'), m, LengthForm::k16);
  add("16-bit length below 126", {}, b, FrameError::kNonMinimalLength);
  b.clear();
  appendFrame(b, kFin | kOpBinary, std::string(65535, 'x'), m, LengthForm::k64);
  add("64-bit length below 65536", {}, b, FrameError::kNonMinimalLength);
  b.clear();
  appendFrame(b, kFin | kOpBinary, "", m, LengthForm::k64);
  add("64-bit length of 0", {}, b, FrameError::kNonMinimalLength);
  b.clear();
  appendFrame(b, kFin | kOpCont, "x", m);
  add("continuation without message", {}, b, FrameError::kContinuationWithoutMessage);
  b.clear();
  appendFrame(b, kFin | kOpText, "x", m);
  add("text inside fragmented message", text_open, b, FrameError::kMessageNotFinished);
  b.clear();
  appendFrame(b, kFin | kOpBinary, "x", m);
  add("binary after close", close, b, FrameError::kDataAfterClose);
  return v;
}

TEST(FrameTrackerTest, EachViolationStopsTheTracker) {
  for (const Violation& v : violations()) {
    SCOPED_TRACE(v.name);
    const size_t prefix_frames = parseFrames(v.valid_prefix).size();
    Bytes s = v.valid_prefix;
    s.insert(s.end(), v.bad.begin(), v.bad.end());
    // A valid frame after the violation must not be counted.
    appendFrame(s, kFin | kOpPing, "", maskFor(v.masking));

    FrameTracker t(v.masking, v.rsv);
    EXPECT_TRUE(t.feed(v.valid_prefix.data(), v.valid_prefix.size()));
    EXPECT_FALSE(t.feed(s.data() + v.valid_prefix.size(), s.size() - v.valid_prefix.size()));
    EXPECT_FALSE(t.ok());
    EXPECT_EQ(t.error(), v.error) << frameErrorName(t.error());
    EXPECT_EQ(t.frames(), prefix_frames);
    EXPECT_EQ(t.pings(), 0u);
    EXPECT_FALSE(t.atFrameBoundary());
    EXPECT_EQ(t.bytesToFrameEnd(), std::nullopt);
    EXPECT_EQ(t.feedToBoundary(s.data(), s.size()), s.size());

    const Snapshot whole = feedWhole(FrameTracker(v.masking, v.rsv), s);
    EXPECT_EQ(whole, snapshot(t));
    EXPECT_EQ(feedByteByByte(FrameTracker(v.masking, v.rsv), s), whole);
    for (size_t split = 0; split <= s.size(); ++split) {
      ASSERT_EQ(feedSplit(FrameTracker(v.masking, v.rsv), s, split), whole) << "split " << split;
    }
  }
}

TEST(FrameTrackerTest, ErrorNamesAreDistinct) {
  std::vector<std::string_view> names;
  for (int e = 0; e <= static_cast<int>(FrameError::kDataAfterClose); ++e) {
    names.push_back(frameErrorName(static_cast<FrameError>(e)));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_NE(names[i], "unknown");
    for (size_t j = i + 1; j < names.size(); ++j) EXPECT_NE(names[i], names[j]);
  }
  EXPECT_EQ(frameErrorName(FrameError::kNone), "none");
  EXPECT_EQ(frameErrorName(FrameError::kMissingMask), "missing_mask");
}

TEST(FrameTrackerTest, RsvPolicies) {
  const auto m = maskFor(Masking::kMasked);
  Bytes deflated;  // permessage-deflate: RSV1 on first frames only
  appendFrame(deflated, kFin | kRsv1 | kOpText, "t", m);
  appendFrame(deflated, kRsv1 | kOpBinary, "b", m);
  appendFrame(deflated, kFin | kOpPing, "", m);
  appendFrame(deflated, kFin | kOpCont, "c", m);

  FrameTracker pmd(Masking::kMasked, RsvPolicy::kPerMessageDeflate);
  EXPECT_TRUE(pmd.feed(deflated.data(), deflated.size()));
  EXPECT_EQ(pmd.messages(), 2u);

  FrameTracker strict(Masking::kMasked, RsvPolicy::kNone);
  EXPECT_FALSE(strict.feed(deflated.data(), deflated.size()));
  EXPECT_EQ(strict.error(), FrameError::kReservedBits);

  Bytes any_bits;
  appendFrame(any_bits, kFin | kRsv1 | kRsv2 | kRsv3 | kOpText, "t", m);
  appendFrame(any_bits, kRsv2 | kOpBinary, "b", m);
  appendFrame(any_bits, kFin | kRsv1 | kOpCont, "c", m);
  appendFrame(any_bits, kFin | kRsv3 | kOpPing, "", m);
  FrameTracker any(Masking::kMasked, RsvPolicy::kAny);
  EXPECT_TRUE(any.feed(any_bits.data(), any_bits.size()));
  EXPECT_EQ(any.messages(), 2u);
  EXPECT_EQ(any.pings(), 1u);
  FrameTracker pmd2(Masking::kMasked);
  EXPECT_FALSE(pmd2.feed(any_bits.data(), any_bits.size()));

  Bytes plain;
  appendFrame(plain, kFin | kOpText, "t", m);
  for (RsvPolicy p : {RsvPolicy::kNone, RsvPolicy::kPerMessageDeflate, RsvPolicy::kAny}) {
    FrameTracker t(Masking::kMasked, p);
    EXPECT_TRUE(t.feed(plain.data(), plain.size()));
    EXPECT_EQ(t.messages(), 1u);
  }
}

TEST(FrameTrackerTest, LargePayloadSkippedInChunks) {
  constexpr size_t kPayload = 1 << 20;
  constexpr size_t kChunk = 64 << 10;
  Bytes header;
  appendHeader(header, kFin | kOpBinary, kPayload, kMaskKey);
  const Bytes chunk(kChunk, 0xab);

  FrameTracker t(Masking::kMasked);
  t.feed(header.data(), header.size());
  EXPECT_EQ(t.frames(), 1u);
  EXPECT_EQ(t.messageBytes(), kPayload);
  for (size_t sent = 0; sent < kPayload; sent += kChunk) {
    EXPECT_EQ(t.messages(), 0u);
    EXPECT_EQ(t.bytesToFrameEnd(), std::optional<uint64_t>(kPayload - sent));
    EXPECT_TRUE(t.feed(chunk.data(), chunk.size()));
  }
  EXPECT_EQ(t.messages(), 1u);
  EXPECT_TRUE(t.atFrameBoundary());
  EXPECT_EQ(t.bytesToFrameEnd(), std::optional<uint64_t>(0));
}

TEST(FrameTrackerTest, MessageBytesSaturates) {
  FrameTracker t(Masking::kUnmasked);
  Bytes s;
  appendHeader(s, kOpBinary, 0xfffffff0u, std::nullopt);
  t.feed(s.data(), s.size());
  EXPECT_EQ(t.messageBytes(), 0xfffffff0u);
  const Bytes chunk(1 << 20, 0);
  uint64_t left = 0xfffffff0u;
  while (left > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
    t.feed(chunk.data(), n);
    left -= n;
  }
  ASSERT_TRUE(t.atFrameBoundary());
  s.clear();
  appendFrameOfSize(s, kOpCont, 0x20, std::nullopt);
  t.feed(s.data(), s.size());
  EXPECT_EQ(t.messageBytes(), std::numeric_limits<uint32_t>::max());
  EXPECT_TRUE(t.inMessage());
  EXPECT_TRUE(t.ok());
}

TEST(FrameTrackerTest, BytesToFrameEndIsUnknownInsideAHeader) {
  Bytes s;
  appendFrameOfSize(s, kFin | kOpBinary, 70000, kMaskKey);  // 14-byte header
  FrameTracker t(Masking::kMasked);
  for (size_t i = 0; i < 14; ++i) {
    EXPECT_EQ(t.bytesToFrameEnd(), i == 0 ? std::optional<uint64_t>(0) : std::nullopt) << i;
    EXPECT_EQ(t.atFrameBoundary(), i == 0);
    EXPECT_EQ(t.frames(), 0u);
    t.feed(s.data() + i, 1);
  }
  EXPECT_EQ(t.frames(), 1u);
  EXPECT_EQ(t.bytesToFrameEnd(), std::optional<uint64_t>(70000));
}

TEST(FrameTrackerTest, FeedToBoundaryStopsAtEachFrameEnd) {
  const Bytes s = mixedStream(kMaskKey);
  std::vector<size_t> frame_ends;
  {
    size_t pos = 0;
    for (const auto& f : parseFrames(s)) {
      pos += 2 + (f.length < 126 ? 0 : (f.length <= 0xffff ? 2 : 8)) + 4 + f.length;
      frame_ends.push_back(pos);
    }
    ASSERT_EQ(pos, s.size());
  }
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{64}, size_t{4096}, s.size()}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    FrameTracker t(Masking::kMasked);
    std::vector<size_t> boundaries;
    size_t pos = 0;
    while (pos < s.size()) {
      const size_t n = std::min(chunk, s.size() - pos);
      size_t used = 0;
      while (used < n) {
        if (t.atFrameBoundary()) {
          EXPECT_EQ(t.feedToBoundary(s.data() + pos + used, n - used), 0u);
          t.feed(s.data() + pos + used, 1);  // step into the next frame
          ++used;
          if (t.atFrameBoundary()) boundaries.push_back(pos + used);
          continue;
        }
        const size_t k = t.feedToBoundary(s.data() + pos + used, n - used);
        used += k;
        if (t.atFrameBoundary()) {
          boundaries.push_back(pos + used);
        } else {
          EXPECT_EQ(used, n);  // no boundary inside the chunk: all of it taken
        }
      }
      pos += n;
    }
    EXPECT_EQ(boundaries, frame_ends);
    EXPECT_EQ(snapshot(t), mixedStreamExpected());
  }
}

// Random valid streams: the tracker agrees with the generator's own counts, however the stream is
// chunked.
TEST(FrameTrackerTest, RandomValidStreamsAnyChunking) {
  std::mt19937 rng(12345);
  auto pick = [&](uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng); };
  const uint64_t interesting[] = {0, 1, 2, 125, 126, 127, 65535, 65536, 70000};
  for (int iter = 0; iter < 300; ++iter) {
    const Masking masking = pick(2) == 0 ? Masking::kMasked : Masking::kUnmasked;
    Bytes s;
    Snapshot e;
    bool open = false;
    const int frames = 1 + static_cast<int>(pick(12));
    for (int i = 0; i < frames; ++i) {
      const std::optional<uint32_t> mask =
          masking == Masking::kMasked ? std::optional<uint32_t>(static_cast<uint32_t>(rng()))
                                      : std::nullopt;
      const uint32_t kind = pick(5);
      if (kind < 2) {  // data frame
        uint64_t len = pick(3) == 0 ? interesting[pick(9)] : pick(300);
        const bool fin = pick(2) == 0;
        uint8_t op = open ? kOpCont : (pick(2) == 0 ? kOpText : kOpBinary);
        if (!open && pick(2) == 0) op |= kRsv1;
        appendFrameOfSize(s, static_cast<uint8_t>((fin ? kFin : 0) | op), len, mask);
        e.message_bytes = static_cast<uint32_t>(open ? e.message_bytes + len : len);
        open = !fin;
        if (fin) ++e.messages;
      } else {
        const uint8_t op = kind == 2 ? kOpPing : kOpPong;
        appendFrameOfSize(s, static_cast<uint8_t>(kFin | op), pick(126), mask);
        ++(kind == 2 ? e.pings : e.pongs);
      }
      ++e.frames;
    }
    if (!open && pick(2) == 0) {
      const uint16_t code = static_cast<uint16_t>(1000 + pick(4000));
      appendFrame(s, kFin | kOpClose, closePayload(code, std::string(pick(50), 'r')),
                  masking == Masking::kMasked ? std::optional<uint32_t>(rng()) : std::nullopt);
      ++e.frames;
      e.closes = 1;
      e.close_code = code;
    }
    e.in_message = open;

    FrameTracker whole(masking);
    whole.feed(s.data(), s.size());
    ASSERT_EQ(snapshot(whole), e) << "iteration " << iter;
    FrameTracker chunked(masking);
    for (size_t pos = 0; pos < s.size();) {
      const size_t n = std::min<size_t>(s.size() - pos, pick(3) == 0 ? pick(16) : pick(5000));
      chunked.feed(s.data() + pos, n);
      pos += n;
    }
    ASSERT_EQ(snapshot(chunked), e) << "iteration " << iter;
  }
}

// Arbitrary bytes (valid or not): chunking never changes what the tracker reports.
TEST(FrameTrackerTest, RandomBytesChunkingInvariant) {
  std::mt19937 rng(777);
  int errors = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    Bytes s(rng() % 200);
    for (auto& b : s) {
      // Bias toward plausible headers so parsing goes deep before failing.
      b = static_cast<uint8_t>(rng() % 4 == 0 ? (rng() % 2 ? 0x81 : 0x80 | (rng() % 8)) : rng());
    }
    for (Masking m : {Masking::kMasked, Masking::kUnmasked}) {
      for (RsvPolicy p : {RsvPolicy::kNone, RsvPolicy::kPerMessageDeflate, RsvPolicy::kAny}) {
        const Snapshot whole = feedWhole(FrameTracker(m, p), s);
        errors += whole.error != FrameError::kNone;
        ASSERT_EQ(feedByteByByte(FrameTracker(m, p), s), whole) << "iteration " << iter;
        FrameTracker chunked(m, p);
        for (size_t pos = 0; pos < s.size();) {
          const size_t n = std::min<size_t>(s.size() - pos, rng() % 20);
          chunked.feed(s.data() + pos, n);
          pos += n;
        }
        ASSERT_EQ(snapshot(chunked), whole) << "iteration " << iter;
      }
    }
  }
  EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace wslb::websocket
