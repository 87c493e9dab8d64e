#pragma once
// HCM route_config (RouteConfiguration) and upgrade_configs.

#include <set>
#include <string>
#include <vector>

#include "config/context.h"
#include "wslb/config/bootstrap.h"

namespace wslb::config {

/// Which UpgradeConfig message is read: the HCM's or a route's (RouteAction.UpgradeConfig).
enum class UpgradeLevel { kConnectionManager, kRoute };

std::vector<UpgradeConfig> readUpgradeConfigs(Context& ctx, const Field& field, UpgradeLevel level);

/// Reads a RouteConfiguration into hcm.route_config_name and hcm.virtual_hosts. A route naming a
/// cluster that is not in `cluster_names` is an error at its `route.cluster` path.
void readRouteConfiguration(Context& ctx, const Field& field,
                            const std::set<std::string>& cluster_names, HttpConnectionManager& hcm);

}  // namespace wslb::config
