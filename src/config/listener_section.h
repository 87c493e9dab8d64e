#pragma once
// static_resources.listeners[] -> Listener, including the HTTP connection manager and its
// HTTP filters.

#include <set>
#include <string>
#include <vector>

#include "config/context.h"
#include "wslb/config/bootstrap.h"

namespace wslb::config {

inline constexpr std::string_view kHcmFilterName = "envoy.filters.network.http_connection_manager";
inline constexpr std::string_view kHcmTypeUrl =
    "type.googleapis.com/"
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
inline constexpr std::string_view kRouterFilterName = "envoy.filters.http.router";
inline constexpr std::string_view kRouterTypeUrl =
    "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";

/// Reads the listeners sequence; routes are checked against `cluster_names`. Duplicate listener
/// names are errors.
std::vector<Listener> readListeners(Context& ctx, const Field& field,
                                    const std::set<std::string>& cluster_names);

}  // namespace wslb::config
