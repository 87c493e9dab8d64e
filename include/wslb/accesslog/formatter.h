#pragma once
// Access log formats: Envoy's format strings (%COMMAND% operators) and format dictionaries
// (json_format), parsed once at start-up and then applied to records.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "wslb/accesslog/record.h"
#include "wslb/accesslog/request_headers.h"
#include "wslb/config/bootstrap.h"

namespace wslb::accesslog {

/// The format used when an access log gives none: Envoy's default text format, with the one
/// operator wslb cannot fill (%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%, a response header) replaced
/// by %RESPONSE_DURATION%, the same measure (milliseconds until the backend answered), so the
/// line keeps Envoy's fields in Envoy's order.
inline constexpr std::string_view kDefaultFormat =
    "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
    "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
    "%RESPONSE_DURATION% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" "
    "\"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";

/// Checks one format string (a text format, or one value of a json_format).
/// @return nullopt when it is valid, else the first problem, e.g.
///         "unknown command operator %FOO%" or "%REQ% requires a header name: %REQ(name)%".
///
/// Thread safety: any thread.
std::optional<std::string> validateFormatString(std::string_view text);

/// Turns records into log lines. Built once per access log at start-up.
///
/// Thread safety: format() is const and keeps no state, so it may be called from any number of
/// threads at once; AccessLog calls it only on its writer thread.
class Formatter {
 public:
  virtual ~Formatter() = default;

  /// Appends the line for `record` to `out`. JSON formats end the line with '\n'; text formats
  /// print exactly what the format says (Envoy's rule: a text format supplies its own newline).
  virtual void format(const AccessLogRecord& record, std::string& out) const = 0;

  /// Builds the formatter for `format`, adding the request headers it prints to `headers`.
  /// Start-up only.
  /// @throws std::invalid_argument if a format string is invalid (validateFormatString() says
  ///         why; a configuration loaded by config::loadBootstrap() has been checked already).
  static std::unique_ptr<Formatter> create(const config::AccessLogFormat& format,
                                           HeaderRegistry& headers);
};

using FormatterPtr = std::unique_ptr<Formatter>;

}  // namespace wslb::accesslog
