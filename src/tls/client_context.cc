#include "wslb/tls/client_context.h"

#include <openssl/x509v3.h>

#include "wslb/tls/context_builder.h"

namespace wslb::tls {
namespace {

// auto_sni_san_validation replaces match_typed_subject_alt_names (Envoy).
config::UpstreamTls withoutSanMatchers(config::UpstreamTls tls) {
  if (tls.auto_sni_san_validation && !tls.sni.empty() &&
      tls.common_tls_context.validation_context) {
    tls.common_tls_context.validation_context->match_typed_subject_alt_names.clear();
  }
  return tls;
}

}  // namespace

ClientContext::ClientContext(const config::UpstreamTls& tls)
    : ctx_(buildClientContext(withoutSanMatchers(tls))),
      sni_(tls.sni),
      check_sni_(tls.auto_sni_san_validation && !tls.sni.empty()) {}

SslPtr ClientContext::newSsl() const {
  SslPtr ssl(SSL_new(ctx_.get()));
  if (!ssl) return ssl;
  SSL_set_connect_state(ssl.get());
  if (!sni_.empty() && SSL_set_tlsext_host_name(ssl.get(), sni_.c_str()) != 1) return nullptr;
  if (check_sni_) {
    SSL_set_hostflags(ssl.get(),
                      X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
    if (SSL_set1_host(ssl.get(), sni_.c_str()) != 1) return nullptr;
  }
  return ssl;
}

}  // namespace wslb::tls
