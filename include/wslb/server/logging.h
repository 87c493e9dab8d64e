#pragma once
// Logging in Envoy's style on stderr: "[2026-01-01 12:00:00.000][tid][level][component] message".

#include <spdlog/common.h>
#include <optional>
#include <string>
#include <string_view>

namespace wslb::server {

/// Envoy's level names: trace, debug, info, warning (or warn), error, critical, off.
std::optional<spdlog::level::level_enum> parseLogLevel(std::string_view name);

/// Envoy's default --log-format ("[%Y-%m-%d %T.%e][%t][%l][%n] %v" in Envoy; wslb's messages
/// carry their component as a "[component] " prefix, so the default here omits %n).
inline constexpr const char* kDefaultLogFormat = "[%Y-%m-%d %T.%e][%t][%l]%v";

/// Installs the logger at `level`: on stderr, or appending to `path` when it is not empty
/// (--log-path), with `format` (--log-format, spdlog/Envoy pattern flags). Throws
/// spdlog::spdlog_ex if the file cannot be opened (start-up only).
void setupLogging(spdlog::level::level_enum level, const std::string& path = {},
                  const std::string& format = kDefaultLogFormat);

}  // namespace wslb::server
