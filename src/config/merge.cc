#include "config/merge.h"

#include <set>
#include <string>

namespace wslb::config {
namespace {

// YAML aliases can make a mapping contain itself; past this depth (far beyond any real
// bootstrap) the overlay simply replaces the base instead of recursing forever.
constexpr int kMaxMergeDepth = 100;

YAML::Node merge(const YAML::Node& base, const YAML::Node& overlay, int depth) {
  if (base.IsMap() && overlay.IsMap() && depth < kMaxMergeDepth) {
    // Scalar keys are matched by their text. Non-scalar keys cannot be matched and are copied
    // as they are; the converter reports them.
    std::set<std::string> overlay_keys;
    for (auto it = overlay.begin(); it != overlay.end(); ++it) {
      if (it->first.IsScalar()) overlay_keys.insert(it->first.Scalar());
    }
    YAML::Node merged(YAML::NodeType::Map);
    std::set<std::string> merged_keys;
    for (auto it = base.begin(); it != base.end(); ++it) {
      if (it->first.IsScalar() && overlay_keys.count(it->first.Scalar()) != 0) {
        const std::string& key = it->first.Scalar();
        if (merged_keys.insert(key).second) {
          merged.force_insert(YAML::Clone(it->first), merge(it->second, overlay[key], depth + 1));
          continue;
        }
      }
      merged.force_insert(YAML::Clone(it->first), YAML::Clone(it->second));
    }
    // A key the base also has was merged above (its first occurrence only: duplicates are
    // copied so that the converter still sees and reports them).
    std::set<std::string> skipped;
    for (auto it = overlay.begin(); it != overlay.end(); ++it) {
      if (it->first.IsScalar() && merged_keys.count(it->first.Scalar()) != 0 &&
          skipped.insert(it->first.Scalar()).second) {
        continue;
      }
      merged.force_insert(YAML::Clone(it->first), YAML::Clone(it->second));
    }
    return merged;
  }
  if (base.IsSequence() && overlay.IsSequence()) {
    YAML::Node merged(YAML::NodeType::Sequence);
    for (const YAML::Node& item : base) merged.push_back(YAML::Clone(item));
    for (const YAML::Node& item : overlay) merged.push_back(YAML::Clone(item));
    return merged;
  }
  // proto3 JSON reads null as "unset", and MergeFrom leaves a field alone when the source does
  // not set it.
  if (overlay.IsNull() && base.IsDefined()) return YAML::Clone(base);
  return YAML::Clone(overlay);
}

}  // namespace

YAML::Node mergeYaml(const YAML::Node& base, const YAML::Node& overlay) {
  return merge(base, overlay, 0);
}

}  // namespace wslb::config
