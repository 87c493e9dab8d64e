#pragma once
// %START_TIME(...)%: a time format compiled once, printed in UTC.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wslb::accesslog {

/// Envoy's START_TIME format: strftime specifiers, plus %s (seconds since the epoch), %f and
/// %1f-%9f (fraction of the second, 9 digits or the given number, truncated), and the absl
/// extensions Envoy's formatter inherits: %E<n>S (seconds with n fractional digits), %E*S (with
/// as many as needed), %E<n>f / %E*f (the fraction alone) and %Ez (offset as +00:00). Times are
/// printed in UTC, as Envoy prints them.
///
/// Thread safety: append() is const and keeps no state; any thread.
class TimeFormat {
 public:
  /// Compiles `spec`; an empty spec is Envoy's default, "%Y-%m-%dT%H:%M:%E3SZ"
  /// (2016-04-15T20:17:00.310Z).
  explicit TimeFormat(std::string_view spec = {});

  /// Appends `time` in this format.
  void append(std::chrono::system_clock::time_point time, std::string& out) const;

 private:
  struct Segment {
    enum class Kind : uint8_t {
      kStrftime,      ///< `text` through strftime().
      kEpochSeconds,  ///< %s
      kFraction,      ///< %f, %Nf, %ENf, %E*f
      kSeconds,       ///< %ENS, %E*S
      kOffset,        ///< %Ez
    };
    Kind kind;
    std::string text;
    uint8_t digits = 0;  ///< fractional digits (kFraction, kSeconds).
    bool trim = false;   ///< '*': drop trailing zeros.
  };

  void addStrftime(std::string_view text);

  std::vector<Segment> segments_;
};

}  // namespace wslb::accesslog
