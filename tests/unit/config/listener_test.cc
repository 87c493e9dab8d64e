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
using testing::hcmBody;
using ::testing::IsEmpty;
using testing::kHcmPath;
using testing::kRouteConfig;
using testing::kRouterFilters;
using testing::loadHcm;
using testing::warningsOf;

const std::string kHcm(kHcmPath);
const std::string kListener = "static_resources.listeners[0]";

constexpr std::string_view kFullListener = R"(
static_resources:
  clusters:
  - name: echo
    load_assignment:
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9001 } } }
  listeners:
  - name: ws_listener
    address:
      socket_address: { address: "::", port_value: 10000 }
    filter_chains:
    - name: main
      filter_chain_match: {}
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_ws
          stream_idle_timeout: 600s
          upgrade_configs:
          - upgrade_type: WEBSOCKET
          - upgrade_type: h2c
            enabled: false
          route_config:
            name: local_route
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: echo, timeout: 0s }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
)";

TEST(ListenerTest, ParsesEverySupportedField) {
  LoadResult r = loadBootstrapFromString(kFullListener);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), IsEmpty());
  ASSERT_EQ(r.bootstrap->listeners.size(), 1u);
  const Listener& l = r.bootstrap->listeners[0];
  EXPECT_EQ(l.name, "ws_listener");
  EXPECT_EQ(l.address.address, "::");
  EXPECT_EQ(l.address.port, 10000u);
  const HttpConnectionManager& hcm = l.hcm;
  EXPECT_EQ(hcm.stat_prefix, "ingress_ws");
  EXPECT_EQ(hcm.stream_idle_timeout, Duration(600'000));
  ASSERT_EQ(hcm.upgrade_configs.size(), 2u);
  EXPECT_EQ(hcm.upgrade_configs[0].upgrade_type, "websocket");
  EXPECT_TRUE(hcm.upgrade_configs[0].enabled);
  EXPECT_EQ(hcm.upgrade_configs[1].upgrade_type, "h2c");
  EXPECT_FALSE(hcm.upgrade_configs[1].enabled);
  EXPECT_EQ(hcm.route_config_name, "local_route");
  ASSERT_EQ(hcm.virtual_hosts.size(), 1u);
  ASSERT_EQ(hcm.virtual_hosts[0].routes.size(), 1u);
  EXPECT_EQ(hcm.virtual_hosts[0].routes[0].cluster, "echo");
  EXPECT_EQ(hcm.virtual_hosts[0].routes[0].timeout, Duration(0));
  EXPECT_TRUE(hcm.virtual_hosts[0].routes[0].timeout_set);
}

TEST(ListenerTest, Defaults) {
  LoadResult r = loadHcm(hcmBody());
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), IsEmpty());
  const Listener& l = r.bootstrap->listeners[0];
  EXPECT_EQ(l.address.port, 0u);  // ephemeral port is allowed on listeners
  EXPECT_FALSE(l.hcm.stream_idle_timeout.has_value());
  EXPECT_TRUE(l.hcm.upgrade_configs.empty());
  EXPECT_EQ(l.hcm.route_config_name, "r");
}

TEST(ListenerTest, AddressRules) {
  EXPECT_THAT(errorsOf(loadHcm(hcmBody(), "address: {socket_address: {address: localhost}}")),
              ElementsAre(kListener + ".address: duplicate key"));
  LoadResult r = loadBootstrapFromString(
      "static_resources: {listeners: [{name: l, address: {socket_address: {address: localhost, "
      "port_value: 70000}}}]}");
  EXPECT_THAT(errorsOf(r),
              ElementsAre(kListener + ".address.socket_address.address: expected an IP address "
                                      "(v4 or v6), got \"localhost\"",
                          kListener + ".address.socket_address.port_value: expected a port "
                                      "number from 0 to 65535",
                          kListener + ".filter_chains: required field is missing"));
  EXPECT_THAT(errorsOf(loadBootstrapFromString("static_resources: {listeners: [{name: l}]}")),
              ElementsAre(kListener + ".address: required field is missing",
                          kListener + ".filter_chains: required field is missing"));
}

TEST(ListenerTest, NamesAreUnique) {
  std::string listener =
      "{name: dup, address: {socket_address: {address: 127.0.0.1}}, filter_chains: [{filters: "
      "[{name: envoy.filters.network.http_connection_manager, typed_config: {" +
      hcmBody() + "}}]}]}";
  LoadResult r = loadBootstrapFromString("static_resources: {clusters: [{name: c}], listeners: [" +
                                         listener + ", " + listener + "]}");
  EXPECT_THAT(errorsOf(r), ElementsAre("static_resources.listeners[1].name: duplicate listener "
                                       "name \"dup\""));
}

TEST(HcmTest, StatPrefixIsRequired) {
  EXPECT_THAT(errorsOf(loadHcm(std::string(kRouteConfig) + ", " + std::string(kRouterFilters))),
              ElementsAre(kHcm + ".stat_prefix: required field is missing"));
}

TEST(HcmTest, RouteConfigIsRequired) {
  EXPECT_THAT(errorsOf(loadHcm("stat_prefix: s, " + std::string(kRouterFilters))),
              ElementsAre(kHcm + ".route_config: required field is missing"));
}

TEST(HcmTest, RdsIsNotSupported) {
  EXPECT_THAT(errorsOf(loadHcm("stat_prefix: s, rds: {route_config_name: r}, " +
                               std::string(kRouterFilters))),
              ElementsAre(kHcm + ".rds: not supported by wslb"));
}

TEST(HcmTest, TypeUrlMustBeTheHcm) {
  EXPECT_THAT(errorsOf(loadHcm("'@type': type.googleapis.com/x.Y, " + hcmBody())),
              ElementsAre(kHcm + ".@type: expected \"type.googleapis.com/"
                                 "envoy.extensions.filters.network.http_connection_manager.v3."
                                 "HttpConnectionManager\""));
}

TEST(HcmTest, HcmIsFoundByItsTypeUrl) {
  LoadResult r = loadBootstrapFromString(
      "static_resources: {clusters: [{name: c}], listeners: [{address: {socket_address: "
      "{address: 0.0.0.0, port_value: 80}}, filter_chains: [{filters: [{name: hcm, "
      "typed_config: {'@type': type.googleapis.com/"
      "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager, " +
      hcmBody() + "}}]}]}]}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(r.bootstrap->listeners[0].hcm.stat_prefix, "s");
}

TEST(HcmTest, CodecType) {
  for (std::string codec : {"AUTO", "HTTP1", "auto"}) {
    LoadResult r = loadHcm(hcmBody("codec_type: " + codec));
    ASSERT_TRUE(r.ok()) << codec;
    EXPECT_THAT(warningsOf(r), ::testing::IsEmpty()) << codec;
  }
  EXPECT_THAT(errorsOf(loadHcm(hcmBody("codec_type: HTTP2"))),
              ElementsAre(kHcm + ".codec_type: HTTP2 is not supported by wslb (supported: AUTO, "
                                 "HTTP1)"));
}

TEST(HcmTest, HarmlessKeysAreWarnings) {
  LoadResult r =
      loadHcm(hcmBody("http2_protocol_options: {}, use_remote_address: true, "
                      "access_log_flush_interval: 1s"));
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(warningsOf(r),
              ElementsAre(kHcm + ".http2_protocol_options: not supported by wslb; ignored",
                          kHcm + ".use_remote_address: not supported by wslb; ignored",
                          kHcm + ".access_log_flush_interval: not supported by wslb; ignored"));
}

TEST(HcmTest, UpgradeConfigs) {
  EXPECT_THAT(errorsOf(loadHcm(hcmBody("upgrade_configs: [{upgrade_type: ''}]"))),
              ElementsAre(kHcm + ".upgrade_configs[0].upgrade_type: must not be empty"));
  EXPECT_THAT(errorsOf(loadHcm(hcmBody("upgrade_configs: {upgrade_type: websocket}"))),
              ElementsAre(kHcm + ".upgrade_configs: expected a sequence"));
  LoadResult r =
      loadHcm(hcmBody("upgrade_configs: [{upgrade_type: websocket, filters: [{name: "
                      "envoy.filters.http.router}]}]"));
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(warningsOf(r), ElementsAre(kHcm + ".upgrade_configs[0].filters: not supported by "
                                                "wslb; ignored"));
}

TEST(HcmTest, StreamIdleTimeout) {
  LoadResult r = loadHcm(hcmBody("stream_idle_timeout: 0s"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.bootstrap->listeners[0].hcm.stream_idle_timeout, Duration(0));
  EXPECT_THAT(errorsOf(loadHcm(hcmBody("stream_idle_timeout: 5min"))),
              ElementsAre(kHcm + ".stream_idle_timeout: expected a duration such as \"5s\""));
}

std::string withFilters(std::string_view filters) {
  return "stat_prefix: s, " + std::string(kRouteConfig) + ", http_filters: [" +
         std::string(filters) + "]";
}

TEST(HttpFiltersTest, RouterIsRequired) {
  EXPECT_THAT(errorsOf(loadHcm("stat_prefix: s, " + std::string(kRouteConfig))),
              ElementsAre(kHcm + ".http_filters: envoy.filters.http.router is required"));
  EXPECT_THAT(errorsOf(loadHcm(withFilters(""))),
              ElementsAre(kHcm + ".http_filters: envoy.filters.http.router is required"));
  EXPECT_THAT(errorsOf(loadHcm("stat_prefix: s, " + std::string(kRouteConfig) +
                               ", http_filters: {name: envoy.filters.http.router}")),
              ElementsAre(kHcm + ".http_filters: expected a sequence"));
}

TEST(HttpFiltersTest, RouterMustBeLast) {
  EXPECT_THAT(errorsOf(loadHcm(withFilters("{name: envoy.filters.http.router}, {name: "
                                           "envoy.filters.http.cors, is_optional: true}"))),
              ElementsAre(kHcm + ".http_filters[0]: envoy.filters.http.router must be the last "
                                 "HTTP filter"));
}

TEST(HttpFiltersTest, RouterFoundByTypeUrl) {
  LoadResult r =
      loadHcm(withFilters("{name: my_router, typed_config: {'@type': "
                          "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router, "
                          "suppress_envoy_headers: true}}"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), ElementsAre(kHcm + ".http_filters[0].typed_config."
                                                "suppress_envoy_headers: not supported by wslb; "
                                                "ignored"));
}

TEST(HttpFiltersTest, RouterWithWrongTypeUrl) {
  EXPECT_THAT(errorsOf(loadHcm(withFilters("{name: envoy.filters.http.router, typed_config: "
                                           "{'@type': type.googleapis.com/x.Y}}"))),
              ElementsAre(kHcm + ".http_filters[0].typed_config.@type: expected "
                                 "\"type.googleapis.com/"
                                 "envoy.extensions.filters.http.router.v3.Router\""));
}

TEST(HttpFiltersTest, UnknownFilterIsAnError) {
  EXPECT_THAT(errorsOf(loadHcm(withFilters("{name: envoy.filters.http.ext_authz}, {name: "
                                           "envoy.filters.http.router}"))),
              ElementsAre(kHcm + ".http_filters[0]: HTTP filter \"envoy.filters.http.ext_authz\" "
                                 "is not supported by wslb (set is_optional: true to skip it)"));
}

TEST(HttpFiltersTest, OptionalFilterIsSkippedWithAWarning) {
  LoadResult r = loadHcm(
      withFilters("{name: envoy.filters.http.cors, is_optional: true, typed_config: {'@type': "
                  "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}}, {name: "
                  "envoy.filters.http.router}"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), ElementsAre(kHcm + ".http_filters[0]: optional HTTP filter "
                                                "\"envoy.filters.http.cors\" is not supported by "
                                                "wslb; skipped"));
  EXPECT_EQ(r.bootstrap->listeners[0].hcm.stat_prefix, "s");
}

TEST(NetworkFiltersTest, OtherNetworkFiltersAreErrors) {
  LoadResult r = loadBootstrapFromString(
      "static_resources: {clusters: [{name: c}], listeners: [{address: {socket_address: "
      "{address: 0.0.0.0}}, filter_chains: [{filters: [{name: envoy.filters.network.tcp_proxy, "
      "typed_config: {stat_prefix: t, cluster: c}}]}]}]}");
  EXPECT_THAT(errorsOf(r), ElementsAre(kListener + ".filter_chains[0].filters[0]: network filter "
                                                   "\"envoy.filters.network.tcp_proxy\" is not "
                                                   "supported by wslb"));
}

TEST(NetworkFiltersTest, ChainWithoutHcmIsAnError) {
  LoadResult r = loadBootstrapFromString(
      "static_resources: {listeners: [{address: {socket_address: {address: 0.0.0.0}}, "
      "filter_chains: [{filters: []}]}]}");
  EXPECT_THAT(errorsOf(r), ElementsAre(kListener + ".filter_chains: a filter chain with an "
                                                   "envoy.filters.network.http_connection_manager "
                                                   "filter is required"));
}

TEST(NetworkFiltersTest, HcmNeedsTypedConfig) {
  LoadResult r = loadBootstrapFromString(
      "static_resources: {listeners: [{address: {socket_address: {address: 0.0.0.0}}, "
      "filter_chains: [{filters: [{name: envoy.filters.network.http_connection_manager}]}]}]}");
  EXPECT_THAT(errorsOf(r), ElementsAre(kListener + ".filter_chains[0].filters[0].typed_config: "
                                                   "required field is missing"));
}

// A filter chain: an HCM with `prefix` as stat_prefix, plus `extra` chain keys (flow style).
std::string chainYaml(std::string_view prefix, std::string_view extra = "") {
  std::string out =
      "{filters: [{name: envoy.filters.network.http_connection_manager, "
      "typed_config: {stat_prefix: " +
      std::string(prefix) + ", " + std::string(kRouteConfig) + ", " + std::string(kRouterFilters) +
      "}}]";
  if (!extra.empty()) out += ", " + std::string(extra);
  return out + "}";
}

// A TLS transport_socket with one certificate from files.
std::string tlsSocket(std::string_view cert = "/c.pem") {
  return "transport_socket: {name: envoy.transport_sockets.tls, typed_config: {'@type': "
         "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, "
         "common_tls_context: {tls_certificates: [{certificate_chain: {filename: " +
         std::string(cert) + "}, private_key: {filename: /k.pem}}]}}}";
}

LoadResult loadChains(const std::vector<std::string>& chains) {
  std::string list;
  for (const std::string& chain : chains) list += (list.empty() ? "" : ", ") + chain;
  return loadBootstrapFromString("static_resources: {clusters: [" + clusterYaml("c") +
                                 "], listeners: [{address: {socket_address: {address: "
                                 "0.0.0.0}}, filter_chains: [" +
                                 list + "]}]}");
}

TEST(FilterChainTest, SeveralPlainChainsAreAnError) {
  LoadResult r = loadChains({chainYaml("a"), chainYaml("b")});
  const std::string why =
      ": more than one filter chain needs a TLS transport_socket on each (the chain is chosen "
      "by SNI)";
  EXPECT_THAT(errorsOf(r), ElementsAre(kListener + ".filter_chains[0]" + why,
                                       kListener + ".filter_chains[1]" + why,
                                       kListener + ".filter_chains[1]: a second filter chain "
                                                   "without server_names: only one chain may "
                                                   "match any name"));
}

TEST(FilterChainTest, TlsChainsChosenBySniAreRead) {
  LoadResult r = loadChains(
      {chainYaml("a", "filter_chain_match: {server_names: [A.example.com, '*.a.example.com']}, " +
                          tlsSocket("/a.pem") + ", transport_socket_connect_timeout: 2.5s"),
       chainYaml("any", tlsSocket("/any.pem"))});
  ASSERT_THAT(errorsOf(r), IsEmpty());
  const Listener& l = r.bootstrap->listeners.at(0);
  ASSERT_EQ(l.filter_chains.size(), 2u);
  EXPECT_TRUE(l.isTls());
  EXPECT_EQ(l.hcm.stat_prefix, "a");
  EXPECT_THAT(l.filter_chains[0].match.server_names,
              ElementsAre("a.example.com", "*.a.example.com"));
  ASSERT_TRUE(l.filter_chains[0].tls.has_value());
  EXPECT_EQ(
      l.filter_chains[0].tls->common_tls_context.tls_certificates.at(0).certificate_chain.filename,
      "/a.pem");
  EXPECT_EQ(l.filter_chains[0].transport_socket_connect_timeout, Duration(2500));
  EXPECT_EQ(l.filter_chains[1].hcm.stat_prefix, "any");
  EXPECT_THAT(l.filter_chains[1].match.server_names, IsEmpty());
  EXPECT_EQ(l.filter_chains[1].transport_socket_connect_timeout, Duration(10000));
}

TEST(FilterChainTest, SniMistakesNameTheirPath) {
  const std::string chains = kListener + ".filter_chains";
  EXPECT_THAT(
      errorsOf(loadChains(
          {chainYaml("a", "filter_chain_match: {server_names: [a.com, b.com]}, " + tlsSocket()),
           chainYaml("b", "filter_chain_match: {server_names: [B.com]}, " + tlsSocket())})),
      ElementsAre(chains + "[1].filter_chain_match.server_names[0]: \"b.com\" is already "
                           "matched by filter_chains[0]"));
  EXPECT_THAT(errorsOf(loadChains({chainYaml("a", "filter_chain_match: {server_names: [a.com]}")})),
              ElementsAre(chains + "[0].filter_chain_match.server_names: server_names needs a "
                                   "TLS transport_socket on the same chain"));
  EXPECT_THAT(
      errorsOf(loadChains({chainYaml("a", "filter_chain_match: {transport_protocol: tls}")})),
      ElementsAre(chains + "[0].filter_chain_match.transport_protocol: \"tls\" does not match "
                           "this chain's transport_socket"));
  EXPECT_THAT(errorsOf(loadChains(
                  {chainYaml("a", "filter_chain_match: {destination_port: 1}, " + tlsSocket())})),
              Contains(HasSubstr(chains + "[0].filter_chain_match.destination_port")));
}

TEST(ListenerTest, HarmlessKeysAreWarningsAndEmptyListsAreSilent) {
  LoadResult r = loadHcm(hcmBody(),
                         "per_connection_buffer_limit_bytes: 32768, listener_filters: "
                         "[], metadata: {filter_metadata: {x: {}}}, bind_to_port: true");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), ElementsAre(kListener + ".per_connection_buffer_limit_bytes: not "
                                                     "supported by wslb; ignored"));
  EXPECT_THAT(errorsOf(loadHcm(hcmBody(), "bind_to_port: false")),
              ElementsAre(kListener + ".bind_to_port: false is not supported by wslb"));
}

}  // namespace
}  // namespace wslb::config
