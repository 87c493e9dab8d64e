#pragma once
// One stat sample in Envoy's model: a tag-extracted name plus tags, renderable both as Envoy's
// flat `/stats` line and as a Prometheus series.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace wslb::stats {

enum class StatType { kCounter, kGauge };

using Tags = std::vector<std::pair<std::string, std::string>>;

struct Stat {
  /// Envoy's flat name, e.g. "cluster.ws.upstream_cx_active" (what /stats prints).
  std::string flat_name;
  /// Tag-extracted name, e.g. "cluster.upstream_cx_active" (-> envoy_cluster_upstream_cx_active).
  std::string tag_extracted_name;
  /// Prometheus labels, e.g. {{"envoy_cluster_name", "ws"}}.
  Tags tags;
  StatType type = StatType::kCounter;
  uint64_t value = 0;
};

}  // namespace wslb::stats
