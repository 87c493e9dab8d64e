// Start-up errors: each names the file and OpenSSL's reason.

#include "wslb/tls/context_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tls_test_util.h"
#include "wslb/tls/client_context.h"
#include "wslb/tls/server_context_set.h"

namespace wslb::tls {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using namespace testing;

class ContextBuilderTest : public ::testing::Test {
 protected:
  TempDir dir_;
  TestCa ca_{dir_.path(), "ca"};
  CertFiles leaf_ = ca_.issue("leaf", "leaf.test", {"leaf.test"}, "1001");
};

std::string errorOf(const std::function<void()>& build) {
  try {
    build();
  } catch (const TlsError& e) {
    return e.what();
  }
  return "";
}

TEST_F(ContextBuilderTest, BuildsFromFilesAndInlineStrings) {
  EXPECT_NE(buildServerContext(serverTls(leaf_)), nullptr);
  config::DownstreamTls inline_tls;
  config::TlsCertificate certificate;
  certificate.certificate_chain.inline_string = readFile(leaf_.cert);
  certificate.private_key.inline_string = readFile(leaf_.key);
  inline_tls.common_tls_context.tls_certificates.push_back(certificate);
  EXPECT_NE(buildServerContext(inline_tls), nullptr);
  EXPECT_NE(buildClientContext(clientTls(ca_.cert(), "leaf.test")), nullptr);
}

TEST_F(ContextBuilderTest, MissingFileIsNamed) {
  CertFiles missing{dir_.file("nope.pem"), leaf_.key};
  EXPECT_THAT(errorOf([&] { buildServerContext(serverTls(missing)); }),
              AllOf(HasSubstr(dir_.file("nope.pem")), HasSubstr("No such file")));
}

TEST_F(ContextBuilderTest, GarbageCertificateIsNamed) {
  writeFile(dir_.file("garbage.pem"), "not a certificate\n");
  CertFiles garbage{dir_.file("garbage.pem"), leaf_.key};
  EXPECT_THAT(errorOf([&] { buildServerContext(serverTls(garbage)); }),
              AllOf(HasSubstr("no PEM certificate"), HasSubstr(dir_.file("garbage.pem"))));
  writeFile(dir_.file("broken.pem"),
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  CertFiles broken{dir_.file("broken.pem"), leaf_.key};
  EXPECT_THAT(errorOf([&] { buildServerContext(serverTls(broken)); }),
              HasSubstr(dir_.file("broken.pem")));
}

TEST_F(ContextBuilderTest, KeyNotMatchingItsCertificate) {
  const CertFiles other = ca_.issue("other", "other.test", {"other.test"}, "1002");
  CertFiles mixed{leaf_.cert, other.key};
  EXPECT_THAT(errorOf([&] { buildServerContext(serverTls(mixed)); }),
              AllOf(HasSubstr(other.key), HasSubstr(leaf_.cert), HasSubstr("does not fit"),
                    HasSubstr("values mismatch")));
}

TEST_F(ContextBuilderTest, BadKeyFileIsNamed) {
  writeFile(dir_.file("bad.key"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  CertFiles bad{leaf_.cert, dir_.file("bad.key")};
  EXPECT_THAT(errorOf([&] { buildServerContext(serverTls(bad)); }),
              AllOf(HasSubstr("cannot read the private key"), HasSubstr(dir_.file("bad.key"))));
}

TEST_F(ContextBuilderTest, CipherListOpenSslRefuses) {
  config::DownstreamTls tls = serverTls(leaf_);
  tls.common_tls_context.tls_params.cipher_suites = {"NOT-A-CIPHER"};
  EXPECT_THAT(errorOf([&] { buildServerContext(tls); }),
              AllOf(HasSubstr("cipher_suites \"NOT-A-CIPHER\""), HasSubstr("no cipher match")));
  tls.common_tls_context.tls_params.cipher_suites.clear();
  tls.common_tls_context.tls_params.ecdh_curves = {"P-999"};
  EXPECT_THAT(errorOf([&] { buildServerContext(tls); }), HasSubstr("ecdh_curves \"P-999\""));
}

TEST_F(ContextBuilderTest, TwoCertificatesOfOneKeyType) {
  const CertFiles other = ca_.issue("other", "other.test", {"other.test"}, "1002");
  config::DownstreamTls tls = serverTls(leaf_);
  tls.common_tls_context.tls_certificates.push_back(
      serverTls(other).common_tls_context.tls_certificates[0]);
  EXPECT_THAT(errorOf([&] { buildServerContext(tls); }),
              HasSubstr("only one certificate per key type"));
}

TEST_F(ContextBuilderTest, UnreadableCaIsNamed) {
  EXPECT_THAT(errorOf([&] { ClientContext context(clientTls(dir_.file("ca-missing.pem"), "")); }),
              HasSubstr(dir_.file("ca-missing.pem")));
}

TEST_F(ContextBuilderTest, ServerNamesMayNotRepeatAcrossChains) {
  std::vector<ServerChain> chains = {{{"a.test"}, serverTls(leaf_)},
                                     {{"a.test"}, serverTls(leaf_)}};
  EXPECT_THAT(errorOf([&] { ServerContextSet set(chains); }),
              HasSubstr("\"a.test\" is used by more than one filter chain"));
  std::vector<ServerChain> defaults = {{{}, serverTls(leaf_)}, {{}, serverTls(leaf_)}};
  EXPECT_THAT(errorOf([&] { ServerContextSet set(defaults); }),
              HasSubstr("more than one filter chain without server_names"));
}

}  // namespace
}  // namespace wslb::tls
