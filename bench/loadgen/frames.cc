#include "frames.h"

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

FrameReader::Event FrameReader::headerComplete() noexcept {
  const uint8_t b0 = header_[0];
  const uint8_t b1 = header_[1];
  if (b0 & 0x70) return fail("reserved bits set in a server frame");
  if (b1 & 0x80) return fail("masked server frame");
  fin_ = (b0 & 0x80) != 0;
  opcode_ = b0 & 0x0F;
  uint64_t length = b1 & 0x7F;
  if (length == 126) {
    length = (uint64_t{header_[2]} << 8) | header_[3];
  } else if (length == 127) {
    length = 0;
    for (int i = 2; i < 10; ++i) length = (length << 8) | header_[i];
    if (length >> 63) return fail("frame length has the top bit set");
  }
  if (opcode_ >= 0x8) {
    if (opcode_ != kOpClose && opcode_ != kOpPing && opcode_ != kOpPong) {
      return fail("reserved control opcode");
    }
    if (!fin_) return fail("fragmented control frame");
    if (length > 125) return fail("control frame longer than 125 bytes");
    if (opcode_ == kOpClose) {
      if (length == 1) return fail("close frame with a 1-byte payload");
      close_have_ = 0;
      close_code_ = 1005;
    }
  } else if (opcode_ == kOpContinuation) {
    if (!in_message_) return fail("continuation frame outside a message");
  } else if (opcode_ == kOpText || opcode_ == kOpBinary) {
    if (in_message_) return fail("new data frame inside a fragmented message");
    in_message_ = true;
    message_bytes_ = 0;
  } else {
    return fail("reserved data opcode");
  }
  remaining_ = length;
  in_payload_ = true;
  return remaining_ == 0 ? frameEnded() : Event::kNone;
}

FrameReader::Event FrameReader::frameEnded() noexcept {
  in_payload_ = false;
  header_have_ = 0;
  header_need_ = 2;
  switch (opcode_) {
    case kOpClose:
      return Event::kClose;
    case kOpPing:
      return Event::kPing;
    case kOpPong:
      return Event::kPong;
    default:
      if (!fin_) return Event::kNone;
      in_message_ = false;
      return Event::kMessage;
  }
}

size_t FrameReader::consume(const uint8_t* data, size_t size, Event& event) noexcept {
  event = Event::kNone;
  size_t used = 0;
  while (used < size) {
    if (!in_payload_) {
      header_[header_have_++] = data[used++];
      if (header_have_ == 2) {
        const uint8_t length7 = header_[1] & 0x7F;
        header_need_ = static_cast<uint8_t>(2 +
                                            (length7 == 126   ? 2
                                             : length7 == 127 ? 8
                                                              : 0) +
                                            ((header_[1] & 0x80) ? 4 : 0));
      }
      if (header_have_ == header_need_) {
        event = headerComplete();
        if (event != Event::kNone) return used;
      }
      continue;
    }
    const size_t take =
        static_cast<size_t>(std::min<uint64_t>(remaining_, static_cast<uint64_t>(size - used)));
    if (opcode_ == kOpClose) {
      for (size_t i = 0; i < take && close_have_ < 2; ++i, ++close_have_) {
        const uint8_t byte = data[used + i];
        close_code_ = close_have_ == 0 ? static_cast<uint16_t>(byte << 8)
                                       : static_cast<uint16_t>(close_code_ | byte);
      }
    } else if (opcode_ < 0x8) {
      message_bytes_ += take;
    }
    used += take;
    remaining_ -= take;
    if (remaining_ == 0) {
      event = frameEnded();
      if (event != Event::kNone) return used;
    }
  }
  return used;
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

std::string_view trim(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
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
      if (trim(line.substr(colon + 1)) != expected_accept) return "wrong Sec-WebSocket-Accept";
      accept_ok = true;
    }
  }
  return accept_ok ? std::string() : std::string("no Sec-WebSocket-Accept");
}

}  // namespace wslb::loadgen
