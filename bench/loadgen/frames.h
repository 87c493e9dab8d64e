#pragma once
// The client side of RFC 6455 framing that the load generator needs: masked frames built once,
// and an incremental reader of server frames that skips payloads by length.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wslb::loadgen {

inline constexpr uint8_t kOpContinuation = 0x0;
inline constexpr uint8_t kOpText = 0x1;
inline constexpr uint8_t kOpBinary = 0x2;
inline constexpr uint8_t kOpClose = 0x8;
inline constexpr uint8_t kOpPing = 0x9;
inline constexpr uint8_t kOpPong = 0xA;

/// One complete client frame (FIN set) carrying @p payload, masked with @p mask (RFC 6455 §5.3).
std::vector<uint8_t> buildMaskedFrame(uint8_t opcode, std::string_view payload,
                                      std::array<uint8_t, 4> mask);

/// A masked Close frame with status @p code and no reason.
std::vector<uint8_t> buildMaskedClose(uint16_t code, std::array<uint8_t, 4> mask);

/// Reads server-to-client frames from a byte stream split anywhere. Payloads are not copied
/// (except the 2-byte status code of a Close frame); data frames are counted per message, so a
/// fragmented message is reported once, when its final frame ends.
///
/// Thread safety: none; one reader per connection.
class FrameReader {
 public:
  enum class Event : uint8_t {
    kNone,     ///< the bytes ended inside a frame, or a non-final data frame ended
    kMessage,  ///< a data message ended; see messageBytes()
    kClose,    ///< a Close frame ended; see closeCode()
    kPing,
    kPong,
    kError,  ///< a protocol violation; see error()
  };

  /// Consumes bytes from @p data up to the end of the next frame and stops there, so the caller
  /// can act on @p event before passing the rest.
  /// @return the number of bytes consumed (all of @p size unless a frame ended earlier).
  size_t consume(const uint8_t* data, size_t size, Event& event) noexcept;

  /// Payload bytes of the data message that ended with the last kMessage event.
  uint64_t messageBytes() const noexcept { return message_bytes_; }
  /// Status code of the last Close frame (1005 when it had none).
  uint16_t closeCode() const noexcept { return close_code_; }
  /// Why the last kError happened (a string literal).
  const char* error() const noexcept { return error_; }

  void reset() noexcept { *this = FrameReader(); }

 private:
  Event frameEnded() noexcept;
  Event fail(const char* why) noexcept {
    error_ = why;
    return Event::kError;
  }
  Event headerComplete() noexcept;

  std::array<uint8_t, 14> header_{};
  uint8_t header_have_ = 0;
  uint8_t header_need_ = 2;
  bool in_payload_ = false;
  bool in_message_ = false;
  bool fin_ = false;
  uint8_t opcode_ = 0;
  uint8_t close_have_ = 0;
  uint16_t close_code_ = 1005;
  uint64_t remaining_ = 0;
  uint64_t message_bytes_ = 0;
  const char* error_ = "";
};

/// Checks a server's opening-handshake response head (up to and including the empty line):
/// status 101 and a Sec-WebSocket-Accept equal to @p expected_accept.
/// @return "" when it is fine, otherwise a short reason.
std::string checkUpgradeResponse(std::string_view head, std::string_view expected_accept);

}  // namespace wslb::loadgen
