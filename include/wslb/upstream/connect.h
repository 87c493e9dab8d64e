#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace wslb::upstream {

/// One step of a non-blocking TCP connect that finishes without the event loop when it can.
///
/// Opens `socket` (non-blocking) if it is not open yet, then calls connect(2). When that is
/// in progress it asks once more at once: on loopback, and wherever the handshake completes
/// within the call, the second connect(2) already reports the connection, which saves the wait
/// for writability, its epoll_ctl and Asio's poll + getsockopt afterwards.
///
/// Returns success (connected), `in_progress` (wait for the socket to be writable, then call
/// again: the next call reports the outcome), or the connect error (e.g. connection_refused).
boost::system::error_code connectStep(boost::asio::ip::tcp::socket& socket,
                                      const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace wslb::upstream
