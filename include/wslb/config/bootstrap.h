#pragma once
// Typed form of the subset of Envoy's v3 Bootstrap that wslb understands. Plain data: no
// runtime objects, no YAML types. Produced by config::loadBootstrap() (loader.h).

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wslb/config/tls_types.h"

namespace wslb::config {

using Duration = std::chrono::milliseconds;

/// envoy.config.core.v3.SocketAddress (TCP only).
struct SocketAddress {
  std::string address;  ///< IP literal in canonical form ("127.0.0.1", "::1", "0.0.0.0").
  uint32_t port = 0;    ///< port_value; 0 only allowed on listeners/admin (ephemeral).
};

struct Node {
  std::string id;
  std::string cluster;
};

struct Admin {
  std::optional<SocketAddress> address;  ///< unset: no admin listener.
};

/// wslb's dedicated Prometheus listener (node.metadata.wslb.metrics_listener): the same series
/// as admin /stats/prometheus, on a port that can be exposed without the admin API.
struct MetricsListener {
  SocketAddress address;
  std::string path = "/metrics";
};

/// Envoy's HealthStatus enum (config.core.v3.HealthStatus).
enum class HealthStatus { kUnknown, kHealthy, kUnhealthy, kDraining, kTimeout, kDegraded };

struct Endpoint {
  SocketAddress address;
  std::string hostname;  ///< endpoint.hostname (optional).
  uint32_t weight = 1;   ///< load_balancing_weight (>= 1).
  HealthStatus health = HealthStatus::kUnknown;
  /// metadata.filter_metadata.wslb.max_connections: this endpoint's own cap, overriding the
  /// cluster's per-host default.
  std::optional<uint32_t> max_connections;
  uint32_t priority = 0;  ///< from the enclosing LocalityLbEndpoints.priority.
  /// endpoint.health_check_config.port_value: the port active health checks connect to instead
  /// of address's (0: the serving port).
  uint32_t health_check_port = 0;
};

enum class LbPolicy { kLeastRequest, kRoundRobin, kRandom };

/// circuit_breakers.thresholds[] (only priority DEFAULT is used for routing today; HIGH is kept).
struct Thresholds {
  enum class Priority { kDefault, kHigh };
  Priority priority = Priority::kDefault;
  uint32_t max_connections = 1024;
  uint32_t max_pending_requests = 1024;
  uint32_t max_requests = 1024;
  uint32_t max_retries = 3;
  bool track_remaining = false;
};

inline constexpr uint32_t kUnlimited = std::numeric_limits<uint32_t>::max();

/// envoy.config.core.v3.ApiConfigSource: where a gRPC or REST control plane is reached.
struct ApiConfigSource {
  /// api_type. AGGREGATED_GRPC / AGGREGATED_DELTA_GRPC (only valid in ads_config) map to kGrpc /
  /// kDeltaGrpc there.
  enum class ApiType { kRest, kGrpc, kDeltaGrpc };
  ApiType api_type = ApiType::kGrpc;
  /// grpc_services[0].envoy_grpc.cluster_name (gRPC) or cluster_names[0] (REST): a static
  /// cluster holding the control plane's address(es).
  std::string cluster_name;
  Duration refresh_delay{0};       ///< REST poll period (required for REST).
  Duration request_timeout{1000};  ///< REST request timeout (Envoy default 1 s).
  /// envoy_grpc.retry_policy.retry_back_off: reconnect backoff (Envoy defaults 500 ms, 30 s).
  Duration retry_base_interval{500};
  Duration retry_max_interval{30000};
  /// grpc_services[0].timeout: deadline of each gRPC stream (0 = none, Envoy's default).
  Duration grpc_timeout{0};
  bool set_node_on_first_message_only = false;
};

/// envoy.config.core.v3.ConfigSource as used by eds_cluster_config.eds_config.
struct ConfigSource {
  enum class Kind {
    kNone,  ///< not set (only while reading; a loaded config never has it).
    kApi,   ///< api_config_source (GRPC, DELTA_GRPC or REST).
    kAds,   ///< ads: {} (the bootstrap's dynamic_resources.ads_config stream).
    kPath,  ///< path_config_source, or the older `path`.
  };
  Kind kind = Kind::kNone;
  ApiConfigSource api;            ///< kApi only.
  std::string path;               ///< kPath: the file holding a DiscoveryResponse.
  std::string watched_directory;  ///< kPath: path_config_source.watched_directory.path, if set.
  /// initial_fetch_timeout: how long start-up waits for the first assignment (0 = forever).
  Duration initial_fetch_timeout{15000};
};

/// Cluster.eds_cluster_config.
struct EdsClusterConfig {
  ConfigSource eds_config;
  std::string service_name;  ///< empty: the cluster name is the resource name.
};

/// An Int64Range of HTTP statuses: [start, end) (type.v3.Int64Range, as Envoy reads it).
struct StatusRange {
  uint32_t start = 0;
  uint32_t end = 0;  ///< exclusive.
};

/// Cluster.health_checks[0] (config.core.v3.HealthCheck) with its http_health_check. wslb runs
/// HTTP/1.1 GET checks only (docs/configuration.md, "Health checks").
struct HealthCheck {
  Duration timeout{0};   ///< required, > 0.
  Duration interval{0};  ///< required, > 0.
  Duration initial_jitter{0};
  Duration interval_jitter{0};
  uint32_t interval_jitter_percent = 0;
  uint32_t unhealthy_threshold = 0;  ///< required.
  uint32_t healthy_threshold = 0;    ///< required.
  /// Used until the cluster has had its first upstream connection (Envoy default 60 s).
  Duration no_traffic_interval{60000};
  std::optional<Duration> no_traffic_healthy_interval;  ///< unset: no_traffic_interval.
  std::optional<Duration> unhealthy_interval;           ///< unset: interval.
  std::optional<Duration> unhealthy_edge_interval;      ///< unset: unhealthy_interval.
  std::optional<Duration> healthy_edge_interval;        ///< unset: interval.
  // http_health_check
  std::string path;  ///< required, non-empty.
  std::string host;  ///< Host header; empty: the cluster name (Envoy's default).
  std::vector<StatusRange> expected_statuses{{200, 201}};  ///< default [200, 201).
  std::vector<StatusRange> retriable_statuses;
};

/// Cluster.outlier_detection (config.cluster.v3.OutlierDetection): the consecutive-failure
/// detectors (docs/configuration.md, "Outlier detection"). Defaults are Envoy's.
struct OutlierDetection {
  uint32_t consecutive_5xx = 5;
  uint32_t consecutive_gateway_failure = 5;
  uint32_t enforcing_consecutive_5xx = 100;            ///< percent.
  uint32_t enforcing_consecutive_gateway_failure = 0;  ///< percent.
  Duration interval{10000};
  Duration base_ejection_time{30000};
  Duration max_ejection_time{300000};
  uint32_t max_ejection_percent = 10;
  bool always_eject_one_host = false;
};

struct Cluster {
  std::string name;
  enum class Type { kStatic, kEds } type = Type::kStatic;
  EdsClusterConfig eds;  ///< type kEds only.
  /// The ClusterLoadAssignment name this cluster subscribes to (EDS): service_name or name.
  const std::string& edsResourceName() const {
    return eds.service_name.empty() ? name : eds.service_name;
  }
  Duration connect_timeout{5000};                ///< Envoy default 5 s.
  LbPolicy lb_policy = LbPolicy::kLeastRequest;  ///< wslb default (Envoy's is ROUND_ROBIN).
  std::vector<Endpoint> endpoints;  ///< flattened load_assignment.endpoints[].lb_endpoints[].
  Thresholds default_thresholds;    ///< thresholds[] with priority DEFAULT (or Envoy defaults).
  std::optional<Thresholds> high_thresholds;       ///< thresholds[] with priority HIGH, if given.
  uint32_t per_host_max_connections = kUnlimited;  ///< per_host_thresholds[0].max_connections.
  /// metadata.filter_metadata.wslb.pending_timeout: how long an upgrade may wait for room when
  /// every endpoint is full. Unset: the route timeout, or 5 s when that is 0/unset.
  std::optional<Duration> pending_timeout;
  /// metadata.filter_metadata.wslb.removed_endpoint_drain_timeout: when an endpoint leaves the
  /// set (EDS), its live WebSockets are closed with Close 1001 this long after the removal.
  /// Unset: they stay open until they end (Envoy's behaviour).
  std::optional<Duration> removed_endpoint_drain_timeout;
  /// metadata.filter_metadata.wslb.removed_endpoint_drain_window: those closes are spread
  /// evenly over this window so clients do not all reconnect at once (default 0 = all at once).
  Duration removed_endpoint_drain_window{0};
  /// health_checks[0], if given.
  std::optional<HealthCheck> health_check;
  /// outlier_detection, if given (unset: no outlier detection, as in Envoy).
  std::optional<OutlierDetection> outlier_detection;
  /// metadata.filter_metadata.wslb.unhealthy_endpoint_drain_window: when an endpoint fails its
  /// active health check or is ejected, its live WebSockets get Close 1001 spread over this
  /// window. Unset: they stay open (Envoy's behaviour for upgraded streams).
  std::optional<Duration> unhealthy_endpoint_drain_window;
  /// transport_socket envoy.transport_sockets.tls: TLS toward every endpoint (unset: plain TCP).
  std::optional<UpstreamTls> tls;
};

struct UpgradeConfig {
  std::string upgrade_type;  ///< lower-cased ("websocket").
  bool enabled = true;
};

struct RouteMatch {
  enum class Kind { kPrefix, kPath } kind = Kind::kPrefix;
  std::string value;
};

struct Route {
  std::string name;  ///< route.name (optional); the access log's %ROUTE_NAME%.
  RouteMatch match;
  std::string cluster;
  Duration timeout{15000};               ///< route.timeout (Envoy default 15 s; 0 = disabled).
  bool timeout_set = false;              ///< whether route.timeout was given explicitly.
  std::optional<Duration> idle_timeout;  ///< route.idle_timeout (0 = disabled).
  std::vector<UpgradeConfig> upgrade_configs;  ///< route-level override.
  /// metadata.filter_metadata.wslb.max_frame_bytes / max_message_bytes: the largest WebSocket
  /// data frame / message (payload bytes) either side may send; larger ones end the connection
  /// with Close 1009. Unset: no limit.
  std::optional<uint32_t> max_frame_bytes;
  std::optional<uint32_t> max_message_bytes;
};

struct VirtualHost {
  std::string name;
  std::vector<std::string> domains;  ///< "*", "*.example.com", "example.*", exact; lower-cased.
  std::vector<Route> routes;
};

/// One value of an access log json_format: a format string, or a nested mapping or list.
struct AccessLogJsonValue {
  enum class Kind { kFormat, kObject, kList };
  Kind kind = Kind::kFormat;
  std::string key;     ///< the member's name inside an object; empty for list items and the root.
  std::string format;  ///< kFormat: a format string with command operators.
  std::vector<AccessLogJsonValue> children;  ///< kObject, kList: in document order.
};

/// How access log lines look: log_format (SubstitutionFormatString) or FileAccessLog's older
/// format, json_format and typed_json_format fields.
struct AccessLogFormat {
  enum class Kind {
    kDefault,  ///< no format given: Envoy's default text format (as wslb adapts it).
    kText,
    kJson,
  };
  Kind kind = Kind::kDefault;
  std::string text;         ///< kText: the format string.
  AccessLogJsonValue json;  ///< kJson: the root object (kind kObject).
  /// kJson: numeric operators give JSON numbers and missing values null. False only for
  /// FileAccessLog.json_format, where every value is a string and a missing one is "-".
  bool typed_json = true;
  bool omit_empty_values = false;  ///< missing values: "" in text, key left out in JSON.
  bool sort_properties = false;    ///< json_format_options.sort_properties.
};

/// envoy.config.accesslog.v3.AccessLogFilter, the kinds wslb implements.
struct AccessLogFilter {
  enum class Kind { kStatusCode, kDuration, kResponseFlag, kNotHealthCheck, kAnd, kOr };
  /// ComparisonFilter.Op.
  enum class Op { kEq, kGe, kLe, kNe };
  Kind kind = Kind::kNotHealthCheck;
  Op op = Op::kEq;                          ///< kStatusCode, kDuration.
  uint32_t value = 0;                       ///< kStatusCode: the status; kDuration: milliseconds.
  std::vector<std::string> response_flags;  ///< kResponseFlag: short names; empty = any flag.
  std::vector<AccessLogFilter> filters;     ///< kAnd, kOr: two or more.
};

/// HttpConnectionManager.access_log[]: one sink with its format and filter.
struct AccessLogConfig {
  enum class Sink { kFile, kStdout, kStderr };
  std::string name;  ///< the entry's name (informational).
  Sink sink = Sink::kFile;
  std::string path;  ///< kFile: the file lines are appended to.
  AccessLogFormat format;
  std::optional<AccessLogFilter> filter;  ///< unset: every record is logged.
};

struct HttpConnectionManager {
  std::string stat_prefix;
  std::vector<UpgradeConfig> upgrade_configs;
  std::string route_config_name;
  std::vector<VirtualHost> virtual_hosts;
  /// stream_idle_timeout (Envoy default 5 min; 0 = disabled). Applies to upgraded connections
  /// unless a route sets idle_timeout.
  std::optional<Duration> stream_idle_timeout;
  /// access_log[], in order (docs/configuration.md, "Access log").
  std::vector<AccessLogConfig> access_logs;
  /// max_request_headers_kb: largest request head (request line and header fields), in KiB
  /// (Envoy default 60; 1 to 8192). Larger gets 431.
  uint32_t max_request_headers_kb = 60;
  /// request_headers_timeout: from the first byte of a request to the end of its headers
  /// (wslb default 60 s; Envoy's is disabled; 0 = disabled).
  Duration request_headers_timeout{60000};
  /// common_http_protocol_options.idle_timeout: a connection with no request in flight is closed
  /// after this (Envoy default 1 h; 0 = disabled). Not for upgraded connections.
  Duration idle_timeout{3600000};
  /// common_http_protocol_options.max_connection_duration (0 = none, the default).
  Duration max_connection_duration{0};
  /// common_http_protocol_options.max_headers_count (Envoy default 100; at least 1).
  uint32_t max_headers_count = 100;
};

/// One of a listener's filter_chains: its HTTP connection manager and, optionally, TLS.
struct FilterChain {
  HttpConnectionManager hcm;
  /// transport_socket envoy.transport_sockets.tls (unset: plain TCP).
  std::optional<DownstreamTls> tls;
  /// filter_chain_match (server_names pick the chain by SNI during the TLS handshake).
  FilterChainMatch match;
  /// transport_socket_connect_timeout: how long the TLS handshake may take. Envoy has no
  /// default; wslb's is 10 s.
  Duration transport_socket_connect_timeout{10000};
};

struct Listener {
  std::string name;
  SocketAddress address;
  HttpConnectionManager hcm;  ///< the first filter chain's HTTP connection manager.
  /// Every filter chain, in order (filter_chains[0].hcm is `hcm`). More than one only with TLS:
  /// the chain is chosen by the SNI the client sends.
  std::vector<FilterChain> filter_chains;
  bool isTls() const { return !filter_chains.empty() && filter_chains.front().tls.has_value(); }
};

/// dynamic_resources: only ads_config is supported (for EDS over ADS).
struct DynamicResources {
  std::optional<ApiConfigSource> ads_config;  ///< api_type kGrpc or kDeltaGrpc.
};

struct Bootstrap {
  Node node;
  Admin admin;
  std::optional<MetricsListener> metrics_listener;
  DynamicResources dynamic_resources;
  std::vector<Listener> listeners;
  std::vector<Cluster> clusters;
  /// overload_manager's envoy.resource_monitors.global_downstream_max_connections
  /// max_active_downstream_connections: the cap on open downstream connections over all
  /// listeners (the admin and metrics listeners aside). Unset: no cap.
  std::optional<uint64_t> max_active_downstream_connections;
};

}  // namespace wslb::config
