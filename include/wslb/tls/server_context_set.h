#pragma once
// The TLS contexts of one listener: one per filter chain, chosen per connection by the server
// name the client sends (SNI), as Envoy's filter_chain_match.server_names does.
//
// The choice is made in OpenSSL's ClientHello callback, before the TLS version is negotiated,
// so each chain's own version bounds, ciphers, ALPN, certificates and client verification
// apply. (The servername callback runs after version negotiation, too late for tls_params.)
// Immutable once built; a reload builds a new set (ServerContextProvider).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "wslb/config/tls.h"
#include "wslb/tls/server_name_table.h"
#include "wslb/tls/ssl_types.h"

namespace wslb::tls {

/// One filter chain's TLS: its server_names (empty: the default chain) and DownstreamTls.
struct ServerChain {
  std::vector<std::string> server_names;
  config::DownstreamTls tls;
};

class ServerContextSet {
 public:
  /// Builds a context per chain. At most one chain may have no server_names (the default for
  /// clients whose name matches no chain, or that send none); without one, such handshakes
  /// fail with an unrecognized_name alert. @throws TlsError (files, OpenSSL, duplicate names).
  explicit ServerContextSet(const std::vector<ServerChain>& chains);
  ServerContextSet(const ServerContextSet&) = delete;
  ServerContextSet& operator=(const ServerContextSet&) = delete;

  /// A new server-side SSL for one connection. Its chain is chosen during the handshake; the
  /// set must outlive the handshake (TransportSocket holds it). Worker thread; nullptr if
  /// OpenSSL is out of memory.
  SslPtr newSsl() const;

  size_t chainCount() const { return chains_.size(); }
  /// The chain `server_name` selects (tests, logs); nullopt if none.
  std::optional<size_t> select(std::string_view server_name) const {
    return names_.find(server_name);
  }
  /// The chain a finished (or at least started) handshake chose; nullopt before the
  /// ClientHello or when none matched.
  static std::optional<size_t> chosenChain(const SSL* ssl);

 private:
  struct Chain {
    SslCtxPtr ctx;
    bool require_sni = false;
    std::string cipher_list;  ///< tls_params.cipher_suites joined; empty = OpenSSL's default.
    std::string groups_list;  ///< tls_params.ecdh_curves joined; empty = OpenSSL's default.
  };
  static int onClientHello(SSL* ssl, int* alert, void* arg);
  int chooseChain(SSL* ssl, int* alert) const;

  std::vector<Chain> chains_;
  ServerNameTable names_;
  /// SSL objects start from this certificate-less context; the ClientHello callback moves each
  /// to its chain's context.
  SslCtxPtr dispatch_;
};

}  // namespace wslb::tls
