#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_util.h"
#include "wslb/config/loader.h"

namespace wslb::config {
namespace {

using ::testing::ElementsAre;
using testing::errorsOf;
using ::testing::IsEmpty;
using testing::kRoutePath;
using testing::kVhostsPath;
using testing::loadRoute;
using testing::loadVirtualHosts;
using testing::warningsOf;

const HttpConnectionManager& hcmOf(const LoadResult& r) {
  return r.bootstrap->listeners.at(0).hcm;
}

TEST(VirtualHostTest, DomainsAreLowerCasedAndWildcardsAccepted) {
  LoadResult r = loadVirtualHosts(
      "{name: a, domains: [Example.COM, '*.Example.com', '*-foo.example.com', 'example.*', "
      "'api.example.com:8080']},"
      "{name: b, domains: ['*'], routes: [{match: {prefix: /}, route: {cluster: c}}]}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  const auto& hosts = hcmOf(r).virtual_hosts;
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0].name, "a");
  EXPECT_THAT(hosts[0].domains, ElementsAre("example.com", "*.example.com", "*-foo.example.com",
                                            "example.*", "api.example.com:8080"));
  EXPECT_TRUE(hosts[0].routes.empty());
  EXPECT_EQ(hosts[1].name, "b");
  EXPECT_THAT(hosts[1].domains, ElementsAre("*"));
}

TEST(VirtualHostTest, MisplacedWildcardIsAnError) {
  const std::string message =
      ": a '*' is allowed only as the whole domain, at its start (\"*.example.com\") or at its "
      "end (\"example.*\")";
  EXPECT_THAT(errorsOf(loadVirtualHosts("{name: a, domains: [ok.com, 'exa*mple.com', '*foo*', "
                                        "'**']}")),
              ElementsAre(kVhostsPath + "[0].domains[1]" + message,
                          kVhostsPath + "[0].domains[2]" + message,
                          kVhostsPath + "[0].domains[3]" + message));
  EXPECT_THAT(errorsOf(loadVirtualHosts("{name: a, domains: ['']}")),
              ElementsAre(kVhostsPath + "[0].domains[0]: must not be empty"));
}

TEST(VirtualHostTest, DomainsAreRequired) {
  EXPECT_THAT(errorsOf(loadVirtualHosts("{name: a}")),
              ElementsAre(kVhostsPath + "[0].domains: required field is missing"));
  EXPECT_THAT(errorsOf(loadVirtualHosts("{name: a, domains: []}")),
              ElementsAre(kVhostsPath + "[0].domains: at least one domain is required"));
  EXPECT_THAT(errorsOf(loadVirtualHosts("{domains: [x]}")),
              ElementsAre(kVhostsPath + "[0].name: required field is missing"));
}

TEST(VirtualHostTest, SameDomainInTwoVirtualHostsIsAnError) {
  EXPECT_THAT(
      errorsOf(loadVirtualHosts("{name: a, domains: [x.com, '*']}, {name: b, domains: "
                                "[y.com, X.Com]}")),
      ElementsAre(kVhostsPath + "[1].domains[1]: domain \"x.com\" is already used by virtual host "
                                "\"a\""));
  EXPECT_THAT(errorsOf(loadVirtualHosts("{name: a, domains: ['*', '*']}")),
              ElementsAre(kVhostsPath +
                          "[0].domains[1]: domain \"*\" is already used by virtual host \"a\""));
}

TEST(VirtualHostTest, SameDomainInTwoListenersIsFine) {
  // Each route_config has its own domain table.
  std::string doc = R"(
static_resources:
  clusters: [{name: c}]
  listeners:
)";
  for (int port : {1000, 1001}) {
    doc += "  - {name: l" + std::to_string(port) +
           ", address: {socket_address: {address: 127.0.0.1, port_value: " + std::to_string(port) +
           "}}, filter_chains: [{filters: [{name: "
           "envoy.filters.network.http_connection_manager, typed_config: {" +
           testing::hcmBody() + "}}]}]}\n";
  }
  LoadResult r = loadBootstrapFromString(doc);
  EXPECT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
}

TEST(VirtualHostTest, HeaderMutationsAndTlsRequirementAreErrors) {
  EXPECT_THAT(errorsOf(loadVirtualHosts("{name: a, domains: ['*'], require_tls: ALL, "
                                        "request_headers_to_add: [{header: {key: a, value: b}}]}")),
              ElementsAre(kVhostsPath + "[0].require_tls: ALL is not supported by wslb",
                          kVhostsPath + "[0].request_headers_to_add: not supported by wslb"));
  EXPECT_TRUE(loadVirtualHosts("{name: a, domains: ['*'], require_tls: NONE}").ok());
}

TEST(VirtualHostTest, RetryPolicyIsIgnoredWithAWarning) {
  LoadResult r = loadVirtualHosts("{name: a, domains: ['*'], retry_policy: {num_retries: 2}}");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(warningsOf(r),
              ElementsAre(kVhostsPath + "[0].retry_policy: not supported by wslb; ignored"));
}

TEST(RouteTest, PrefixRouteWithDefaults) {
  LoadResult r = loadRoute("{match: {prefix: /chat}, route: {cluster: c}}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), IsEmpty());
  const Route& route = hcmOf(r).virtual_hosts[0].routes.at(0);
  EXPECT_EQ(route.match.kind, RouteMatch::Kind::kPrefix);
  EXPECT_EQ(route.match.value, "/chat");
  EXPECT_EQ(route.cluster, "c");
  EXPECT_EQ(route.timeout, Duration(15000));
  EXPECT_FALSE(route.timeout_set);
  EXPECT_FALSE(route.idle_timeout.has_value());
  EXPECT_TRUE(route.upgrade_configs.empty());
}

TEST(RouteTest, PathRouteWithEveryOption) {
  LoadResult r = loadRoute(
      "{name: ws, match: {path: /ws, case_sensitive: true}, route: {cluster: c, timeout: 0s, "
      "idle_timeout: 3600s, upgrade_configs: [{upgrade_type: WebSocket}, {upgrade_type: "
      "CONNECT, enabled: false}]}}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), IsEmpty());
  const Route& route = hcmOf(r).virtual_hosts[0].routes.at(0);
  EXPECT_EQ(route.match.kind, RouteMatch::Kind::kPath);
  EXPECT_EQ(route.match.value, "/ws");
  EXPECT_EQ(route.timeout, Duration(0));
  EXPECT_TRUE(route.timeout_set);
  EXPECT_EQ(route.idle_timeout, Duration(3'600'000));
  ASSERT_EQ(route.upgrade_configs.size(), 2u);
  EXPECT_EQ(route.upgrade_configs[0].upgrade_type, "websocket");
  EXPECT_TRUE(route.upgrade_configs[0].enabled);
  EXPECT_EQ(route.upgrade_configs[1].upgrade_type, "connect");
  EXPECT_FALSE(route.upgrade_configs[1].enabled);
}

TEST(RouteTest, ExactlyOneOfPrefixOrPath) {
  EXPECT_THAT(errorsOf(loadRoute("{match: {prefix: /, path: /x}, route: {cluster: c}}")),
              ElementsAre(kRoutePath + ".match: exactly one of prefix or path is required"));
  EXPECT_THAT(errorsOf(loadRoute("{match: {}, route: {cluster: c}}")),
              ElementsAre(kRoutePath + ".match: exactly one of prefix or path is required"));
  EXPECT_THAT(errorsOf(loadRoute("{route: {cluster: c}}")),
              ElementsAre(kRoutePath + ".match: required field is missing"));
}

TEST(RouteTest, UnsupportedMatchersAreErrors) {
  EXPECT_THAT(errorsOf(loadRoute("{match: {safe_regex: {regex: '.*'}}, route: {cluster: c}}")),
              ElementsAre(kRoutePath + ".match.safe_regex: not supported by wslb"));
  EXPECT_THAT(
      errorsOf(loadRoute("{match: {prefix: /, headers: [{name: upgrade}]}, route: {cluster: c}}")),
      ElementsAre(kRoutePath + ".match.headers: not supported by wslb"));
  EXPECT_THAT(
      errorsOf(loadRoute("{match: {prefix: /, case_sensitive: false}, route: {cluster: c}}")),
      ElementsAre(kRoutePath + ".match.case_sensitive: false is not supported by wslb"));
}

TEST(RouteTest, ClusterIsRequiredAndMustExist) {
  EXPECT_THAT(errorsOf(loadRoute("{match: {prefix: /}, route: {timeout: 1s}}")),
              ElementsAre(kRoutePath + ".route.cluster: required field is missing"));
  EXPECT_THAT(errorsOf(loadRoute("{match: {prefix: /}, route: {cluster: x}}")),
              ElementsAre(kRoutePath + ".route.cluster: unknown cluster \"x\""));
  EXPECT_THAT(errorsOf(loadRoute("{match: {prefix: /}}")),
              ElementsAre(kRoutePath + ".route: required field is missing"));
}

TEST(RouteTest, OtherActionsAreErrors) {
  EXPECT_THAT(errorsOf(loadRoute("{match: {prefix: /}, direct_response: {status: 200}}")),
              ElementsAre(kRoutePath + ".direct_response: not supported by wslb"));
  EXPECT_THAT(errorsOf(loadRoute("{match: {prefix: /}, redirect: {https_redirect: true}}")),
              ElementsAre(kRoutePath + ".redirect: not supported by wslb"));
  EXPECT_THAT(errorsOf(loadRoute("{match: {prefix: /}, route: {weighted_clusters: {clusters: "
                                 "[{name: c, weight: 1}]}}}")),
              ElementsAre(kRoutePath + ".route.weighted_clusters: not supported by wslb"));
  EXPECT_THAT(errorsOf(loadRoute("{match: {prefix: /}, route: {cluster: c, prefix_rewrite: /x}}")),
              ElementsAre(kRoutePath + ".route.prefix_rewrite: not supported by wslb"));
  EXPECT_THAT(errorsOf(loadRoute("{match: {prefix: /}, route: {cluster: c}, "
                                 "request_headers_to_remove: [cookie]}")),
              ElementsAre(kRoutePath + ".request_headers_to_remove: not supported by wslb"));
}

TEST(RouteTest, BadValuesInRouteAction) {
  EXPECT_THAT(errorsOf(loadRoute("{match: {prefix: /}, route: {cluster: c, timeout: 15}}")),
              ElementsAre(kRoutePath + ".route.timeout: expected a duration such as \"5s\""));
  EXPECT_THAT(
      errorsOf(loadRoute("{match: {prefix: /}, route: {cluster: c, upgrade_configs: [{enabled: "
                         "true}, {upgrade_type: websocket, connect_config: {}}]}}")),
      ElementsAre(kRoutePath + ".route.upgrade_configs[0].upgrade_type: required field is missing",
                  kRoutePath + ".route.upgrade_configs[1].connect_config: not supported by wslb"));
}

TEST(RouteTest, HarmlessRouteKeysAreWarnings) {
  LoadResult r = loadRoute(
      "{match: {prefix: /}, route: {cluster: c, retry_policy: {num_retries: 1}, hash_policy: "
      "[]}, decorator: {operation: x}}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r),
              ElementsAre(kRoutePath + ".route.retry_policy: not supported by wslb; ignored",
                          kRoutePath + ".decorator: not supported by wslb; ignored"));
}

}  // namespace
}  // namespace wslb::config
