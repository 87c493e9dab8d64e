#include "config/listener_section.h"

#include <algorithm>
#include <map>
#include <utility>

#include "config/access_log_section.h"
#include "config/address.h"
#include "config/route_section.h"
#include "config/tls_section.h"

namespace wslb::config {
namespace {

enum class Codec { kAuto, kHttp1 };

// Envoy's bound on max_request_headers_kb (the proto's `lte`).
constexpr uint32_t kMaxRequestHeadersKb = 8192;

// The "@type" of a typed_config, if it has one.
std::optional<std::string> typeUrl(const Field& typed_config) {
  if (!typed_config.node.IsMap()) return std::nullopt;
  const YAML::Node type = typed_config.node["@type"];
  if (!type.IsDefined() || !type.IsScalar()) return std::nullopt;
  return type.Scalar();
}

// Checks that "@type", when present, names `expected`.
void checkTypeUrl(Context& ctx, MapReader& map, std::string_view expected) {
  if (std::optional<Field> type = map.take("@type")) {
    std::optional<std::string> value = ctx.readString(*type);
    if (value && *value != expected) {
      ctx.error(type->path, "expected \"" + std::string(expected) + "\"");
    }
  }
}

// envoy.filters.http.router's typed_config: nothing in it changes how wslb routes.
void readRouterConfig(Context& ctx, const Field& field) {
  MapReader map(ctx, field);
  checkTypeUrl(ctx, map, kRouterTypeUrl);
  map.ignoreRest();
}

// http_filters[]: the router, last, plus optional filters wslb skips.
void readHttpFilters(Context& ctx, const Field& field) {
  const std::vector<Field> items = ctx.readSequence(field);
  bool router_seen = false;
  for (size_t i = 0; i < items.size(); ++i) {
    const Field& item = items[i];
    MapReader map(ctx, item);
    if (!map.isMap()) continue;
    std::string name;
    if (std::optional<Field> name_field = map.take("name")) {
      if (std::optional<std::string> value = ctx.readString(*name_field)) name = *value;
    }
    std::optional<Field> typed_config = map.take("typed_config");
    const std::optional<std::string> type = typed_config ? typeUrl(*typed_config) : std::nullopt;
    bool is_optional = false;
    if (std::optional<Field> optional_field = map.take("is_optional")) {
      is_optional = ctx.readBool(*optional_field).value_or(false);
    }
    map.ignore({"disabled"});
    map.reject({"config_discovery"});
    map.finish();

    // As for network filters, the type of typed_config identifies the filter; a router with the
    // wrong "@type" is reported by readRouterConfig().
    const bool is_router = name == kRouterFilterName || (type && *type == kRouterTypeUrl);
    if (is_router) {
      if (router_seen) {
        ctx.error(item.path, std::string(kRouterFilterName) + " is listed twice");
        continue;
      }
      router_seen = true;
      if (typed_config) readRouterConfig(ctx, *typed_config);
      if (i + 1 != items.size()) {
        ctx.error(item.path, std::string(kRouterFilterName) + " must be the last HTTP filter");
      }
      continue;
    }
    const std::string label = name.empty() ? type.value_or("(unnamed)") : name;
    if (is_optional) {
      ctx.warning(item.path, "optional HTTP filter \"" + label + "\" is " +
                                 std::string(kNotSupported) + "; skipped");
    } else {
      ctx.error(item.path, "HTTP filter \"" + label + "\" is " + std::string(kNotSupported) +
                               " (set is_optional: true to skip it)");
    }
  }
  // A value that is not a sequence has been reported already.
  if (!router_seen && field.node.IsSequence()) {
    ctx.error(field.path, std::string(kRouterFilterName) + " is required");
  }
}

// common_http_protocol_options (envoy.config.core.v3.HttpProtocolOptions): the downstream
// connection limits wslb applies.
void readCommonHttpProtocolOptions(Context& ctx, const Field& field, HttpConnectionManager& out) {
  MapReader map(ctx, field);
  if (!map.isMap()) return;
  if (std::optional<Field> idle = map.take("idle_timeout")) {
    if (std::optional<Duration> value = ctx.readDuration(*idle)) out.idle_timeout = *value;
  }
  if (std::optional<Field> duration = map.take("max_connection_duration")) {
    if (std::optional<Duration> value = ctx.readDuration(*duration)) {
      out.max_connection_duration = *value;
    }
  }
  if (std::optional<Field> count = map.take("max_headers_count")) {
    if (std::optional<uint32_t> value = ctx.readUint32(*count)) {
      if (*value == 0) {
        ctx.error(count->path, "must be at least 1");
      } else {
        out.max_headers_count = *value;
      }
    }
  }
  map.ignore({"max_stream_duration", "headers_with_underscores_action",
              "max_requests_per_connection", "max_response_headers_kb"});
  map.finish();
}

HttpConnectionManager readHcm(Context& ctx, const Field& field,
                              const std::set<std::string>& cluster_names) {
  HttpConnectionManager out;
  MapReader map(ctx, field);
  if (!map.isMap()) return out;
  checkTypeUrl(ctx, map, kHcmTypeUrl);
  if (std::optional<Field> prefix = map.require("stat_prefix")) {
    if (std::optional<std::string> value = ctx.readNonEmptyString(*prefix)) {
      out.stat_prefix = *value;
    }
  }
  if (std::optional<Field> codec = map.take("codec_type")) {
    std::optional<Codec> value = ctx.readEnum<Codec>(*codec, {{"AUTO", 0, Codec::kAuto},
                                                              {"HTTP1", 1, Codec::kHttp1},
                                                              {"HTTP2", 2, std::nullopt},
                                                              {"HTTP3", 3, std::nullopt}});
    // wslb serves HTTP/1.1 on both sides, which is what AUTO and HTTP1 give an HTTP/1.1
    // client (WebSocket upgrades are HTTP/1.1), so both are accepted as they are.
    (void)value;
  }
  if (map.has("rds") || map.has("scoped_routes")) {
    map.reject({"rds", "scoped_routes"});
    map.take("route_config");
  } else if (std::optional<Field> routes = map.require("route_config")) {
    readRouteConfiguration(ctx, *routes, cluster_names, out);
  }
  if (std::optional<Field> upgrades = map.take("upgrade_configs")) {
    out.upgrade_configs = readUpgradeConfigs(ctx, *upgrades, UpgradeLevel::kConnectionManager);
  }
  if (std::optional<Field> idle = map.take("stream_idle_timeout")) {
    if (std::optional<Duration> value = ctx.readDuration(*idle)) out.stream_idle_timeout = *value;
  }
  if (std::optional<Field> logs = map.take("access_log")) {
    out.access_logs = readAccessLogs(ctx, *logs);
  }
  if (std::optional<Field> kb = map.take("max_request_headers_kb")) {
    if (std::optional<uint32_t> value = ctx.readUint32(*kb)) {
      if (*value == 0 || *value > kMaxRequestHeadersKb) {
        ctx.error(kb->path, "must be from 1 to " + std::to_string(kMaxRequestHeadersKb));
      } else {
        out.max_request_headers_kb = *value;
      }
    }
  }
  if (std::optional<Field> timeout = map.take("request_headers_timeout")) {
    if (std::optional<Duration> value = ctx.readDuration(*timeout)) {
      out.request_headers_timeout = *value;
    }
  }
  if (std::optional<Field> options = map.take("common_http_protocol_options")) {
    readCommonHttpProtocolOptions(ctx, *options, out);
  }
  if (std::optional<Field> filters = map.take("http_filters")) {
    readHttpFilters(ctx, *filters);
  } else {
    ctx.error(map.pathOf("http_filters"), std::string(kRouterFilterName) + " is required");
  }
  map.ignore({"add_user_agent",
              "tracing",
              "http1_safe_max_connection_duration",
              "http_protocol_options",
              "http2_protocol_options",
              "http3_protocol_options",
              "server_name",
              "server_header_transformation",
              "scheme_header_transformation",
              "request_timeout",
              "drain_timeout",
              "delayed_close_timeout",
              "access_log_flush_interval",
              "flush_access_log_on_new_request",
              "access_log_options",
              "use_remote_address",
              "xff_num_trusted_hops",
              "original_ip_detection_extensions",
              "early_header_mutation_extensions",
              "internal_address_config",
              "skip_xff_append",
              "via",
              "generate_request_id",
              "preserve_external_request_id",
              "always_set_request_id_in_response",
              "forward_client_cert_details",
              "set_current_client_cert_details",
              "proxy_100_continue",
              "represent_ipv4_remote_address_as_ipv4_mapped_ipv6",
              "normalize_path",
              "merge_slashes",
              "path_with_escaped_slashes_action",
              "request_id_extension",
              "local_reply_config",
              "strip_matching_host_port",
              "strip_any_host_port",
              "stream_error_on_invalid_http_message",
              "path_normalization_options",
              "strip_trailing_host_dot",
              "proxy_status_config",
              "typed_header_validation_config",
              "append_x_forwarded_port",
              "append_local_overload",
              "add_proxy_protocol_connection_state"});
  map.finish();
  return out;
}

// What a filter chain yielded.
struct ChainResult {
  std::optional<HttpConnectionManager> hcm;
  bool other_filter = false;  ///< a network filter other than the HCM was found (and reported).
  std::optional<DownstreamTls> tls;
  FilterChainMatch match;
  bool has_server_names_field = false;
  Duration transport_socket_connect_timeout{10000};
};

ChainResult readFilterChain(Context& ctx, const Field& field,
                            const std::set<std::string>& cluster_names) {
  ChainResult result;
  MapReader map(ctx, field);
  if (std::optional<Field> filters = map.take("filters")) {
    for (const Field& item : ctx.readSequence(*filters)) {
      MapReader filter(ctx, item);
      if (!filter.isMap()) continue;
      std::string name;
      if (std::optional<Field> name_field = filter.take("name")) {
        if (std::optional<std::string> value = ctx.readString(*name_field)) name = *value;
      }
      std::optional<Field> typed_config = filter.take("typed_config");
      const std::optional<std::string> type = typed_config ? typeUrl(*typed_config) : std::nullopt;
      filter.reject({"config_discovery"});
      filter.finish();

      // Envoy picks the extension by the type of typed_config; the name is a label. A filter
      // named as the HCM with another "@type" is reported by readHcm().
      const bool is_hcm = name == kHcmFilterName || (type && *type == kHcmTypeUrl);
      if (!is_hcm) {
        result.other_filter = true;
        const std::string label = name.empty() ? type.value_or("(unnamed)") : name;
        ctx.error(item.path, "network filter \"" + label + "\" is " + std::string(kNotSupported));
        continue;
      }
      if (result.hcm) {
        ctx.error(item.path, "only one http_connection_manager per filter chain is supported");
        continue;
      }
      if (!typed_config) {
        ctx.error(childPath(item.path, "typed_config"), std::string(kRequired));
        result.hcm.emplace();
        continue;
      }
      result.hcm = readHcm(ctx, *typed_config, cluster_names);
    }
  } else {
    ctx.error(map.pathOf("filters"), std::string(kRequired));
  }
  if (std::optional<Field> match = map.take("filter_chain_match")) {
    result.match = readFilterChainMatch(ctx, *match);
    result.has_server_names_field = match->node.IsMap() && match->node["server_names"];
  }
  if (std::optional<Field> socket = map.take("transport_socket")) {
    result.tls = readDownstreamTransportSocket(ctx, *socket);
  }
  if (std::optional<Field> timeout = map.take("transport_socket_connect_timeout")) {
    if (std::optional<Duration> value = ctx.readDuration(*timeout)) {
      if (value->count() > 0) result.transport_socket_connect_timeout = *value;
    }
  }
  map.rejectUnless("use_proxy_proto", false);
  map.reject({"on_demand_configuration"});
  map.accept({"name", "metadata"});
  map.finish();
  return result;
}

// Several filter chains are allowed only when each is TLS: the SNI a client sends then chooses
// one. Reports server names claimed twice, a second chain that would match any name, and
// server_names on a plain chain (without TLS there is no SNI to match).
void checkFilterChains(Context& ctx, const std::vector<Field>& items,
                       const std::vector<ChainResult>& results) {
  const bool all_tls = std::all_of(results.begin(), results.end(),
                                   [](const ChainResult& r) { return r.tls.has_value(); });
  if (results.size() > 1 && !all_tls) {
    for (size_t i = 0; i < results.size(); ++i) {
      if (!results[i].tls) {
        ctx.error(items[i].path,
                  "more than one filter chain needs a TLS transport_socket on each (the chain is "
                  "chosen by SNI)");
      }
    }
  }
  std::map<std::string, size_t> owner;
  bool catch_all_seen = false;
  for (size_t i = 0; i < results.size(); ++i) {
    const ChainResult& r = results[i];
    const std::string match_path = childPath(items[i].path, "filter_chain_match");
    if (!r.tls && !r.match.server_names.empty()) {
      ctx.error(childPath(match_path, "server_names"),
                "server_names needs a TLS transport_socket on the same chain");
    }
    if (!r.match.transport_protocol.empty() &&
        r.match.transport_protocol != (r.tls ? "tls" : "raw_buffer")) {
      ctx.error(
          childPath(match_path, "transport_protocol"),
          "\"" + r.match.transport_protocol + "\" does not match this chain's transport_socket");
    }
    if (r.match.server_names.empty()) {
      if (catch_all_seen) {
        ctx.error(items[i].path,
                  "a second filter chain without server_names: only one chain may match any name");
      }
      catch_all_seen = true;
    }
    for (size_t j = 0; j < r.match.server_names.size(); ++j) {
      const auto [it, inserted] = owner.emplace(r.match.server_names[j], i);
      if (!inserted) {
        ctx.error(indexPath(childPath(match_path, "server_names"), j),
                  "\"" + r.match.server_names[j] + "\" is already matched by filter_chains[" +
                      std::to_string(it->second) + "]");
      }
    }
  }
}

Listener readListener(Context& ctx, const Field& field,
                      const std::set<std::string>& cluster_names) {
  Listener out;
  MapReader map(ctx, field);
  if (std::optional<Field> name = map.take("name")) {
    if (std::optional<std::string> value = ctx.readString(*name)) out.name = *value;
  }
  if (std::optional<Field> address = map.require("address")) {
    if (std::optional<SocketAddress> value = readAddress(ctx, *address, PortRule::kAllowZero)) {
      out.address = *value;
    }
  }
  if (std::optional<Field> chains = map.require("filter_chains")) {
    const std::vector<Field> items = ctx.readSequence(*chains);
    std::vector<ChainResult> results;
    bool other_filter = false;
    for (const Field& item : items) {
      results.push_back(readFilterChain(ctx, item, cluster_names));
      other_filter = other_filter || results.back().other_filter;
    }
    checkFilterChains(ctx, items, results);
    for (ChainResult& result : results) {
      if (!result.hcm) continue;
      if (out.filter_chains.empty()) out.hcm = *result.hcm;
      out.filter_chains.push_back(FilterChain{std::move(*result.hcm), std::move(result.tls),
                                              std::move(result.match),
                                              result.transport_socket_connect_timeout});
    }
    if (out.filter_chains.empty() && !other_filter &&
        (items.size() > 0 || chains->node.IsSequence())) {
      ctx.error(chains->path,
                "a filter chain with an " + std::string(kHcmFilterName) + " filter is required");
    }
  }
  map.rejectUnless("bind_to_port", true);
  map.rejectUnless("use_original_dst", false);
  map.rejectUnless("transparent", false);
  map.reject({"additional_addresses", "filter_chain_matcher", "default_filter_chain",
              "listener_filters", "udp_listener_config", "api_listener", "internal_listener",
              "fcds_config"});
  map.accept({"metadata"});
  map.ignore({"stat_prefix", "per_connection_buffer_limit_bytes", "drain_type",
              "listener_filters_timeout", "continue_on_listener_filters_timeout", "freebind",
              "socket_options", "tcp_fast_open_queue_length", "traffic_direction",
              "connection_balance_config", "reuse_port", "enable_reuse_port", "access_log",
              "tcp_backlog_size", "max_connections_to_accept_per_socket_event", "enable_mptcp",
              "ignore_global_conn_limit", "bypass_overload_manager", "deprecated_v1"});
  map.finish();
  return out;
}

}  // namespace

std::vector<Listener> readListeners(Context& ctx, const Field& field,
                                    const std::set<std::string>& cluster_names) {
  std::vector<Listener> out;
  std::set<std::string> names;
  for (const Field& item : ctx.readSequence(field)) {
    Listener listener = readListener(ctx, item, cluster_names);
    if (!listener.name.empty() && !names.insert(listener.name).second) {
      ctx.error(childPath(item.path, "name"), "duplicate listener name \"" + listener.name + "\"");
      continue;
    }
    out.push_back(std::move(listener));
  }
  return out;
}

}  // namespace wslb::config
