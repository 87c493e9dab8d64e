#include "config/config_source_section.h"

#include <string>

namespace wslb::config {
namespace {

// transport_api_version / resource_api_version: only V3 exists today (AUTO means V3).
void readApiVersion(Context& ctx, const Field& field) {
  enum class Version { kV3 };
  ctx.readEnum<Version>(
      field, {{"AUTO", 0, Version::kV3}, {"V2", 1, std::nullopt}, {"V3", 2, Version::kV3}});
}

// GrpcService.envoy_grpc.retry_policy.retry_back_off {base_interval, max_interval}.
void readRetryPolicy(Context& ctx, const Field& field, ApiConfigSource& out) {
  MapReader policy(ctx, field);
  if (std::optional<Field> backoff = policy.take("retry_back_off")) {
    MapReader map(ctx, *backoff);
    if (std::optional<Field> base = map.require("base_interval")) {
      if (std::optional<Duration> value = ctx.readDuration(*base)) {
        if (value->count() <= 0) {
          ctx.error(base->path, "must be greater than 0s");
        } else {
          out.retry_base_interval = *value;
        }
      }
    }
    if (std::optional<Field> max = map.take("max_interval")) {
      if (std::optional<Duration> value = ctx.readDuration(*max)) out.retry_max_interval = *value;
    } else {
      out.retry_max_interval = out.retry_base_interval * 10;  // Envoy: 10x base when unset
    }
    map.finish();
    if (out.retry_max_interval < out.retry_base_interval) {
      ctx.error(backoff->path, "max_interval must be at least base_interval");
    }
  }
  policy.ignore({"num_retries"});
  policy.finish();
}

void readGrpcService(Context& ctx, const Field& field, ApiConfigSource& out) {
  MapReader map(ctx, field);
  if (std::optional<Field> envoy_grpc = map.take("envoy_grpc")) {
    MapReader grpc(ctx, *envoy_grpc);
    if (std::optional<Field> name = grpc.require("cluster_name")) {
      if (std::optional<std::string> value = ctx.readNonEmptyString(*name)) {
        out.cluster_name = *value;
      }
    }
    if (std::optional<Field> retry = grpc.take("retry_policy")) readRetryPolicy(ctx, *retry, out);
    grpc.ignore({"authority", "max_receive_message_length", "skip_envoy_headers"});
    grpc.finish();
  } else if (map.has("google_grpc")) {
    map.reject({"google_grpc"});
  } else {
    ctx.error(map.pathOf("envoy_grpc"), std::string(kRequired));
  }
  if (std::optional<Field> timeout = map.take("timeout")) {
    if (std::optional<Duration> value = ctx.readDuration(*timeout)) out.grpc_timeout = *value;
  }
  map.ignore({"initial_metadata", "retry_policy"});
  map.finish();
}

}  // namespace

ApiConfigSource readApiConfigSource(Context& ctx, const Field& field, ApiSourceUse use) {
  using ApiType = ApiConfigSource::ApiType;
  ApiConfigSource out;
  MapReader map(ctx, field);
  if (std::optional<Field> api_type = map.require("api_type")) {
    std::optional<ApiType> value;
    if (use == ApiSourceUse::kAds) {
      value = ctx.readEnum<ApiType>(*api_type, {{"REST", 1, std::nullopt},
                                                {"GRPC", 2, ApiType::kGrpc},
                                                {"DELTA_GRPC", 3, ApiType::kDeltaGrpc},
                                                {"AGGREGATED_GRPC", 5, ApiType::kGrpc},
                                                {"AGGREGATED_DELTA_GRPC", 6, ApiType::kDeltaGrpc}});
    } else {
      value = ctx.readEnum<ApiType>(*api_type, {{"REST", 1, ApiType::kRest},
                                                {"GRPC", 2, ApiType::kGrpc},
                                                {"DELTA_GRPC", 3, ApiType::kDeltaGrpc},
                                                {"AGGREGATED_GRPC", 5, std::nullopt},
                                                {"AGGREGATED_DELTA_GRPC", 6, std::nullopt}});
    }
    if (value) out.api_type = *value;
  }
  if (std::optional<Field> version = map.take("transport_api_version")) {
    readApiVersion(ctx, *version);
  }
  const bool rest = out.api_type == ApiType::kRest;
  if (std::optional<Field> services = map.take("grpc_services")) {
    const std::vector<Field> items = ctx.readSequence(*services);
    if (rest) {
      ctx.error(services->path, "grpc_services must not be set for api_type REST");
    } else if (items.size() != 1) {
      // Envoy: "Only singleton gRPC service lists supported".
      ctx.error(services->path, "exactly one gRPC service is required");
    } else {
      readGrpcService(ctx, items[0], out);
    }
  } else if (!rest) {
    ctx.error(map.pathOf("grpc_services"), std::string(kRequired));
  }
  if (std::optional<Field> names = map.take("cluster_names")) {
    const std::vector<Field> items = ctx.readSequence(*names);
    if (!rest) {
      ctx.error(names->path, "cluster_names is only for api_type REST; use grpc_services");
    } else if (items.size() != 1) {
      ctx.error(names->path, "exactly one cluster name is required");
    } else if (std::optional<std::string> value = ctx.readNonEmptyString(items[0])) {
      out.cluster_name = *value;
    }
  } else if (rest) {
    ctx.error(map.pathOf("cluster_names"), std::string(kRequired));
  }
  if (std::optional<Field> delay = map.take("refresh_delay")) {
    if (std::optional<Duration> value = ctx.readDuration(*delay)) {
      if (value->count() <= 0) {
        ctx.error(delay->path, "must be greater than 0s");
      } else {
        out.refresh_delay = *value;
      }
    }
  } else if (rest) {
    ctx.error(map.pathOf("refresh_delay"), "required for api_type REST");
  }
  if (std::optional<Field> timeout = map.take("request_timeout")) {
    if (std::optional<Duration> value = ctx.readDuration(*timeout)) {
      if (value->count() <= 0) {
        ctx.error(timeout->path, "must be greater than 0s");
      } else {
        out.request_timeout = *value;
      }
    }
  }
  if (std::optional<Field> node_once = map.take("set_node_on_first_message_only")) {
    out.set_node_on_first_message_only = ctx.readBool(*node_once).value_or(false);
  }
  map.ignore({"rate_limit_settings"});
  map.reject({"config_validators"});
  map.finish();
  return out;
}

ConfigSource readConfigSource(Context& ctx, const Field& field) {
  ConfigSource out;
  MapReader map(ctx, field);
  int kinds = 0;
  if (std::optional<Field> api = map.take("api_config_source")) {
    ++kinds;
    out.kind = ConfigSource::Kind::kApi;
    out.api = readApiConfigSource(ctx, *api, ApiSourceUse::kEds);
  }
  if (std::optional<Field> ads = map.take("ads")) {
    ++kinds;
    out.kind = ConfigSource::Kind::kAds;
    if (!ads->node.IsNull()) {
      MapReader empty(ctx, *ads);  // AggregatedConfigSource has no fields
      empty.finish();
    }
  }
  if (std::optional<Field> path = map.take("path")) {
    ++kinds;
    out.kind = ConfigSource::Kind::kPath;
    if (std::optional<std::string> value = ctx.readNonEmptyString(*path)) out.path = *value;
  }
  if (std::optional<Field> path_source = map.take("path_config_source")) {
    ++kinds;
    out.kind = ConfigSource::Kind::kPath;
    MapReader source(ctx, *path_source);
    if (std::optional<Field> path = source.require("path")) {
      if (std::optional<std::string> value = ctx.readNonEmptyString(*path)) out.path = *value;
    }
    if (std::optional<Field> watched = source.take("watched_directory")) {
      MapReader directory(ctx, *watched);
      if (std::optional<Field> path = directory.require("path")) {
        if (std::optional<std::string> value = ctx.readNonEmptyString(*path)) {
          out.watched_directory = *value;
        }
      }
      directory.finish();
    }
    source.finish();
  }
  if (map.has("self")) map.reject({"self"});
  if (kinds == 0 && !map.has("self")) {
    ctx.error(map.path(), "one of api_config_source, ads, path or path_config_source is required");
  } else if (kinds > 1) {
    ctx.error(map.path(),
              "only one of api_config_source, ads, path and path_config_source may be set");
  }
  if (std::optional<Field> timeout = map.take("initial_fetch_timeout")) {
    if (std::optional<Duration> value = ctx.readDuration(*timeout)) {
      out.initial_fetch_timeout = *value;
    }
  }
  if (std::optional<Field> version = map.take("resource_api_version"))
    readApiVersion(ctx, *version);
  map.ignore({"authorities"});
  map.finish();
  return out;
}

}  // namespace wslb::config
