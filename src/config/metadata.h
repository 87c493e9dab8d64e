#pragma once
// envoy.config.core.v3.Metadata: opaque per-filter data, except for the "wslb" namespace that
// carries wslb's own settings.

#include <functional>

#include "config/context.h"

namespace wslb::config {

inline constexpr std::string_view kWslbMetadataNamespace = "wslb";

/// Checks the shape of a Metadata value and, if filter_metadata has a "wslb" entry, calls
/// `read_wslb` with a reader over it. The callback takes the keys it knows; finish() is called
/// afterwards so the rest are reported as unknown. Other namespaces and typed_filter_metadata are
/// accepted without a diagnostic: they belong to other filters.
void readMetadata(Context& ctx, const Field& field,
                  const std::function<void(MapReader& wslb)>& read_wslb);

}  // namespace wslb::config
