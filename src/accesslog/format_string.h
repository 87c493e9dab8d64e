#pragma once
// A format string parsed into literal text and command operators.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accesslog/time_format.h"
#include "wslb/accesslog/request_headers.h"

namespace wslb::accesslog {

/// What one piece of a format string prints.
enum class Op : uint8_t {
  kLiteral,
  kConstant,  ///< a value known at start-up: %HOSTNAME%, %ENVIRONMENT(X)%.
  kStartTime,
  kDuration,
  kRequestDuration,
  kResponseDuration,
  kResponseCode,
  kResponseFlags,
  kResponseFlagsLong,
  kBytesReceived,
  kBytesSent,
  kProtocol,
  kUpstreamHost,
  kUpstreamHostWithoutPort,
  kUpstreamPort,
  kUpstreamCluster,
  kUpstreamHostname,
  kUpstreamAttempts,
  kUpstreamTransportFailureReason,
  kDownstreamRemoteAddress,
  kDownstreamRemoteAddressWithoutPort,
  kDownstreamRemotePort,
  kDownstreamLocalAddress,
  kDownstreamLocalAddressWithoutPort,
  kDownstreamLocalPort,
  kRequestHeader,
  kRouteName,
  kConnectionId,
  kMessagesReceived,
  kMessagesSent,
  kCloseCodeDownstream,
  kCloseCodeUpstream,
};

/// True for operators whose value is a number (printed as a JSON number in typed JSON).
bool isNumeric(Op op) noexcept;

inline constexpr size_t kNoHeader = static_cast<size_t>(-1);

struct Piece {
  Op op = Op::kLiteral;
  std::string text;                     ///< kLiteral: the text.
  std::optional<std::string> constant;  ///< kConstant: the value (nullopt: missing).
  size_t header = kNoHeader;            ///< kRequestHeader: index of the main header.
  size_t alt_header = kNoHeader;        ///< kRequestHeader: index of the alternative, if any.
  std::optional<size_t> max_length;     ///< ":Z": the value is cut to Z bytes.
  std::optional<TimeFormat> time;       ///< kStartTime.
};

struct FormatString {
  std::vector<Piece> pieces;

  /// The only piece, when the string is exactly one command operator (what typed JSON prints
  /// with its own type); nullptr otherwise.
  const Piece* singleOperator() const noexcept {
    return pieces.size() == 1 && pieces[0].op != Op::kLiteral ? &pieces[0] : nullptr;
  }
};

struct ParsedFormat {
  FormatString format;
  std::string error;  ///< empty when the string is valid.
};

/// Parses `text`, registering the request headers it prints in `headers`.
ParsedFormat parseFormatString(std::string_view text, HeaderRegistry& headers);

}  // namespace wslb::accesslog
