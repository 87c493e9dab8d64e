#include "wslb/stats/render.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <limits>
#include <map>

#include "wslb/stats/histogram.h"

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

std::string histogramSummary(const HistogramSnapshot& h) {
  if (h.count == 0) return "No recorded values";
  // Envoy prints P<q>(interval,cumulative); wslb keeps cumulative values only, so both are the
  // cumulative estimate.
  static constexpr std::pair<const char*, double> kQuantiles[] = {
      {"P0", 0},     {"P25", 0.25}, {"P50", 0.5},     {"P75", 0.75},    {"P90", 0.9},
      {"P95", 0.95}, {"P99", 0.99}, {"P99.5", 0.995}, {"P99.9", 0.999}, {"P100", 1}};
  std::string out;
  for (const auto& [label, q] : kQuantiles) {
    char value[32];
    std::snprintf(value, sizeof value, "%g", h.quantile(q));
    if (!out.empty()) out += ' ';
    out += std::string(label) + "(" + value + "," + value + ")";
  }
  return out;
}

std::string anchoredLiteralPrefix(std::string_view pattern) {
  if (pattern.empty() || pattern.front() != '^') return {};
  // A '|' outside every group and class would allow matches that do not start with the prefix.
  int depth = 0;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      ++i;
    } else if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == '|' && depth <= 0) {
      return {};
    }
  }
  std::string prefix;
  for (size_t i = 1; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '*' || c == '?' || c == '{') {
      // The character before is optional (or repeated a number of times that may be 0).
      if (!prefix.empty()) prefix.pop_back();
      break;
    }
    if (c == '+') break;  // at least one: what came before stays required
    if (c == '\\') {
      if (i + 1 >= pattern.size()) break;
      const char escaped = pattern[i + 1];
      if (std::isalnum(static_cast<unsigned char>(escaped)) || escaped == '_') break;  // \d, \b...
      prefix += escaped;
      ++i;
      continue;
    }
    if (c == '.' || c == '(' || c == ')' || c == '[' || c == ']' || c == '^' || c == '$' ||
        c == '}') {
      break;
    }
    prefix += c;
  }
  return prefix;
}

void keepSelected(std::vector<Stat>& stats, const TextOptions& options) {
  if (!options.used_only && !options.filter) return;
  std::erase_if(stats, [&options](const Stat& s) {
    if (options.used_only && s.value == 0) return true;
    if (!options.filter) return false;
    if (!s.flat_name.starts_with(options.filter_prefix)) return true;
    return !std::regex_search(s.flat_name, *options.filter);
  });
}

void sortByName(std::vector<Stat>& stats) {
  std::sort(stats.begin(), stats.end(),
            [](const Stat& a, const Stat& b) { return a.flat_name < b.flat_name; });
}

std::string renderText(std::vector<Stat> stats, const TextOptions& options) {
  // Filtered first, then sorted: with 10,000 endpoints a filtered request sorts a few lines, not
  // every endpoint's stats.
  keepSelected(stats, options);
  sortByName(stats);
  std::string out;
  for (const auto& s : stats) {
    out += s.flat_name;
    out += ": ";
    out += s.histogram ? histogramSummary(*s.histogram) : std::to_string(s.value);
    out += '\n';
  }
  return out;
}

std::vector<prometheus::MetricFamily> toFamilies(const std::vector<Stat>& stats, bool used_only) {
  std::map<std::string, prometheus::MetricFamily> families;
  for (const auto& s : stats) {
    if (used_only && s.value == 0) continue;
    const std::string name = prometheusName(s.tag_extracted_name);
    auto [it, inserted] = families.try_emplace(name);
    auto& family = it->second;
    if (inserted) {
      family.name = name;
      family.type = s.type == StatType::kCounter ? prometheus::MetricType::Counter
                    : s.type == StatType::kGauge ? prometheus::MetricType::Gauge
                                                 : prometheus::MetricType::Histogram;
    }
    prometheus::ClientMetric metric;
    for (const auto& [k, v] : s.tags) metric.label.push_back({k, v});
    std::sort(metric.label.begin(), metric.label.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    if (s.type == StatType::kCounter) {
      metric.counter.value = static_cast<double>(s.value);
    } else if (s.type == StatType::kGauge) {
      metric.gauge.value = static_cast<double>(s.value);
    } else if (s.histogram) {
      const HistogramSnapshot& h = *s.histogram;
      metric.histogram.sample_count = h.count;
      metric.histogram.sample_sum = h.sum;
      for (size_t i = 0; i < h.bounds.size(); ++i) {
        metric.histogram.bucket.push_back({h.cumulative[i], h.bounds[i]});
      }
      metric.histogram.bucket.push_back({h.count, std::numeric_limits<double>::infinity()});
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
  return sorted;
}

std::string renderPrometheus(const std::vector<Stat>& stats, bool used_only) {
  return prometheus::TextSerializer().Serialize(toFamilies(stats, used_only));
}

}  // namespace wslb::stats
