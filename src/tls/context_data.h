#pragma once
// What the OpenSSL callbacks of one SSL_CTX need (ALPN list, SAN matchers), owned by that
// SSL_CTX through its ex_data: it lives exactly as long as the context, however long the last
// connection made from it keeps it.

#include <openssl/ssl.h>

#include <memory>
#include <vector>

#include "wslb/config/tls.h"

namespace wslb::tls {

struct ContextData {
  /// ALPN protocols in wire form (length-prefixed), server preference order or client offer.
  std::vector<unsigned char> alpn_wire;
  /// Checked on the peer's leaf certificate after chain verification; empty = none.
  std::vector<config::SanMatcher> san_matchers;
};

/// Hands `data` to `ctx`; freed with it.
void attachContextData(SSL_CTX* ctx, std::unique_ptr<ContextData> data);
/// The data attached to `ctx` (nullptr if none).
const ContextData* contextData(const SSL_CTX* ctx);

}  // namespace wslb::tls
