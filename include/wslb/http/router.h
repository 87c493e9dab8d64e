#pragma once
// Route matching for one HTTP connection manager: virtual host by Host header (Envoy's order:
// exact, then suffix wildcards "*.x", then prefix wildcards "x.*", then "*"; longest wildcard
// first), then the first route whose prefix/path matches.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "wslb/config/bootstrap.h"
#include "wslb/upstream/cluster_manager.h"
#include "wslb/websocket/frame_tracker.h"

namespace wslb::http {

/// Everything a session needs about the route it matched. Immutable after construction.
struct RouteEntry {
  config::Route config;
  upstream::ClusterStateSharedPtr cluster;
  bool websocket_enabled = false;             ///< HCM upgrade_configs, overridden by the route's.
  std::chrono::milliseconds idle_timeout{0};  ///< for upgraded connections; 0 = none.
  std::chrono::milliseconds pending_timeout{0};   ///< how long to wait for room when full.
  std::chrono::milliseconds response_timeout{0};  ///< for the backend's answer to the request.
  websocket::FrameLimits frame_limits;            ///< for upgraded connections; none by default.
};

class Router {
 public:
  /// Resolves every route's cluster; throws std::invalid_argument (start-up only) if one is
  /// missing, which config validation already rules out.
  Router(const config::HttpConnectionManager& hcm, const upstream::ClusterManager& clusters);

  /// The matching route or nullptr (-> 404). `host` is the Host header (port allowed: matched
  /// with the port first, then without it); `target` the request-target (query ignored).
  /// Thread safety: const, any thread.
  const RouteEntry* match(std::string_view host, std::string_view target) const;

 private:
  struct VirtualHostEntry {
    std::vector<std::string> domains;
    std::vector<RouteEntry> routes;
  };
  const VirtualHostEntry* findVirtualHost(std::string_view host) const;

  std::vector<VirtualHostEntry> virtual_hosts_;
};

/// wslb's default idle timeout for upgraded connections when neither the route's idle_timeout
/// nor the HCM's stream_idle_timeout is set (Envoy's 5-minute default closes quiet WebSockets).
inline constexpr std::chrono::milliseconds kDefaultUpgradedIdleTimeout{std::chrono::hours(1)};
/// Pending-queue wait when neither the cluster's wslb pending_timeout nor a non-zero route
/// timeout is set (an unset route timeout counts as unset here, not as Envoy's 15 s).
inline constexpr std::chrono::milliseconds kDefaultPendingTimeout{5000};
/// Bound on waiting for the backend's response when the route timeout is 0 (disabled).
inline constexpr std::chrono::milliseconds kMaxResponseWait{std::chrono::seconds(60)};

}  // namespace wslb::http
