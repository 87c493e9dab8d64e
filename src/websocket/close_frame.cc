#include "wslb/websocket/close_frame.h"

#include <cstring>

namespace wslb::websocket {

size_t utf8TruncatedSize(std::string_view text, size_t max_bytes) noexcept {
  if (text.size() <= max_bytes) return text.size();
  size_t size = max_bytes;
  // text[size] is the first byte left out; while it continues a sequence, that sequence started
  // inside the kept prefix and must be left out whole.
  while (size > 0 && (static_cast<uint8_t>(text[size]) & 0xc0) == 0x80) --size;
  return size;
}

size_t writeCloseFrame(uint8_t* out, uint16_t code, std::string_view reason,
                       std::optional<uint32_t> mask_key) noexcept {
  size_t payload_size = 0;
  uint8_t payload[2 + kMaxCloseReasonSize];
  if (code != kCloseNoStatus) {
    payload[0] = static_cast<uint8_t>(code >> 8);
    payload[1] = static_cast<uint8_t>(code);
    const size_t reason_size = utf8TruncatedSize(reason, kMaxCloseReasonSize);
    if (reason_size != 0) std::memcpy(payload + 2, reason.data(), reason_size);
    payload_size = 2 + reason_size;
  }

  size_t pos = 0;
  out[pos++] = 0x88;  // FIN, opcode Close
  out[pos++] = static_cast<uint8_t>((mask_key ? 0x80 : 0x00) | payload_size);
  if (mask_key) {
    const uint8_t key[4] = {static_cast<uint8_t>(*mask_key >> 24),
                            static_cast<uint8_t>(*mask_key >> 16),
                            static_cast<uint8_t>(*mask_key >> 8), static_cast<uint8_t>(*mask_key)};
    std::memcpy(out + pos, key, 4);
    pos += 4;
    for (size_t i = 0; i < payload_size; ++i) out[pos + i] = payload[i] ^ key[i % 4];
  } else if (payload_size != 0) {
    std::memcpy(out + pos, payload, payload_size);
  }
  return pos + payload_size;
}

}  // namespace wslb::websocket
