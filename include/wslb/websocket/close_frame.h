#pragma once
// Close codes (RFC 6455 §7.4.1) and a builder for Close frames the balancer injects into a relayed
// stream: masked toward the backend, unmasked toward the client.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace wslb::websocket {

/// 1000: the purpose of the connection has been fulfilled.
inline constexpr uint16_t kCloseNormal = 1000;
/// 1001: the endpoint is going away (server drain, pod removed).
inline constexpr uint16_t kCloseGoingAway = 1001;
/// 1002: protocol error.
inline constexpr uint16_t kCloseProtocolError = 1002;
/// 1005: no status code was present. Never sent on the wire; see writeCloseFrame().
inline constexpr uint16_t kCloseNoStatus = 1005;
/// 1009: a message was too big to process.
inline constexpr uint16_t kCloseTooBig = 1009;
/// 1011: an unexpected condition (e.g. the upstream failed).
inline constexpr uint16_t kCloseInternalError = 1011;

/// Longest reason text a Close frame can carry: 125 payload bytes minus the 2-byte code.
inline constexpr size_t kMaxCloseReasonSize = 123;
/// Largest frame writeCloseFrame() produces: 2-byte header, 4-byte mask key, 125-byte payload.
inline constexpr size_t kMaxCloseFrameSize = 2 + 4 + 125;

/// Writes one complete Close frame (FIN=1, opcode 0x8) into @p out.
///
/// @param out at least kMaxCloseFrameSize writable bytes.
/// @param code the status code, written big-endian as the first two payload bytes. The value
///        kCloseNoStatus (1005) must not appear on the wire, so it produces a Close frame with an
///        empty payload and @p reason is ignored. Other values are written as given.
/// @param reason UTF-8 text; if longer than kMaxCloseReasonSize bytes it is cut to at most that
///        many bytes without splitting a UTF-8 sequence. The text is not otherwise validated.
/// @param mask_key masking key for a frame sent toward a server (the backend); std::nullopt for a
///        frame sent toward a client. The key is written most significant byte first, and
///        payload byte i is XORed with key byte i % 4.
/// @return the number of bytes written (2 + 4 if masked + payload size).
///
/// Thread safety: pure function; any thread.
size_t writeCloseFrame(uint8_t* out, uint16_t code, std::string_view reason,
                       std::optional<uint32_t> mask_key) noexcept;

/// Length of the longest prefix of @p text that is at most @p max_bytes long and does not end
/// inside a UTF-8 multi-byte sequence (continuation bytes 10xxxxxx are never left dangling).
///
/// Thread safety: pure function; any thread.
size_t utf8TruncatedSize(std::string_view text, size_t max_bytes) noexcept;

}  // namespace wslb::websocket
