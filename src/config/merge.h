#pragma once
// Merging of two YAML documents the way protobuf's MergeFrom merges two messages, which is what
// Envoy does with --config-yaml over -c.

#include <yaml-cpp/yaml.h>

namespace wslb::config {

/// A new document: `overlay` merged over `base`. Mappings merge key by key (recursively),
/// sequences are concatenated (base first), and anything else in `overlay` (a scalar, or a value
/// of a different kind) replaces what `base` has. Neither input is modified.
YAML::Node mergeYaml(const YAML::Node& base, const YAML::Node& overlay);

}  // namespace wslb::config
