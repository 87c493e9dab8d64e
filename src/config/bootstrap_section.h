#pragma once
// The Bootstrap message as a whole: node, admin, static_resources and the top-level keys wslb
// does not use.

#include "config/context.h"
#include "wslb/config/bootstrap.h"

namespace wslb::config {

/// Converts a parsed document. The result is meaningful only if `ctx` has no errors afterwards.
Bootstrap readBootstrap(Context& ctx, const YAML::Node& root);

}  // namespace wslb::config
