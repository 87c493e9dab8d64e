#include "wslb/tls/server_context_set.h"

#include <openssl/err.h>
#include <openssl/tls1.h>

#include <cstdint>

#include "tls/openssl_error.h"
#include "wslb/tls/context_builder.h"

namespace wslb::tls {
namespace {

int chosenChainIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// The host_name of a server_name extension (RFC 6066 §3); empty if absent or malformed.
std::string_view serverNameOf(SSL* ssl) {
  const unsigned char* data = nullptr;
  size_t size = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &data, &size) != 1) return {};
  if (size < 2) return {};
  size_t list_size = (size_t{data[0]} << 8) | data[1];
  if (list_size + 2 != size) return {};
  size_t offset = 2;
  while (offset + 3 <= size) {
    const unsigned char type = data[offset];
    const size_t length = (size_t{data[offset + 1]} << 8) | data[offset + 2];
    offset += 3;
    if (offset + length > size) return {};
    if (type == TLSEXT_NAMETYPE_host_name) {
      return {reinterpret_cast<const char*>(data + offset), length};
    }
    offset += length;
  }
  return {};
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ':';
    out += item;
  }
  return out;
}

}  // namespace

ServerContextSet::ServerContextSet(const std::vector<ServerChain>& chains) {
  if (chains.empty()) throw TlsError("a TLS listener needs at least one filter chain");
  for (size_t i = 0; i < chains.size(); ++i) {
    const ServerChain& chain = chains[i];
    if (chain.server_names.empty() && !names_.setDefault(i)) {
      throw TlsError("more than one filter chain without server_names");
    }
    for (const std::string& name : chain.server_names) {
      if (!names_.add(name, i)) {
        std::string what = "server name \"";
        what += name;
        what += "\" is used by more than one filter chain";
        throw TlsError(what);
      }
    }
    Chain built{buildServerContext(chain.tls), chain.tls.require_sni,
                join(chain.tls.common_tls_context.tls_params.cipher_suites),
                join(chain.tls.common_tls_context.tls_params.ecdh_curves)};
    SSL_CTX_set_client_hello_cb(built.ctx.get(), onClientHello, this);
    // A session may only be resumed on the chain that made it: a session from a chain without
    // client certificates must not skip them on one that requires them.
    std::string session_context = "wslb-chain-";
    session_context += std::to_string(i);
    SSL_CTX_set_session_id_context(built.ctx.get(),
                                   reinterpret_cast<const unsigned char*>(session_context.data()),
                                   static_cast<unsigned int>(session_context.size()));
    chains_.push_back(std::move(built));
  }
  dispatch_.reset(SSL_CTX_new(TLS_server_method()));
  if (!dispatch_) {
    std::string what = "cannot create an SSL_CTX: ";
    what += takeOpenSslErrors();
    throw TlsError(what);
  }
  SSL_CTX_set_mode(dispatch_.get(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                        SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_client_hello_cb(dispatch_.get(), onClientHello, this);
}

SslPtr ServerContextSet::newSsl() const {
  SslPtr ssl(SSL_new(dispatch_.get()));
  if (ssl) SSL_set_accept_state(ssl.get());
  return ssl;
}

std::optional<size_t> ServerContextSet::chosenChain(const SSL* ssl) {
  const auto tag = reinterpret_cast<uintptr_t>(SSL_get_ex_data(ssl, chosenChainIndex()));
  if (tag == 0) return std::nullopt;
  return static_cast<size_t>(tag - 1);
}

int ServerContextSet::onClientHello(SSL* ssl, int* alert, void* arg) {
  return static_cast<const ServerContextSet*>(arg)->chooseChain(ssl, alert);
}

int ServerContextSet::chooseChain(SSL* ssl, int* alert) const {
  const std::string_view name = serverNameOf(ssl);
  const std::optional<size_t> index = names_.find(name);
  if (!index) {
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_CLIENT_HELLO_ERROR;
  }
  const Chain& chain = chains_[*index];
  if (chain.require_sni && name.empty()) {
    *alert = SSL_AD_MISSING_EXTENSION;
    return SSL_CLIENT_HELLO_ERROR;
  }
  SSL_CTX* ctx = chain.ctx.get();
  if (SSL_set_SSL_CTX(ssl, ctx) != ctx) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  // SSL_set_SSL_CTX moves the certificates and session id context only; the rest was copied
  // from the dispatch context when the SSL was made and is set from the chain here.
  SSL_clear_options(ssl, SSL_get_options(ssl));
  SSL_set_options(ssl, SSL_CTX_get_options(ctx));
  SSL_set_verify(ssl, SSL_CTX_get_verify_mode(ctx), SSL_CTX_get_verify_callback(ctx));
  SSL_set_verify_depth(ssl, SSL_CTX_get_verify_depth(ctx));
  // The dispatch context has OpenSSL's default ciphers and groups: only a chain with its own
  // lists needs them set.
  if (SSL_set_min_proto_version(ssl, SSL_CTX_get_min_proto_version(ctx)) != 1 ||
      SSL_set_max_proto_version(ssl, SSL_CTX_get_max_proto_version(ctx)) != 1 ||
      (!chain.cipher_list.empty() && SSL_set_cipher_list(ssl, chain.cipher_list.c_str()) != 1) ||
      (!chain.groups_list.empty() && SSL_set1_groups_list(ssl, chain.groups_list.c_str()) != 1)) {
    ERR_clear_error();
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  SSL_set_ex_data(ssl, chosenChainIndex(), reinterpret_cast<void*>(uintptr_t{*index} + 1));
  return SSL_CLIENT_HELLO_SUCCESS;
}

}  // namespace wslb::tls
