// type: EDS clusters, their eds_config sources and dynamic_resources.ads_config.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_util.h"

namespace wslb::config {
namespace {

using ::testing::ElementsAre;
using testing::endpointYaml;
using testing::errorsOf;
using ::testing::IsEmpty;
using testing::warningsOf;

// A static xDS cluster plus `eds` (a cluster mapping), and `extra` top-level YAML.
LoadResult loadEds(const std::string& eds, const std::string& extra = "") {
  return loadBootstrapFromString(extra + R"(
static_resources:
  clusters:
  - name: xds_cluster
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
    load_assignment:
      cluster_name: xds_cluster
      endpoints: [{lb_endpoints: [)" +
                                 endpointYaml(18000) + R"(]}]
  - )" + eds + "\n");
}

const Cluster& edsCluster(const LoadResult& r) {
  return r.bootstrap->clusters.at(1);
}

TEST(EdsConfigTest, GrpcSourceWithEveryKnob) {
  LoadResult r = loadEds(R"({name: pods, type: EDS, eds_cluster_config: {service_name: svc,
      eds_config: {resource_api_version: V3, initial_fetch_timeout: 2s, api_config_source: {
        api_type: GRPC, transport_api_version: V3, set_node_on_first_message_only: true,
        grpc_services: [{timeout: 30s, envoy_grpc: {cluster_name: xds_cluster,
          retry_policy: {retry_back_off: {base_interval: 0.1s, max_interval: 2s}}}}]}}},
      metadata: {filter_metadata: {wslb: {removed_endpoint_drain_timeout: 10s,
                                          removed_endpoint_drain_window: 3s}}}})");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), IsEmpty());
  const Cluster& c = edsCluster(r);
  EXPECT_EQ(c.type, Cluster::Type::kEds);
  EXPECT_EQ(c.edsResourceName(), "svc");
  const ConfigSource& s = c.eds.eds_config;
  EXPECT_EQ(s.kind, ConfigSource::Kind::kApi);
  EXPECT_EQ(s.initial_fetch_timeout, Duration(2000));
  EXPECT_EQ(s.api.api_type, ApiConfigSource::ApiType::kGrpc);
  EXPECT_EQ(s.api.cluster_name, "xds_cluster");
  EXPECT_EQ(s.api.retry_base_interval, Duration(100));
  EXPECT_EQ(s.api.retry_max_interval, Duration(2000));
  EXPECT_EQ(s.api.grpc_timeout, Duration(30000));
  EXPECT_TRUE(s.api.set_node_on_first_message_only);
  EXPECT_EQ(c.removed_endpoint_drain_timeout, Duration(10000));
  EXPECT_EQ(c.removed_endpoint_drain_window, Duration(3000));
}

TEST(EdsConfigTest, DefaultsFollowEnvoy) {
  LoadResult r = loadEds(R"({name: pods, type: EDS, eds_cluster_config: {eds_config: {
      api_config_source: {api_type: DELTA_GRPC,
                          grpc_services: [{envoy_grpc: {cluster_name: xds_cluster}}]}}}})");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  const Cluster& c = edsCluster(r);
  EXPECT_EQ(c.edsResourceName(), "pods");
  EXPECT_EQ(c.eds.eds_config.initial_fetch_timeout, Duration(15000));
  EXPECT_EQ(c.eds.eds_config.api.api_type, ApiConfigSource::ApiType::kDeltaGrpc);
  EXPECT_EQ(c.eds.eds_config.api.retry_base_interval, Duration(500));
  EXPECT_EQ(c.eds.eds_config.api.retry_max_interval, Duration(30000));
  EXPECT_FALSE(c.removed_endpoint_drain_timeout.has_value());
}

TEST(EdsConfigTest, RestSource) {
  LoadResult r = loadEds(R"({name: pods, type: EDS, eds_cluster_config: {eds_config: {
      api_config_source: {api_type: REST, cluster_names: [xds_cluster], refresh_delay: 0.2s,
                          request_timeout: 3s}}}})");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  const ApiConfigSource& api = edsCluster(r).eds.eds_config.api;
  EXPECT_EQ(api.api_type, ApiConfigSource::ApiType::kRest);
  EXPECT_EQ(api.cluster_name, "xds_cluster");
  EXPECT_EQ(api.refresh_delay, Duration(200));
  EXPECT_EQ(api.request_timeout, Duration(3000));
}

TEST(EdsConfigTest, RestNeedsARefreshDelayAndOneCluster) {
  EXPECT_THAT(errorsOf(loadEds(R"({name: pods, type: EDS, eds_cluster_config: {eds_config: {
      api_config_source: {api_type: REST, cluster_names: [xds_cluster, other]}}}})")),
              ElementsAre("static_resources.clusters[1].eds_cluster_config.eds_config."
                          "api_config_source.cluster_names: exactly one cluster name is required",
                          "static_resources.clusters[1].eds_cluster_config.eds_config."
                          "api_config_source.refresh_delay: required for api_type REST"));
}

TEST(EdsConfigTest, PathSources) {
  LoadResult r = loadEds(R"({name: pods, type: EDS, eds_cluster_config: {eds_config: {
      path_config_source: {path: /etc/eds/eds.yaml, watched_directory: {path: /etc/eds}}}}})");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(edsCluster(r).eds.eds_config.kind, ConfigSource::Kind::kPath);
  EXPECT_EQ(edsCluster(r).eds.eds_config.path, "/etc/eds/eds.yaml");
  EXPECT_EQ(edsCluster(r).eds.eds_config.watched_directory, "/etc/eds");
  LoadResult old = loadEds(
      "{name: pods, type: EDS, eds_cluster_config: {eds_config: "
      "{path: /etc/eds.json}}}");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(edsCluster(old).eds.eds_config.path, "/etc/eds.json");
  EXPECT_TRUE(edsCluster(old).eds.eds_config.watched_directory.empty());
}

TEST(EdsConfigTest, AdsSourceNeedsAdsConfig) {
  const std::string cluster =
      "{name: pods, type: EDS, eds_cluster_config: {eds_config: {ads: {}}}}";
  EXPECT_THAT(errorsOf(loadEds(cluster)),
              ElementsAre("static_resources.clusters[1].eds_cluster_config.eds_config.ads: "
                          "dynamic_resources.ads_config is required for ads sources"));
  LoadResult r = loadEds(cluster, R"(
dynamic_resources:
  ads_config:
    api_type: AGGREGATED_DELTA_GRPC
    transport_api_version: V3
    grpc_services: [{envoy_grpc: {cluster_name: xds_cluster}}]
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  ASSERT_TRUE(r.bootstrap->dynamic_resources.ads_config.has_value());
  EXPECT_EQ(r.bootstrap->dynamic_resources.ads_config->api_type,
            ApiConfigSource::ApiType::kDeltaGrpc);
  EXPECT_EQ(edsCluster(r).eds.eds_config.kind, ConfigSource::Kind::kAds);
}

TEST(EdsConfigTest, AdsConfigIsNotRest) {
  EXPECT_THAT(errorsOf(loadBootstrapFromString(
                  "dynamic_resources: {ads_config: {api_type: REST, cluster_names: [x]}}")),
              ElementsAre(::testing::StartsWith("dynamic_resources.ads_config.api_type: REST is "
                                                "not supported by wslb"),
                          ::testing::StartsWith("dynamic_resources.ads_config.grpc_services:"),
                          ::testing::StartsWith("dynamic_resources.ads_config.cluster_names:")));
}

TEST(EdsConfigTest, TheXdsClusterMustBeAStaticClusterWithEndpoints) {
  EXPECT_THAT(
      errorsOf(loadEds(R"({name: pods, type: EDS, eds_cluster_config: {eds_config: {
      api_config_source: {api_type: GRPC, grpc_services: [{envoy_grpc: {cluster_name: nope}}]}}}})")),
      ElementsAre("static_resources.clusters[1].eds_cluster_config.eds_config.api_config_source: "
                  "unknown cluster \"nope\": xDS needs a static cluster of that name"));
  EXPECT_THAT(
      errorsOf(loadEds(R"({name: pods, type: EDS, eds_cluster_config: {eds_config: {
      api_config_source: {api_type: GRPC, grpc_services: [{envoy_grpc: {cluster_name: pods}}]}}}})")),
      ElementsAre("static_resources.clusters[1].eds_cluster_config.eds_config.api_config_source: "
                  "cluster \"pods\" must be a STATIC cluster (it carries xDS)"));
}

TEST(EdsConfigTest, BadSourcesAreErrorsWithTheirPath) {
  const std::string prefix = "static_resources.clusters[1].";
  EXPECT_THAT(errorsOf(loadEds("{name: pods, type: EDS}")),
              ElementsAre(prefix + "eds_cluster_config: required for clusters of type EDS"));
  EXPECT_THAT(errorsOf(loadEds("{name: pods, eds_cluster_config: {eds_config: {ads: {}}}}")),
              ElementsAre(prefix + "eds_cluster_config: only valid for clusters of type EDS"));
  EXPECT_THAT(errorsOf(loadEds("{name: pods, type: EDS, eds_cluster_config: {eds_config: {}}}")),
              ElementsAre(prefix + "eds_cluster_config.eds_config: one of api_config_source, ads, "
                                   "path or path_config_source is required"));
  EXPECT_THAT(
      errorsOf(loadEds("{name: pods, type: EDS, eds_cluster_config: {eds_config: "
                       "{path: /a.yaml, resource_api_version: V2}}}")),
      ElementsAre(::testing::StartsWith(
          prefix + "eds_cluster_config.eds_config.resource_api_version: V2 is not supported")));
  EXPECT_THAT(
      errorsOf(loadEds("{name: pods, type: EDS, eds_cluster_config: {eds_config: "
                       "{path: /a.yaml, ads: {}}}}")),
      ElementsAre(prefix + "eds_cluster_config.eds_config: only one of api_config_source, ads, "
                           "path and path_config_source may be set"));
  EXPECT_THAT(errorsOf(loadEds(R"({name: pods, type: EDS, eds_cluster_config: {eds_config: {
      api_config_source: {api_type: GRPC, grpc_services: [{google_grpc: {target_uri: x}}]}}}})")),
              ElementsAre(prefix + "eds_cluster_config.eds_config.api_config_source."
                                   "grpc_services[0].google_grpc: not supported by wslb"));
  EXPECT_THAT(errorsOf(loadEds(R"({name: pods, type: EDS, eds_cluster_config: {eds_config: {
      api_config_source: {api_type: GRPC}}}})")),
              ElementsAre(prefix + "eds_cluster_config.eds_config.api_config_source."
                                   "grpc_services: required field is missing"));
}

TEST(EdsConfigTest, LoadAssignmentOfAnEdsClusterIsIgnored) {
  LoadResult r = loadEds(
      "{name: pods, type: EDS, eds_cluster_config: {eds_config: "
      "{path: /a.yaml}}, load_assignment: {endpoints: []}}");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(warningsOf(r),
              ::testing::Contains("static_resources.clusters[1].load_assignment: ignored for "
                                  "clusters of type EDS (endpoints come from EDS)"));
  EXPECT_THAT(edsCluster(r).endpoints, IsEmpty());
}

}  // namespace
}  // namespace wslb::config
