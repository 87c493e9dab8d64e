#pragma once
// A socket BIO that sends with MSG_NOSIGNAL: OpenSSL's own socket BIO uses write(2), which
// raises SIGPIPE on a connection the peer has reset, and wslb does not ignore SIGPIPE (Asio
// never needs it to).

#include <openssl/bio.h>

namespace wslb::tls {

/// A new BIO over `fd` (not closed by the BIO). nullptr if out of memory.
BIO* newSocketBio(int fd);

}  // namespace wslb::tls
