#pragma once
// Logging in Envoy's style on stderr: "[2026-01-01 12:00:00.000][tid][level][component] message".

#include <spdlog/common.h>
#include <optional>
#include <string_view>

namespace wslb::server {

/// Envoy's level names: trace, debug, info, warning (or warn), error, critical, off.
std::optional<spdlog::level::level_enum> parseLogLevel(std::string_view name);

/// Installs the stderr logger with Envoy's line format at `level`.
void setupLogging(spdlog::level::level_enum level);

}  // namespace wslb::server
