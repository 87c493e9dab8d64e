#pragma once
// envoy.config.core.v3.ConfigSource / ApiConfigSource, as used for EDS.

#include "config/context.h"
#include "wslb/config/bootstrap.h"

namespace wslb::config {

/// Where the ApiConfigSource appears: ads_config takes the AGGREGATED_* api_types and no REST.
enum class ApiSourceUse { kEds, kAds };

/// Reads an ApiConfigSource. Problems are reported to `ctx`.
ApiConfigSource readApiConfigSource(Context& ctx, const Field& field, ApiSourceUse use);

/// Reads eds_cluster_config.eds_config.
ConfigSource readConfigSource(Context& ctx, const Field& field);

}  // namespace wslb::config
