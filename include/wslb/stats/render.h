#pragma once
// Envoy's /stats text form and /stats/prometheus from one list of samples.

#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

#include "wslb/stats/histogram.h"
#include "wslb/stats/stat.h"

namespace wslb::stats {

struct TextOptions {
  std::optional<std::regex> filter;  ///< ?filter=<regex>: keep flat names that match (search).
  /// What every match of `filter` starts with (anchoredLiteralPrefix): names without it are
  /// dropped without running the regex. Empty: no shortcut.
  std::string filter_prefix;
  bool used_only = false;  ///< ?usedonly: drop samples whose value is 0.
};

/// The literal text an ECMAScript pattern anchored with '^' requires at the start of every
/// match ("^cluster\\.pods\\." -> "cluster.pods."), or "" when there is none or the pattern
/// is not simple enough to tell (alternation, classes, groups, escapes other than punctuation).
std::string anchoredLiteralPrefix(std::string_view pattern);

/// Drops what `options` leaves out (?usedonly, ?filter).
void keepSelected(std::vector<Stat>& stats, const TextOptions& options);
/// Sorts by flat name, as Envoy's GET /stats lists stats.
void sortByName(std::vector<Stat>& stats);

/// "name: value" lines sorted by name, as Envoy's GET /stats prints them.
std::string renderText(std::vector<Stat> stats, const TextOptions& options = {});

/// Prometheus text exposition (0.0.4): names "envoy_" + tag-extracted name with every character
/// outside [a-zA-Z0-9_] replaced by '_', tags as labels, one # TYPE per family; families sorted.
std::string renderPrometheus(const std::vector<Stat>& stats, bool used_only = false);

/// The same samples as Prometheus metric families (what a prometheus-cpp Collectable returns):
/// histograms with Envoy's default buckets plus +Inf.
std::vector<prometheus::MetricFamily> toFamilies(const std::vector<Stat>& stats,
                                                 bool used_only = false);

/// Envoy's text form of a histogram in /stats: "P0(a,a) P25(b,b) ... P100(z,z)", or
/// "No recorded values".
std::string histogramSummary(const HistogramSnapshot& histogram);

/// The Prometheus metric name for a tag-extracted name ("cluster.upstream_cx_active" ->
/// "envoy_cluster_upstream_cx_active").
std::string prometheusName(std::string_view tag_extracted_name);

}  // namespace wslb::stats
