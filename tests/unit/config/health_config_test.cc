// Cluster health_checks, outlier_detection and the unhealthy_endpoint_drain_window metadata.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_util.h"
#include "wslb/config/loader.h"

namespace wslb::config {
namespace {

using testing::clusterYaml;
using ::testing::Contains;
using ::testing::ElementsAre;
using testing::errorsOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::loadClusters;
using testing::warningsOf;

constexpr std::string_view kHc = "static_resources.clusters[0].health_checks[0]";

// A cluster "c" with one health_checks entry made of `body` (flow-style keys, no braces).
LoadResult loadHealthCheck(std::string_view body) {
  return loadClusters(clusterYaml("c", "health_checks: [{" + std::string(body) + "}]"));
}

std::string hcPath(std::string_view rest) {
  return std::string(kHc) + std::string(rest);
}

constexpr std::string_view kMinimal =
    "timeout: 1s, interval: 2s, unhealthy_threshold: 3, healthy_threshold: 2, "
    "http_health_check: {path: /healthz}";

TEST(HealthCheckConfig, MinimalEntryTakesEnvoyDefaults) {
  LoadResult result = loadHealthCheck(kMinimal);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(errorsOf(result));
  EXPECT_THAT(warningsOf(result), IsEmpty());
  const Cluster& c = result.bootstrap->clusters.at(0);
  ASSERT_TRUE(c.health_check.has_value());
  const HealthCheck& hc = *c.health_check;
  EXPECT_EQ(hc.timeout, Duration(1000));
  EXPECT_EQ(hc.interval, Duration(2000));
  EXPECT_EQ(hc.unhealthy_threshold, 3u);
  EXPECT_EQ(hc.healthy_threshold, 2u);
  EXPECT_EQ(hc.path, "/healthz");
  EXPECT_EQ(hc.host, "");
  EXPECT_EQ(hc.no_traffic_interval, Duration(60000));
  EXPECT_FALSE(hc.unhealthy_interval.has_value());
  ASSERT_EQ(hc.expected_statuses.size(), 1u);
  EXPECT_EQ(hc.expected_statuses[0].start, 200u);
  EXPECT_EQ(hc.expected_statuses[0].end, 201u);
  EXPECT_TRUE(hc.retriable_statuses.empty());
  EXPECT_FALSE(c.outlier_detection.has_value());
}

TEST(HealthCheckConfig, EveryFieldIsRead) {
  LoadResult result = loadHealthCheck(
      "timeout: 0.5s, interval: 3s, unhealthy_threshold: 4, healthy_threshold: 5, "
      "initial_jitter: 0.1s, interval_jitter: 0.2s, interval_jitter_percent: 10, "
      "no_traffic_interval: 7s, no_traffic_healthy_interval: 8s, unhealthy_interval: 9s, "
      "unhealthy_edge_interval: 1.5s, healthy_edge_interval: 2.5s, reuse_connection: false, "
      "http_health_check: {path: /ready, host: health.local, method: GET, "
      "expected_statuses: [{start: 200, end: 300}, {start: 404, end: 405}], "
      "retriable_statuses: [{start: 503, end: 504}]}");
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(errorsOf(result));
  const HealthCheck& hc = *result.bootstrap->clusters.at(0).health_check;
  EXPECT_EQ(hc.initial_jitter, Duration(100));
  EXPECT_EQ(hc.interval_jitter, Duration(200));
  EXPECT_EQ(hc.interval_jitter_percent, 10u);
  EXPECT_EQ(hc.no_traffic_interval, Duration(7000));
  EXPECT_EQ(hc.no_traffic_healthy_interval, Duration(8000));
  EXPECT_EQ(hc.unhealthy_interval, Duration(9000));
  EXPECT_EQ(hc.unhealthy_edge_interval, Duration(1500));
  EXPECT_EQ(hc.healthy_edge_interval, Duration(2500));
  EXPECT_EQ(hc.host, "health.local");
  ASSERT_EQ(hc.expected_statuses.size(), 2u);
  EXPECT_EQ(hc.expected_statuses[0].start, 200u);
  EXPECT_EQ(hc.expected_statuses[0].end, 300u);
  EXPECT_EQ(hc.expected_statuses[1].start, 404u);
  EXPECT_EQ(hc.expected_statuses[1].end, 405u);
  ASSERT_EQ(hc.retriable_statuses.size(), 1u);
  EXPECT_EQ(hc.retriable_statuses[0].start, 503u);
}

TEST(HealthCheckConfig, RequiredFieldsAreNamed) {
  LoadResult result = loadHealthCheck("http_health_check: {}");
  EXPECT_THAT(errorsOf(result),
              ElementsAre(hcPath(".timeout: required field is missing"),
                          hcPath(".interval: required field is missing"),
                          hcPath(".unhealthy_threshold: required field is missing"),
                          hcPath(".healthy_threshold: required field is missing"),
                          hcPath(".http_health_check.path: required field is missing")));
}

TEST(HealthCheckConfig, ZeroDurationsAndThresholdsAreErrors) {
  LoadResult result = loadHealthCheck(
      "timeout: 0s, interval: 1s, unhealthy_threshold: 0, healthy_threshold: 1, "
      "http_health_check: {path: /}");
  EXPECT_THAT(errorsOf(result), ElementsAre(hcPath(".timeout: must be greater than 0s"),
                                            hcPath(".unhealthy_threshold: must be at least 1")));
}

TEST(HealthCheckConfig, OtherCheckersAreErrorsNamingTheirPath) {
  for (std::string checker : {"tcp_health_check", "grpc_health_check", "custom_health_check"}) {
    LoadResult result = loadHealthCheck(
        "timeout: 1s, interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1, " + checker +
        ": {}");
    EXPECT_THAT(errorsOf(result),
                ElementsAre(hcPath("." + checker + ": " + checker +
                                   " is not supported by wslb (supported: http_health_check)")))
        << checker;
  }
}

TEST(HealthCheckConfig, NoCheckerIsAnError) {
  LoadResult result =
      loadHealthCheck("timeout: 1s, interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].path, hcPath(".http_health_check"));
}

TEST(HealthCheckConfig, OnlyOneEntry) {
  const std::string entry = "{" + std::string(kMinimal) + "}";
  LoadResult result =
      loadClusters(clusterYaml("c", "health_checks: [" + entry + ", " + entry + "]"));
  EXPECT_THAT(errorsOf(result),
              ElementsAre("static_resources.clusters[0].health_checks[1]: only one "
                          "health_checks entry is supported"));
}

TEST(HealthCheckConfig, StatusRangesAreValidated) {
  const std::string base =
      "timeout: 1s, interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1, "
      "http_health_check: {path: /, expected_statuses: [";
  EXPECT_THAT(errorsOf(loadHealthCheck(base + "{start: 300, end: 200}]}")),
              ElementsAre(hcPath(".http_health_check.expected_statuses[0]: expecting start < end, "
                                 "but found start=300 and end=200")));
  EXPECT_THAT(errorsOf(loadHealthCheck(base + "{start: 99, end: 200}]}")),
              ElementsAre(hcPath(".http_health_check.expected_statuses[0].start: must be at "
                                 "least 100 (an HTTP status)")));
  EXPECT_THAT(errorsOf(loadHealthCheck(base + "{start: 200, end: 601}]}")),
              ElementsAre(hcPath(".http_health_check.expected_statuses[0].end: must be at most "
                                 "600 (one past the last HTTP status)")));
  EXPECT_THAT(errorsOf(loadHealthCheck(base + "{start: 200}]}")),
              ElementsAre(hcPath(".http_health_check.expected_statuses[0].end: required field is "
                                 "missing")));
}

TEST(HealthCheckConfig, UnsupportedHttpOptionsAreErrors) {
  const std::string base =
      "timeout: 1s, interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1, "
      "http_health_check: {path: /, ";
  EXPECT_THAT(errorsOf(loadHealthCheck(base + "method: POST}")),
              ElementsAre(hcPath(".http_health_check.method: POST is not supported by wslb "
                                 "(supported: GET)")));
  EXPECT_THAT(errorsOf(loadHealthCheck(base + "codec_client_type: HTTP2}")),
              ElementsAre(hcPath(".http_health_check.codec_client_type: HTTP2 is not supported "
                                 "by wslb (supported: HTTP1)")));
  EXPECT_THAT(errorsOf(loadHealthCheck(base + "receive: [{text: '00'}]}")),
              ElementsAre(hcPath(".http_health_check.receive: not supported by wslb")));
}

constexpr std::string_view kOd = "static_resources.clusters[0].outlier_detection";

LoadResult loadOutlier(std::string_view body) {
  return loadClusters(clusterYaml("c", "outlier_detection: {" + std::string(body) + "}"));
}

TEST(OutlierDetectionConfig, EmptyMappingTakesEnvoyDefaults) {
  LoadResult result = loadOutlier("");
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(errorsOf(result));
  ASSERT_TRUE(result.bootstrap->clusters.at(0).outlier_detection.has_value());
  const OutlierDetection& od = *result.bootstrap->clusters.at(0).outlier_detection;
  EXPECT_EQ(od.consecutive_5xx, 5u);
  EXPECT_EQ(od.consecutive_gateway_failure, 5u);
  EXPECT_EQ(od.enforcing_consecutive_5xx, 100u);
  EXPECT_EQ(od.enforcing_consecutive_gateway_failure, 0u);
  EXPECT_EQ(od.interval, Duration(10000));
  EXPECT_EQ(od.base_ejection_time, Duration(30000));
  EXPECT_EQ(od.max_ejection_time, Duration(300000));
  EXPECT_EQ(od.max_ejection_percent, 10u);
  EXPECT_FALSE(od.always_eject_one_host);
}

TEST(OutlierDetectionConfig, EveryFieldIsRead) {
  LoadResult result = loadOutlier(
      "consecutive_5xx: 3, consecutive_gateway_failure: 2, enforcing_consecutive_5xx: 50, "
      "enforcing_consecutive_gateway_failure: 100, interval: 1s, base_ejection_time: 2s, "
      "max_ejection_time: 20s, max_ejection_percent: 60, always_eject_one_host: true, "
      "split_external_local_origin_errors: false");
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(errorsOf(result));
  const OutlierDetection& od = *result.bootstrap->clusters.at(0).outlier_detection;
  EXPECT_EQ(od.consecutive_5xx, 3u);
  EXPECT_EQ(od.consecutive_gateway_failure, 2u);
  EXPECT_EQ(od.enforcing_consecutive_5xx, 50u);
  EXPECT_EQ(od.enforcing_consecutive_gateway_failure, 100u);
  EXPECT_EQ(od.interval, Duration(1000));
  EXPECT_EQ(od.base_ejection_time, Duration(2000));
  EXPECT_EQ(od.max_ejection_time, Duration(20000));
  EXPECT_EQ(od.max_ejection_percent, 60u);
  EXPECT_TRUE(od.always_eject_one_host);
}

TEST(OutlierDetectionConfig, BadValuesNameTheirPath) {
  const std::string od(kOd);
  EXPECT_THAT(errorsOf(loadOutlier("max_ejection_percent: 101")),
              ElementsAre(od + ".max_ejection_percent: must be at most 100"));
  EXPECT_THAT(errorsOf(loadOutlier("enforcing_consecutive_5xx: 200")),
              ElementsAre(od + ".enforcing_consecutive_5xx: must be at most 100"));
  EXPECT_THAT(errorsOf(loadOutlier("base_ejection_time: 0s")),
              ElementsAre(od + ".base_ejection_time: must be greater than 0s"));
  EXPECT_THAT(errorsOf(loadOutlier("split_external_local_origin_errors: true")),
              ElementsAre(od + ".split_external_local_origin_errors: true is not supported by "
                               "wslb"));
}

TEST(OutlierDetectionConfig, OtherDetectorsAreIgnoredWithAWarning) {
  LoadResult result = loadOutlier("enforcing_success_rate: 100, failure_percentage_threshold: 85");
  ASSERT_TRUE(result.ok());
  EXPECT_THAT(warningsOf(result),
              ElementsAre(std::string(kOd) + ".enforcing_success_rate: not supported by wslb; "
                                             "ignored",
                          std::string(kOd) + ".failure_percentage_threshold: not supported by "
                                             "wslb; ignored"));
}

TEST(UnhealthyEndpointDrainWindow, ReadFromWslbMetadata) {
  LoadResult result = loadClusters(clusterYaml(
      "c", "metadata: {filter_metadata: {wslb: {unhealthy_endpoint_drain_window: 4s}}}"));
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(errorsOf(result));
  EXPECT_EQ(result.bootstrap->clusters.at(0).unhealthy_endpoint_drain_window, Duration(4000));
  LoadResult unset = loadClusters(clusterYaml("c"));
  EXPECT_FALSE(unset.bootstrap->clusters.at(0).unhealthy_endpoint_drain_window.has_value());
}

}  // namespace
}  // namespace wslb::config
