#include "wslb/server/listener_factory.h"

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "wslb/tls/context_provider.h"

namespace wslb::server {

std::shared_ptr<http::ListenerContext> makeListenerContext(
    const config::Listener& listener, const upstream::ClusterManager& clusters) {
  if (listener.filter_chains.empty()) {
    // Built in code (tests) rather than loaded: the one chain is `hcm`, plain TCP.
    return std::make_shared<http::ListenerContext>(listener.name, listener.hcm, clusters);
  }
  const auto& chains = listener.filter_chains;
  auto first = std::make_shared<http::ListenerContext>(listener.name, chains[0].hcm, clusters);
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
  auto stats = std::make_shared<tls::HandshakeStats>();
  first->tls = provider;
  first->tls_stats = stats;
  first->tls_handshake_timeout = chains[0].transport_socket_connect_timeout;
  // Chains with the same stat_prefix count into the same http.<stat_prefix>.* stats, as in
  // Envoy, where stats are looked up by name.
  std::map<std::string, std::shared_ptr<stats::HcmStats>> by_prefix{
      {chains[0].hcm.stat_prefix, first->stats_owner}};
  for (size_t i = 1; i < chains.size(); ++i) {
    std::shared_ptr<stats::HcmStats>& shared = by_prefix[chains[i].hcm.stat_prefix];
    auto other =
        std::make_shared<http::ListenerContext>(listener.name, chains[i].hcm, clusters, shared);
    shared = other->stats_owner;
    other->tls = provider;
    other->tls_stats = stats;
    other->tls_handshake_timeout = chains[i].transport_socket_connect_timeout;
    first->other_chains.push_back(std::move(other));
  }
  return first;
}

}  // namespace wslb::server
