#include "listener_factory.h"

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "wslb/tls/context_provider.h"

namespace wslb::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::shared_ptr<http::ListenerContext> makeListenerContext(
    const config::Listener& listener, const upstream::ClusterManager& clusters,
    const HcmStatsLookup& stats_for, std::shared_ptr<tls::HandshakeStats> handshake_stats) {
  // Chains with the same stat_prefix count into the same http.<stat_prefix>.* stats, as in
  // Envoy, where stats are looked up by name.
  std::map<std::string, std::shared_ptr<stats::HcmStats>> by_prefix;
  auto statsFor = [&](const std::string& prefix) {
    std::shared_ptr<stats::HcmStats>& found = by_prefix[prefix];
    if (!found && stats_for) found = stats_for(prefix);
    return found;  // null: the context makes new ones
  };
  if (listener.filter_chains.empty()) {
    // Built in code (tests) rather than loaded: the one chain is `hcm`, plain TCP.
    return std::make_shared<http::ListenerContext>(listener.name, listener.hcm, clusters,
                                                   statsFor(listener.hcm.stat_prefix));
  }
  const auto& chains = listener.filter_chains;
  auto first = std::make_shared<http::ListenerContext>(listener.name, chains[0].hcm, clusters,
                                                       statsFor(chains[0].hcm.stat_prefix));
  by_prefix[chains[0].hcm.stat_prefix] = first->shared_stats;
  if (!listener.isTls()) return first;

  std::vector<tls::ServerChain> server_chains;
  for (const auto& chain : chains) {
    if (!chain.tls) {
      throw std::invalid_argument("listener \"" + listener.name +
                                  "\": every filter chain needs TLS when the first has it");
    }
    server_chains.push_back(tls::ServerChain{chain.match.server_names, *chain.tls});
  }
  std::shared_ptr<tls::ServerContextProvider> provider =
      tls::makeServerContextProvider(listener.name, std::move(server_chains));
  if (!handshake_stats) handshake_stats = std::make_shared<tls::HandshakeStats>();
  first->tls = provider;
  first->tls_stats = handshake_stats;
  first->tls_handshake_timeout = chains[0].transport_socket_connect_timeout;
  for (size_t i = 1; i < chains.size(); ++i) {
    auto other = std::make_shared<http::ListenerContext>(listener.name, chains[i].hcm, clusters,
                                                         statsFor(chains[i].hcm.stat_prefix));
    by_prefix[chains[i].hcm.stat_prefix] = other->shared_stats;
    other->tls = provider;
    other->tls_stats = handshake_stats;
    other->tls_handshake_timeout = chains[i].transport_socket_connect_timeout;
    first->other_chains.push_back(std::move(other));
  }
  return first;
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
