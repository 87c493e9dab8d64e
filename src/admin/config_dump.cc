// GET /config_dump: the effective configuration in the shape of Envoy's admin.v3.ConfigDump,
// built from config::Bootstrap (what wslb read, defaults filled in) and, for EDS clusters, the
// endpoint sets in force now.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <map>

#include "admin/json_util.h"
#include "wslb/admin/views.h"

namespace wslb::admin {

namespace json = boost::json;

namespace {

constexpr const char* kTypePrefix = "type.googleapis.com/";

/// {"@type": type.googleapis.com/<type>, ...fields}: "@type" first, as protobuf prints an Any.
json::object typed(std::string_view type, json::object fields) {
  json::object out{{"@type", std::string(kTypePrefix) + std::string(type)}};
  for (auto& [key, value] : fields) out[key] = std::move(value);
  return out;
}

const char* healthStatusName(config::HealthStatus status) {
  switch (status) {
    case config::HealthStatus::kUnknown:
      return "UNKNOWN";
    case config::HealthStatus::kHealthy:
      return "HEALTHY";
    case config::HealthStatus::kUnhealthy:
      return "UNHEALTHY";
    case config::HealthStatus::kDraining:
      return "DRAINING";
    case config::HealthStatus::kTimeout:
      return "TIMEOUT";
    case config::HealthStatus::kDegraded:
      return "DEGRADED";
  }
  return "UNKNOWN";
}

const char* lbPolicyName(config::LbPolicy policy) {
  switch (policy) {
    case config::LbPolicy::kLeastRequest:
      return "LEAST_REQUEST";
    case config::LbPolicy::kRoundRobin:
      return "ROUND_ROBIN";
    case config::LbPolicy::kRandom:
      return "RANDOM";
  }
  return "LEAST_REQUEST";
}

json::object wslbMetadata(json::object fields) {
  return json::object{{"filter_metadata", json::object{{"wslb", std::move(fields)}}}};
}

// ---- endpoints ----

struct LbEndpoint {
  std::string ip;
  uint32_t port = 0;
  std::string hostname;
  uint32_t weight = 1;
  const char* health = nullptr;  ///< nullptr: UNKNOWN (not printed).
  std::optional<uint32_t> max_connections;
  uint32_t health_check_port = 0;  ///< 0: none (the serving port is checked).
};

json::object lbEndpointJson(const LbEndpoint& e) {
  json::object endpoint{{"address", addressJson(e.ip, e.port)}};
  if (!e.hostname.empty()) endpoint["hostname"] = e.hostname;
  if (e.health_check_port != 0) {
    endpoint["health_check_config"] = json::object{{"port_value", e.health_check_port}};
  }
  json::object out{{"endpoint", std::move(endpoint)}};
  if (e.health != nullptr) out["health_status"] = e.health;
  out["load_balancing_weight"] = e.weight;
  if (e.max_connections) {
    out["metadata"] = wslbMetadata(json::object{{"max_connections", *e.max_connections}});
  }
  return out;
}

/// envoy.config.endpoint.v3.ClusterLoadAssignment with one LocalityLbEndpoints per priority.
json::object loadAssignmentJson(const std::string& name,
                                const std::map<uint32_t, json::array>& by_priority) {
  json::array endpoints;
  for (const auto& [priority, lb_endpoints] : by_priority) {
    json::object locality{{"lb_endpoints", lb_endpoints}};
    if (priority != 0) locality["priority"] = priority;
    endpoints.push_back(std::move(locality));
  }
  return json::object{{"cluster_name", name}, {"endpoints", std::move(endpoints)}};
}

json::object staticAssignmentJson(const config::Cluster& cluster) {
  std::map<uint32_t, json::array> by_priority;
  for (const auto& e : cluster.endpoints) {
    by_priority[e.priority].push_back(lbEndpointJson(LbEndpoint{
        e.address.address, e.address.port, e.hostname, e.weight,
        e.health == config::HealthStatus::kUnknown ? nullptr : healthStatusName(e.health),
        e.max_connections, e.health_check_port}));
  }
  return loadAssignmentJson(cluster.name, by_priority);
}

/// The assignment an EDS cluster runs with now, rebuilt from its host set.
json::object liveAssignmentJson(const upstream::ClusterState& cluster) {
  const auto set = cluster.hostSet();
  const uint32_t per_host = cluster.config().per_host_max_connections;
  std::map<uint32_t, json::array> by_priority;
  for (size_t priority = 0; priority < set->hosts_by_priority.size(); ++priority) {
    auto& out = by_priority[static_cast<uint32_t>(priority)];
    for (const auto& host : set->hosts_by_priority[priority]) {
      const uint32_t flags = host->healthFlags();
      const char* health = (flags & upstream::kFailedEdsHealth) != 0     ? "UNHEALTHY"
                           : (flags & upstream::kDegradedEdsHealth) != 0 ? "DEGRADED"
                                                                         : "HEALTHY";
      std::optional<uint32_t> cap;
      if (host->cap() != per_host) cap = host->cap();
      const uint16_t hc_port = host->healthCheckPort();
      out.push_back(
          lbEndpointJson(LbEndpoint{host->ip(), host->port(), host->hostname(), host->weight(),
                                    health, cap, hc_port == host->port() ? 0u : hc_port}));
    }
  }
  return loadAssignmentJson(cluster.config().edsResourceName(), by_priority);
}

// ---- clusters ----

json::object apiConfigSourceJson(const config::ApiConfigSource& api, bool aggregated) {
  using ApiType = config::ApiConfigSource::ApiType;
  const char* type = api.api_type == ApiType::kRest ? "REST"
                     : api.api_type == ApiType::kDeltaGrpc
                         ? (aggregated ? "AGGREGATED_DELTA_GRPC" : "DELTA_GRPC")
                         : (aggregated ? "AGGREGATED_GRPC" : "GRPC");
  json::object out{{"api_type", type}, {"transport_api_version", "V3"}};
  if (api.api_type == ApiType::kRest) {
    out["cluster_names"] = json::array{json::value(api.cluster_name)};
    out["refresh_delay"] = durationJson(api.refresh_delay);
    out["request_timeout"] = durationJson(api.request_timeout);
    return out;
  }
  json::object grpc_service{
      {"envoy_grpc",
       json::object{{"cluster_name", api.cluster_name},
                    {"retry_policy",
                     json::object{{"retry_back_off",
                                   json::object{
                                       {"base_interval", durationJson(api.retry_base_interval)},
                                       {"max_interval", durationJson(api.retry_max_interval)},
                                   }}}}}}};
  if (api.grpc_timeout.count() > 0) grpc_service["timeout"] = durationJson(api.grpc_timeout);
  out["grpc_services"] = json::array{std::move(grpc_service)};
  out["set_node_on_first_message_only"] = api.set_node_on_first_message_only;
  return out;
}

json::object configSourceJson(const config::ConfigSource& source) {
  json::object out;
  switch (source.kind) {
    case config::ConfigSource::Kind::kApi:
      out["api_config_source"] = apiConfigSourceJson(source.api, false);
      break;
    case config::ConfigSource::Kind::kAds:
      out["ads"] = json::object{};
      break;
    case config::ConfigSource::Kind::kPath: {
      json::object path{{"path", source.path}};
      if (!source.watched_directory.empty()) {
        path["watched_directory"] = json::object{{"path", source.watched_directory}};
      }
      out["path_config_source"] = std::move(path);
      break;
    }
    case config::ConfigSource::Kind::kNone:
      break;
  }
  out["initial_fetch_timeout"] = durationJson(source.initial_fetch_timeout);
  out["resource_api_version"] = "V3";
  return out;
}

json::object thresholdsJson(const char* priority, const config::Thresholds& t) {
  return json::object{{"priority", priority},
                      {"max_connections", t.max_connections},
                      {"max_pending_requests", t.max_pending_requests},
                      {"max_requests", t.max_requests},
                      {"max_retries", t.max_retries},
                      {"track_remaining", t.track_remaining}};
}

json::object clusterJson(const config::Cluster& c) {
  const bool eds = c.type == config::Cluster::Type::kEds;
  json::array thresholds{thresholdsJson("DEFAULT", c.default_thresholds)};
  if (c.high_thresholds) thresholds.push_back(thresholdsJson("HIGH", *c.high_thresholds));
  json::object breakers{{"thresholds", std::move(thresholds)}};
  if (c.per_host_max_connections != config::kUnlimited) {
    breakers["per_host_thresholds"] =
        json::array{json::object{{"max_connections", c.per_host_max_connections}}};
  }
  json::object out{
      {"name", c.name},
      {"type", eds ? "EDS" : "STATIC"},
      {"connect_timeout", durationJson(c.connect_timeout)},
      {"lb_policy", lbPolicyName(c.lb_policy)},
      {"circuit_breakers", std::move(breakers)},
  };
  if (eds) {
    json::object eds_config{{"eds_config", configSourceJson(c.eds.eds_config)}};
    if (!c.eds.service_name.empty()) eds_config["service_name"] = c.eds.service_name;
    out["eds_cluster_config"] = std::move(eds_config);
  } else {
    out["load_assignment"] = staticAssignmentJson(c);
  }
  json::object metadata;
  if (c.pending_timeout) metadata["pending_timeout"] = durationJson(*c.pending_timeout);
  if (c.removed_endpoint_drain_timeout) {
    metadata["removed_endpoint_drain_timeout"] = durationJson(*c.removed_endpoint_drain_timeout);
    metadata["removed_endpoint_drain_window"] = durationJson(c.removed_endpoint_drain_window);
  }
  if (!metadata.empty()) out["metadata"] = wslbMetadata(std::move(metadata));
  return out;
}

// ---- listeners and routes ----

json::array upgradeConfigsJson(const std::vector<config::UpgradeConfig>& upgrades) {
  json::array out;
  for (const auto& u : upgrades) {
    out.push_back(json::object{{"upgrade_type", u.upgrade_type}, {"enabled", u.enabled}});
  }
  return out;
}

json::object routeJson(const config::Route& r) {
  json::object match;
  match[r.match.kind == config::RouteMatch::Kind::kPath ? "path" : "prefix"] = r.match.value;
  json::object action{{"cluster", r.cluster}, {"timeout", durationJson(r.timeout)}};
  if (r.idle_timeout) action["idle_timeout"] = durationJson(*r.idle_timeout);
  if (!r.upgrade_configs.empty()) action["upgrade_configs"] = upgradeConfigsJson(r.upgrade_configs);
  return json::object{{"match", std::move(match)}, {"route", std::move(action)}};
}

json::object routeConfigJson(const config::HttpConnectionManager& hcm) {
  json::array virtual_hosts;
  for (const auto& vh : hcm.virtual_hosts) {
    json::array domains;
    for (const auto& d : vh.domains) domains.push_back(json::value(d));
    json::array routes;
    for (const auto& r : vh.routes) routes.push_back(routeJson(r));
    virtual_hosts.push_back(json::object{
        {"name", vh.name}, {"domains", std::move(domains)}, {"routes", std::move(routes)}});
  }
  json::object out;
  if (!hcm.route_config_name.empty()) out["name"] = hcm.route_config_name;
  out["virtual_hosts"] = std::move(virtual_hosts);
  return out;
}

json::object listenerJson(const config::Listener& l) {
  json::object hcm{{"stat_prefix", l.hcm.stat_prefix}};
  if (!l.hcm.upgrade_configs.empty()) {
    hcm["upgrade_configs"] = upgradeConfigsJson(l.hcm.upgrade_configs);
  }
  if (l.hcm.stream_idle_timeout) {
    hcm["stream_idle_timeout"] = durationJson(*l.hcm.stream_idle_timeout);
  }
  hcm["route_config"] = routeConfigJson(l.hcm);
  hcm["http_filters"] = json::array{
      json::object{{"name", "envoy.filters.http.router"},
                   {"typed_config", typed("envoy.extensions.filters.http.router.v3.Router", {})}}};
  json::object filter{
      {"name", "envoy.filters.network.http_connection_manager"},
      {"typed_config",
       typed("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
             std::move(hcm))}};
  json::object filter_chain{{"filters", json::array{std::move(filter)}}};
  return json::object{
      {"name", l.name},
      {"address", addressJson(l.address.address, l.address.port)},
      {"filter_chains", json::array{std::move(filter_chain)}},
  };
}

json::object bootstrapJson(const config::Bootstrap& b) {
  json::array listeners;
  for (const auto& l : b.listeners) listeners.push_back(listenerJson(l));
  json::array clusters;
  for (const auto& c : b.clusters) clusters.push_back(clusterJson(c));
  json::object out{
      {"node", json::object{{"id", b.node.id},
                            {"cluster", b.node.cluster},
                            {"user_agent_name", "wslb"},
                            {"user_agent_version", WSLB_VERSION}}},
      {"static_resources",
       json::object{{"listeners", std::move(listeners)}, {"clusters", std::move(clusters)}}},
  };
  if (b.dynamic_resources.ads_config) {
    out["dynamic_resources"] =
        json::object{{"ads_config", apiConfigSourceJson(*b.dynamic_resources.ads_config, true)}};
  }
  if (b.admin.address) {
    out["admin"] =
        json::object{{"address", addressJson(b.admin.address->address, b.admin.address->port)}};
  }
  return out;
}

}  // namespace

std::string renderConfigDump(const AdminContext& context) {
  const std::string last_updated = timestampJson(context.config_time);
  json::array configs;
  if (const config::Bootstrap* b = context.bootstrap) {
    configs.push_back(typed("envoy.admin.v3.BootstrapConfigDump",
                            {{"bootstrap", bootstrapJson(*b)}, {"last_updated", last_updated}}));
    json::array clusters;
    for (const auto& c : b->clusters) {
      clusters.push_back(
          json::object{{"cluster", typed("envoy.config.cluster.v3.Cluster", clusterJson(c))},
                       {"last_updated", last_updated}});
    }
    configs.push_back(
        typed("envoy.admin.v3.ClustersConfigDump", {{"static_clusters", std::move(clusters)}}));
    json::array listeners;
    json::array routes;
    for (const auto& l : b->listeners) {
      listeners.push_back(
          json::object{{"listener", typed("envoy.config.listener.v3.Listener", listenerJson(l))},
                       {"last_updated", last_updated}});
      routes.push_back(
          json::object{{"route_config",
                        typed("envoy.config.route.v3.RouteConfiguration", routeConfigJson(l.hcm))},
                       {"last_updated", last_updated}});
    }
    configs.push_back(
        typed("envoy.admin.v3.ListenersConfigDump", {{"static_listeners", std::move(listeners)}}));
    configs.push_back(
        typed("envoy.admin.v3.RoutesConfigDump", {{"static_route_configs", std::move(routes)}}));
  }
  json::array static_endpoints;
  json::array dynamic_endpoints;
  for (const auto& cluster : context.clusters->clusters()) {
    const auto& cfg = cluster->config();
    if (cfg.type == config::Cluster::Type::kEds) {
      dynamic_endpoints.push_back(
          json::object{{"endpoint_config", typed("envoy.config.endpoint.v3.ClusterLoadAssignment",
                                                 liveAssignmentJson(*cluster))}});
    } else {
      static_endpoints.push_back(json::object{
          {"endpoint_config",
           typed("envoy.config.endpoint.v3.ClusterLoadAssignment", staticAssignmentJson(cfg))},
          {"last_updated", last_updated}});
    }
  }
  configs.push_back(typed("envoy.admin.v3.EndpointsConfigDump",
                          {{"static_endpoint_configs", std::move(static_endpoints)},
                           {"dynamic_endpoint_configs", std::move(dynamic_endpoints)}}));
  return prettyJson(json::object{{"configs", std::move(configs)}});
}

}  // namespace wslb::admin
