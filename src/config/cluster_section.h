#pragma once
// static_resources.clusters[] -> Cluster.

#include <vector>

#include "config/context.h"
#include "wslb/config/bootstrap.h"

namespace wslb::config {

/// Reads the clusters sequence. Clusters with errors are still returned (as far as they could be
/// read) so that routes naming them are not reported a second time. Duplicate names are errors.
std::vector<Cluster> readClusters(Context& ctx, const Field& field);

}  // namespace wslb::config
