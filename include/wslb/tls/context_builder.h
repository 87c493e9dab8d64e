#pragma once
// config::DownstreamTls / UpstreamTls -> configured OpenSSL SSL_CTX. Control plane only (start-up
// and reloads); reads every file named by the config.

#include <string>
#include <vector>

#include "wslb/config/tls.h"
#include "wslb/tls/ssl_types.h"

namespace wslb::tls {

/// A server context: certificates (one per key type), version bounds, ciphers and curves,
/// ALPN (the first of alpn_protocols the client offers; http/1.1 by default), client
/// certificate verification when validation_context.trusted_ca is set.
/// @throws TlsError naming the file and OpenSSL's reason.
SslCtxPtr buildServerContext(const config::DownstreamTls& tls);

/// A client context: version bounds, ALPN offer, optional client certificate, server
/// verification against trusted_ca with the SAN matchers. SNI is set per connection
/// (ClientContext). @throws TlsError.
SslCtxPtr buildClientContext(const config::UpstreamTls& tls);

/// The files a context reads (certificates, keys, CAs) and the watched_directory entries, for
/// reloads.
struct WatchedPaths {
  std::vector<std::string> files;
  std::vector<std::string> directories;
};
void addWatchedPaths(const config::CommonTlsContext& common, WatchedPaths& out);

/// The text of `source`: the file's content or the inline string.
/// @throws TlsError if the file cannot be read.
std::string readDataSource(const config::DataSource& source);

}  // namespace wslb::tls
