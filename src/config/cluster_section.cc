#include "config/cluster_section.h"

#include <set>
#include <string>
#include <utility>

#include "config/address.h"
#include "config/config_source_section.h"
#include "config/health_section.h"
#include "config/metadata.h"
#include "config/tls_section.h"

namespace wslb::config {
namespace {

// Envoy rejects priorities above this (LocalityLbEndpoints.priority has le: 128).
constexpr uint32_t kMaxPriority = 128;

std::optional<Thresholds::Priority> readPriority(Context& ctx, const Field& field) {
  return ctx.readEnum<Thresholds::Priority>(field, {{"DEFAULT", 0, Thresholds::Priority::kDefault},
                                                    {"HIGH", 1, Thresholds::Priority::kHigh}});
}

std::string_view priorityName(Thresholds::Priority priority) {
  return priority == Thresholds::Priority::kHigh ? "HIGH" : "DEFAULT";
}

void readUint32Into(Context& ctx, MapReader& map, std::string_view key, uint32_t& out) {
  if (std::optional<Field> field = map.take(key)) {
    if (std::optional<uint32_t> value = ctx.readUint32(*field)) out = *value;
  }
}

Thresholds readThresholds(Context& ctx, const Field& field) {
  Thresholds out;
  MapReader map(ctx, field);
  if (std::optional<Field> priority = map.take("priority")) {
    if (std::optional<Thresholds::Priority> value = readPriority(ctx, *priority)) {
      out.priority = *value;
    }
  }
  readUint32Into(ctx, map, "max_connections", out.max_connections);
  readUint32Into(ctx, map, "max_pending_requests", out.max_pending_requests);
  readUint32Into(ctx, map, "max_requests", out.max_requests);
  readUint32Into(ctx, map, "max_retries", out.max_retries);
  if (std::optional<Field> track = map.take("track_remaining")) {
    if (std::optional<bool> value = ctx.readBool(*track)) out.track_remaining = *value;
  }
  map.ignore({"retry_budget", "max_connection_pools"});
  map.finish();
  return out;
}

// Envoy reads only max_connections from a per-host Thresholds entry; any other limit set there
// would silently do nothing, so it is refused.
void readPerHostThresholds(Context& ctx, const Field& field, Cluster& cluster) {
  const std::vector<Field> items = ctx.readSequence(field);
  for (size_t i = 0; i < items.size(); ++i) {
    MapReader map(ctx, items[i]);
    if (i > 0) {
      ctx.error(items[i].path, "only one per_host_thresholds entry is supported");
    }
    if (std::optional<Field> priority = map.take("priority")) {
      std::optional<Thresholds::Priority> value = readPriority(ctx, *priority);
      if (value && *value != Thresholds::Priority::kDefault) {
        ctx.error(priority->path, "HIGH is " + std::string(kNotSupported) +
                                      " in per_host_thresholds (supported: DEFAULT)");
      }
    }
    if (std::optional<Field> max = map.take("max_connections")) {
      if (std::optional<uint32_t> value = ctx.readUint32(*max)) {
        if (i == 0) cluster.per_host_max_connections = *value;
      }
    }
    for (std::string_view key : {"max_pending_requests", "max_requests", "max_retries",
                                 "retry_budget", "track_remaining", "max_connection_pools"}) {
      if (std::optional<Field> other = map.take(key)) {
        ctx.error(
            other->path,
            "not supported in per_host_thresholds: Envoy supports only max_connections there");
      }
    }
    map.finish();
  }
}

void readCircuitBreakers(Context& ctx, const Field& field, Cluster& cluster) {
  MapReader map(ctx, field);
  if (std::optional<Field> thresholds = map.take("thresholds")) {
    std::set<Thresholds::Priority> seen;
    for (const Field& item : ctx.readSequence(*thresholds)) {
      Thresholds value = readThresholds(ctx, item);
      if (!seen.insert(value.priority).second) {
        ctx.error(item.path, "another thresholds entry already has priority " +
                                 std::string(priorityName(value.priority)));
        continue;
      }
      if (value.priority == Thresholds::Priority::kHigh) {
        cluster.high_thresholds = value;
      } else {
        cluster.default_thresholds = value;
      }
    }
  }
  if (std::optional<Field> per_host = map.take("per_host_thresholds")) {
    readPerHostThresholds(ctx, *per_host, cluster);
  }
  map.finish();
}

std::optional<HealthStatus> readHealthStatus(Context& ctx, const Field& field) {
  return ctx.readEnum<HealthStatus>(field, {{"UNKNOWN", 0, HealthStatus::kUnknown},
                                            {"HEALTHY", 1, HealthStatus::kHealthy},
                                            {"UNHEALTHY", 2, HealthStatus::kUnhealthy},
                                            {"DRAINING", 3, HealthStatus::kDraining},
                                            {"TIMEOUT", 4, HealthStatus::kTimeout},
                                            {"DEGRADED", 5, HealthStatus::kDegraded}});
}

// Endpoint.health_check_config: only port_value. The others are ignored with a warning (as the
// whole message was before port_value was supported; EDS drops them silently).
void readHealthCheckConfig(Context& ctx, const Field& field, Endpoint& out) {
  MapReader map(ctx, field);
  if (std::optional<Field> port = map.take("port_value")) {
    if (std::optional<uint32_t> value = ctx.readUint32(*port)) {
      if (*value > 65535) {
        ctx.error(port->path, "port " + std::to_string(*value) + " is not allowed (0-65535)");
      } else {
        out.health_check_port = *value;
      }
    }
  }
  map.ignore({"hostname", "address", "disable_active_health_check"});
  map.finish();
}

// Endpoint (the `endpoint` of an LbEndpoint) -> address, hostname, health check port.
void readEndpointBody(Context& ctx, const Field& field, Endpoint& out, bool& address_ok) {
  MapReader map(ctx, field);
  if (std::optional<Field> address = map.require("address")) {
    if (std::optional<SocketAddress> value = readAddress(ctx, *address, PortRule::kNonZero)) {
      out.address = *value;
      address_ok = true;
    }
  }
  if (std::optional<Field> hostname = map.take("hostname")) {
    if (std::optional<std::string> value = ctx.readString(*hostname)) out.hostname = *value;
  }
  if (std::optional<Field> health_check = map.take("health_check_config")) {
    readHealthCheckConfig(ctx, *health_check, out);
  }
  map.ignore({"additional_addresses"});
  map.finish();
}

// One LbEndpoint. Returns the endpoint and, via `address_ok`, whether its address was valid.
Endpoint readLbEndpoint(Context& ctx, const Field& field, uint32_t priority, bool& address_ok) {
  Endpoint out;
  out.priority = priority;
  address_ok = false;
  MapReader map(ctx, field);
  if (map.has("endpoint_name")) {
    map.reject({"endpoint_name"});
  } else if (std::optional<Field> endpoint = map.require("endpoint")) {
    readEndpointBody(ctx, *endpoint, out, address_ok);
  }
  if (std::optional<Field> health = map.take("health_status")) {
    if (std::optional<HealthStatus> value = readHealthStatus(ctx, *health)) out.health = *value;
  }
  if (std::optional<Field> weight = map.take("load_balancing_weight")) {
    if (std::optional<uint32_t> value = ctx.readUint32(*weight)) {
      if (*value == 0) {
        ctx.error(weight->path, "must be at least 1");
      } else {
        out.weight = *value;
      }
    }
  }
  if (std::optional<Field> metadata = map.take("metadata")) {
    readMetadata(ctx, *metadata, [&](MapReader& wslb) {
      if (std::optional<Field> max = wslb.take("max_connections")) {
        if (std::optional<uint32_t> value = ctx.readUint32(*max)) out.max_connections = *value;
      }
    });
  }
  map.finish();
  return out;
}

void readLoadAssignment(Context& ctx, const Field& field, Cluster& cluster) {
  MapReader map(ctx, field);
  if (std::optional<Field> name = map.take("cluster_name")) ctx.readString(*name);
  std::set<std::pair<std::string, uint32_t>> seen;
  if (std::optional<Field> endpoints = map.take("endpoints")) {
    for (const Field& locality : ctx.readSequence(*endpoints)) {
      MapReader group(ctx, locality);
      uint32_t priority = 0;
      if (std::optional<Field> field_priority = group.take("priority")) {
        if (std::optional<uint32_t> value = ctx.readUint32(*field_priority)) {
          if (*value > kMaxPriority) {
            ctx.error(field_priority->path, "must be at most " + std::to_string(kMaxPriority));
          } else {
            priority = *value;
          }
        }
      }
      if (std::optional<Field> weight = group.take("load_balancing_weight")) {
        if (ctx.readUint32(*weight)) {
          ctx.warning(weight->path, "locality weights are " + std::string(kNotSupportedIgnored));
        }
      }
      if (std::optional<Field> lb_endpoints = group.take("lb_endpoints")) {
        for (const Field& item : ctx.readSequence(*lb_endpoints)) {
          bool address_ok = false;
          Endpoint endpoint = readLbEndpoint(ctx, item, priority, address_ok);
          if (!address_ok) continue;
          if (!seen.emplace(endpoint.address.address, endpoint.address.port).second) {
            ctx.error(childPath(childPath(item.path, "endpoint"), "address"),
                      "duplicate endpoint " + endpoint.address.address + ":" +
                          std::to_string(endpoint.address.port));
            continue;
          }
          cluster.endpoints.push_back(std::move(endpoint));
        }
      }
      group.accept({"locality", "metadata"});
      group.reject({"leds_cluster_locality_config"});
      group.ignore({"proximity"});
      group.finish();
    }
  }
  map.reject({"named_endpoints"});
  map.ignore({"policy"});
  map.finish();
}

Cluster readCluster(Context& ctx, const Field& field) {
  Cluster out;
  MapReader map(ctx, field);
  if (std::optional<Field> name = map.require("name")) {
    if (std::optional<std::string> value = ctx.readNonEmptyString(*name)) out.name = *value;
  }
  if (std::optional<Field> type = map.take("type")) {
    std::optional<Cluster::Type> value =
        ctx.readEnum<Cluster::Type>(*type, {{"STATIC", 0, Cluster::Type::kStatic},
                                            {"STRICT_DNS", 1, std::nullopt},
                                            {"LOGICAL_DNS", 2, std::nullopt},
                                            {"EDS", 3, Cluster::Type::kEds},
                                            {"ORIGINAL_DST", 4, std::nullopt}});
    if (value) out.type = *value;
  }
  if (std::optional<Field> eds = map.take("eds_cluster_config")) {
    if (out.type != Cluster::Type::kEds) {
      ctx.error(eds->path, "only valid for clusters of type EDS");
    } else {
      MapReader eds_map(ctx, *eds);
      if (std::optional<Field> source = eds_map.require("eds_config")) {
        out.eds.eds_config = readConfigSource(ctx, *source);
      }
      if (std::optional<Field> service = eds_map.take("service_name")) {
        if (std::optional<std::string> value = ctx.readString(*service)) {
          out.eds.service_name = *value;
        }
      }
      eds_map.finish();
    }
  } else if (out.type == Cluster::Type::kEds) {
    ctx.error(map.pathOf("eds_cluster_config"), "required for clusters of type EDS");
  }
  if (std::optional<Field> timeout = map.take("connect_timeout")) {
    if (std::optional<Duration> value = ctx.readDuration(*timeout)) {
      if (value->count() == 0) {
        ctx.error(timeout->path, "must be greater than 0s");
      } else {
        out.connect_timeout = *value;
      }
    }
  }
  if (std::optional<Field> policy = map.take("lb_policy")) {
    std::optional<LbPolicy> value =
        ctx.readEnum<LbPolicy>(*policy, {{"LEAST_REQUEST", 1, LbPolicy::kLeastRequest},
                                         {"ROUND_ROBIN", 0, LbPolicy::kRoundRobin},
                                         {"RANDOM", 3, LbPolicy::kRandom},
                                         {"RING_HASH", 2, std::nullopt},
                                         {"MAGLEV", 5, std::nullopt},
                                         {"CLUSTER_PROVIDED", 6, std::nullopt},
                                         {"LOAD_BALANCING_POLICY_CONFIG", 7, std::nullopt}});
    if (value) out.lb_policy = *value;
  }
  if (std::optional<Field> assignment = map.take("load_assignment")) {
    if (out.type == Cluster::Type::kEds) {
      ctx.warning(assignment->path, "ignored for clusters of type EDS (endpoints come from EDS)");
    } else {
      readLoadAssignment(ctx, *assignment, out);
    }
  }
  if (std::optional<Field> breakers = map.take("circuit_breakers")) {
    readCircuitBreakers(ctx, *breakers, out);
  }
  if (std::optional<Field> health_checks = map.take("health_checks")) {
    readHealthChecks(ctx, *health_checks, out);
  }
  if (std::optional<Field> outlier = map.take("outlier_detection")) {
    readOutlierDetection(ctx, *outlier, out);
  }
  if (std::optional<Field> metadata = map.take("metadata")) {
    readMetadata(ctx, *metadata, [&](MapReader& wslb) {
      if (std::optional<Field> pending = wslb.take("pending_timeout")) {
        if (std::optional<Duration> value = ctx.readDuration(*pending)) {
          out.pending_timeout = *value;
        }
      }
      if (std::optional<Field> drain = wslb.take("removed_endpoint_drain_timeout")) {
        if (std::optional<Duration> value = ctx.readDuration(*drain)) {
          out.removed_endpoint_drain_timeout = *value;
        }
      }
      if (std::optional<Field> window = wslb.take("removed_endpoint_drain_window")) {
        if (std::optional<Duration> value = ctx.readDuration(*window)) {
          out.removed_endpoint_drain_window = *value;
        }
      }
      if (std::optional<Field> window = wslb.take("unhealthy_endpoint_drain_window")) {
        if (std::optional<Duration> value = ctx.readDuration(*window)) {
          out.unhealthy_endpoint_drain_window = *value;
        }
      }
    });
  }
  // Each of these would change where or how traffic goes.
  if (std::optional<Field> socket = map.take("transport_socket")) {
    out.tls = readUpstreamTransportSocket(ctx, *socket);
  }
  map.reject({"transport_socket_matches", "cluster_type", "load_balancing_policy",
              "lb_subset_config", "upstream_bind_config", "filters", "upstream_config"});
  // The upstream protocol: wslb speaks HTTP/1.1 to WebSocket backends and HTTP/2 (gRPC) to xDS
  // clusters whatever these say, which is what they are set to in practice.
  map.accept({"http2_protocol_options", "typed_extension_protocol_options"});
  map.ignore({"alt_stat_name",
              "per_connection_buffer_limit_bytes",
              "max_requests_per_connection",
              "upstream_http_protocol_options",
              "common_http_protocol_options",
              "http_protocol_options",
              "dns_refresh_rate",
              "dns_jitter",
              "dns_failure_refresh_rate",
              "respect_dns_ttl",
              "dns_lookup_family",
              "dns_resolvers",
              "use_tcp_for_dns_lookups",
              "dns_resolution_config",
              "typed_dns_resolver_config",
              "wait_for_warm_on_init",
              "cleanup_interval",
              "ring_hash_lb_config",
              "maglev_lb_config",
              "original_dst_lb_config",
              "least_request_lb_config",
              "round_robin_lb_config",
              "common_lb_config",
              "protocol_selection",
              "upstream_connection_options",
              "close_connections_on_host_health_failure",
              "ignore_health_on_host_removal",
              "lrs_server",
              "lrs_report_endpoint_metrics",
              "track_timeout_budgets",
              "track_cluster_stats",
              "preconnect_policy",
              "connection_pool_per_downstream_connection"});
  map.finish();
  return out;
}

}  // namespace

std::vector<Cluster> readClusters(Context& ctx, const Field& field) {
  std::vector<Cluster> out;
  std::set<std::string> names;
  for (const Field& item : ctx.readSequence(field)) {
    Cluster cluster = readCluster(ctx, item);
    if (!cluster.name.empty() && !names.insert(cluster.name).second) {
      ctx.error(childPath(item.path, "name"), "duplicate cluster name \"" + cluster.name + "\"");
      continue;
    }
    out.push_back(std::move(cluster));
  }
  return out;
}

}  // namespace wslb::config
