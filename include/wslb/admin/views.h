#pragma once
// The JSON documents and the HTML page the admin listener serves, each built from an
// AdminContext. Pure functions of the live state: they read atomics and host-set snapshots and
// never block a worker. Any thread.

#include <string>
#include <string_view>

#include "wslb/admin/admin_handler.h"

namespace wslb::admin {

/// GET /clusters?format=json: Envoy's admin.v3.Clusters in proto3 JSON (snake_case names,
/// uint64 values as strings, enums by name). Endpoints removed by EDS that still hold
/// connections are listed with health_status.pending_dynamic_removal. Each host's stats end with
/// wslb's max_connections and remaining_cx (GAUGE) when the endpoint has a cap.
std::string renderClustersJson(const AdminContext& context);

/// GET /server_info: Envoy's admin.v3.ServerInfo (version, state, uptimes as "<n>s",
/// hot_restart_version "disabled", command_line_options, node).
std::string renderServerInfo(const AdminContext& context);

/// GET /config_dump: Envoy's admin.v3.ConfigDump built from context.bootstrap and the live host
/// sets: BootstrapConfigDump, ClustersConfigDump (static_clusters), ListenersConfigDump
/// (static_listeners), RoutesConfigDump (static_route_configs) and EndpointsConfigDump
/// (static_endpoint_configs for STATIC clusters, dynamic_endpoint_configs for EDS ones).
std::string renderConfigDump(const AdminContext& context);

/// GET /live.json: what the live page draws (wslb's own schema, see docs/admin.md).
std::string renderLiveJson(const AdminContext& context);

/// GET /: the live page, one self-contained HTML document (inline CSS and JS) that polls
/// /live.json every second.
std::string_view livePageHtml();

}  // namespace wslb::admin
