#include "wslb/tls/context_builder.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "tls/context_data.h"
#include "tls/openssl_error.h"
#include "wslb/tls/san_match.h"

namespace wslb::tls {
namespace {

using config::TlsVersion;

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// "file \"/etc/tls/cert.pem\"" or "inline_string": how errors name a source.
std::string describe(const config::DataSource& source) {
  if (!source.isFile()) return "inline_string";
  std::string out = "file \"";
  out += source.filename;
  out += '"';
  return out;
}

template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

[[noreturn]] void fail(std::string what) {
  throw TlsError(std::move(what));
}

// `what` + ": " + OpenSSL's reasons.
[[noreturn]] void failWithOpenSsl(std::string what) {
  what += ": ";
  what += takeOpenSslErrors();
  fail(std::move(what));
}

BioPtr memoryBio(const std::string& text) {
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) failWithOpenSsl("cannot allocate a memory BIO");
  return bio;
}

// Every certificate of a PEM text, in order.
std::vector<X509Ptr> readCertificates(const config::DataSource& source, std::string_view role) {
  const std::string text = readDataSource(source);
  BioPtr bio = memoryBio(text);
  std::vector<X509Ptr> out;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    out.emplace_back(cert);
  }
  // The loop ends on "no start line" at the end of the text; anything else is a broken PEM.
  const unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
  }
  if (ERR_peek_error() != 0) {
    std::string what = "cannot parse ";
    what += role;
    what += " from ";
    what += describe(source);
    failWithOpenSsl(std::move(what));
  }
  if (out.empty()) {
    std::string what = "no PEM certificate in ";
    what += role;
    what += " ";
    what += describe(source);
    fail(std::move(what));
  }
  return out;
}

PkeyPtr readPrivateKey(const config::DataSource& source) {
  const std::string text = readDataSource(source);
  BioPtr bio = memoryBio(text);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    std::string what = "cannot read the private key from ";
    what += describe(source);
    failWithOpenSsl(std::move(what));
  }
  return key;
}

void loadCertificates(SSL_CTX* ctx, const std::vector<config::TlsCertificate>& certificates) {
  std::set<int> key_types;
  for (const config::TlsCertificate& certificate : certificates) {
    std::vector<X509Ptr> chain =
        readCertificates(certificate.certificate_chain, "certificate_chain");
    PkeyPtr key = readPrivateKey(certificate.private_key);
    const std::string name = describe(certificate.certificate_chain);
    EVP_PKEY* public_key = X509_get0_pubkey(chain.front().get());
    if (public_key == nullptr) failWithOpenSsl(concat("cannot read the public key of ", name));
    // OpenSSL keeps one certificate per key type and would silently replace the first.
    if (!key_types.insert(EVP_PKEY_get_base_id(public_key)).second) {
      fail(concat("certificate_chain ", name,
                  ": only one certificate per key type (RSA, ECDSA, ...) is supported"));
    }
    if (SSL_CTX_use_certificate(ctx, chain.front().get()) != 1) {
      failWithOpenSsl(concat("cannot use the certificate in ", name));
    }
    for (size_t i = 1; i < chain.size(); ++i) {
      if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1) {
        failWithOpenSsl(concat("cannot add the chain certificates of ", name));
      }
    }
    if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) {
      std::string what = "private_key ";
      what += describe(certificate.private_key);
      what += " does not fit certificate_chain ";
      what += name;
      failWithOpenSsl(std::move(what));
    }
  }
}

int versionOf(TlsVersion version, int automatic) {
  switch (version) {
    case TlsVersion::kTls1_2:
      return TLS1_2_VERSION;
    case TlsVersion::kTls1_3:
      return TLS1_3_VERSION;
    case TlsVersion::kAuto:
      break;
  }
  return automatic;
}

template <typename T>
std::string join(const std::vector<T>& items, char separator) {
  std::string out;
  for (const T& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::vector<unsigned char> alpnWire(const std::vector<std::string>& protocols) {
  std::vector<unsigned char> out;
  for (const std::string& protocol : protocols) {
    out.push_back(static_cast<unsigned char>(protocol.size()));
    out.insert(out.end(), protocol.begin(), protocol.end());
  }
  return out;
}

// At depth 0, after OpenSSL accepted the chain: Envoy's match_typed_subject_alt_names.
int verifyPeer(int preverify_ok, X509_STORE_CTX* store) {
  if (preverify_ok != 1 || X509_STORE_CTX_get_error_depth(store) != 0) return preverify_ok;
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  const ContextData* data = ssl != nullptr ? contextData(SSL_get_SSL_CTX(ssl)) : nullptr;
  if (data == nullptr || data->san_matchers.empty()) return 1;
  if (certificateMatchesAny(X509_STORE_CTX_get_current_cert(store), data->san_matchers)) return 1;
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

// Server side: the first protocol of our list that the client offers; none is not an error.
int selectAlpn(SSL* ssl, const unsigned char** out, unsigned char* out_length,
               const unsigned char* offered, unsigned int offered_length, void* /*arg*/) {
  const ContextData* data = contextData(SSL_get_SSL_CTX(ssl));
  if (data == nullptr || data->alpn_wire.empty()) return SSL_TLSEXT_ERR_NOACK;
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, data->alpn_wire.data(),
                            static_cast<unsigned int>(data->alpn_wire.size()), offered,
                            offered_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// What both sides share: versions, ciphers, curves, certificates, the CA store.
SslCtxPtr newContext(const SSL_METHOD* method, const config::CommonTlsContext& common,
                     int default_max_version) {
  SslCtxPtr ctx(SSL_CTX_new(method));
  if (!ctx) failWithOpenSsl("cannot create an SSL_CTX");
  // No renegotiation (a DoS lever, and useless to WebSockets); a peer closing TCP without
  // close_notify is an ordinary end of stream (WebSocket frames are self-delimiting).
  SSL_CTX_set_options(
      ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Idle connections give their 16 KiB+ record buffers back; write_some semantics (partial
  // writes, retries from a spill buffer at another address).
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  const config::TlsParams& params = common.tls_params;
  const int min = versionOf(params.min_version, TLS1_2_VERSION);
  const int max = versionOf(params.max_version, default_max_version);
  if (min > max) {
    fail("tls_minimum_protocol_version is above tls_maximum_protocol_version");
  }
  if (SSL_CTX_set_min_proto_version(ctx.get(), min) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), max) != 1) {
    failWithOpenSsl("cannot set the TLS version bounds");
  }
  if (!params.cipher_suites.empty()) {
    const std::string list = join(params.cipher_suites, ':');
    if (SSL_CTX_set_cipher_list(ctx.get(), list.c_str()) != 1) {
      failWithOpenSsl(concat("tls_params.cipher_suites \"", list, "\" rejected by OpenSSL"));
    }
  }
  if (!params.ecdh_curves.empty()) {
    const std::string list = join(params.ecdh_curves, ':');
    if (SSL_CTX_set1_groups_list(ctx.get(), list.c_str()) != 1) {
      failWithOpenSsl(concat("tls_params.ecdh_curves \"", list, "\" rejected by OpenSSL"));
    }
  }
  loadCertificates(ctx.get(), common.tls_certificates);
  auto data = std::make_unique<ContextData>();
  int verify_mode = SSL_VERIFY_NONE;
  if (common.validation_context && common.validation_context->trusted_ca) {
    const config::ValidationContext& validation = *common.validation_context;
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    for (X509Ptr& ca : readCertificates(*validation.trusted_ca, "trusted_ca")) {
      if (X509_STORE_add_cert(store, ca.get()) != 1) {
        failWithOpenSsl(concat("cannot add trusted_ca ", describe(*validation.trusted_ca)));
      }
    }
    if (validation.max_verify_depth) {
      SSL_CTX_set_verify_depth(ctx.get(), static_cast<int>(*validation.max_verify_depth));
    }
    data->san_matchers = validation.match_typed_subject_alt_names;
    verify_mode = SSL_VERIFY_PEER;
  }
  SSL_CTX_set_verify(ctx.get(), verify_mode, verifyPeer);
  attachContextData(ctx.get(), std::move(data));
  return ctx;
}

}  // namespace

std::string readDataSource(const config::DataSource& source) {
  if (!source.isFile()) return *source.inline_string;
  std::ifstream in(source.filename, std::ios::binary);
  if (!in) fail(concat("cannot open ", describe(source), ": ", std::strerror(errno)));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) fail(concat("cannot read ", describe(source), ": ", std::strerror(errno)));
  return content.str();
}

SslCtxPtr buildServerContext(const config::DownstreamTls& tls) {
  const config::CommonTlsContext& common = tls.common_tls_context;
  if (common.tls_certificates.empty()) fail("a server context needs a certificate");
  // Envoy's defaults: TLS 1.2 to 1.3 for servers.
  SslCtxPtr ctx = newContext(TLS_server_method(), common, TLS1_3_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (tls.disable_stateless_session_resumption) SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
  static constexpr unsigned char kSessionIdContext[] = "wslb";
  SSL_CTX_set_session_id_context(ctx.get(), kSessionIdContext, sizeof kSessionIdContext - 1);
  if (tls.require_client_certificate) {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verifyPeer);
  }
  // wslb speaks HTTP/1.1 to clients: that is what it selects when offered.
  auto* data = const_cast<ContextData*>(contextData(ctx.get()));
  data->alpn_wire = alpnWire(common.alpn_protocols.empty() ? std::vector<std::string>{"http/1.1"}
                                                           : common.alpn_protocols);
  SSL_CTX_set_alpn_select_cb(ctx.get(), selectAlpn, nullptr);
  return ctx;
}

SslCtxPtr buildClientContext(const config::UpstreamTls& tls) {
  const config::CommonTlsContext& common = tls.common_tls_context;
  // Envoy's defaults: TLS 1.2 only for clients unless tls_params says otherwise.
  SslCtxPtr ctx = newContext(TLS_client_method(), common, TLS1_2_VERSION);
  if (!common.alpn_protocols.empty()) {
    const std::vector<unsigned char> wire = alpnWire(common.alpn_protocols);
    // SSL_CTX_set_alpn_protos returns 0 on success.
    if (SSL_CTX_set_alpn_protos(ctx.get(), wire.data(), static_cast<unsigned int>(wire.size())) !=
        0) {
      failWithOpenSsl("cannot set alpn_protocols");
    }
  }
  return ctx;
}

void addWatchedPaths(const config::CommonTlsContext& common, WatchedPaths& out) {
  auto add_file = [&out](const config::DataSource& source) {
    if (source.isFile()) out.files.push_back(source.filename);
  };
  for (const config::TlsCertificate& certificate : common.tls_certificates) {
    add_file(certificate.certificate_chain);
    add_file(certificate.private_key);
    if (!certificate.watched_directory.empty()) {
      out.directories.push_back(certificate.watched_directory);
    }
  }
  if (common.validation_context) {
    if (common.validation_context->trusted_ca) add_file(*common.validation_context->trusted_ca);
    if (!common.validation_context->watched_directory.empty()) {
      out.directories.push_back(common.validation_context->watched_directory);
    }
  }
}

}  // namespace wslb::tls
