#include "config/bootstrap_section.h"

#include <set>
#include <string>

#include "config/address.h"
#include "config/cluster_section.h"
#include "config/config_source_section.h"
#include "config/listener_section.h"

namespace wslb::config {
namespace {

// node.metadata.wslb.metrics_listener: {address: <Address>, path: /metrics}. Node metadata is
// free-form in Envoy (a Struct), so the same file still loads in Envoy.
void readNodeMetadata(Context& ctx, const Field& field, Bootstrap& out) {
  MapReader metadata(ctx, field);
  if (std::optional<Field> wslb = metadata.take("wslb")) {
    MapReader map(ctx, *wslb);
    if (std::optional<Field> metrics = map.take("metrics_listener")) {
      MapReader listener(ctx, *metrics);
      MetricsListener value;
      bool ok = false;
      if (std::optional<Field> address = listener.require("address")) {
        if (std::optional<SocketAddress> a = readAddress(ctx, *address, PortRule::kAllowZero)) {
          value.address = *a;
          ok = true;
        }
      }
      if (std::optional<Field> path = listener.take("path")) {
        if (std::optional<std::string> text = ctx.readNonEmptyString(*path)) {
          if ((*text)[0] != '/') {
            ctx.error(path->path, "must start with '/'");
            ok = false;
          } else {
            value.path = *text;
          }
        }
      }
      listener.finish();
      if (ok) out.metrics_listener = value;
    }
    map.finish();
  }
  metadata.acceptRest();  // other namespaces belong to the control plane
}

void readNode(Context& ctx, const Field& field, Bootstrap& bootstrap) {
  Node& out = bootstrap.node;
  MapReader map(ctx, field);
  if (std::optional<Field> id = map.take("id")) {
    if (std::optional<std::string> value = ctx.readString(*id)) out.id = *value;
  }
  if (std::optional<Field> cluster = map.take("cluster")) {
    if (std::optional<std::string> value = ctx.readString(*cluster)) out.cluster = *value;
  }
  if (std::optional<Field> metadata = map.take("metadata")) {
    readNodeMetadata(ctx, *metadata, bootstrap);
  }
  map.ignore({"dynamic_parameters", "locality", "user_agent_name", "user_agent_version",
              "user_agent_build_version", "extensions", "client_features", "listening_addresses"});
  map.finish();
}

void readAdmin(Context& ctx, const Field& field, Admin& out) {
  MapReader map(ctx, field);
  if (std::optional<Field> address = map.take("address")) {
    out.address = readAddress(ctx, *address, PortRule::kAllowZero);
  }
  map.ignore({"access_log", "access_log_path", "profile_path", "socket_options",
              "ignore_global_conn_limit"});
  map.finish();
}

constexpr std::string_view kGlobalConnectionsMonitor =
    "envoy.resource_monitors.global_downstream_max_connections";
constexpr std::string_view kDownstreamConnectionsTypeUrl =
    "type.googleapis.com/"
    "envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig";

// DownstreamConnectionsConfig: max_active_downstream_connections (int64, must be > 0).
std::optional<uint64_t> readDownstreamConnectionsConfig(Context& ctx, const Field& field) {
  MapReader map(ctx, field);
  if (std::optional<Field> type = map.take("@type")) {
    std::optional<std::string> value = ctx.readString(*type);
    if (value && *value != kDownstreamConnectionsTypeUrl) {
      std::string message = "expected \"";
      message += kDownstreamConnectionsTypeUrl;
      message += "\"";
      ctx.error(type->path, std::move(message));
    }
  }
  std::optional<uint64_t> out;
  if (std::optional<Field> max = map.require("max_active_downstream_connections")) {
    if (std::optional<uint32_t> value = ctx.readUint32(*max)) {
      if (*value == 0) {
        ctx.error(max->path, "must be greater than 0");
      } else {
        out = *value;
      }
    }
  }
  map.finish();
  return out;
}

// overload_manager: only the global downstream connection limit is enforced. Other monitors
// (heap, cgroup memory, ...) and the actions they trigger are ignored with a warning.
void readOverloadManager(Context& ctx, const Field& field, Bootstrap& out) {
  MapReader map(ctx, field);
  if (std::optional<Field> refresh = map.take("refresh_interval")) ctx.readDuration(*refresh);
  if (std::optional<Field> monitors = map.take("resource_monitors")) {
    bool global_seen = false;
    for (const Field& item : ctx.readSequence(*monitors)) {
      MapReader monitor(ctx, item);
      if (!monitor.isMap()) continue;
      std::optional<std::string> name;
      if (std::optional<Field> name_field = monitor.require("name")) {
        name = ctx.readNonEmptyString(*name_field);
      }
      std::optional<Field> typed_config = monitor.take("typed_config");
      if (name != kGlobalConnectionsMonitor) {
        monitor.finish();
        if (name) ctx.warning(item.path, *name + " is " + std::string(kNotSupportedIgnored));
        continue;
      }
      if (global_seen) {
        ctx.error(item.path, std::string(kGlobalConnectionsMonitor) + " is listed twice");
      } else if (!typed_config) {
        ctx.error(monitor.pathOf("typed_config"), std::string(kRequired));
      } else {
        out.max_active_downstream_connections = readDownstreamConnectionsConfig(ctx, *typed_config);
      }
      global_seen = true;
      monitor.finish();
    }
  }
  // Actions are triggered by the monitors above that wslb does not implement.
  map.ignore({"actions", "buffer_factory_config", "loadshed_points"});
  map.finish();
}

void readStaticResources(Context& ctx, const Field& field, Bootstrap& out) {
  MapReader map(ctx, field);
  // Clusters first: routes are checked against their names.
  if (std::optional<Field> clusters = map.take("clusters")) {
    out.clusters = readClusters(ctx, *clusters);
  }
  std::set<std::string> cluster_names;
  for (const Cluster& cluster : out.clusters) cluster_names.insert(cluster.name);
  if (std::optional<Field> listeners = map.take("listeners")) {
    out.listeners = readListeners(ctx, *listeners, cluster_names);
  }
  // Secrets only feed TLS transport sockets, which are refused where they appear.
  map.ignore({"secrets"});
  map.finish();
}

void readDynamicResources(Context& ctx, const Field& field, Bootstrap& out) {
  MapReader map(ctx, field);
  if (std::optional<Field> ads = map.take("ads_config")) {
    out.dynamic_resources.ads_config = readApiConfigSource(ctx, *ads, ApiSourceUse::kAds);
  }
  // Listeners or clusters from a control plane would be missing entirely.
  map.reject({"lds_config", "cds_config", "lds_resources_locator", "cds_resources_locator"});
  map.finish();
}

// The control plane of an xDS source must be reachable without xDS: a static cluster.
void checkXdsCluster(Context& ctx, const Bootstrap& bootstrap, const std::string& name,
                     const std::string& path) {
  for (const Cluster& cluster : bootstrap.clusters) {
    if (cluster.name != name) continue;
    if (cluster.type != Cluster::Type::kStatic) {
      ctx.error(path, "cluster \"" + name + "\" must be a STATIC cluster (it carries xDS)");
    } else if (cluster.endpoints.empty()) {
      ctx.error(path, "cluster \"" + name + "\" has no endpoints");
    } else if (cluster.tls) {
      ctx.error(path, "cluster \"" + name +
                          "\" has a TLS transport_socket: TLS toward the control plane is " +
                          std::string(kNotSupported));
    }
    return;
  }
  ctx.error(path, "unknown cluster \"" + name + "\": xDS needs a static cluster of that name");
}

// Cross-section checks of EDS clusters against the xDS clusters and ads_config they name.
void checkEdsSources(Context& ctx, const Bootstrap& bootstrap) {
  const auto& ads = bootstrap.dynamic_resources.ads_config;
  if (ads && !ads->cluster_name.empty()) {
    checkXdsCluster(ctx, bootstrap, ads->cluster_name,
                    "dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name");
  }
  for (size_t i = 0; i < bootstrap.clusters.size(); ++i) {
    const Cluster& cluster = bootstrap.clusters[i];
    if (cluster.type != Cluster::Type::kEds) continue;
    const std::string path =
        "static_resources.clusters[" + std::to_string(i) + "].eds_cluster_config.eds_config";
    const ConfigSource& source = cluster.eds.eds_config;
    if (source.kind == ConfigSource::Kind::kAds && !ads) {
      ctx.error(path + ".ads", "dynamic_resources.ads_config is required for ads sources");
    } else if (source.kind == ConfigSource::Kind::kApi && !source.api.cluster_name.empty()) {
      checkXdsCluster(ctx, bootstrap, source.api.cluster_name, path + ".api_config_source");
    }
  }
}

}  // namespace

Bootstrap readBootstrap(Context& ctx, const YAML::Node& root) {
  Bootstrap out;
  if (!root.IsMap()) {
    ctx.error("", "expected a mapping at the top level of the configuration");
    return out;
  }
  MapReader map(ctx, Field{root, ""});
  if (std::optional<Field> node = map.take("node")) readNode(ctx, *node, out);
  if (std::optional<Field> admin = map.take("admin")) readAdmin(ctx, *admin, out.admin);
  if (std::optional<Field> resources = map.take("static_resources")) {
    readStaticResources(ctx, *resources, out);
  }
  if (std::optional<Field> dynamic = map.take("dynamic_resources")) {
    readDynamicResources(ctx, *dynamic, out);
  }
  if (std::optional<Field> overload = map.take("overload_manager")) {
    readOverloadManager(ctx, *overload, out);
  }
  checkEdsSources(ctx, out);
  map.ignore({"node_context_params",
              "cluster_manager",
              "hds_config",
              "flags_path",
              "stats_sinks",
              "deferred_stat_options",
              "stats_config",
              "stats_flush_interval",
              "stats_flush_on_admin",
              "watchdog",
              "watchdogs",
              "tracing",
              "runtime",
              "layered_runtime",
              "enable_dispatcher_stats",
              "header_prefix",
              "stats_server_version_override",
              "use_tcp_for_dns_lookups",
              "dns_resolution_config",
              "typed_dns_resolver_config",
              "bootstrap_extensions",
              "fatal_actions",
              "config_sources",
              "default_config_source",
              "default_socket_interface",
              "certificate_provider_instances",
              "inline_headers",
              "perf_tracing_file_path",
              "default_regex_engine",
              "xds_delegate_extension",
              "xds_config_tracker_extension",
              "listener_manager",
              "application_log_config",
              "grpc_async_client_manager_config",
              "memory_allocator_manager"});
  map.finish();
  return out;
}

}  // namespace wslb::config
