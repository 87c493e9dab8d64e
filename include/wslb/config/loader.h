#pragma once
// Envoy v3 bootstrap YAML -> config::Bootstrap, with every problem named by its YAML path.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wslb/config/bootstrap.h"

namespace wslb::config {

/// One problem found in a config, e.g.
/// {"static_resources.clusters[0].circuit_breakers.per_host_thresholds[0].max_connections",
///  "expected an unsigned integer"}.
struct Diagnostic {
  std::string path;  ///< YAML path; "" for the document as a whole.
  std::string message;
  std::string str() const { return path.empty() ? message : path + ": " + message; }
};

struct LoadResult {
  std::optional<Bootstrap> bootstrap;  ///< set iff errors is empty.
  std::vector<Diagnostic> errors;      ///< every error found (not just the first).
  std::vector<Diagnostic> warnings;    ///< unknown keys, skipped optional filters, ...
  bool ok() const { return errors.empty(); }
};

/// Parses one YAML (or JSON) document. Never throws.
LoadResult loadBootstrapFromString(std::string_view yaml_text);

/// Envoy's -c / --config-yaml: reads `config_path` (may be empty) and merges `config_yaml` (may be
/// empty) over it the way protobuf MergeFrom does: mappings merge key by key, sequences are
/// appended, scalars are replaced. At least one of the two must be non-empty. Never throws; a
/// missing or unreadable file is an error with an empty path.
LoadResult loadBootstrap(const std::string& config_path, const std::string& config_yaml);

/// Parses an Envoy duration string ("5s", "0.25s", "0s", "1.5s"; also "100ms"-free proto3 JSON
/// form only: seconds with optional fraction and a trailing 's'). nullopt if malformed/negative.
/// The fraction is truncated to milliseconds, except that a positive value below 1 ms gives 1 ms
/// (never 0, which would disable a timeout).
std::optional<Duration> parseDuration(std::string_view text);

}  // namespace wslb::config
