#pragma once
// Cluster.health_checks[] -> Cluster.health_check; Cluster.outlier_detection ->
// Cluster.outlier_detection.

#include "config/context.h"
#include "wslb/config/bootstrap.h"

namespace wslb::config {

/// Reads health_checks (a sequence of at most one HealthCheck with an http_health_check).
/// Other checkers (tcp, grpc, custom) are errors naming their path.
void readHealthChecks(Context& ctx, const Field& field, Cluster& cluster);

/// Reads outlier_detection: the consecutive 5xx and gateway-failure detectors and the ejection
/// settings; the success-rate and failure-percentage detectors are ignored with a warning.
void readOutlierDetection(Context& ctx, const Field& field, Cluster& cluster);

}  // namespace wslb::config
