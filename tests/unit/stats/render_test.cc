#include "wslb/stats/render.h"

#include <gtest/gtest.h>

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
