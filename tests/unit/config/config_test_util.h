#pragma once
// Helpers shared by the config tests: small documents built around the part under test, and
// diagnostics as strings so gMock matchers can look for an exact message.

#include <string>
#include <string_view>
#include <vector>

#include "wslb/config/loader.h"

namespace wslb::config::testing {

/// Diagnostic::str() of each diagnostic, in order.
inline std::vector<std::string> strs(const std::vector<Diagnostic>& diagnostics) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diagnostics) out.push_back(d.str());
  return out;
}
inline std::vector<std::string> errorsOf(const LoadResult& result) {
  return strs(result.errors);
}
inline std::vector<std::string> warningsOf(const LoadResult& result) {
  return strs(result.warnings);
}

/// An endpoint at 127.0.0.1:`port`, as a flow mapping.
inline std::string endpointYaml(int port, std::string_view extra = "") {
  std::string out = "{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: " +
                    std::to_string(port) + "}}}";
  if (!extra.empty()) out += ", " + std::string(extra);
  return out + "}";
}

/// A document whose static_resources.clusters is `[clusters]` (flow style) and has no listener.
inline LoadResult loadClusters(std::string_view clusters) {
  return loadBootstrapFromString("static_resources: {clusters: [" + std::string(clusters) + "]}");
}

/// A cluster named `name` with one endpoint and `extra` keys (flow style, may be empty).
inline std::string clusterYaml(std::string_view name, std::string_view extra = "") {
  std::string out = "{name: " + std::string(name) +
                    ", load_assignment: {endpoints: [{lb_endpoints: [" + endpointYaml(9001) +
                    "]}]}";
  if (!extra.empty()) out += ", " + std::string(extra);
  return out + "}";
}

inline constexpr std::string_view kRouterFilters =
    "http_filters: [{name: envoy.filters.http.router}]";
inline constexpr std::string_view kRouteConfig =
    "route_config: {name: r, virtual_hosts: [{name: v, domains: ['*'], routes: [{match: {prefix: "
    "/}, route: {cluster: c}}]}]}";

/// One listener "l" on 127.0.0.1:0 whose only filter is an HCM with `hcm_body` (flow-style keys,
/// without braces) and `listener_extra` extra listener keys; one cluster "c".
inline LoadResult loadHcm(std::string_view hcm_body, std::string_view listener_extra = "") {
  std::string doc =
      "static_resources:\n"
      "  clusters: [" +
      clusterYaml("c") +
      "]\n"
      "  listeners:\n"
      "  - {name: l, address: {socket_address: {address: 127.0.0.1, port_value: 0}},\n"
      "     filter_chains: [{filters: [{name: envoy.filters.network.http_connection_manager,\n"
      "       typed_config: {" +
      std::string(hcm_body) + "}}]}]";
  if (!listener_extra.empty()) doc += ", " + std::string(listener_extra);
  doc += "}\n";
  return loadBootstrapFromString(doc);
}

/// An HCM body with stat_prefix, the default route config and the router, plus `extra`.
inline std::string hcmBody(std::string_view extra = "") {
  std::string out =
      "stat_prefix: s, " + std::string(kRouteConfig) + ", " + std::string(kRouterFilters);
  if (!extra.empty()) out += ", " + std::string(extra);
  return out;
}

/// An HCM whose route_config has `virtual_hosts` (flow sequence contents) and cluster "c".
inline LoadResult loadVirtualHosts(std::string_view virtual_hosts) {
  return loadHcm("stat_prefix: s, route_config: {name: r, virtual_hosts: [" +
                 std::string(virtual_hosts) + "]}, " + std::string(kRouterFilters));
}

/// A virtual host "v" for "*" with the single route `route` (flow mapping).
inline LoadResult loadRoute(std::string_view route) {
  return loadVirtualHosts("{name: v, domains: ['*'], routes: [" + std::string(route) + "]}");
}

/// Paths used by the helpers above.
inline constexpr std::string_view kHcmPath =
    "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";
inline const std::string kVhostsPath = std::string(kHcmPath) + ".route_config.virtual_hosts";
inline const std::string kRoutePath = kVhostsPath + "[0].routes[0]";

}  // namespace wslb::config::testing
