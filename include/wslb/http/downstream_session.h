#pragma once
// One accepted client connection: reads requests, routes them, reserves a backend slot, connects,
// and either proxies plain HTTP/1.1 or performs the WebSocket upgrade and hands both sockets to a
// relay::Relay.

#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "wslb/http/listener_context.h"
#include "wslb/relay/connection_tracker.h"

namespace wslb::http {

/// Starts a session on an accepted socket from `peer` (the address accept() returned). Runs on
/// the socket's executor (its worker) for its whole life; `listener` and `tracker` must outlive
/// it (they live as long as the worker).
void startDownstreamSession(boost::asio::ip::tcp::socket socket,
                            const boost::asio::ip::tcp::endpoint& peer,
                            std::shared_ptr<const ListenerContext> listener,
                            relay::ConnectionTracker& tracker);

}  // namespace wslb::http
