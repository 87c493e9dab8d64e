// The server side against the openssl CLI: the certificate each SNI selects, TLS version
// bounds, ALPN, require_sni.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tls_test_util.h"
#include "wslb/tls/server_context_set.h"

namespace wslb::tls {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace testing;

class ServerHandshakeTest : public ::testing::Test {
 protected:
  // s_client against our server, with `args` ("-servername x -tls1_2 ..."); stdin at EOF so it
  // ends once the handshake is done.
  CommandResult sClient(uint16_t port, const std::string& args) {
    return run("openssl s_client -connect 127.0.0.1:" + std::to_string(port) + " -CAfile " +
               ca_.cert() + " " + args + " </dev/null");
  }

  TempDir dir_;
  TestCa ca_{dir_.path(), "ca"};
  CertFiles api_ = ca_.issue("api", "api.example.com", {"api.example.com"}, "a1");
  CertFiles wild_ = ca_.issue("wild", "wildcard.example.com", {"*.example.com"}, "a2");
  CertFiles fallback_ = ca_.issue("default", "default.test", {"default.test"}, "a3");
};

TEST_F(ServerHandshakeTest, EachServerNameGetsItsCertificate) {
  auto set = std::make_shared<const ServerContextSet>(
      std::vector<ServerChain>{{{"api.example.com"}, serverTls(api_)},
                               {{"*.example.com"}, serverTls(wild_)},
                               {{}, serverTls(fallback_)}});
  EchoServer server([set] { return set; });

  const CommandResult exact = sClient(server.port(), "-servername api.example.com");
  EXPECT_THAT(exact.output, HasSubstr("CN = api.example.com")) << exact.output;
  EXPECT_THAT(exact.output, HasSubstr("Verify return code: 0 (ok)"));

  const CommandResult wildcard = sClient(server.port(), "-servername www.example.com");
  EXPECT_THAT(wildcard.output, HasSubstr("CN = wildcard.example.com")) << wildcard.output;

  const CommandResult other = sClient(server.port(), "-servername other.test");
  EXPECT_THAT(other.output, HasSubstr("CN = default.test")) << other.output;

  const CommandResult none = sClient(server.port(), "-noservername");
  EXPECT_THAT(none.output, HasSubstr("CN = default.test")) << none.output;

  ASSERT_TRUE(server.waitForRecords(4));
  const auto records = server.records();
  EXPECT_EQ(records[0].chain, 0u);
  EXPECT_EQ(records[0].server_name, "api.example.com");
  EXPECT_EQ(records[1].chain, 1u);
  EXPECT_EQ(records[2].chain, 2u);
  EXPECT_EQ(records[3].chain, 2u);
  for (const HandshakeRecord& r : records) EXPECT_FALSE(r.ec) << r.reason;
}

TEST_F(ServerHandshakeTest, UnknownNameWithoutDefaultIsRefused) {
  auto set = std::make_shared<const ServerContextSet>(
      std::vector<ServerChain>{{{"api.example.com"}, serverTls(api_)}});
  EchoServer server([set] { return set; });
  const CommandResult refused = sClient(server.port(), "-servername other.test");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_THAT(refused.output, HasSubstr("unrecognized name")) << refused.output;
  ASSERT_TRUE(server.waitForRecords(1));
  EXPECT_TRUE(server.records()[0].ec);
}

TEST_F(ServerHandshakeTest, RequireSni) {
  config::DownstreamTls tls = serverTls(fallback_);
  tls.require_sni = true;
  auto set = std::make_shared<const ServerContextSet>(std::vector<ServerChain>{{{}, tls}});
  EchoServer server([set] { return set; });
  EXPECT_NE(sClient(server.port(), "-noservername").exit_code, 0);
  EXPECT_THAT(sClient(server.port(), "-servername x.test").output, HasSubstr("CN = default.test"));
}

TEST_F(ServerHandshakeTest, VersionBoundsAreEnforcedPerChain) {
  config::DownstreamTls only12 = serverTls(api_);
  only12.common_tls_context.tls_params.min_version = config::TlsVersion::kTls1_2;
  only12.common_tls_context.tls_params.max_version = config::TlsVersion::kTls1_2;
  config::DownstreamTls only13 = serverTls(fallback_);
  only13.common_tls_context.tls_params.min_version = config::TlsVersion::kTls1_3;
  auto set = std::make_shared<const ServerContextSet>(
      std::vector<ServerChain>{{{"api.example.com"}, only12}, {{}, only13}});
  EchoServer server([set] { return set; });

  const CommandResult v12 = sClient(server.port(), "-servername api.example.com -tls1_2");
  EXPECT_EQ(v12.exit_code, 0) << v12.output;
  EXPECT_THAT(v12.output, HasSubstr("TLSv1.2"));
  const CommandResult v13_on_12 = sClient(server.port(), "-servername api.example.com -tls1_3");
  EXPECT_NE(v13_on_12.exit_code, 0) << v13_on_12.output;

  const CommandResult v13 = sClient(server.port(), "-servername x.test -tls1_3");
  EXPECT_EQ(v13.exit_code, 0) << v13.output;
  EXPECT_THAT(v13.output, HasSubstr("TLSv1.3"));
  const CommandResult v12_on_13 = sClient(server.port(), "-servername x.test -tls1_2");
  EXPECT_NE(v12_on_13.exit_code, 0) << v12_on_13.output;

  ASSERT_TRUE(server.waitForRecords(4));
  const auto records = server.records();
  EXPECT_FALSE(records[0].ec);
  EXPECT_TRUE(records[1].ec);
  EXPECT_FALSE(records[2].ec);
  EXPECT_TRUE(records[3].ec);
}

TEST_F(ServerHandshakeTest, AlpnPicksHttp11) {
  auto set = std::make_shared<const ServerContextSet>(
      std::vector<ServerChain>{{{}, serverTls(fallback_)}});
  EchoServer server([set] { return set; });
  const CommandResult offered = sClient(server.port(), "-alpn h2,http/1.1");
  EXPECT_THAT(offered.output, HasSubstr("ALPN protocol: http/1.1")) << offered.output;
  const CommandResult h2_only = sClient(server.port(), "-alpn h2");
  EXPECT_EQ(h2_only.exit_code, 0) << h2_only.output;
  EXPECT_THAT(h2_only.output, HasSubstr("No ALPN negotiated"));
  ASSERT_TRUE(server.waitForRecords(2));
  EXPECT_EQ(server.records()[0].alpn, "http/1.1");
  EXPECT_EQ(server.records()[1].alpn, "");
}

TEST_F(ServerHandshakeTest, ClientCertificates) {
  config::DownstreamTls tls = serverTls(fallback_);
  tls.require_client_certificate = true;
  config::ValidationContext validation;
  validation.trusted_ca = config::DataSource{ca_.cert(), std::nullopt};
  tls.common_tls_context.validation_context = validation;
  auto set = std::make_shared<const ServerContextSet>(std::vector<ServerChain>{{{}, tls}});
  EchoServer server([set] { return set; });
  const CommandResult without = sClient(server.port(), "-tls1_2");
  EXPECT_NE(without.exit_code, 0) << without.output;
  const CommandResult with =
      sClient(server.port(), "-tls1_2 -cert " + api_.cert + " -key " + api_.key);
  EXPECT_EQ(with.exit_code, 0) << with.output;
  ASSERT_TRUE(server.waitForRecords(2));
  EXPECT_TRUE(server.records()[0].ec);
  EXPECT_FALSE(server.records()[1].ec) << server.records()[1].reason;
}

TEST_F(ServerHandshakeTest, SessionsDoNotResumeAcrossChains) {
  // Chain 0 asks for no client certificate, chain 1 requires one: a session made on chain 0
  // must not let a client skip the certificate on chain 1.
  config::DownstreamTls strict = serverTls(fallback_);
  strict.require_client_certificate = true;
  config::ValidationContext validation;
  validation.trusted_ca = config::DataSource{ca_.cert(), std::nullopt};
  strict.common_tls_context.validation_context = validation;
  auto set = std::make_shared<const ServerContextSet>(
      std::vector<ServerChain>{{{"api.example.com"}, serverTls(api_)}, {{}, strict}});
  EchoServer server([set] { return set; });
  const std::string session = dir_.file("session.pem");
  const CommandResult first =
      sClient(server.port(), "-servername api.example.com -tls1_2 -sess_out " + session);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const CommandResult same =
      sClient(server.port(), "-servername api.example.com -tls1_2 -sess_in " + session);
  EXPECT_THAT(same.output, HasSubstr("Reused")) << same.output;  // resumption itself works
  const CommandResult other =
      sClient(server.port(), "-servername other.test -tls1_2 -sess_in " + session);
  EXPECT_NE(other.exit_code, 0) << other.output;
  EXPECT_THAT(other.output, Not(HasSubstr("Reused, TLSv1.2"))) << other.output;
}

}  // namespace
}  // namespace wslb::tls
