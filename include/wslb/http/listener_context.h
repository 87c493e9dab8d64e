#pragma once
// What every worker's sessions on one listener share: the routes, the stats and the limits.
// Immutable once built except the atomics in `stats`. A config reload builds a new one and the
// workers hand it to new connections; a session keeps the one it started with.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "wslb/accesslog/access_log.h"

#include "wslb/http/router.h"
#include "wslb/stats/hcm_stats.h"
#include "wslb/tls/context_provider.h"
#include "wslb/tls/handshake_stats.h"

namespace wslb::http {

struct ListenerContext {
  /// @param hcm_stats the counters to count into: a reload passes those of the context it
  ///        replaces (same stat_prefix), so they go on from where they were; null = new ones.
  ListenerContext(std::string listener_name, const config::HttpConnectionManager& hcm,
                  const upstream::ClusterManager& clusters,
                  std::shared_ptr<stats::HcmStats> hcm_stats = nullptr)
      : name(std::move(listener_name)),
        router(hcm, clusters),
        shared_stats(hcm_stats ? std::move(hcm_stats)
                               : std::make_shared<stats::HcmStats>(hcm.stat_prefix)),
        stats(*shared_stats),
        access_log(std::make_shared<accesslog::AccessLog>(hcm)),
        max_request_headers_bytes(size_t{hcm.max_request_headers_kb} * 1024),
        max_headers_count(hcm.max_headers_count),
        request_headers_timeout(hcm.request_headers_timeout),
        request_body_timeout(hcm.stream_idle_timeout.value_or(kDefaultRequestBodyTimeout)),
        idle_timeout(hcm.idle_timeout),
        max_connection_duration(hcm.max_connection_duration) {}

  /// Envoy's stream_idle_timeout default, which bounds reading a request body when unset.
  static constexpr std::chrono::milliseconds kDefaultRequestBodyTimeout{std::chrono::minutes(5)};

  std::string name;
  Router router;
  /// Owns `stats`; shared with the contexts that replace this one on reload.
  const std::shared_ptr<stats::HcmStats> shared_stats;
  stats::HcmStats& stats;  // atomics only
  /// The listener's access_log entries (log() never blocks a worker; enabled() false if none).
  /// Stopped (queue drained) by the server after the workers.
  std::shared_ptr<accesslog::AccessLog> access_log;
  /// max_request_headers_kb (Envoy default 60 KiB): request line and fields; larger gets 431.
  size_t max_request_headers_bytes = 60 * 1024;
  /// common_http_protocol_options.max_headers_count (Envoy default 100); more gets 431.
  size_t max_headers_count = 100;
  /// Largest plain-HTTP body relayed (request or response); larger gets 413 / 502.
  size_t max_body_bytes = 1024 * 1024;
  /// request_headers_timeout: from a request's first byte to the end of its head (slowloris
  /// guard; 408, then the connection is closed). 0 = none.
  std::chrono::milliseconds request_headers_timeout{std::chrono::seconds(60)};
  /// Time allowed for the rest of a request body once its head is in (stream_idle_timeout;
  /// 408 after it). 0 = none.
  std::chrono::milliseconds request_body_timeout{kDefaultRequestBodyTimeout};
  /// common_http_protocol_options.idle_timeout: a connection with no request in flight is closed
  /// after this. 0 = none. Upgraded connections use their route's idle timeout instead.
  std::chrono::milliseconds idle_timeout{std::chrono::hours(1)};
  /// common_http_protocol_options.max_connection_duration: 0 = none. A keep-alive connection
  /// then ends (`connection: close` on the next response, or closed when idle); an upgraded
  /// WebSocket gets Close 1001 both ways.
  std::chrono::milliseconds max_connection_duration{0};

  // --- TLS (filter_chains[].transport_socket). Set before the workers start. ---------------
  /// The provider of the listener's current server contexts (one per filter chain), shared by
  /// every chain; null for a plain TCP listener.
  std::shared_ptr<tls::ServerContextProvider> tls;
  /// listener.<address>.ssl.*, shared by every chain of the listener.
  std::shared_ptr<tls::HandshakeStats> tls_stats;
  /// filter_chains[0].transport_socket_connect_timeout: the TLS handshake's deadline (the
  /// chain is known only once the handshake has read the SNI).
  std::chrono::milliseconds tls_handshake_timeout{10000};
  /// Filter chains 1.. of a TLS listener (this context is chain 0), as the SNI selects them.
  std::vector<std::shared_ptr<const ListenerContext>> other_chains;

  /// Envoy's stat name of the bound address ("127.0.0.1_10000"): listener.<address>.ssl.*.
  std::string stat_address;

  /// The context of filter chain `index` (0: this one), or null if there is none.
  std::shared_ptr<const ListenerContext> chain(size_t index) const {
    if (index == 0 || index > other_chains.size()) return nullptr;
    return other_chains[index - 1];
  }
};

}  // namespace wslb::http
