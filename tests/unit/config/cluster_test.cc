#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_util.h"
#include "wslb/config/loader.h"

namespace wslb::config {
namespace {

using testing::clusterYaml;
using ::testing::Contains;
using ::testing::ElementsAre;
using testing::endpointYaml;
using testing::errorsOf;
using ::testing::IsEmpty;
using testing::loadClusters;
using testing::warningsOf;

constexpr std::string_view kFullCluster = R"(
static_resources:
  clusters:
  - name: backend
    type: STATIC
    connect_timeout: 0.25s
    lb_policy: ROUND_ROBIN
    metadata:
      filter_metadata:
        wslb: { pending_timeout: 2.5s }
        envoy.lb: { anything: [1, 2] }
    circuit_breakers:
      thresholds:
      - priority: DEFAULT
        max_connections: 10
        max_pending_requests: 11
        max_requests: 12
        max_retries: 13
        track_remaining: true
      - priority: HIGH
        max_connections: 20
        max_pending_requests: 21
        max_requests: 22
        max_retries: 23
      per_host_thresholds:
      - priority: DEFAULT
        max_connections: 7
    load_assignment:
      cluster_name: backend
      endpoints:
      - locality: { region: eu, zone: a }
        lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 10.0.0.1, port_value: 8080, protocol: TCP }
            hostname: pod-a
          health_status: HEALTHY
          load_balancing_weight: 3
          metadata:
            filter_metadata:
              wslb: { max_connections: 5 }
        - endpoint:
            address:
              socket_address: { address: "0:0:0:0:0:0:0:1", port_value: "65535" }
          health_status: DRAINING
      - priority: 1
        lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 10.0.0.2, port_value: 1 }
          health_status: DEGRADED
        - endpoint: { address: { socket_address: { address: 10.0.0.3, port_value: 2 } } }
          health_status: UNHEALTHY
        - endpoint: { address: { socket_address: { address: 10.0.0.4, port_value: 3 } } }
          health_status: TIMEOUT
        - endpoint: { address: { socket_address: { address: 10.0.0.5, port_value: 4 } } }
          health_status: UNKNOWN
)";

TEST(ClusterTest, ParsesEverySupportedField) {
  LoadResult r = loadBootstrapFromString(kFullCluster);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), IsEmpty());
  ASSERT_EQ(r.bootstrap->clusters.size(), 1u);
  const Cluster& c = r.bootstrap->clusters[0];
  EXPECT_EQ(c.name, "backend");
  EXPECT_EQ(c.type, Cluster::Type::kStatic);
  EXPECT_EQ(c.connect_timeout, Duration(250));
  EXPECT_EQ(c.lb_policy, LbPolicy::kRoundRobin);
  EXPECT_EQ(c.pending_timeout, Duration(2500));

  EXPECT_EQ(c.default_thresholds.priority, Thresholds::Priority::kDefault);
  EXPECT_EQ(c.default_thresholds.max_connections, 10u);
  EXPECT_EQ(c.default_thresholds.max_pending_requests, 11u);
  EXPECT_EQ(c.default_thresholds.max_requests, 12u);
  EXPECT_EQ(c.default_thresholds.max_retries, 13u);
  EXPECT_TRUE(c.default_thresholds.track_remaining);
  ASSERT_TRUE(c.high_thresholds.has_value());
  EXPECT_EQ(c.high_thresholds->priority, Thresholds::Priority::kHigh);
  EXPECT_EQ(c.high_thresholds->max_connections, 20u);
  EXPECT_EQ(c.high_thresholds->max_pending_requests, 21u);
  EXPECT_EQ(c.high_thresholds->max_requests, 22u);
  EXPECT_EQ(c.high_thresholds->max_retries, 23u);
  EXPECT_FALSE(c.high_thresholds->track_remaining);
  EXPECT_EQ(c.per_host_max_connections, 7u);

  ASSERT_EQ(c.endpoints.size(), 6u);
  const Endpoint& a = c.endpoints[0];
  EXPECT_EQ(a.address.address, "10.0.0.1");
  EXPECT_EQ(a.address.port, 8080u);
  EXPECT_EQ(a.hostname, "pod-a");
  EXPECT_EQ(a.health, HealthStatus::kHealthy);
  EXPECT_EQ(a.weight, 3u);
  EXPECT_EQ(a.max_connections, 5u);
  EXPECT_EQ(a.priority, 0u);

  const Endpoint& b = c.endpoints[1];
  EXPECT_EQ(b.address.address, "::1");  // canonical form
  EXPECT_EQ(b.address.port, 65535u);
  EXPECT_EQ(b.hostname, "");
  EXPECT_EQ(b.health, HealthStatus::kDraining);
  EXPECT_EQ(b.weight, 1u);
  EXPECT_FALSE(b.max_connections.has_value());

  EXPECT_EQ(c.endpoints[2].priority, 1u);
  EXPECT_EQ(c.endpoints[2].health, HealthStatus::kDegraded);
  EXPECT_EQ(c.endpoints[3].health, HealthStatus::kUnhealthy);
  EXPECT_EQ(c.endpoints[4].health, HealthStatus::kTimeout);
  EXPECT_EQ(c.endpoints[5].health, HealthStatus::kUnknown);
  EXPECT_EQ(c.endpoints[5].address.port, 4u);
}

TEST(ClusterTest, Defaults) {
  LoadResult r = loadClusters(clusterYaml("c"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), IsEmpty());
  const Cluster& c = r.bootstrap->clusters[0];
  EXPECT_EQ(c.type, Cluster::Type::kStatic);
  EXPECT_EQ(c.connect_timeout, Duration(5000));
  EXPECT_EQ(c.lb_policy, LbPolicy::kLeastRequest);
  EXPECT_EQ(c.default_thresholds.max_connections, 1024u);
  EXPECT_EQ(c.default_thresholds.max_pending_requests, 1024u);
  EXPECT_EQ(c.default_thresholds.max_requests, 1024u);
  EXPECT_EQ(c.default_thresholds.max_retries, 3u);
  EXPECT_FALSE(c.default_thresholds.track_remaining);
  EXPECT_FALSE(c.high_thresholds.has_value());
  EXPECT_EQ(c.per_host_max_connections, kUnlimited);
  EXPECT_FALSE(c.pending_timeout.has_value());
  ASSERT_EQ(c.endpoints.size(), 1u);
  EXPECT_EQ(c.endpoints[0].weight, 1u);
  EXPECT_EQ(c.endpoints[0].health, HealthStatus::kUnknown);
  EXPECT_EQ(c.endpoints[0].priority, 0u);
  EXPECT_FALSE(c.endpoints[0].max_connections.has_value());
}

TEST(ClusterTest, PartialThresholdsKeepEnvoyDefaults) {
  LoadResult r =
      loadClusters(clusterYaml("c",
                               "circuit_breakers: {thresholds: [{max_pending_requests: 0}], "
                               "per_host_thresholds: [{}]}"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  const Cluster& c = r.bootstrap->clusters[0];
  EXPECT_EQ(c.default_thresholds.max_connections, 1024u);
  EXPECT_EQ(c.default_thresholds.max_pending_requests, 0u);
  EXPECT_EQ(c.default_thresholds.max_retries, 3u);
  EXPECT_EQ(c.per_host_max_connections, kUnlimited);
}

TEST(ClusterTest, ClusterWithoutEndpointsIsValid) {
  LoadResult r = loadClusters("{name: empty}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_TRUE(r.bootstrap->clusters[0].endpoints.empty());
}

TEST(ClusterTest, NameIsRequiredAndUnique) {
  EXPECT_THAT(errorsOf(loadClusters("{type: STATIC}")),
              ElementsAre("static_resources.clusters[0].name: required field is missing"));
  EXPECT_THAT(errorsOf(loadClusters("{name: ''}")),
              ElementsAre("static_resources.clusters[0].name: must not be empty"));
  EXPECT_THAT(errorsOf(loadClusters("{name: a}, {name: b}, {name: a}")),
              ElementsAre("static_resources.clusters[2].name: duplicate cluster name \"a\""));
}

TEST(ClusterTest, OnlyStaticAndEdsClustersAreSupported) {
  for (std::string type : {"STRICT_DNS", "LOGICAL_DNS", "ORIGINAL_DST"}) {
    EXPECT_THAT(errorsOf(loadClusters(clusterYaml("c", "type: " + type))),
                ElementsAre("static_resources.clusters[0].type: " + type +
                            " is not supported by wslb (supported: STATIC, EDS)"));
  }
  EXPECT_THAT(errorsOf(loadClusters(clusterYaml("c", "type: strict_dns"))),
              ElementsAre("static_resources.clusters[0].type: STRICT_DNS is not supported by wslb "
                          "(supported: STATIC, EDS)"));
  EXPECT_THAT(errorsOf(loadClusters(clusterYaml("c", "type: STATIK"))),
              ElementsAre("static_resources.clusters[0].type: unknown value \"STATIK\"; expected "
                          "one of STATIC, EDS"));
  EXPECT_TRUE(loadClusters(clusterYaml("c", "type: static")).ok());
}

TEST(ClusterTest, LbPolicies) {
  for (auto [name, policy] :
       std::vector<std::pair<std::string, LbPolicy>>{{"LEAST_REQUEST", LbPolicy::kLeastRequest},
                                                     {"ROUND_ROBIN", LbPolicy::kRoundRobin},
                                                     {"RANDOM", LbPolicy::kRandom}}) {
    LoadResult r = loadClusters(clusterYaml("c", "lb_policy: " + name));
    ASSERT_TRUE(r.ok()) << name;
    EXPECT_EQ(r.bootstrap->clusters[0].lb_policy, policy) << name;
  }
  for (std::string name : {"RING_HASH", "MAGLEV", "CLUSTER_PROVIDED"}) {
    EXPECT_THAT(errorsOf(loadClusters(clusterYaml("c", "lb_policy: " + name))),
                ElementsAre("static_resources.clusters[0].lb_policy: " + name +
                            " is not supported by wslb (supported: LEAST_REQUEST, ROUND_ROBIN, "
                            "RANDOM)"));
  }
}

TEST(ClusterTest, ConnectTimeoutMustBePositive) {
  EXPECT_THAT(errorsOf(loadClusters(clusterYaml("c", "connect_timeout: 0s"))),
              ElementsAre("static_resources.clusters[0].connect_timeout: must be greater than 0s"));
}

constexpr std::string_view kEndpoint0 =
    "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0]";

LoadResult loadEndpoints(std::string_view lb_endpoints) {
  return loadClusters("{name: c, load_assignment: {endpoints: [{lb_endpoints: [" +
                      std::string(lb_endpoints) + "]}]}}");
}

LoadResult loadSocketAddress(std::string_view socket_address) {
  return loadEndpoints("{endpoint: {address: {socket_address: {" + std::string(socket_address) +
                       "}}}}");
}

TEST(EndpointTest, HealthCheckConfigPortValue) {
  const std::string address = "address: {socket_address: {address: 10.0.0.1, port_value: 80}}";
  LoadResult r = loadEndpoints("{endpoint: {" + address +
                               ", health_check_config: {port_value: 8081}}}, {endpoint: {"
                               "address: {socket_address: {address: 10.0.0.2, port_value: 80}}}}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), IsEmpty());
  EXPECT_EQ(r.bootstrap->clusters[0].endpoints[0].health_check_port, 8081u);
  EXPECT_EQ(r.bootstrap->clusters[0].endpoints[1].health_check_port, 0u);  // the serving port

  const std::string path = std::string(kEndpoint0) + ".endpoint.health_check_config";
  EXPECT_THAT(errorsOf(loadEndpoints("{endpoint: {" + address +
                                     ", health_check_config: {port_value: 65536}}}")),
              ElementsAre(path + ".port_value: port 65536 is not allowed (0-65535)"));
  // Envoy's other fields are not supported: ignored with a warning.
  r = loadEndpoints("{endpoint: {" + address +
                    ", health_check_config: {port_value: 9, hostname: h, address: "
                    "{socket_address: {address: 10.0.0.9, port_value: 1}}}}}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(r.bootstrap->clusters[0].endpoints[0].health_check_port, 9u);
  EXPECT_THAT(warningsOf(r), ElementsAre(path + ".hostname: not supported by wslb; ignored",
                                         path + ".address: not supported by wslb; ignored"));
}

TEST(EndpointTest, AddressMustBeAnIpLiteral) {
  EXPECT_THAT(errorsOf(loadSocketAddress("address: backend.local, port_value: 80")),
              ElementsAre(std::string(kEndpoint0) +
                          ".endpoint.address.socket_address.address: expected an IP address (v4 "
                          "or v6), got \"backend.local\""));
  EXPECT_THAT(errorsOf(loadSocketAddress("address: 10.0.0.256, port_value: 80")),
              ElementsAre(std::string(kEndpoint0) +
                          ".endpoint.address.socket_address.address: expected an IP address (v4 "
                          "or v6), got \"10.0.0.256\""));
  EXPECT_THAT(errorsOf(loadSocketAddress("port_value: 80")),
              ElementsAre(std::string(kEndpoint0) +
                          ".endpoint.address.socket_address.address: required field is missing"));
}

TEST(EndpointTest, PortMustBeFrom1To65535) {
  const std::string path = std::string(kEndpoint0) + ".endpoint.address.socket_address.port_value";
  EXPECT_THAT(errorsOf(loadSocketAddress("address: 10.0.0.1, port_value: 0")),
              ElementsAre(path + ": expected a port number from 1 to 65535"));
  EXPECT_THAT(errorsOf(loadSocketAddress("address: 10.0.0.1, port_value: 65536")),
              ElementsAre(path + ": expected a port number from 1 to 65535"));
  EXPECT_THAT(errorsOf(loadSocketAddress("address: 10.0.0.1")),
              ElementsAre(path + ": required field is missing"));
  EXPECT_THAT(errorsOf(loadSocketAddress("address: 10.0.0.1, port_value: -80")),
              ElementsAre(path + ": expected an unsigned integer"));
}

TEST(EndpointTest, OnlyTcpAndPlainSocketAddresses) {
  const std::string path = std::string(kEndpoint0) + ".endpoint.address";
  EXPECT_THAT(errorsOf(loadSocketAddress("address: 10.0.0.1, port_value: 80, protocol: UDP")),
              ElementsAre(path + ".socket_address.protocol: UDP is not supported by wslb "
                                 "(supported: TCP)"));
  EXPECT_THAT(errorsOf(loadSocketAddress("address: 10.0.0.1, named_port: http")),
              ElementsAre(path + ".socket_address.named_port: not supported by wslb"));
  EXPECT_THAT(errorsOf(loadEndpoints("{endpoint: {address: {pipe: {path: /tmp/x}}}}")),
              ElementsAre(path + ".pipe: not supported by wslb"));
  EXPECT_THAT(errorsOf(loadEndpoints("{endpoint: {address: {}}}")),
              ElementsAre(path + ".socket_address: required field is missing"));
  EXPECT_THAT(errorsOf(loadEndpoints("{endpoint: {hostname: x}}")),
              ElementsAre(std::string(kEndpoint0) + ".endpoint.address: required field is "
                                                    "missing"));
}

TEST(EndpointTest, DuplicateEndpointIsAnError) {
  EXPECT_THAT(
      errorsOf(loadEndpoints(endpointYaml(9001) + ", " + endpointYaml(9002) + ", " +
                             endpointYaml(9001))),
      ElementsAre("static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[2]."
                  "endpoint.address: duplicate endpoint 127.0.0.1:9001"));
  // Same address spelled differently, in another locality group.
  LoadResult r = loadClusters(
      "{name: c, load_assignment: {endpoints: ["
      "{lb_endpoints: [{endpoint: {address: {socket_address: {address: '::1', port_value: 80}}}}]},"
      "{priority: 1, lb_endpoints: [{endpoint: {address: {socket_address: {address: "
      "'0::0:1', port_value: 80}}}}]}]}}");
  EXPECT_THAT(errorsOf(r),
              ElementsAre("static_resources.clusters[0].load_assignment.endpoints[1]."
                          "lb_endpoints[0].endpoint.address: duplicate endpoint ::1:80"));
}

TEST(EndpointTest, SameEndpointInTwoClustersIsFine) {
  EXPECT_TRUE(loadClusters(clusterYaml("a") + ", " + clusterYaml("b")).ok());
}

TEST(EndpointTest, WeightMustBeAtLeastOne) {
  EXPECT_THAT(errorsOf(loadEndpoints(endpointYaml(9001, "load_balancing_weight: 0"))),
              ElementsAre(std::string(kEndpoint0) + ".load_balancing_weight: must be at least 1"));
}

TEST(EndpointTest, UnknownHealthStatus) {
  EXPECT_THAT(
      errorsOf(loadEndpoints(endpointYaml(9001, "health_status: SICK"))),
      ElementsAre(std::string(kEndpoint0) +
                  ".health_status: unknown value \"SICK\"; expected one of UNKNOWN, HEALTHY, "
                  "UNHEALTHY, DRAINING, TIMEOUT, DEGRADED"));
}

TEST(EndpointTest, MaxConnectionsMetadata) {
  EXPECT_THAT(errorsOf(loadEndpoints(endpointYaml(
                  9001, "metadata: {filter_metadata: {wslb: {max_connections: -5}}}"))),
              ElementsAre(std::string(kEndpoint0) +
                          ".metadata.filter_metadata.wslb.max_connections: expected an unsigned "
                          "integer"));
  LoadResult r =
      loadEndpoints(endpointYaml(9001,
                                 "metadata: {filter_metadata: {wslb: {max_connections: 0, "
                                 "max_conns: 3}, other: {x: 1}}}"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(r.bootstrap->clusters[0].endpoints[0].max_connections, 0u);
  EXPECT_THAT(warningsOf(r),
              ElementsAre(std::string(kEndpoint0) +
                          ".metadata.filter_metadata.wslb.max_conns: unknown key; ignored"));
  EXPECT_THAT(errorsOf(loadEndpoints(endpointYaml(9001, "metadata: {filter_metadata: {x: 1}}"))),
              ElementsAre(std::string(kEndpoint0) + ".metadata.filter_metadata.x: expected a "
                                                    "mapping"));
}

TEST(EndpointTest, PriorityAtMost128) {
  EXPECT_THAT(
      errorsOf(loadClusters("{name: c, load_assignment: {endpoints: [{priority: 129}]}}")),
      ElementsAre("static_resources.clusters[0].load_assignment.endpoints[0].priority: must be "
                  "at most 128"));
}

TEST(EndpointTest, LocalityWeightIsAcceptedWithAWarning) {
  LoadResult r = loadClusters(
      "{name: c, load_assignment: {cluster_name: c, endpoints: [{load_balancing_weight: 5, "
      "locality: {zone: a}, lb_endpoints: [" +
      endpointYaml(9001) + "]}]}}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r),
              ElementsAre("static_resources.clusters[0].load_assignment.endpoints[0]."
                          "load_balancing_weight: locality weights are not supported by wslb; "
                          "ignored"));
}

TEST(CircuitBreakersTest, PerHostThresholdsTakeOnlyMaxConnections) {
  const std::string path = "static_resources.clusters[0].circuit_breakers.per_host_thresholds";
  EXPECT_THAT(
      errorsOf(
          loadClusters(clusterYaml("c",
                                   "circuit_breakers: {per_host_thresholds: [{max_connections: 1, "
                                   "max_pending_requests: 2, max_requests: 3}]}"))),
      ElementsAre(path + "[0].max_pending_requests: not supported in per_host_thresholds: Envoy "
                         "supports only max_connections there",
                  path + "[0].max_requests: not supported in per_host_thresholds: Envoy supports "
                         "only max_connections there"));
  EXPECT_THAT(errorsOf(loadClusters(clusterYaml(
                  "c", "circuit_breakers: {per_host_thresholds: [{max_connections: 'x'}]}"))),
              ElementsAre(path + "[0].max_connections: expected an unsigned integer"));
  EXPECT_THAT(
      errorsOf(loadClusters(clusterYaml("c",
                                        "circuit_breakers: {per_host_thresholds: [{priority: HIGH, "
                                        "max_connections: 1}]}"))),
      ElementsAre(path + "[0].priority: HIGH is not supported by wslb in "
                         "per_host_thresholds (supported: DEFAULT)"));
  EXPECT_THAT(errorsOf(loadClusters(
                  clusterYaml("c",
                              "circuit_breakers: {per_host_thresholds: [{max_connections: 1}, "
                              "{max_connections: 2}]}"))),
              ElementsAre(path + "[1]: only one per_host_thresholds entry is supported"));
}

TEST(CircuitBreakersTest, OneThresholdsEntryPerPriority) {
  EXPECT_THAT(errorsOf(loadClusters(
                  clusterYaml("c",
                              "circuit_breakers: {thresholds: [{max_connections: 1}, {priority: "
                              "DEFAULT, max_connections: 2}]}"))),
              ElementsAre("static_resources.clusters[0].circuit_breakers.thresholds[1]: another "
                          "thresholds entry already has priority DEFAULT"));
}

TEST(CircuitBreakersTest, RetryBudgetIsIgnoredWithAWarning) {
  LoadResult r =
      loadClusters(clusterYaml("c",
                               "circuit_breakers: {thresholds: [{retry_budget: {budget_percent: "
                               "{value: 20}}}]}"));
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(warningsOf(r),
              ElementsAre("static_resources.clusters[0].circuit_breakers.thresholds[0]."
                          "retry_budget: not supported by wslb; ignored"));
}

TEST(ClusterTest, PendingTimeoutMustBeADuration) {
  EXPECT_THAT(errorsOf(loadClusters(
                  clusterYaml("c", "metadata: {filter_metadata: {wslb: {pending_timeout: 10}}}"))),
              ElementsAre("static_resources.clusters[0].metadata.filter_metadata.wslb."
                          "pending_timeout: expected a duration such as \"5s\""));
}

TEST(ClusterTest, DangerousKeysAreErrors) {
  for (std::string key : {"transport_socket_matches", "lb_subset_config", "load_balancing_policy",
                          "upstream_bind_config", "cluster_type"}) {
    EXPECT_THAT(errorsOf(loadClusters(clusterYaml("c", key + ": {name: x}"))),
                ElementsAre("static_resources.clusters[0]." + key + ": not supported by wslb"))
        << key;
  }
}

TEST(ClusterTest, HarmlessEnvoyKeysAreWarnings) {
  for (std::string key : {"dns_lookup_family", "common_lb_config", "alt_stat_name"}) {
    LoadResult r = loadClusters(clusterYaml("c", key + ": {x: 1}"));
    ASSERT_TRUE(r.ok()) << key;
    EXPECT_THAT(warningsOf(r), ElementsAre("static_resources.clusters[0]." + key +
                                           ": not supported by wslb; ignored"));
  }
}

TEST(ClusterTest, ProtocolOptionsAreAcceptedSilently) {
  for (std::string key : {"http2_protocol_options", "typed_extension_protocol_options"}) {
    LoadResult r = loadClusters(clusterYaml("c", key + ": {x: 1}"));
    ASSERT_TRUE(r.ok()) << key;
    EXPECT_THAT(warningsOf(r), ::testing::IsEmpty()) << key;
  }
}

TEST(ClusterTest, UnknownKeysAreWarnedWithTheirPath) {
  LoadResult r = loadClusters(clusterYaml("c", "max_conections: 3") + ", " +
                              "{name: d, load_assignment: {endpoints: [{lb_endpoints: [" +
                              endpointYaml(80, "colour: red") + "]}]}}");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(warningsOf(r),
              ElementsAre("static_resources.clusters[0].max_conections: unknown key; ignored",
                          "static_resources.clusters[1].load_assignment.endpoints[0]."
                          "lb_endpoints[0].colour: unknown key; ignored"));
}

TEST(ClusterTest, EveryErrorIsReported) {
  LoadResult r = loadClusters(
      "{name: a, lb_policy: MAGLEV, connect_timeout: soon, load_assignment: {endpoints: "
      "[{lb_endpoints: [{endpoint: {address: {socket_address: {address: x, port_value: 0}}}}]}]}}"
      ", {type: STRICT_DNS}");
  EXPECT_EQ(r.errors.size(), 6u) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(errorsOf(r), Contains("static_resources.clusters[1].name: required field is "
                                    "missing"));
  EXPECT_THAT(errorsOf(r), Contains("static_resources.clusters[0].connect_timeout: expected a "
                                    "duration such as \"5s\""));
  EXPECT_FALSE(r.bootstrap.has_value());
}

}  // namespace
}  // namespace wslb::config
