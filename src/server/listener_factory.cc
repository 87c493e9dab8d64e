#include "listener_factory.h"

#include <stdexcept>
#include <string>

namespace wslb::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::shared_ptr<http::ListenerContext> makeListenerContext(const config::Listener& listener,
                                                           const upstream::ClusterManager& clusters,
                                                           std::shared_ptr<stats::HcmStats> stats) {
  return std::make_shared<http::ListenerContext>(listener.name, listener.hcm, clusters,
                                                 std::move(stats));
}

tcp::endpoint toEndpoint(const config::SocketAddress& a) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(a.address, ec);
  if (ec) throw std::invalid_argument("invalid listen address \"" + a.address + "\"");
  return tcp::endpoint(address, static_cast<uint16_t>(a.port));
}

tcp::acceptor makeAcceptor(asio::io_context& io, const tcp::endpoint& ep) {
  tcp::acceptor acceptor(io);
  acceptor.open(ep.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  int one = 1;
  if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    throw std::runtime_error("setsockopt(SO_REUSEPORT) failed");
  }
  // Accepted sockets inherit TCP_NODELAY.
  acceptor.set_option(tcp::no_delay(true));
  acceptor.bind(ep);
  acceptor.listen(asio::socket_base::max_listen_connections);
  return acceptor;
}

}  // namespace wslb::server
