#pragma once
// Header checks and the Sec-WebSocket-Accept computation of the RFC 6455 opening handshake.

#include <string>
#include <string_view>

namespace wslb::websocket {

/// Length of a Sec-WebSocket-Accept value: base64 of a 20-byte SHA-1 digest.
inline constexpr size_t kSecWebSocketAcceptSize = 28;

/// Removes optional whitespace (SP and HTAB, RFC 9110 §5.6.3 OWS) from both ends of @p value.
///
/// Thread safety: pure function; any thread.
std::string_view trimOws(std::string_view value) noexcept;

/// True when @p value, after trimming OWS, is a base64 string (RFC 4648 §4 alphabet, "=" padding)
/// that decodes to exactly 16 bytes, as RFC 6455 §4.1 requires of Sec-WebSocket-Key: 22
/// alphabet characters followed by "==". Like common decoders, the 4 unused low bits of the 22nd
/// character are not required to be zero.
///
/// Thread safety: pure function; any thread.
bool isValidSecWebSocketKey(std::string_view value) noexcept;

/// True when @p value, after trimming OWS, is "13", the only version RFC 6455 defines.
///
/// Thread safety: pure function; any thread.
bool isSupportedSecWebSocketVersion(std::string_view value) noexcept;

/// The Sec-WebSocket-Accept value for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)) with the
/// RFC 6455 GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11". The key is trimmed of OWS first but not
/// otherwise validated (check it with isValidSecWebSocketKey()).
///
/// @return the 28-character value, or an empty string if OpenSSL cannot compute SHA-1 (for
///         example when the loaded providers do not offer it).
///
/// Thread safety: any thread; each thread reuses its own digest context.
std::string computeSecWebSocketAccept(std::string_view key);

/// True when the comma-separated list @p field_value (RFC 9110 §5.6.1) has an element equal to
/// @p token, compared case-insensitively (ASCII) after trimming OWS around each element. Empty
/// elements are skipped. Elements are compared whole: "websocket/13" does not match "websocket".
/// Use it for `Connection: keep-alive, Upgrade` and `Upgrade: websocket`; when a field occurs on
/// several lines, call it once per line (or on the lines joined with ",").
///
/// @return false when @p token is empty.
///
/// Thread safety: pure function; any thread.
bool headerHasToken(std::string_view field_value, std::string_view token) noexcept;

}  // namespace wslb::websocket
