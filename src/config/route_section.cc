#include "config/route_section.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <utility>

#include "config/metadata.h"

namespace wslb::config {
namespace {

std::string toLower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Header mutations at any level of the route table. Dropping them would change what reaches the
// backend or the client (auth headers, security headers), so they are refused.
void rejectHeaderMutations(MapReader& map) {
  map.reject({"request_headers_to_add", "request_headers_to_remove", "response_headers_to_add",
              "response_headers_to_remove"});
}

// The domain forms Envoy accepts: "*", exact, "*suffix" and "prefix*". Returns an error message,
// or nothing when `domain` is valid.
std::optional<std::string> domainError(std::string_view domain) {
  if (domain.empty()) return "must not be empty";
  const size_t stars = static_cast<size_t>(std::count(domain.begin(), domain.end(), '*'));
  if (stars == 0 || domain == "*") return std::nullopt;
  if (stars == 1 && (domain.front() == '*' || domain.back() == '*')) return std::nullopt;
  return "a '*' is allowed only as the whole domain, at its start (\"*.example.com\") or at its "
         "end (\"example.*\")";
}

void readRouteMatch(Context& ctx, const Field& field, RouteMatch& out) {
  MapReader map(ctx, field);
  size_t specifiers = 0;
  for (std::string_view key : {"prefix", "path", "safe_regex", "connect_matcher",
                               "path_separated_prefix", "path_match_policy"}) {
    if (map.has(key)) ++specifiers;
  }
  if (map.isMap() && specifiers != 1) {
    ctx.error(field.path, "exactly one of prefix or path is required");
  }
  if (std::optional<Field> prefix = map.take("prefix")) {
    if (std::optional<std::string> value = ctx.readString(*prefix)) {
      out.kind = RouteMatch::Kind::kPrefix;
      out.value = *value;
    }
  }
  if (std::optional<Field> path = map.take("path")) {
    if (std::optional<std::string> value = ctx.readString(*path)) {
      out.kind = RouteMatch::Kind::kPath;
      out.value = *value;
    }
  }
  map.rejectUnless("case_sensitive", true);
  // Every other matcher narrows which requests the route takes; ignoring one would send traffic
  // to the wrong cluster.
  map.reject({"safe_regex", "connect_matcher", "path_separated_prefix", "path_match_policy",
              "runtime_fraction", "headers", "query_parameters", "grpc", "tls_context",
              "dynamic_metadata", "filter_state", "cookies"});
  map.finish();
}

// A WebSocket size limit in route metadata: a byte count of at least 1.
std::optional<uint32_t> takeSizeLimit(Context& ctx, MapReader& map, std::string_view key) {
  std::optional<Field> field = map.take(key);
  if (!field) return std::nullopt;
  std::optional<uint32_t> value = ctx.readUint32(*field);
  if (value && *value == 0) {
    ctx.error(field->path, "must be at least 1");
    return std::nullopt;
  }
  return value;
}

std::optional<Duration> takeDuration(Context& ctx, MapReader& map, std::string_view key) {
  if (std::optional<Field> field = map.take(key)) return ctx.readDuration(*field);
  return std::nullopt;
}

void readRouteAction(Context& ctx, const Field& field, const std::set<std::string>& cluster_names,
                     Route& out) {
  MapReader map(ctx, field);
  const bool other_specifier = map.has("cluster_header") || map.has("weighted_clusters") ||
                               map.has("cluster_specifier_plugin") ||
                               map.has("inline_cluster_specifier_plugin");
  std::optional<Field> cluster = other_specifier ? map.take("cluster") : map.require("cluster");
  if (cluster) {
    if (std::optional<std::string> name = ctx.readNonEmptyString(*cluster)) {
      if (cluster_names.count(*name) == 0) {
        ctx.error(cluster->path, "unknown cluster \"" + *name + "\"");
      } else {
        out.cluster = *name;
      }
    }
  }
  if (std::optional<Field> timeout = map.take("timeout")) {
    if (std::optional<Duration> value = ctx.readDuration(*timeout)) {
      out.timeout = *value;
      out.timeout_set = true;
    }
  }
  if (std::optional<Duration> idle = takeDuration(ctx, map, "idle_timeout")) {
    out.idle_timeout = *idle;
  }
  if (std::optional<Field> upgrades = map.take("upgrade_configs")) {
    out.upgrade_configs = readUpgradeConfigs(ctx, *upgrades, UpgradeLevel::kRoute);
  }
  map.rejectUnless("auto_host_rewrite", false);
  map.reject({"cluster_header", "weighted_clusters", "cluster_specifier_plugin",
              "inline_cluster_specifier_plugin", "metadata_match", "prefix_rewrite",
              "regex_rewrite", "path_rewrite_policy", "host_rewrite_literal", "host_rewrite_header",
              "host_rewrite_path_regex"});
  map.ignore({"cluster_not_found_response_code", "append_x_forwarded_host", "early_data_policy",
              "retry_policy", "retry_policy_typed_config", "request_mirror_policies", "priority",
              "rate_limits", "include_vh_rate_limits", "hash_policy", "cors", "max_grpc_timeout",
              "grpc_timeout_offset", "internal_redirect_policy", "internal_redirect_action",
              "max_internal_redirects", "hedge_policy", "max_stream_duration"});
  map.finish();
}

Route readRoute(Context& ctx, const Field& field, const std::set<std::string>& cluster_names) {
  Route out;
  MapReader map(ctx, field);
  if (std::optional<Field> name = map.take("name")) {
    if (std::optional<std::string> value = ctx.readString(*name)) out.name = *value;
  }
  if (std::optional<Field> match = map.require("match")) readRouteMatch(ctx, *match, out.match);

  const bool other_action = map.has("redirect") || map.has("direct_response") ||
                            map.has("filter_action") || map.has("non_forwarding_action");
  std::optional<Field> action = other_action ? map.take("route") : map.require("route");
  if (action) readRouteAction(ctx, *action, cluster_names, out);

  map.reject({"redirect", "direct_response", "filter_action", "non_forwarding_action"});
  rejectHeaderMutations(map);
  if (std::optional<Field> metadata = map.take("metadata")) {
    readMetadata(ctx, *metadata, [&](MapReader& wslb) {
      out.max_frame_bytes = takeSizeLimit(ctx, wslb, "max_frame_bytes");
      out.max_message_bytes = takeSizeLimit(ctx, wslb, "max_message_bytes");
    });
  }
  map.ignore({"decorator", "typed_per_filter_config", "tracing", "per_request_buffer_limit_bytes",
              "request_body_buffer_limit", "stat_prefix"});
  map.finish();
  return out;
}

// Domains already used in this route configuration, with the virtual host that has each.
using DomainOwners = std::map<std::string, std::string>;

VirtualHost readVirtualHost(Context& ctx, const Field& field,
                            const std::set<std::string>& cluster_names, DomainOwners& owners) {
  VirtualHost out;
  MapReader map(ctx, field);
  if (std::optional<Field> name = map.require("name")) {
    if (std::optional<std::string> value = ctx.readNonEmptyString(*name)) out.name = *value;
  }
  if (std::optional<Field> domains = map.require("domains")) {
    const std::vector<Field> items = ctx.readSequence(*domains);
    if (items.empty() && domains->node.IsSequence()) {
      ctx.error(domains->path, "at least one domain is required");
    }
    for (const Field& item : items) {
      std::optional<std::string> domain = ctx.readString(item);
      if (!domain) continue;
      std::string lower = toLower(*domain);
      if (std::optional<std::string> problem = domainError(lower)) {
        ctx.error(item.path, *problem);
        continue;
      }
      auto [it, inserted] = owners.emplace(lower, out.name);
      if (!inserted) {
        ctx.error(item.path, "domain \"" + lower + "\" is already used by virtual host \"" +
                                 it->second + "\"");
        continue;
      }
      out.domains.push_back(std::move(lower));
    }
  }
  if (std::optional<Field> routes = map.take("routes")) {
    for (const Field& item : ctx.readSequence(*routes)) {
      out.routes.push_back(readRoute(ctx, item, cluster_names));
    }
  }
  if (std::optional<Field> require_tls = map.take("require_tls")) {
    std::optional<std::string> value = ctx.readString(*require_tls);
    if (value && *value != "NONE" && *value != "0") {
      ctx.error(require_tls->path, *value + " is " + std::string(kNotSupported));
    }
  }
  map.reject({"matcher"});
  rejectHeaderMutations(map);
  map.accept({"metadata"});
  map.ignore({"virtual_clusters", "rate_limits", "cors", "typed_per_filter_config",
              "include_request_attempt_count", "include_attempt_count_in_response", "retry_policy",
              "retry_policy_typed_config", "hedge_policy", "include_is_timeout_retry_header",
              "per_request_buffer_limit_bytes", "request_body_buffer_limit",
              "request_mirror_policies"});
  map.finish();
  return out;
}

}  // namespace

std::vector<UpgradeConfig> readUpgradeConfigs(Context& ctx, const Field& field,
                                              UpgradeLevel level) {
  std::vector<UpgradeConfig> out;
  for (const Field& item : ctx.readSequence(field)) {
    UpgradeConfig config;
    MapReader map(ctx, item);
    bool ok = false;
    if (std::optional<Field> type = map.require("upgrade_type")) {
      if (std::optional<std::string> value = ctx.readNonEmptyString(*type)) {
        // Envoy matches the Upgrade header case-insensitively.
        config.upgrade_type = toLower(*value);
        ok = true;
      }
    }
    if (std::optional<Field> enabled = map.take("enabled")) {
      std::optional<bool> value = ctx.readBool(*enabled);
      if (value) config.enabled = *value;
      ok = ok && value.has_value();
    }
    if (level == UpgradeLevel::kConnectionManager) {
      // A per-upgrade filter chain; wslb runs no HTTP filters besides routing anyway.
      map.ignore({"filters"});
    } else {
      map.reject({"connect_config"});
    }
    map.finish();
    if (ok) out.push_back(std::move(config));
  }
  return out;
}

void readRouteConfiguration(Context& ctx, const Field& field,
                            const std::set<std::string>& cluster_names,
                            HttpConnectionManager& hcm) {
  MapReader map(ctx, field);
  if (std::optional<Field> name = map.take("name")) {
    if (std::optional<std::string> value = ctx.readString(*name)) hcm.route_config_name = *value;
  }
  if (std::optional<Field> hosts = map.take("virtual_hosts")) {
    DomainOwners owners;
    for (const Field& item : ctx.readSequence(*hosts)) {
      hcm.virtual_hosts.push_back(readVirtualHost(ctx, item, cluster_names, owners));
    }
  }
  map.reject({"vhds", "internal_only_headers"});
  rejectHeaderMutations(map);
  map.accept({"metadata"});
  map.ignore({"most_specific_header_mutations_wins", "validate_clusters",
              "max_direct_response_body_size_bytes", "cluster_specifier_plugins",
              "request_mirror_policies", "ignore_port_in_host_matching",
              "ignore_path_parameters_in_path_matching", "typed_per_filter_config"});
  map.finish();
}

}  // namespace wslb::config
