#include "config/health_section.h"

#include <optional>
#include <string>

namespace wslb::config {
namespace {

// HTTP statuses Envoy accepts in expected_statuses / retriable_statuses ranges.
constexpr uint32_t kMinStatus = 100;
constexpr uint32_t kMaxStatusEnd = 600;

std::optional<Duration> readPositiveDuration(Context& ctx, const Field& field) {
  std::optional<Duration> value = ctx.readDuration(field);
  if (value && value->count() <= 0) {
    ctx.error(field.path, "must be greater than 0s");
    return std::nullopt;
  }
  return value;
}

void readPositiveDurationInto(Context& ctx, MapReader& map, std::string_view key,
                              std::optional<Duration>& out) {
  if (std::optional<Field> field = map.take(key)) out = readPositiveDuration(ctx, *field);
}

void readDurationInto(Context& ctx, MapReader& map, std::string_view key, Duration& out,
                      bool positive) {
  std::optional<Field> field = map.take(key);
  if (!field) return;
  std::optional<Duration> value =
      positive ? readPositiveDuration(ctx, *field) : ctx.readDuration(*field);
  if (value) out = *value;
}

void readUint32Into(Context& ctx, MapReader& map, std::string_view key, uint32_t& out) {
  if (std::optional<Field> field = map.take(key)) {
    if (std::optional<uint32_t> value = ctx.readUint32(*field)) out = *value;
  }
}

void readPercentInto(Context& ctx, MapReader& map, std::string_view key, uint32_t& out) {
  std::optional<Field> field = map.take(key);
  if (!field) return;
  std::optional<uint32_t> value = ctx.readUint32(*field);
  if (!value) return;
  if (*value > 100) {
    ctx.error(field->path, "must be at most 100");
    return;
  }
  out = *value;
}

// A list of Int64Range {start, end}: [start, end) within [100, 600).
std::vector<StatusRange> readStatusRanges(Context& ctx, const Field& field) {
  std::vector<StatusRange> out;
  for (const Field& item : ctx.readSequence(field)) {
    MapReader map(ctx, item);
    std::optional<uint32_t> start;
    std::optional<uint32_t> end;
    if (std::optional<Field> f = map.require("start")) start = ctx.readUint32(*f);
    if (std::optional<Field> f = map.require("end")) end = ctx.readUint32(*f);
    map.finish();
    if (!start || !end) continue;
    if (*start >= *end) {
      ctx.error(item.path, "expecting start < end, but found start=" + std::to_string(*start) +
                               " and end=" + std::to_string(*end));
    } else if (*start < kMinStatus) {
      ctx.error(childPath(item.path, "start"),
                "must be at least " + std::to_string(kMinStatus) + " (an HTTP status)");
    } else if (*end > kMaxStatusEnd) {
      ctx.error(childPath(item.path, "end"), "must be at most " + std::to_string(kMaxStatusEnd) +
                                                 " (one past the last HTTP status)");
    } else {
      out.push_back(StatusRange{*start, *end});
    }
  }
  return out;
}

void readHttpHealthCheck(Context& ctx, const Field& field, HealthCheck& out) {
  MapReader map(ctx, field);
  if (std::optional<Field> path = map.require("path")) {
    if (std::optional<std::string> value = ctx.readNonEmptyString(*path)) out.path = *value;
  }
  if (std::optional<Field> host = map.take("host")) {
    if (std::optional<std::string> value = ctx.readString(*host)) out.host = *value;
  }
  if (std::optional<Field> expected = map.take("expected_statuses")) {
    std::vector<StatusRange> ranges = readStatusRanges(ctx, *expected);
    if (!ranges.empty()) out.expected_statuses = std::move(ranges);
  }
  if (std::optional<Field> retriable = map.take("retriable_statuses")) {
    out.retriable_statuses = readStatusRanges(ctx, *retriable);
  }
  if (std::optional<Field> method = map.take("method")) {
    if (std::optional<std::string> value = ctx.readString(*method)) {
      const std::string upper = asciiUpper(*value);
      if (upper != "GET" && upper != "METHOD_UNSPECIFIED") {
        ctx.error(method->path, *value + " is " + std::string(kNotSupported) + " (supported: GET)");
      }
    }
  }
  if (std::optional<Field> codec = map.take("codec_client_type")) {
    if (std::optional<std::string> value = ctx.readString(*codec)) {
      if (asciiUpper(*value) != "HTTP1" && *value != "0") {
        ctx.error(codec->path,
                  *value + " is " + std::string(kNotSupported) + " (supported: HTTP1)");
      }
    }
  }
  // These would change what a check sends or what counts as healthy.
  map.reject({"send", "receive", "service_name_matcher", "request_headers_to_add",
              "request_headers_to_remove"});
  map.ignore({"response_buffer_size"});
  map.finish();
}

HealthCheck readHealthCheck(Context& ctx, const Field& field) {
  HealthCheck out;
  MapReader map(ctx, field);
  if (std::optional<Field> f = map.require("timeout")) {
    if (auto value = readPositiveDuration(ctx, *f)) out.timeout = *value;
  }
  if (std::optional<Field> f = map.require("interval")) {
    if (auto value = readPositiveDuration(ctx, *f)) out.interval = *value;
  }
  for (auto [key, target] : {std::pair{"unhealthy_threshold", &out.unhealthy_threshold},
                             std::pair{"healthy_threshold", &out.healthy_threshold}}) {
    if (std::optional<Field> f = map.require(key)) {
      if (auto value = ctx.readUint32(*f)) {
        if (*value == 0) {
          ctx.error(f->path, "must be at least 1");
        } else {
          *target = *value;
        }
      }
    }
  }
  readDurationInto(ctx, map, "initial_jitter", out.initial_jitter, false);
  readDurationInto(ctx, map, "interval_jitter", out.interval_jitter, false);
  readUint32Into(ctx, map, "interval_jitter_percent", out.interval_jitter_percent);
  readDurationInto(ctx, map, "no_traffic_interval", out.no_traffic_interval, true);
  readPositiveDurationInto(ctx, map, "no_traffic_healthy_interval",
                           out.no_traffic_healthy_interval);
  readPositiveDurationInto(ctx, map, "unhealthy_interval", out.unhealthy_interval);
  readPositiveDurationInto(ctx, map, "unhealthy_edge_interval", out.unhealthy_edge_interval);
  readPositiveDurationInto(ctx, map, "healthy_edge_interval", out.healthy_edge_interval);
  if (std::optional<Field> reuse = map.take("reuse_connection")) ctx.readBool(*reuse);

  bool has_checker = false;
  if (std::optional<Field> http = map.take("http_health_check")) {
    has_checker = true;
    readHttpHealthCheck(ctx, *http, out);
  }
  for (std::string_view other : {"tcp_health_check", "grpc_health_check", "custom_health_check"}) {
    if (std::optional<Field> f = map.take(other)) {
      has_checker = true;
      ctx.error(f->path, std::string(other) + " is " + std::string(kNotSupported) +
                             " (supported: http_health_check)");
    }
  }
  if (!has_checker) {
    ctx.error(map.pathOf("http_health_check"),
              "required: a health check needs http_health_check (the only checker wslb has)");
  }
  // Would change how checks connect.
  map.reject({"tls_options", "transport_socket_match_criteria", "alt_port"});
  map.ignore({"event_log_path", "event_logger", "always_log_health_check_failures",
              "always_log_health_check_success"});
  map.finish();
  return out;
}

}  // namespace

void readHealthChecks(Context& ctx, const Field& field, Cluster& cluster) {
  const std::vector<Field> items = ctx.readSequence(field);
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      ctx.error(items[i].path, "only one health_checks entry is supported");
      continue;
    }
    cluster.health_check = readHealthCheck(ctx, items[i]);
  }
}

void readOutlierDetection(Context& ctx, const Field& field, Cluster& cluster) {
  OutlierDetection out;
  MapReader map(ctx, field);
  readUint32Into(ctx, map, "consecutive_5xx", out.consecutive_5xx);
  readUint32Into(ctx, map, "consecutive_gateway_failure", out.consecutive_gateway_failure);
  readPercentInto(ctx, map, "enforcing_consecutive_5xx", out.enforcing_consecutive_5xx);
  readPercentInto(ctx, map, "enforcing_consecutive_gateway_failure",
                  out.enforcing_consecutive_gateway_failure);
  readDurationInto(ctx, map, "interval", out.interval, true);
  readDurationInto(ctx, map, "base_ejection_time", out.base_ejection_time, true);
  readDurationInto(ctx, map, "max_ejection_time", out.max_ejection_time, true);
  readPercentInto(ctx, map, "max_ejection_percent", out.max_ejection_percent);
  if (std::optional<Field> f = map.take("always_eject_one_host")) {
    if (std::optional<bool> value = ctx.readBool(*f)) out.always_eject_one_host = *value;
  }
  // Local-origin errors are counted with the 5xx (Envoy's default); splitting them is not built.
  map.rejectUnless("split_external_local_origin_errors", false);
  map.ignore({"consecutive_local_origin_failure", "enforcing_consecutive_local_origin_failure",
              "enforcing_local_origin_success_rate", "enforcing_success_rate",
              "success_rate_minimum_hosts", "success_rate_request_volume",
              "success_rate_stdev_factor", "failure_percentage_threshold",
              "enforcing_failure_percentage", "enforcing_failure_percentage_local_origin",
              "failure_percentage_minimum_hosts", "failure_percentage_request_volume",
              "max_ejection_time_jitter", "successful_active_health_check_uneject_host",
              "monitors"});
  map.finish();
  cluster.outlier_detection = out;
}

}  // namespace wslb::config
