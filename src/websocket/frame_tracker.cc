#include "wslb/websocket/frame_tracker.h"

#include <limits>

namespace wslb::websocket {
namespace {

constexpr uint8_t kFin = 0x80;
constexpr uint8_t kRsv1 = 0x40;
constexpr uint8_t kRsvMask = 0x70;
constexpr uint8_t kOpcodeMask = 0x0f;
constexpr uint8_t kControlBit = 0x08;
constexpr uint8_t kMaskBit = 0x80;
constexpr uint8_t kLength7Mask = 0x7f;

constexpr uint8_t kOpContinuation = 0x0;
constexpr uint8_t kOpText = 0x1;
constexpr uint8_t kOpBinary = 0x2;
constexpr uint8_t kOpClose = 0x8;
constexpr uint8_t kOpPing = 0x9;
constexpr uint8_t kOpPong = 0xa;

constexpr uint64_t kMaxControlPayload = 125;

// One tracker per direction per connection: keep it small.
static_assert(sizeof(FrameTracker) <= 56);

uint64_t loadBigEndian(const uint8_t* p, size_t n) noexcept {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

uint32_t addSaturated(uint32_t a, uint64_t b) noexcept {
  constexpr uint32_t kMax = std::numeric_limits<uint32_t>::max();
  return b >= kMax - a ? kMax : static_cast<uint32_t>(a + b);
}

}  // namespace

std::string_view frameErrorName(FrameError error) noexcept {
  switch (error) {
    case FrameError::kNone:
      return "none";
    case FrameError::kReservedOpcode:
      return "reserved_opcode";
    case FrameError::kReservedBits:
      return "reserved_bits";
    case FrameError::kControlFragmented:
      return "control_fragmented";
    case FrameError::kControlTooLong:
      return "control_too_long";
    case FrameError::kCloseTooShort:
      return "close_too_short";
    case FrameError::kMissingMask:
      return "missing_mask";
    case FrameError::kUnexpectedMask:
      return "unexpected_mask";
    case FrameError::kLengthMsbSet:
      return "length_msb_set";
    case FrameError::kNonMinimalLength:
      return "non_minimal_length";
    case FrameError::kContinuationWithoutMessage:
      return "continuation_without_message";
    case FrameError::kMessageNotFinished:
      return "message_not_finished";
    case FrameError::kDataAfterClose:
      return "data_after_close";
  }
  return "unknown";
}

FrameTracker::FrameTracker(Masking masking, RsvPolicy rsv) noexcept
    : flags_(static_cast<uint8_t>((masking == Masking::kMasked ? kFlagExpectMasked : 0) |
                                  (static_cast<uint8_t>(rsv) << kRsvPolicyShift))) {}

bool FrameTracker::feed(const uint8_t* data, size_t n) noexcept {
  consume<false>(data, n);
  return ok();
}

size_t FrameTracker::feedUntilLimit(const uint8_t* data, size_t n) noexcept {
  return consume<false>(data, n);
}

size_t FrameTracker::feedToBoundary(const uint8_t* data, size_t n) noexcept {
  if (phase_ == Phase::kHeader0 || phase_ == Phase::kOverLimit) return 0;
  return consume<true>(data, n);
}

size_t FrameTracker::pendingHeaderBytes() const noexcept {
  switch (phase_) {
    case Phase::kHeader1:
      return 1;
    case Phase::kLength16:
      return 2 + (2 - need_);
    case Phase::kLength64:
      return 2 + (8 - need_);
    case Phase::kMaskKey: {
      // The length is known by now; its encoding is the minimal one (others are errors).
      const size_t ext = remaining_ < 126 ? 0 : (remaining_ < 0x10000 ? 2 : 8);
      return 2 + ext + (4 - need_);
    }
    default:
      return 0;
  }
}

std::optional<uint64_t> FrameTracker::bytesToFrameEnd() const noexcept {
  switch (phase_) {
    case Phase::kHeader0:
    case Phase::kOverLimit:
      return 0;
    case Phase::kCloseCode:
    case Phase::kPayload:
      return remaining_;
    default:
      return std::nullopt;
  }
}

template <bool kStopAtBoundary>
size_t FrameTracker::consume(const uint8_t* data, size_t n) noexcept {
  const uint8_t* p = data;
  const uint8_t* const end = data + n;
  // Where the current frame's header began; `data` when it began in an earlier chunk.
  const uint8_t* header_start = data;
  while (p != end) {
    switch (phase_) {
      case Phase::kPayload: {
        const auto avail = static_cast<uint64_t>(end - p);
        if (remaining_ > avail) {
          remaining_ -= avail;
          return n;
        }
        p += remaining_;
        remaining_ = 0;
        finishFrame();
        break;
      }
      case Phase::kHeader0: {
        header_start = p;
        if (!acceptFirstByte(*p)) return n;
        // Fast path: the whole header is in this chunk.
        if (end - p >= 2) {
          const uint8_t b1 = p[1];
          const uint8_t len7 = b1 & kLength7Mask;
          const size_t ext = len7 == 126 ? 2 : (len7 == 127 ? 8 : 0);
          const size_t size = 2 + ext + ((b1 & kMaskBit) != 0 ? 4 : 0);
          if (static_cast<size_t>(end - p) >= size) {
            if (!acceptSecondByte(b1)) return n;
            if (ext != 0) {
              if (ext == 8 && (p[2] & 0x80) != 0) {
                fail(FrameError::kLengthMsbSet);
                return n;
              }
              if (!acceptLength(loadBigEndian(p + 2, ext), ext == 8)) return n;
            }
            if ((flags_ & kFlagFrameMasked) != 0) {
              mask_ = static_cast<uint32_t>(loadBigEndian(p + 2 + ext, 4));
            }
            p += size;
            finishHeader();
            break;
          }
        }
        ++p;
        phase_ = Phase::kHeader1;
        break;
      }
      case Phase::kHeader1: {
        const uint8_t b1 = *p++;
        if (!acceptSecondByte(b1)) return n;
        const uint8_t len7 = b1 & kLength7Mask;
        if (len7 == 126) {
          need_ = 2;
          phase_ = Phase::kLength16;
        } else if (len7 == 127) {
          need_ = 8;
          phase_ = Phase::kLength64;
        } else {
          afterLength();
        }
        break;
      }
      case Phase::kLength16:
      case Phase::kLength64: {
        const uint8_t b = *p++;
        if (phase_ == Phase::kLength64 && need_ == 8 && (b & 0x80) != 0) {
          fail(FrameError::kLengthMsbSet);
          return n;
        }
        remaining_ = (remaining_ << 8) | b;
        if (--need_ == 0) {
          if (!acceptLength(remaining_, phase_ == Phase::kLength64)) return n;
          afterLength();
        }
        break;
      }
      case Phase::kMaskKey:
        mask_ = (mask_ << 8) | *p++;
        if (--need_ == 0) finishHeader();
        break;
      case Phase::kCloseCode: {
        // need_ counts the code bytes taken so far: payload offset 0 or 1.
        const auto key = static_cast<uint8_t>(mask_ >> (24 - 8 * need_));
        close_code_ = static_cast<uint16_t>((close_code_ << 8) | (*p++ ^ key));
        --remaining_;
        if (++need_ == 2) {
          flags_ |= kFlagCloseKnown;
          if (remaining_ == 0) {
            finishFrame();
          } else {
            phase_ = Phase::kPayload;
          }
        }
        break;
      }
      case Phase::kError:
        return n;
      case Phase::kOverLimit:
        return 0;
    }
    if (phase_ == Phase::kOverLimit) return static_cast<size_t>(header_start - data);
    if constexpr (kStopAtBoundary) {
      if (phase_ == Phase::kHeader0) return static_cast<size_t>(p - data);
    }
  }
  return n;
}

bool FrameTracker::acceptFirstByte(uint8_t b0) noexcept {
  const uint8_t opcode = b0 & kOpcodeMask;
  const uint8_t rsv = b0 & kRsvMask;
  const auto policy = static_cast<RsvPolicy>(flags_ >> kRsvPolicyShift);
  if ((opcode & kControlBit) != 0) {
    if (opcode > kOpPong) return fail(FrameError::kReservedOpcode);
    if ((b0 & kFin) == 0) return fail(FrameError::kControlFragmented);
    if (rsv != 0 && policy != RsvPolicy::kAny) return fail(FrameError::kReservedBits);
  } else {
    if (opcode > kOpBinary) return fail(FrameError::kReservedOpcode);
    if (rsv != 0 && policy != RsvPolicy::kAny &&
        (policy == RsvPolicy::kNone || rsv != kRsv1 || opcode == kOpContinuation)) {
      return fail(FrameError::kReservedBits);
    }
    if (closes_ != 0) return fail(FrameError::kDataAfterClose);
    const bool open = (flags_ & kFlagInMessage) != 0;
    if (opcode == kOpContinuation && !open) {
      return fail(FrameError::kContinuationWithoutMessage);
    }
    if (opcode != kOpContinuation && open) return fail(FrameError::kMessageNotFinished);
  }
  b0_ = b0;
  return true;
}

bool FrameTracker::acceptSecondByte(uint8_t b1) noexcept {
  const bool masked = (b1 & kMaskBit) != 0;
  const bool expect_masked = (flags_ & kFlagExpectMasked) != 0;
  if (masked != expect_masked) {
    return fail(expect_masked ? FrameError::kMissingMask : FrameError::kUnexpectedMask);
  }
  const uint8_t len7 = b1 & kLength7Mask;
  const uint8_t opcode = b0_ & kOpcodeMask;
  if ((opcode & kControlBit) != 0) {
    if (len7 > kMaxControlPayload) return fail(FrameError::kControlTooLong);
    if (opcode == kOpClose && len7 == 1) return fail(FrameError::kCloseTooShort);
  }
  if (masked) {
    flags_ |= kFlagFrameMasked;
  } else {
    flags_ &= static_cast<uint8_t>(~kFlagFrameMasked);
  }
  mask_ = 0;
  remaining_ = len7 < 126 ? len7 : 0;
  return true;
}

bool FrameTracker::acceptLength(uint64_t length, bool long_form) noexcept {
  if (length < (long_form ? uint64_t{0x10000} : uint64_t{126})) {
    return fail(FrameError::kNonMinimalLength);
  }
  remaining_ = length;
  return true;
}

void FrameTracker::afterLength() noexcept {
  if ((flags_ & kFlagFrameMasked) != 0) {
    need_ = 4;
    phase_ = Phase::kMaskKey;
  } else {
    finishHeader();
  }
}

bool FrameTracker::exceedsLimit() const noexcept {
  if (max_frame_bytes_ != 0 && remaining_ > max_frame_bytes_) return true;
  if (max_message_bytes_ == 0) return false;
  const uint64_t before = (b0_ & kOpcodeMask) == kOpContinuation ? message_bytes_ : 0;
  return before + remaining_ > max_message_bytes_;
}

void FrameTracker::finishHeader() noexcept {
  if ((b0_ & kControlBit) == 0 && (max_frame_bytes_ | max_message_bytes_) != 0 && exceedsLimit()) {
    phase_ = Phase::kOverLimit;  // not counted: the caller does not forward this frame
    return;
  }
  ++frames_;
  phase_ = Phase::kPayload;
  switch (b0_ & kOpcodeMask) {
    case kOpContinuation:
      message_bytes_ = addSaturated(message_bytes_, remaining_);
      break;
    case kOpText:
    case kOpBinary:
      message_bytes_ = addSaturated(0, remaining_);
      flags_ |= kFlagInMessage;
      break;
    case kOpClose:
      if (closes_ == 0) {
        if (remaining_ == 0) {
          close_code_ = kCloseNoStatus;
          flags_ |= kFlagCloseKnown;
        } else {
          close_code_ = 0;
          need_ = 0;
          phase_ = Phase::kCloseCode;
        }
      }
      if (closes_ != std::numeric_limits<uint8_t>::max()) ++closes_;
      break;
    case kOpPing:
      ++pings_;
      break;
    case kOpPong:
      ++pongs_;
      break;
    default:
      break;
  }
  if (remaining_ == 0) finishFrame();
}

void FrameTracker::finishFrame() noexcept {
  if ((b0_ & (kFin | kControlBit)) == kFin) {
    ++messages_;
    flags_ &= static_cast<uint8_t>(~kFlagInMessage);
  }
  phase_ = Phase::kHeader0;
}

bool FrameTracker::fail(FrameError error) noexcept {
  error_ = error;
  phase_ = Phase::kError;
  return false;
}

}  // namespace wslb::websocket
