#pragma once
// Test helpers: an independent frame writer, a whole-buffer reference parser and a snapshot of a
// FrameTracker's observable state.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>
#include <vector>

#include "wslb/websocket/frame_tracker.h"

namespace wslb::websocket::testing {

using Bytes = std::vector<uint8_t>;

inline constexpr uint8_t kFin = 0x80;
inline constexpr uint8_t kRsv1 = 0x40;
inline constexpr uint8_t kRsv2 = 0x20;
inline constexpr uint8_t kRsv3 = 0x10;
inline constexpr uint8_t kOpCont = 0x0;
inline constexpr uint8_t kOpText = 0x1;
inline constexpr uint8_t kOpBinary = 0x2;
inline constexpr uint8_t kOpClose = 0x8;
inline constexpr uint8_t kOpPing = 0x9;
inline constexpr uint8_t kOpPong = 0xa;

/// How to encode the payload length: the minimal form, or a forced (possibly non-minimal) one.
enum class LengthForm { kMinimal, k7, k16, k64 };

/// Appends a frame header for a payload of @p length bytes.
inline void appendHeader(Bytes& out, uint8_t b0, uint64_t length, std::optional<uint32_t> mask,
                         LengthForm form = LengthForm::kMinimal) {
  if (form == LengthForm::kMinimal) {
    form = length < 126 ? LengthForm::k7 : (length <= 0xffff ? LengthForm::k16 : LengthForm::k64);
  }
  out.push_back(b0);
  const uint8_t mask_bit = mask ? 0x80 : 0x00;
  switch (form) {
    case LengthForm::k7:
      out.push_back(static_cast<uint8_t>(mask_bit | length));
      break;
    case LengthForm::k16:
      out.push_back(mask_bit | 126);
      for (int shift = 8; shift >= 0; shift -= 8)
        out.push_back(static_cast<uint8_t>(length >> shift));
      break;
    default:
      out.push_back(mask_bit | 127);
      for (int shift = 56; shift >= 0; shift -= 8)
        out.push_back(static_cast<uint8_t>(length >> shift));
      break;
  }
  if (mask) {
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<uint8_t>(*mask >> shift));
  }
}

/// Appends a whole frame; the payload is masked with @p mask if given.
inline void appendFrame(Bytes& out, uint8_t b0, std::string_view payload,
                        std::optional<uint32_t> mask, LengthForm form = LengthForm::kMinimal) {
  appendHeader(out, b0, payload.size(), mask, form);
  for (size_t i = 0; i < payload.size(); ++i) {
    uint8_t b = static_cast<uint8_t>(payload[i]);
    if (mask) b ^= static_cast<uint8_t>(*mask >> (24 - 8 * (i % 4)));
    out.push_back(b);
  }
}

/// Appends a frame whose payload is @p length copies of 'x'.
inline void appendFrameOfSize(Bytes& out, uint8_t b0, size_t length, std::optional<uint32_t> mask) {
  appendFrame(out, b0, std::string(length, 'x'), mask);
}

/// Close payload: big-endian code followed by the reason.
inline std::string closePayload(uint16_t code, std::string_view reason = {}) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xff));
  p.append(reason);
  return p;
}

/// One frame as found by parseFrames().
struct FrameInfo {
  uint8_t b0;
  bool masked;
  uint64_t length;
  std::string unmasked_head;  // first (up to) 125 unmasked payload bytes
  uint8_t opcode() const { return b0 & 0x0f; }
  bool fin() const { return (b0 & 0x80) != 0; }
};

/// Whole-buffer reference parser, written independently of FrameTracker: every complete frame
/// in @p data (stops at the first incomplete one).
inline std::vector<FrameInfo> parseFrames(const Bytes& data) {
  std::vector<FrameInfo> frames;
  size_t pos = 0;
  while (data.size() - pos >= 2) {
    FrameInfo f{data[pos], (data[pos + 1] & 0x80) != 0, data[pos + 1] & 0x7fu, {}};
    size_t p = pos + 2;
    size_t ext = f.length == 126 ? 2 : (f.length == 127 ? 8 : 0);
    if (data.size() - p < ext + (f.masked ? 4 : 0)) break;
    if (ext != 0) {
      f.length = 0;
      for (size_t i = 0; i < ext; ++i) f.length = (f.length << 8) | data[p + i];
      p += ext;
    }
    uint8_t key[4] = {0, 0, 0, 0};
    if (f.masked) {
      for (int i = 0; i < 4; ++i) key[i] = data[p + i];
      p += 4;
    }
    if (data.size() - p < f.length) break;
    for (size_t i = 0; i < f.length && i < 125; ++i) {
      f.unmasked_head.push_back(static_cast<char>(data[p + i] ^ key[i % 4]));
    }
    frames.push_back(f);
    pos = p + f.length;
  }
  return frames;
}

/// Everything a FrameTracker reports, comparable as a whole.
struct Snapshot {
  uint64_t frames = 0;
  uint64_t messages = 0;
  uint32_t pings = 0;
  uint32_t pongs = 0;
  uint32_t closes = 0;
  uint32_t message_bytes = 0;
  bool in_message = false;
  bool at_boundary = true;
  std::optional<uint64_t> to_frame_end = 0;
  std::optional<uint16_t> close_code;
  FrameError error = FrameError::kNone;

  bool operator==(const Snapshot&) const = default;
};

inline Snapshot snapshot(const FrameTracker& t) {
  return Snapshot{t.frames(),          t.messages(),     t.pings(),     t.pongs(),
                  t.closes(),          t.messageBytes(), t.inMessage(), t.atFrameBoundary(),
                  t.bytesToFrameEnd(), t.closeCode(),    t.error()};
}

inline std::ostream& operator<<(std::ostream& os, const Snapshot& s) {
  os << "{frames=" << s.frames << " messages=" << s.messages << " pings=" << s.pings
     << " pongs=" << s.pongs << " closes=" << s.closes << " message_bytes=" << s.message_bytes
     << " in_message=" << s.in_message << " at_boundary=" << s.at_boundary << " to_frame_end=";
  if (s.to_frame_end) {
    os << *s.to_frame_end;
  } else {
    os << "none";
  }
  os << " close_code=";
  if (s.close_code) {
    os << *s.close_code;
  } else {
    os << "none";
  }
  return os << " error=" << frameErrorName(s.error) << "}";
}

/// Feeds @p data in one call.
inline Snapshot feedWhole(FrameTracker t, const Bytes& data) {
  t.feed(data.data(), data.size());
  return snapshot(t);
}

/// Feeds @p data one byte per call.
inline Snapshot feedByteByByte(FrameTracker t, const Bytes& data) {
  for (size_t i = 0; i < data.size(); ++i) t.feed(data.data() + i, 1);
  return snapshot(t);
}

/// Feeds @p data in two calls split at @p split.
inline Snapshot feedSplit(FrameTracker t, const Bytes& data, size_t split) {
  t.feed(data.data(), split);
  t.feed(data.data() + split, data.size() - split);
  return snapshot(t);
}

}  // namespace wslb::websocket::testing
