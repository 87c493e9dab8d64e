#pragma once
// A cluster's TLS toward its endpoints (UpstreamTlsContext): the SSL_CTX plus what is set per
// connection (SNI, the SNI host check of auto_sni_san_validation). Immutable once built.

#include <string>

#include "wslb/config/tls.h"
#include "wslb/tls/ssl_types.h"

namespace wslb::tls {

class ClientContext {
 public:
  /// @throws TlsError (files, OpenSSL).
  explicit ClientContext(const config::UpstreamTls& tls);
  ClientContext(const ClientContext&) = delete;
  ClientContext& operator=(const ClientContext&) = delete;

  /// A new client-side SSL for one connection, with `sni` set when configured. With
  /// auto_sni_san_validation the server's certificate must name the SNI (a DNS SAN).
  /// Worker thread; nullptr if OpenSSL is out of memory.
  SslPtr newSsl() const;

  const std::string& sni() const { return sni_; }

 private:
  SslCtxPtr ctx_;
  std::string sni_;
  bool check_sni_ = false;
};

}  // namespace wslb::tls
