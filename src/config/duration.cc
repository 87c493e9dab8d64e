// parseDuration(): google.protobuf.Duration in its proto3 JSON form.

#include "wslb/config/loader.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace wslb::config {
namespace {

// The largest value google.protobuf.Duration allows: 10,000 years.
constexpr int64_t kMaxSeconds = 315'576'000'000;
constexpr size_t kMaxFractionDigits = 9;

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::optional<Duration> parseDuration(std::string_view text) {
  if (text.size() < 2 || text.back() != 's') return std::nullopt;
  text.remove_suffix(1);

  size_t pos = 0;
  int64_t seconds = 0;
  while (pos < text.size() && isDigit(text[pos])) {
    seconds = seconds * 10 + (text[pos] - '0');
    if (seconds > kMaxSeconds) return std::nullopt;
    ++pos;
  }
  if (pos == 0) return std::nullopt;  // no whole seconds ("s", ".5s", "-1s")

  int64_t nanos = 0;
  if (pos < text.size()) {
    if (text[pos] != '.') return std::nullopt;
    ++pos;
    const size_t digits = text.size() - pos;
    if (digits == 0 || digits > kMaxFractionDigits) return std::nullopt;
    for (size_t i = 0; i < kMaxFractionDigits; ++i) {
      nanos *= 10;
      if (i < digits) {
        if (!isDigit(text[pos + i])) return std::nullopt;
        nanos += text[pos + i] - '0';
      }
    }
  }

  int64_t millis = seconds * 1000 + nanos / 1'000'000;
  // Duration has millisecond resolution. A positive value below 1 ms must not turn into 0, which
  // would disable the timeout it sets, so it becomes 1 ms.
  if (millis == 0 && nanos > 0) millis = 1;
  return Duration(millis);
}

}  // namespace wslb::config
