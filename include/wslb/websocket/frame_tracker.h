#pragma once
// Follows RFC 6455 frames in one direction of a relayed byte stream without touching payloads.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "wslb/websocket/close_frame.h"

namespace wslb::websocket {

/// The protocol violation that stopped a FrameTracker. Only the first one is kept.
enum class FrameError : uint8_t {
  kNone = 0,
  kReservedOpcode,              ///< opcode 0x3-0x7 or 0xB-0xF.
  kReservedBits,                ///< an RSV bit the tracker's RsvPolicy does not allow.
  kControlFragmented,           ///< control frame (close, ping, pong) with FIN=0.
  kControlTooLong,              ///< control frame payload longer than 125 bytes.
  kCloseTooShort,               ///< Close frame with a 1-byte payload (a code needs 2).
  kMissingMask,                 ///< unmasked frame where masking is required (client to server).
  kUnexpectedMask,              ///< masked frame where masking is forbidden (server to client).
  kLengthMsbSet,                ///< 64-bit payload length with the most significant bit set.
  kNonMinimalLength,            ///< 16- or 64-bit length encoding a value the shorter form holds.
  kContinuationWithoutMessage,  ///< continuation frame while no fragmented message is open.
  kMessageNotFinished,          ///< text/binary frame while a fragmented message is still open.
  kDataAfterClose,              ///< data frame after a Close frame (RFC 6455 §5.5.1).
};

/// Size limits on the data frames (text, binary, continuation) of one direction; 0 = no limit.
/// Sizes are payload sizes as sent on the wire (compressed, with permessage-deflate).
struct FrameLimits {
  uint32_t max_frame_bytes = 0;    ///< largest payload one data frame may announce.
  uint32_t max_message_bytes = 0;  ///< largest sum of the payloads of one message's frames.
  bool any() const noexcept { return max_frame_bytes != 0 || max_message_bytes != 0; }
  bool operator==(const FrameLimits&) const = default;
};

/// Stable lower-case name of @p error for logs and stats ("reserved_opcode", ...).
///
/// Thread safety: pure function; any thread.
std::string_view frameErrorName(FrameError error) noexcept;

/// Tracks RFC 6455 frame boundaries in ONE direction of a relayed stream, fed in chunks of any
/// size. It parses only frame headers (2-14 bytes, which may be split across chunks) and skips
/// payloads by length: payload is never copied or unmasked, except for the 2-byte status code of
/// the first Close frame, which is unmasked to report closeCode(). A header costs O(1) per byte; a
/// payload costs O(1) per chunk whatever its length. The tracker never allocates.
///
/// After a protocol violation the tracker records the reason, stops parsing and ignores every
/// later byte; the caller keeps relaying (the peers enforce the protocol) but counts stop.
///
/// Counting: a frame is counted once its header is complete and valid. A data message completes
/// when the last byte of a text, binary or continuation frame with FIN=1 has been fed. Control
/// frames are counted in pings()/pongs()/closes() and frames(), never in messages().
///
/// Limits (setLimits()): a data frame whose header announces a payload above max_frame_bytes, or
/// that takes its message's messageBytes() above max_message_bytes, stops the tracker at the
/// frame boundary just before that frame: overLimit() turns true, the frame is not counted, and
/// every later byte is ignored. The frame boundary stays known (atFrameBoundary() is true), so
/// the caller can forward what came before the frame and then inject a Close frame.
///
/// Size: 56 bytes (frames and messages are 64-bit counters; pings/pongs 32-bit; messageBytes()
/// saturates at 32 bits; closes at 8 bits; the two limits 32-bit).
///
/// Thread safety: none; a tracker belongs to one direction of one connection and is used by the
/// thread that runs that connection. Copyable (a copy is an independent tracker).
class FrameTracker {
 public:
  /// Masking the sender must apply (RFC 6455 §5.1).
  enum class Masking : uint8_t {
    kMasked,    ///< frames sent by a client (client to server): every frame must be masked.
    kUnmasked,  ///< frames sent by a server (server to client): no frame may be masked.
  };

  /// Which RSV bits are accepted.
  enum class RsvPolicy : uint8_t {
    /// No RSV bit may be set (no extension negotiated).
    kNone,
    /// permessage-deflate (RFC 7692 §6): RSV1 allowed on the first frame of a data message
    /// (text/binary); RSV1 on continuation or control frames, and RSV2/RSV3 anywhere, are errors.
    kPerMessageDeflate,
    /// Any RSV bits on any frame (an unknown extension was negotiated).
    kAny,
  };

  /// Largest frame header: 2 bytes, 8-byte extended length, 4-byte mask key.
  static constexpr size_t kMaxHeaderSize = 14;

  /// @param masking the masking required of the frames this tracker will see.
  /// @param rsv which RSV bits to accept; the default accepts permessage-deflate frames whether
  ///        or not it was negotiated.
  explicit FrameTracker(Masking masking, RsvPolicy rsv = RsvPolicy::kPerMessageDeflate) noexcept;

  /// Sets the size limits enforced from the next frame header on (FrameLimits{} = none).
  void setLimits(FrameLimits limits) noexcept {
    max_frame_bytes_ = limits.max_frame_bytes;
    max_message_bytes_ = limits.max_message_bytes;
  }
  FrameLimits limits() const noexcept { return {max_frame_bytes_, max_message_bytes_}; }

  /// Feeds the next @p n bytes of the stream (@p n may be 0). Bytes after an error are ignored.
  /// @return ok() after the bytes were processed.
  bool feed(const uint8_t* data, size_t n) noexcept;

  /// Like feed(), for a caller that enforces the limits.
  /// @return how many of the @p n bytes precede the first frame over a limit: @p n when no
  ///         limit was exceeded (or after an error); otherwise the offset of that frame's first
  ///         header byte in @p data, or 0 if its header began in an earlier chunk (whose header
  ///         bytes the caller must then drop too; see pendingHeaderBytes()).
  size_t feedUntilLimit(const uint8_t* data, size_t n) noexcept;

  /// Feeds bytes only up to the next frame boundary: stops right after the last byte of the
  /// current frame, so the caller can forward exactly those bytes and then inject a frame.
  /// @return the number of bytes consumed from @p data: 0 if the tracker is already at a frame
  ///         boundary, @p n if no boundary is reached within the chunk. After an error all bytes
  ///         are taken (returns @p n) since no boundary can be found any more; check ok().
  ///         If the next frame header exceeds a limit, returns as feedUntilLimit() does.
  size_t feedToBoundary(const uint8_t* data, size_t n) noexcept;

  /// True once a data frame exceeded a limit (see setLimits()). Stays true.
  bool overLimit() const noexcept { return phase_ == Phase::kOverLimit; }

  /// Bytes of a frame header already fed whose header is not complete yet (0-13): a caller
  /// enforcing limits holds them back until the header is complete and checked.
  size_t pendingHeaderBytes() const noexcept;

  /// True when no violation has been seen.
  bool ok() const noexcept { return phase_ != Phase::kError; }
  /// The violation that stopped the tracker, or FrameError::kNone.
  FrameError error() const noexcept { return error_; }

  /// True when the next byte fed starts a new frame header (also before any byte, and after a
  /// limit was exceeded). False while inside a header or payload, and after an error (boundaries
  /// are then unknown).
  bool atFrameBoundary() const noexcept {
    return phase_ == Phase::kHeader0 || phase_ == Phase::kOverLimit;
  }

  /// Bytes left before the end of the current frame: 0 at a frame boundary, the payload bytes
  /// still expected once the header is complete, std::nullopt while a header is incomplete (its
  /// length is not known yet) or after an error.
  std::optional<uint64_t> bytesToFrameEnd() const noexcept;

  /// True while a data message has started (its first frame's header is complete) and its final
  /// frame has not ended yet.
  bool inMessage() const noexcept { return (flags_ & kFlagInMessage) != 0; }

  /// Payload size of the current data message: the sum of the declared payload lengths of its
  /// frames whose headers are complete (so a size limit can act on a header before the payload
  /// arrives). Reset when the next message's first header completes; after a message completes it
  /// keeps that message's size. Saturates at UINT32_MAX.
  uint32_t messageBytes() const noexcept { return message_bytes_; }

  /// Frames (data and control) whose headers were complete and valid.
  uint64_t frames() const noexcept { return frames_; }
  /// Data messages completed.
  uint64_t messages() const noexcept { return messages_; }
  /// Ping frames seen (wraps modulo 2^32).
  uint32_t pings() const noexcept { return pings_; }
  /// Pong frames seen (wraps modulo 2^32).
  uint32_t pongs() const noexcept { return pongs_; }
  /// Close frames seen; saturates at 255 (a conforming peer sends at most one).
  uint32_t closes() const noexcept { return closes_; }

  /// Status code of the first Close frame: std::nullopt until a Close frame is seen and both
  /// code bytes have been fed; kCloseNoStatus (1005, RFC 6455 §7.1.5) for a Close frame with an
  /// empty payload. The code is reported as sent, without checking it is a valid wire code.
  std::optional<uint16_t> closeCode() const noexcept {
    if ((flags_ & kFlagCloseKnown) == 0) return std::nullopt;
    return close_code_;
  }

 private:
  enum class Phase : uint8_t {
    kHeader0,    // at a frame boundary: next byte is FIN/RSV/opcode
    kHeader1,    // next byte is MASK/length
    kLength16,   // need_ bytes of a 16-bit length left
    kLength64,   // need_ bytes of a 64-bit length left
    kMaskKey,    // need_ bytes of the mask key left
    kCloseCode,  // in the payload of the first Close frame; need_ code bytes taken
    kPayload,    // remaining_ payload bytes left
    kError,
    kOverLimit,  // a data frame's header exceeded a limit; the stream stops before that frame
  };

  static constexpr uint8_t kFlagExpectMasked = 1u << 0;
  static constexpr uint8_t kFlagFrameMasked = 1u << 1;
  static constexpr uint8_t kFlagInMessage = 1u << 2;
  static constexpr uint8_t kFlagCloseKnown = 1u << 3;
  static constexpr uint8_t kRsvPolicyShift = 4;  // RsvPolicy in bits 4-5

  template <bool kStopAtBoundary>
  size_t consume(const uint8_t* data, size_t n) noexcept;
  bool acceptFirstByte(uint8_t b0) noexcept;
  bool acceptSecondByte(uint8_t b1) noexcept;
  bool acceptLength(uint64_t length, bool long_form) noexcept;
  void afterLength() noexcept;
  void finishHeader() noexcept;
  bool exceedsLimit() const noexcept;
  void finishFrame() noexcept;
  bool fail(FrameError error) noexcept;

  // Payload bytes left in the current frame; while a 16/64-bit length arrives, its accumulator.
  uint64_t remaining_ = 0;
  uint64_t frames_ = 0;
  uint64_t messages_ = 0;
  uint32_t message_bytes_ = 0;
  uint32_t pings_ = 0;
  uint32_t pongs_ = 0;
  uint32_t mask_ = 0;             // mask key of the current frame, first key byte most significant
  uint32_t max_frame_bytes_ = 0;  // 0 = no limit
  uint32_t max_message_bytes_ = 0;  // 0 = no limit
  uint16_t close_code_ = 0;
  Phase phase_ = Phase::kHeader0;
  uint8_t need_ = 0;
  uint8_t b0_ = 0;     // FIN/RSV/opcode byte of the current frame
  uint8_t flags_ = 0;  // kFlag* bits and the RsvPolicy
  FrameError error_ = FrameError::kNone;
  uint8_t closes_ = 0;
};

}  // namespace wslb::websocket
