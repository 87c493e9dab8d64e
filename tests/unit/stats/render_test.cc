#include "wslb/stats/render.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "wslb/stats/collect.h"

namespace wslb::stats {
namespace {

std::vector<Stat> sample() {
  return {
      {"cluster.ws.upstream_cx_active",
       "cluster.upstream_cx_active",
       {{"envoy_cluster_name", "ws"}},
       StatType::kGauge,
       3},
      {"cluster.ws.upstream_cx_total",
       "cluster.upstream_cx_total",
       {{"envoy_cluster_name", "ws"}},
       StatType::kCounter,
       0},
      {"cluster.ws.endpoint.10.0.0.1_80.cx_active",
       "cluster.endpoint.cx_active",
       {{"envoy_cluster_name", "ws"}, {"envoy_endpoint_address", "10.0.0.1:80"}},
       StatType::kGauge,
       2},
  };
}

TEST(Render, TextIsSortedNameValueLines) {
  EXPECT_EQ(renderText(sample()),
            "cluster.ws.endpoint.10.0.0.1_80.cx_active: 2\n"
            "cluster.ws.upstream_cx_active: 3\n"
            "cluster.ws.upstream_cx_total: 0\n");
}

TEST(Render, TextFilterAndUsedOnly) {
  TextOptions o;
  o.filter.emplace("cx_active$");
  EXPECT_EQ(renderText(sample(), o),
            "cluster.ws.endpoint.10.0.0.1_80.cx_active: 2\ncluster.ws.upstream_cx_active: 3\n");
  TextOptions used;
  used.used_only = true;
  EXPECT_EQ(renderText(sample(), used).find("upstream_cx_total"), std::string::npos);
}

TEST(Render, AnchoredLiteralPrefixOfAFilter) {
  EXPECT_EQ(anchoredLiteralPrefix("^cluster\\.pods\\.update_"), "cluster.pods.update_");
  EXPECT_EQ(anchoredLiteralPrefix("^http\\.ingress_ws\\.downstream_cx_(total|active)$"),
            "http.ingress_ws.downstream_cx_");
  EXPECT_EQ(anchoredLiteralPrefix("^cluster\\.a.*total$"), "cluster.a");
  EXPECT_EQ(anchoredLiteralPrefix("^clusters?\\."), "cluster");  // 's' is optional
  EXPECT_EQ(anchoredLiteralPrefix("^ab*c"), "a");
  EXPECT_EQ(anchoredLiteralPrefix("^ab+c"), "ab");
  EXPECT_EQ(anchoredLiteralPrefix("^ab{0,2}"), "a");
  EXPECT_EQ(anchoredLiteralPrefix("^a\\dx"), "a");  // \d is a class, not a 'd'
  EXPECT_EQ(anchoredLiteralPrefix("^[ab]c"), "");
  EXPECT_EQ(anchoredLiteralPrefix("cluster\\."), "");            // not anchored
  EXPECT_EQ(anchoredLiteralPrefix("^cluster\\.a|^server"), "");  // alternation
  EXPECT_EQ(anchoredLiteralPrefix("^a\\|b"), "a|b");             // an escaped '|' is literal
  EXPECT_EQ(anchoredLiteralPrefix(""), "");
}

// The prefix shortcut never changes what a filter keeps: every pattern, on every name, agrees
// with a plain regex search.
TEST(Render, FilterWithItsPrefixKeepsWhatTheRegexAloneKeeps) {
  const std::vector<std::string> names = {
      "cluster.pods.update_success",
      "cluster.pods.update_time",
      "cluster.podsx.update_success",
      "clusters.pods",
      "cluster.a.cx_total",
      "cluster.ab",
      "a|b",
      "ab",
      "abbc",
      "ac",
      "a1x",
      "server.live",
      "http.ingress_ws.downstream_cx_total",
      "http.ingress_ws.downstream_cx_rx",
  };
  const std::vector<std::string> patterns = {
      "^cluster\\.pods\\.update_",
      "^cluster\\.a.*total$",
      "^clusters?\\.",
      "^ab*c",
      "^ab+c",
      "^ab{0,2}",
      "^a\\dx",
      "^[ab]c",
      "cluster\\.",
      "^cluster\\.a|^server",
      "^a\\|b",
      "^http\\.ingress_ws\\.downstream_cx_(total|active)$",
      "update_time$",
  };
  for (const auto& pattern : patterns) {
    std::vector<Stat> stats;
    for (const auto& name : names) stats.push_back({name, name, {}, StatType::kCounter, 1});
    TextOptions o;
    o.filter.emplace(pattern, std::regex::ECMAScript);
    o.filter_prefix = anchoredLiteralPrefix(pattern);
    keepSelected(stats, o);
    std::vector<std::string> kept;
    for (const auto& s : stats) kept.push_back(s.flat_name);
    std::vector<std::string> expected;
    for (const auto& name : names) {
      if (std::regex_search(name, *o.filter)) expected.push_back(name);
    }
    EXPECT_EQ(kept, expected) << pattern;
  }
}

TEST(Render, PrometheusNamesTypesAndLabels) {
  const auto text = renderPrometheus(sample());
  EXPECT_NE(text.find("# TYPE envoy_cluster_upstream_cx_active gauge\n"
                      "envoy_cluster_upstream_cx_active{envoy_cluster_name=\"ws\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE envoy_cluster_upstream_cx_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("envoy_cluster_endpoint_cx_active{envoy_cluster_name=\"ws\","
                      "envoy_endpoint_address=\"10.0.0.1:80\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(renderPrometheus(sample(), true).find("upstream_cx_total"), std::string::npos);
}

TEST(Render, PrometheusNameSanitisation) {
  EXPECT_EQ(prometheusName("vulture.eats-liver"), "envoy_vulture_eats_liver");
  EXPECT_EQ(prometheusName("cluster.circuit_breakers.default.cx_open"),
            "envoy_cluster_circuit_breakers_default_cx_open");
  EXPECT_EQ(sanitizeForStatName("10.0.0.1:8080"), "10.0.0.1_8080");
}

}  // namespace
}  // namespace wslb::stats
