#include "wslb/stats/render.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <map>

namespace wslb::stats {

std::string prometheusName(std::string_view tag_extracted_name) {
  std::string out = "envoy_";
  out.reserve(out.size() + tag_extracted_name.size());
  for (char c : tag_extracted_name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out.push_back(ok ? c : '_');
  }
  return out;
}

std::string renderText(std::vector<Stat> stats, const TextOptions& options) {
  std::sort(stats.begin(), stats.end(),
            [](const Stat& a, const Stat& b) { return a.flat_name < b.flat_name; });
  std::string out;
  for (const auto& s : stats) {
    if (options.used_only && s.value == 0) continue;
    if (options.filter && !std::regex_search(s.flat_name, *options.filter)) continue;
    out += s.flat_name;
    out += ": ";
    out += std::to_string(s.value);
    out += '\n';
  }
  return out;
}

std::string renderPrometheus(const std::vector<Stat>& stats, bool used_only) {
  std::map<std::string, prometheus::MetricFamily> families;
  for (const auto& s : stats) {
    if (used_only && s.value == 0) continue;
    const std::string name = prometheusName(s.tag_extracted_name);
    auto [it, inserted] = families.try_emplace(name);
    auto& family = it->second;
    if (inserted) {
      family.name = name;
      family.type = s.type == StatType::kCounter ? prometheus::MetricType::Counter
                                                 : prometheus::MetricType::Gauge;
    }
    prometheus::ClientMetric metric;
    for (const auto& [k, v] : s.tags) metric.label.push_back({k, v});
    std::sort(metric.label.begin(), metric.label.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    if (s.type == StatType::kCounter) {
      metric.counter.value = static_cast<double>(s.value);
    } else {
      metric.gauge.value = static_cast<double>(s.value);
    }
    family.metric.push_back(std::move(metric));
  }
  std::vector<prometheus::MetricFamily> sorted;
  sorted.reserve(families.size());
  for (auto& [name, family] : families) {
    std::sort(family.metric.begin(), family.metric.end(),
              [](const auto& a, const auto& b) { return a.label < b.label; });
    sorted.push_back(std::move(family));
  }
  return prometheus::TextSerializer().Serialize(sorted);
}

}  // namespace wslb::stats
