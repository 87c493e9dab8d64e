#pragma once
// The HTTP connection manager filter the test configurations share, as Envoy v3 YAML.

#include <string>

namespace wslb::test {

/// One route entry (indented for a virtual host's `routes:`): prefix match, cluster, no timeout.
std::string routeYaml(const std::string& prefix, const std::string& cluster);

/// The `filters:` entry of a filter chain (indented for `filter_chains: - filters:`): an HCM
/// with `stat_prefix`, WebSocket upgrades, one virtual host for every domain with `routes` (route
/// entries, e.g. routeYaml()'s), and the router filter.
std::string hcmFilterYaml(const std::string& stat_prefix, const std::string& routes);

}  // namespace wslb::test
