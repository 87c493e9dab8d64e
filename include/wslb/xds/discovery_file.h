#pragma once
// File-based EDS: a DiscoveryResponse read from a file, in any of the encodings Envoy accepts.

#include <string>

namespace envoy::service::discovery::v3 {
class DiscoveryResponse;
}

namespace wslb::xds {

/// Parses `content`, read from `path`, into `out`. The encoding follows the extension, as in
/// Envoy: .pb (binary proto), .json (proto3 JSON), .yaml/.yml (YAML, read as proto3 JSON) and
/// .pb_text (text format). Unknown JSON/YAML fields are ignored (they may belong to parts of the
/// Envoy API wslb does not model).
/// @return empty on success, otherwise what is wrong (the file is not modified or retried).
std::string parseDiscoveryFile(const std::string& path, const std::string& content,
                               envoy::service::discovery::v3::DiscoveryResponse& out);

/// Converts a YAML document to JSON text the way Envoy's loader does: plain scalars that look
/// like numbers, booleans or null become those JSON types; quoted scalars stay strings.
/// @throws std::runtime_error on invalid YAML (with line and column).
std::string yamlToJson(const std::string& yaml);

}  // namespace wslb::xds
