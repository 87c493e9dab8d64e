#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_util.h"
#include "wslb/config/loader.h"

namespace wslb::config {
namespace {

using ::testing::ElementsAre;
using testing::errorsOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using testing::warningsOf;

TEST(BootstrapTest, NodeAndAdmin) {
  LoadResult r = loadBootstrapFromString(R"(
node:
  id: lb-1
  cluster: edge
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 9901 }
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), IsEmpty());
  EXPECT_EQ(r.bootstrap->node.id, "lb-1");
  EXPECT_EQ(r.bootstrap->node.cluster, "edge");
  ASSERT_TRUE(r.bootstrap->admin.address.has_value());
  EXPECT_EQ(r.bootstrap->admin.address->address, "127.0.0.1");
  EXPECT_EQ(r.bootstrap->admin.address->port, 9901u);
  EXPECT_TRUE(r.bootstrap->listeners.empty());
  EXPECT_TRUE(r.bootstrap->clusters.empty());
}

TEST(BootstrapTest, NoAdminMeansNoAdminListener) {
  LoadResult r = loadBootstrapFromString("node: {id: x}");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.bootstrap->admin.address.has_value());
  EXPECT_EQ(r.bootstrap->node.cluster, "");
}

TEST(BootstrapTest, AdminPortZeroIsEphemeral) {
  LoadResult r = loadBootstrapFromString(
      "admin: {address: {socket_address: {address: '::1', port_value: 0}}}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.bootstrap->admin.address->address, "::1");
  EXPECT_EQ(r.bootstrap->admin.address->port, 0u);
}

TEST(BootstrapTest, AdminErrors) {
  EXPECT_THAT(errorsOf(loadBootstrapFromString(
                  "admin: {address: {socket_address: {address: 127.0.0.1, port_value: x}}}")),
              ElementsAre("admin.address.socket_address.port_value: expected an unsigned "
                          "integer"));
  EXPECT_THAT(errorsOf(loadBootstrapFromString(
                  "admin: {address: {socket_address: {address: 127.0.0.1, protocol: UDP}}}")),
              ElementsAre("admin.address.socket_address.protocol: UDP is not supported by wslb "
                          "(supported: TCP)"));
}

TEST(BootstrapTest, MetricsListenerFromNodeMetadata) {
  LoadResult r = loadBootstrapFromString(R"(
node:
  id: a
  metadata:
    istio: {labels: {app: x}}
    wslb:
      metrics_listener:
        address: {socket_address: {address: 127.0.0.1, port_value: 9902}}
        path: /prom
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), ::testing::IsEmpty());
  ASSERT_TRUE(r.bootstrap->metrics_listener.has_value());
  EXPECT_EQ(r.bootstrap->metrics_listener->address.port, 9902u);
  EXPECT_EQ(r.bootstrap->metrics_listener->path, "/prom");

  LoadResult defaults = loadBootstrapFromString(
      "node: {metadata: {wslb: {metrics_listener: {address: {socket_address: "
      "{address: 127.0.0.1, port_value: 0}}}}}}");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults.bootstrap->metrics_listener->path, "/metrics");
  EXPECT_FALSE(loadBootstrapFromString("node: {id: a}").bootstrap->metrics_listener.has_value());
}

TEST(BootstrapTest, MetricsListenerErrorsHaveTheirPath) {
  EXPECT_THAT(errorsOf(loadBootstrapFromString(
                  "node: {metadata: {wslb: {metrics_listener: {path: metrics}}}}")),
              ElementsAre("node.metadata.wslb.metrics_listener.address: required field is missing",
                          "node.metadata.wslb.metrics_listener.path: must start with '/'"));
  EXPECT_THAT(
      warningsOf(loadBootstrapFromString("node: {metadata: {wslb: {metrics_listner: {}}}}")),
      ElementsAre("node.metadata.wslb.metrics_listner: unknown key; ignored"));
}

TEST(BootstrapTest, HarmlessEnvoyKeysAreWarnings) {
  LoadResult r = loadBootstrapFromString(R"(
node: { id: a, locality: { zone: z }, metadata: { k: v } }
admin:
  access_log_path: /dev/null
  access_log: [{ name: envoy.access_loggers.file }]
layered_runtime: { layers: [] }
stats_config: { use_all_default_tags: false }
overload_manager: {}
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), ElementsAre("node.locality: not supported by wslb; ignored",
                                         "admin.access_log_path: not supported by wslb; ignored",
                                         "admin.access_log: not supported by wslb; ignored",
                                         "layered_runtime: not supported by wslb; ignored",
                                         "stats_config: not supported by wslb; ignored"));
}

TEST(BootstrapTest, DynamicListenersAndClustersAreAnError) {
  EXPECT_THAT(errorsOf(loadBootstrapFromString("dynamic_resources: {lds_config: {}}")),
              ElementsAre("dynamic_resources.lds_config: not supported by wslb"));
  EXPECT_THAT(errorsOf(loadBootstrapFromString("dynamic_resources: {cds_config: {}}")),
              ElementsAre("dynamic_resources.cds_config: not supported by wslb"));
}

TEST(BootstrapTest, UnknownKeysAreWarnedWithTheirFullPath) {
  LoadResult r = loadBootstrapFromString(R"(
nodes: { id: typo }
node: { idd: x }
admin: { adress: {} }
static_resources:
  secrets: []
  routes: []
  clusters:
  - name: c
    circuit_breakers: { thresholds: [{ max_connection: 5 }] }
    "odd.key": 1
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(
      warningsOf(r),
      ElementsAre("node.idd: unknown key; ignored", "admin.adress: unknown key; ignored",
                  "static_resources.clusters[0].circuit_breakers.thresholds[0]."
                  "max_connection: unknown key; ignored",
                  "static_resources.clusters[0][\"odd.key\"]: unknown key; ignored",
                  "static_resources.routes: unknown key; ignored", "nodes: unknown key; ignored"));
}

TEST(BootstrapTest, EmptyDocumentIsAnError) {
  for (std::string text : {"", "   \n", "# only a comment\n", "~"}) {
    LoadResult r = loadBootstrapFromString(text);
    EXPECT_THAT(errorsOf(r), ElementsAre("the configuration is empty")) << text;
    EXPECT_FALSE(r.bootstrap.has_value());
  }
}

TEST(BootstrapTest, TopLevelMustBeAMapping) {
  EXPECT_THAT(errorsOf(loadBootstrapFromString("[1, 2]")),
              ElementsAre("expected a mapping at the top level of the configuration"));
  EXPECT_THAT(errorsOf(loadBootstrapFromString("hello")),
              ElementsAre("expected a mapping at the top level of the configuration"));
}

TEST(BootstrapTest, SyntaxErrorsAreReportedWithLineAndColumn) {
  LoadResult r = loadBootstrapFromString("node:\n  id: a\n  cluster: [unclosed\n");
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_EQ(r.errors[0].path, "");
  EXPECT_THAT(r.errors[0].message, HasSubstr("invalid YAML in the configuration at line "));
  EXPECT_THAT(r.errors[0].message, HasSubstr(", column "));
  EXPECT_FALSE(r.bootstrap.has_value());

  LoadResult tabs = loadBootstrapFromString("a: b\n\tc: d\n");
  ASSERT_THAT(tabs.errors, SizeIs(1));
  EXPECT_THAT(tabs.errors[0].message, HasSubstr("at line 2, column 1"));
}

TEST(BootstrapTest, NonScalarKeyIsAnError) {
  EXPECT_THAT(errorsOf(loadBootstrapFromString("node: {[a]: 1}")),
              ElementsAre("node: keys must be strings"));
}

TEST(BootstrapTest, ErrorsAndWarningsFromEverySectionAreCollected) {
  LoadResult r = loadBootstrapFromString(R"(
admin: { address: { socket_address: { address: nowhere } } }
dynamic_resources: {lds_config: {}}
static_resources:
  clusters:
  - name: c
    lb_policy: RING_HASH
    bogus: 1
  listeners:
  - name: l
    address: { socket_address: { address: 127.0.0.1, port_value: 8080 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          stat_prefix: s
          route_config:
            virtual_hosts:
            - name: v
              domains: ["*"]
              routes: [{ match: { prefix: / }, route: { cluster: missing } }]
          http_filters: [{ name: envoy.filters.http.router }]
)");
  EXPECT_THAT(errorsOf(r),
              ElementsAre("admin.address.socket_address.address: expected an IP address (v4 or "
                          "v6), got \"nowhere\"",
                          "static_resources.clusters[0].lb_policy: RING_HASH is not supported by "
                          "wslb (supported: LEAST_REQUEST, ROUND_ROBIN, RANDOM)",
                          "static_resources.listeners[0].filter_chains[0].filters[0]."
                          "typed_config.route_config.virtual_hosts[0].routes[0].route.cluster: "
                          "unknown cluster \"missing\"",
                          "dynamic_resources.lds_config: not supported by wslb"));
  EXPECT_THAT(warningsOf(r),
              ElementsAre("static_resources.clusters[0].bogus: unknown key; ignored"));
  EXPECT_FALSE(r.bootstrap.has_value());
}

TEST(DiagnosticTest, Str) {
  EXPECT_EQ((Diagnostic{"a.b[0]", "bad"}).str(), "a.b[0]: bad");
  EXPECT_EQ((Diagnostic{"", "bad"}).str(), "bad");
}

}  // namespace
}  // namespace wslb::config
