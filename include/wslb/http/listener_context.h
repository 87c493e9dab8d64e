#pragma once
// What every worker's sessions on one listener share: the routes, the stats and the limits.
// Immutable after start-up except the atomics in `stats`.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "wslb/accesslog/access_log.h"

#include "wslb/http/router.h"
#include "wslb/stats/hcm_stats.h"

namespace wslb::http {

struct ListenerContext {
  ListenerContext(std::string listener_name, const config::HttpConnectionManager& hcm,
                  const upstream::ClusterManager& clusters)
      : name(std::move(listener_name)),
        router(hcm, clusters),
        stats(hcm.stat_prefix),
        access_log(std::make_shared<accesslog::AccessLog>(hcm)) {}

  std::string name;
  Router router;
  mutable stats::HcmStats stats;  // atomics only
  /// The listener's access_log entries (log() never blocks a worker; enabled() false if none).
  /// Stopped (queue drained) by the server after the workers.
  std::shared_ptr<accesslog::AccessLog> access_log;
  /// Envoy's max_request_headers_kb default (60 KiB); larger headers get 431.
  size_t max_request_headers_bytes = 60 * 1024;
  /// Largest plain-HTTP body relayed (request or response); larger gets 413 / 502.
  size_t max_body_bytes = 1024 * 1024;
  /// Time allowed for a complete request head (slowloris guard); the connection is closed after.
  std::chrono::milliseconds request_headers_timeout{std::chrono::seconds(60)};
};

}  // namespace wslb::http
