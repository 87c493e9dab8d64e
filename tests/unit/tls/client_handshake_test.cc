// The client side (toward backends) against openssl s_server: verification against trusted_ca,
// SNI and SAN checks, ALPN, client certificates.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tls_test_util.h"
#include "wslb/tls/client_context.h"

namespace wslb::tls {
namespace {

using ::testing::HasSubstr;
using namespace testing;

class ClientHandshakeTest : public ::testing::Test {
 protected:
  ClientConnection connect(uint16_t port, const config::UpstreamTls& tls) {
    return connectClient(io_, port, std::make_shared<const ClientContext>(tls));
  }

  TempDir dir_;
  TestCa ca_{dir_.path(), "ca"};
  TestCa other_ca_{dir_.path(), "other-ca"};
  CertFiles backend_ = ca_.issue("backend", "backend.test", {"backend.test"}, "b1");
  asio::io_context io_;
};

TEST_F(ClientHandshakeTest, VerifiesAServerSignedByTheTrustedCa) {
  OpensslServer server(backend_.cert, backend_.key, {});
  config::UpstreamTls tls = clientTls(ca_.cert(), "backend.test");
  tls.auto_sni_san_validation = true;
  ClientConnection c = connect(server.port(), tls);
  ASSERT_FALSE(c.handshake_ec) << c.stream->failureReason(c.handshake_ec);
  EXPECT_EQ(peerSerial(c.stream->native_handle()), "b1");
  EXPECT_EQ(c.stream->serverName(), "backend.test");
  EXPECT_EQ(SSL_get_verify_result(c.stream->native_handle()), X509_V_OK);
}

TEST_F(ClientHandshakeTest, RefusesAnUntrustedServer) {
  OpensslServer server(backend_.cert, backend_.key, {});
  ClientConnection c = connect(server.port(), clientTls(other_ca_.cert(), "backend.test"));
  ASSERT_TRUE(c.handshake_ec);
  EXPECT_THAT(c.stream->failureReason(c.handshake_ec), HasSubstr("certificate verify failed"));
  EXPECT_THAT(c.stream->failureReason(c.handshake_ec), HasSubstr("unable to get local issuer"));
}

TEST_F(ClientHandshakeTest, WithoutTrustedCaAnyCertificateIsAccepted) {
  // Envoy's behaviour without a validation_context.
  OpensslServer server(backend_.cert, backend_.key, {});
  config::UpstreamTls tls;
  tls.sni = "backend.test";
  ClientConnection c = connect(server.port(), tls);
  EXPECT_FALSE(c.handshake_ec);
}

TEST_F(ClientHandshakeTest, RefusesACertificateForAnotherName) {
  OpensslServer server(backend_.cert, backend_.key, {});
  config::UpstreamTls tls = clientTls(ca_.cert(), "wrong.test");
  tls.auto_sni_san_validation = true;
  ClientConnection c = connect(server.port(), tls);
  ASSERT_TRUE(c.handshake_ec);
  EXPECT_THAT(c.stream->failureReason(c.handshake_ec), HasSubstr("hostname mismatch"));
}

TEST_F(ClientHandshakeTest, SubjectAltNameMatchers) {
  OpensslServer server(backend_.cert, backend_.key, {});
  config::UpstreamTls tls = clientTls(ca_.cert(), "backend.test");
  config::SanMatcher san;
  san.type = config::SanMatcher::Type::kDns;
  san.matcher = {config::StringMatch::Kind::kExact, "other.test", false};
  tls.common_tls_context.validation_context->match_typed_subject_alt_names = {san};
  ClientConnection refused = connect(server.port(), tls);
  ASSERT_TRUE(refused.handshake_ec);
  EXPECT_THAT(refused.stream->failureReason(refused.handshake_ec),
              HasSubstr("application verification failure"));

  OpensslServer server2(backend_.cert, backend_.key, {});
  san.matcher = {config::StringMatch::Kind::kSuffix, ".test", false};
  tls.common_tls_context.validation_context->match_typed_subject_alt_names = {san};
  ClientConnection accepted = connect(server2.port(), tls);
  EXPECT_FALSE(accepted.handshake_ec) << accepted.stream->failureReason(accepted.handshake_ec);
}

TEST_F(ClientHandshakeTest, AlpnAndClientCertificate) {
  const CertFiles client = ca_.issue("client", "wslb.client", {"wslb.client"}, "c1");
  OpensslServer server(backend_.cert, backend_.key,
                       {"-alpn", "http/1.1", "-Verify", "1", "-CAfile", ca_.cert()});
  config::UpstreamTls tls = clientTls(ca_.cert(), "backend.test");
  tls.common_tls_context.alpn_protocols = {"http/1.1"};
  config::TlsCertificate certificate;
  certificate.certificate_chain.filename = client.cert;
  certificate.private_key.filename = client.key;
  tls.common_tls_context.tls_certificates = {certificate};
  ClientConnection c = connect(server.port(), tls);
  ASSERT_FALSE(c.handshake_ec) << c.stream->failureReason(c.handshake_ec);
  EXPECT_EQ(c.stream->alpnProtocol(), "http/1.1");
}

TEST_F(ClientHandshakeTest, VersionDefaultsAndBounds) {
  OpensslServer server(backend_.cert, backend_.key, {"-tls1_3"});
  // Envoy's client default is TLS 1.2 at most: a TLS 1.3-only server is refused...
  ClientConnection c12 = connect(server.port(), clientTls(ca_.cert(), "backend.test"));
  EXPECT_TRUE(c12.handshake_ec);
  // ...unless tls_maximum_protocol_version allows it.
  OpensslServer server2(backend_.cert, backend_.key, {"-tls1_3"});
  config::UpstreamTls tls = clientTls(ca_.cert(), "backend.test");
  tls.common_tls_context.tls_params.max_version = config::TlsVersion::kTls1_3;
  ClientConnection c13 = connect(server2.port(), tls);
  ASSERT_FALSE(c13.handshake_ec) << c13.stream->failureReason(c13.handshake_ec);
  EXPECT_STREQ(SSL_get_version(c13.stream->native_handle()), "TLSv1.3");
}

}  // namespace
}  // namespace wslb::tls
