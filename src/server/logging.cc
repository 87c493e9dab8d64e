#include "wslb/server/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace wslb::server {

std::optional<spdlog::level::level_enum> parseLogLevel(std::string_view name) {
  using spdlog::level::level_enum;
  if (name == "trace") return level_enum::trace;
  if (name == "debug") return level_enum::debug;
  if (name == "info") return level_enum::info;
  if (name == "warning" || name == "warn") return level_enum::warn;
  if (name == "error") return level_enum::err;
  if (name == "critical") return level_enum::critical;
  if (name == "off") return level_enum::off;
  return std::nullopt;
}

void setupLogging(spdlog::level::level_enum level, const std::string& path,
                  const std::string& format) {
  auto logger = path.empty() ? spdlog::stderr_logger_mt("wslb")
                             : spdlog::basic_logger_mt("wslb", path, /*truncate=*/false);
  logger->set_pattern(format);
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace wslb::server
