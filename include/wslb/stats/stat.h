#pragma once
// One stat sample in Envoy's model: a tag-extracted name plus tags, renderable both as Envoy's
// flat `/stats` line and as a Prometheus series.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace wslb::stats {

enum class StatType { kCounter, kGauge, kHistogram };

struct HistogramSnapshot;

using Tags = std::vector<std::pair<std::string, std::string>>;

struct Stat {
  Stat() = default;
  Stat(std::string flat, std::string tag_extracted, Tags stat_tags, StatType stat_type,
       uint64_t stat_value, std::shared_ptr<const HistogramSnapshot> snapshot = nullptr)
      : flat_name(std::move(flat)),
        tag_extracted_name(std::move(tag_extracted)),
        tags(std::move(stat_tags)),
        type(stat_type),
        value(stat_value),
        histogram(std::move(snapshot)) {}

  /// Envoy's flat name, e.g. "cluster.ws.upstream_cx_active" (what /stats prints).
  std::string flat_name;
  /// Tag-extracted name, e.g. "cluster.upstream_cx_active" (-> envoy_cluster_upstream_cx_active).
  std::string tag_extracted_name;
  /// Prometheus labels, e.g. {{"envoy_cluster_name", "ws"}}.
  Tags tags;
  StatType type = StatType::kCounter;
  uint64_t value = 0;  ///< counters and gauges; for histograms, the sample count.
  std::shared_ptr<const HistogramSnapshot> histogram;  ///< histograms only.
};

}  // namespace wslb::stats
