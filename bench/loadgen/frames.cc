#include "frames.h"

#include "wslb/websocket/handshake.h"

#include <algorithm>
#include <cstring>

namespace wslb::loadgen {

std::vector<uint8_t> buildMaskedFrame(uint8_t opcode, std::string_view payload,
                                      std::array<uint8_t, 4> mask) {
  const uint64_t size = payload.size();
  const size_t length_bytes = size < 126 ? 0 : size <= 0xFFFF ? 2 : 8;
  const size_t header = 2 + length_bytes + mask.size();
  std::vector<uint8_t> frame(header + payload.size());
  frame[0] = static_cast<uint8_t>(0x80 | (opcode & 0x0F));
  frame[1] = static_cast<uint8_t>(0x80 | (length_bytes == 0   ? size
                                          : length_bytes == 2 ? 126
                                                              : 127));
  for (size_t i = 0; i < length_bytes; ++i) {
    frame[2 + i] = static_cast<uint8_t>(size >> (8 * (length_bytes - 1 - i)));
  }
  for (size_t i = 0; i < mask.size(); ++i) frame[2 + length_bytes + i] = mask[i];
  for (size_t i = 0; i < payload.size(); ++i) {
    frame[header + i] = static_cast<uint8_t>(payload[i]) ^ mask[i % 4];
  }
  return frame;
}

std::vector<uint8_t> buildMaskedClose(uint16_t code, std::array<uint8_t, 4> mask) {
  const char status[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  return buildMaskedFrame(kOpClose, std::string_view(status, 2), mask);
}

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::string checkUpgradeResponse(std::string_view head, std::string_view expected_accept) {
  const size_t line_end = head.find("\r\n");
  if (line_end == std::string_view::npos) return "no status line";
  const std::string_view status = head.substr(0, line_end);
  if (status.size() < 12 || status.substr(0, 5) != "HTTP/" || status.substr(8, 4) != " 101") {
    return "not a 101 response: " + std::string(status.substr(0, 80));
  }
  size_t pos = line_end + 2;
  bool accept_ok = false;
  while (pos < head.size()) {
    const size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos || end == pos) break;
    const std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (equalsIgnoreCase(line.substr(0, colon), "sec-websocket-accept")) {
      if (websocket::trimOws(line.substr(colon + 1)) != expected_accept)
        return "wrong Sec-WebSocket-Accept";
      accept_ok = true;
    }
  }
  return accept_ok ? std::string() : std::string("no Sec-WebSocket-Accept");
}

}  // namespace wslb::loadgen
