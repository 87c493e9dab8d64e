#pragma once
// Builds what the workers' sessions share for one configured listener: a ListenerContext per
// filter chain (routes, stats, access log, limits) and, for TLS, the listener's server context
// provider. Used at start-up and by --mode validate.

#include <memory>

#include "wslb/config/bootstrap.h"
#include "wslb/http/listener_context.h"
#include "wslb/upstream/cluster_manager.h"

namespace wslb::server {

/// The context of filter chain 0, holding the others (ListenerContext::chain()). With TLS the
/// certificate files are read now and watched only after startWatching() on its `tls`.
/// @throws std::exception (tls::TlsError for certificate problems) with the reason.
std::shared_ptr<http::ListenerContext> makeListenerContext(
    const config::Listener& listener, const upstream::ClusterManager& clusters);

}  // namespace wslb::server
