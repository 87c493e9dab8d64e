#include "accesslog/time_format.h"

#include <array>
#include <charconv>
#include <ctime>

namespace wslb::accesslog {
namespace {

constexpr std::string_view kDefaultSpec = "%Y-%m-%dT%H:%M:%E3SZ";

// `value` with at least `width` digits, zero-padded.
void appendPadded(uint64_t value, int width, std::string& out) {
  std::array<char, 24> digits{};
  auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  (void)ec;
  const auto length = static_cast<int>(end - digits.data());
  for (int i = length; i < width; ++i) out += '0';
  out.append(digits.data(), end);
}

// The first `digits` digits of a nanosecond fraction; `trim` drops trailing zeros but keeps one.
void appendFraction(int64_t nanos, int digits, bool trim, std::string& out) {
  std::string text;
  appendPadded(static_cast<uint64_t>(nanos), 9, text);
  text.resize(static_cast<size_t>(digits));
  if (trim) {
    while (text.size() > 1 && text.back() == '0') text.pop_back();
  }
  out += text;
}

}  // namespace

TimeFormat::TimeFormat(std::string_view spec) {
  if (spec.empty()) spec = kDefaultSpec;
  std::string chunk;  // strftime text collected so far
  auto special = [&](Segment segment) {
    if (!chunk.empty()) addStrftime(chunk);
    chunk.clear();
    segments_.push_back(std::move(segment));
  };
  size_t i = 0;
  while (i < spec.size()) {
    const char c = spec[i];
    if (c != '%' || i + 1 == spec.size()) {
      chunk += c;
      ++i;
      continue;
    }
    const char next = spec[i + 1];
    if (next == 's') {
      special({Segment::Kind::kEpochSeconds, {}, 0, false});
      i += 2;
    } else if (next == 'f') {
      special({Segment::Kind::kFraction, {}, 9, false});
      i += 2;
    } else if (next >= '1' && next <= '9' && i + 2 < spec.size() && spec[i + 2] == 'f') {
      special({Segment::Kind::kFraction, {}, static_cast<uint8_t>(next - '0'), false});
      i += 3;
    } else if (next == 'E' && i + 3 < spec.size() &&
               (spec[i + 2] == '*' || (spec[i + 2] >= '0' && spec[i + 2] <= '9')) &&
               (spec[i + 3] == 'S' || spec[i + 3] == 'f')) {
      const bool all = spec[i + 2] == '*';
      const auto digits = static_cast<uint8_t>(all ? 9 : spec[i + 2] - '0');
      const auto kind = spec[i + 3] == 'S' ? Segment::Kind::kSeconds : Segment::Kind::kFraction;
      special({kind, {}, digits, all});
      i += 4;
    } else if (next == 'E' && i + 2 < spec.size() && spec[i + 2] == 'z') {
      special({Segment::Kind::kOffset, {}, 0, false});
      i += 3;
    } else {
      // Any other conversion (and "%%") is strftime's; copying the pair keeps "%%s" literal.
      chunk += c;
      chunk += next;
      i += 2;
    }
  }
  if (!chunk.empty()) addStrftime(chunk);
}

void TimeFormat::addStrftime(std::string_view text) {
  if (!segments_.empty() && segments_.back().kind == Segment::Kind::kStrftime) {
    segments_.back().text += text;
    return;
  }
  segments_.push_back({Segment::Kind::kStrftime, std::string(text), 0, false});
}

void TimeFormat::append(std::chrono::system_clock::time_point time, std::string& out) const {
  using std::chrono::nanoseconds;
  using std::chrono::seconds;
  const auto since_epoch = std::chrono::duration_cast<nanoseconds>(time.time_since_epoch());
  const seconds whole = std::chrono::floor<seconds>(since_epoch);
  const int64_t nanos = (since_epoch - whole).count();
  const auto epoch_seconds = static_cast<std::time_t>(whole.count());
  std::tm tm{};
  gmtime_r(&epoch_seconds, &tm);

  for (const Segment& segment : segments_) {
    switch (segment.kind) {
      case Segment::Kind::kStrftime: {
        // strftime() returns 0 both for an empty result and for a buffer too small: retry once
        // with room for any sane expansion, then accept an empty result.
        std::array<char, 256> small{};
        size_t n = std::strftime(small.data(), small.size(), segment.text.c_str(), &tm);
        if (n > 0) {
          out.append(small.data(), n);
          break;
        }
        std::string large(segment.text.size() * 64 + 256, '\0');
        n = std::strftime(large.data(), large.size(), segment.text.c_str(), &tm);
        out.append(large.data(), n);
        break;
      }
      case Segment::Kind::kEpochSeconds:
        if (whole.count() < 0) {
          out += '-';
          appendPadded(static_cast<uint64_t>(-whole.count()), 1, out);
        } else {
          appendPadded(static_cast<uint64_t>(whole.count()), 1, out);
        }
        break;
      case Segment::Kind::kFraction:
        appendFraction(nanos, segment.digits, segment.trim, out);
        break;
      case Segment::Kind::kSeconds:
        appendPadded(static_cast<uint64_t>(tm.tm_sec), 2, out);
        if (segment.trim) {
          if (nanos != 0) {
            out += '.';
            appendFraction(nanos, 9, true, out);
          }
        } else if (segment.digits > 0) {
          out += '.';
          appendFraction(nanos, segment.digits, false, out);
        }
        break;
      case Segment::Kind::kOffset:
        out += "+00:00";
        break;
    }
  }
}

}  // namespace wslb::accesslog
