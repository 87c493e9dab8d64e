#pragma once
// The client side of RFC 6455 framing that the load generator needs: masked frames built once
// and the handshake check. Server frames are followed with websocket::FrameTracker.

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

/// Checks a server's opening-handshake response head (up to and including the empty line):
/// status 101 and a Sec-WebSocket-Accept equal to @p expected_accept.
/// @return "" when it is fine, otherwise a short reason.
std::string checkUpgradeResponse(std::string_view head, std::string_view expected_accept);

}  // namespace wslb::loadgen
