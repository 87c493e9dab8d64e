#pragma once
// Owning handles for OpenSSL objects, and the start-up error every TLS loader throws.

#include <openssl/ssl.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace wslb::tls {

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
/// An SSL_CTX reference. Every SSL made from it holds its own reference, so a context that is
/// replaced (certificate reload) lives on until its last connection ends.
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;
using SslPtr = std::unique_ptr<SSL, SslDeleter>;

/// A TLS configuration that cannot be loaded: unreadable file, bad PEM, a key that does not
/// match its certificate, a cipher list OpenSSL refuses... The message names the file (or
/// "inline_string") and OpenSSL's reason. Thrown at start-up and by reloads only.
class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace wslb::tls
