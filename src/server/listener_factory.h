#pragma once
// How the server builds a listener's runtime pieces. Start-up and config reload both go
// through these, so a listener is built the same way whichever started it.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>

#include "wslb/config/bootstrap.h"
#include "wslb/http/listener_context.h"
#include "wslb/stats/hcm_stats.h"
#include "wslb/upstream/cluster_manager.h"

namespace wslb::server {

/// The http.<stat_prefix>.* counters to count into for a stat_prefix (null: new ones).
using HcmStatsLookup = std::function<std::shared_ptr<stats::HcmStats>(const std::string&)>;

/// The context every worker's sessions on `listener` share: routes resolved against `clusters`
/// (the running set at start-up, the staged new set on reload), counting into the stats
/// `stats_for` gives for each chain's stat_prefix (chains with the same prefix share them).
/// This is filter chain 0's context; a TLS listener's other chains hang off it
/// (ListenerContext::chain()), with the listener's server context provider, whose files are
/// read now (startWatching() is the caller's). `handshake_stats`: the listener.<address>.ssl.*
/// counters to go on with (a reload keeping the address; null: new ones). @throws std::exception
/// (unknown cluster, an access log file that cannot be opened, tls::TlsError for a certificate,
/// ...): nothing is left running.
std::shared_ptr<http::ListenerContext> makeListenerContext(
    const config::Listener& listener, const upstream::ClusterManager& clusters,
    const HcmStatsLookup& stats_for,
    std::shared_ptr<tls::HandshakeStats> handshake_stats = nullptr);

/// The TCP endpoint of a configured address. @throws std::invalid_argument if not an IP literal.
boost::asio::ip::tcp::endpoint toEndpoint(const config::SocketAddress& address);

/// A bound, listening acceptor on `io` with SO_REUSEPORT (one per worker share the port) and
/// TCP_NODELAY for the sockets it accepts. @throws boost::system::system_error.
boost::asio::ip::tcp::acceptor makeAcceptor(boost::asio::io_context& io,
                                            const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace wslb::server
