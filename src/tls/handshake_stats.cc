#include "wslb/tls/handshake_stats.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ssl/error.hpp>

#include "wslb/tls/transport_socket.h"

namespace wslb::tls {

HandshakeFailure classifyHandshakeFailure(const TransportSocket& socket,
                                          const boost::system::error_code& ec) {
  if (ec.category() == boost::asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) ==
          SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    return HandshakeFailure::kNoCertificate;
  }
  if (SSL* ssl = socket.native_handle()) {
    const long verify = SSL_get_verify_result(ssl);
    // The SAN matchers reject a chain that verified with X509_V_ERR_APPLICATION_VERIFICATION;
    // OpenSSL's own host name check (auto SNI validation) with X509_V_ERR_HOSTNAME_MISMATCH.
    if (verify == X509_V_ERR_APPLICATION_VERIFICATION || verify == X509_V_ERR_HOSTNAME_MISMATCH) {
      return HandshakeFailure::kVerifySan;
    }
    if (verify != X509_V_OK) return HandshakeFailure::kVerifyError;
  }
  return HandshakeFailure::kConnectionError;
}

void HandshakeStats::countSuccess(const TransportSocket& socket, bool server_side) {
  handshake.fetch_add(1, std::memory_order_relaxed);
  SSL* ssl = socket.native_handle();
  if (ssl == nullptr) return;
  if (SSL_session_reused(ssl) == 1) session_reused.fetch_add(1, std::memory_order_relaxed);
  if (server_side) {
    X509* peer = SSL_get0_peer_certificate(ssl);
    if (peer == nullptr) no_certificate.fetch_add(1, std::memory_order_relaxed);
  }
}

void HandshakeStats::countFailure(HandshakeFailure failure) {
  connection_error.fetch_add(1, std::memory_order_relaxed);
  switch (failure) {
    case HandshakeFailure::kVerifyError:
      fail_verify_error.fetch_add(1, std::memory_order_relaxed);
      break;
    case HandshakeFailure::kVerifySan:
      fail_verify_san.fetch_add(1, std::memory_order_relaxed);
      break;
    case HandshakeFailure::kNoCertificate:
      fail_verify_no_cert.fetch_add(1, std::memory_order_relaxed);
      break;
    case HandshakeFailure::kConnectionError:
      break;
  }
}

void appendHandshakeStats(const HandshakeStats& s, uint64_t reload_success, uint64_t reload_failure,
                          const std::string& scope, const std::string& tag,
                          const std::string& tag_value, std::vector<stats::Stat>& out) {
  auto add = [&](const char* name, uint64_t value) {
    std::string flat = scope;
    flat += '.';
    flat += tag_value;
    flat += ".ssl.";
    flat += name;
    std::string extracted = scope;
    extracted += ".ssl.";
    extracted += name;
    out.emplace_back(std::move(flat), std::move(extracted), stats::Tags{{tag, tag_value}},
                     stats::StatType::kCounter, value);
  };
  auto load = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  add("handshake", load(s.handshake));
  add("connection_error", load(s.connection_error));
  add("fail_verify_error", load(s.fail_verify_error));
  add("fail_verify_san", load(s.fail_verify_san));
  add("fail_verify_no_cert", load(s.fail_verify_no_cert));
  add("no_certificate", load(s.no_certificate));
  add("session_reused", load(s.session_reused));
  add("context_update_by_file", reload_success);
  add("context_update_failure", reload_failure);
}

}  // namespace wslb::tls
