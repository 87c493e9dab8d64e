#pragma once
// HttpConnectionManager.access_log[] -> AccessLogConfig: file, stdout and stderr loggers, their
// formats (every format string checked by the access log's own parser) and filters.

#include <string_view>
#include <vector>

#include "config/context.h"
#include "wslb/config/bootstrap.h"

namespace wslb::config {

inline constexpr std::string_view kFileAccessLogTypeUrl =
    "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog";
inline constexpr std::string_view kStdoutAccessLogTypeUrl =
    "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog";
inline constexpr std::string_view kStderrAccessLogTypeUrl =
    "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog";

/// Reads the access_log sequence of an HTTP connection manager.
std::vector<AccessLogConfig> readAccessLogs(Context& ctx, const Field& field);

}  // namespace wslb::config
