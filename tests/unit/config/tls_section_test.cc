#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_util.h"
#include "wslb/config/tls.h"

namespace wslb::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::strs;

constexpr std::string_view kListenerSocket =
    "static_resources.listeners[0].filter_chains[0].transport_socket";
constexpr std::string_view kClusterSocket = "static_resources.clusters[0].transport_socket";
const std::string kDownstream = std::string(kListenerSocket) + ".typed_config";
const std::string kCommon = kDownstream + ".common_tls_context";
const std::string kUpstream = std::string(kClusterSocket) + ".typed_config";

// A transport_socket with a DownstreamTlsContext made of `common` (flow-style keys of
// common_tls_context, after a certificate) and `extra` DownstreamTlsContext keys.
std::string downstream(std::string_view common = "", std::string_view extra = "") {
  std::string out =
      "{name: envoy.transport_sockets.tls, typed_config: {'@type': "
      "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext, "
      "common_tls_context: {tls_certificates: [{certificate_chain: {filename: /c.pem}, "
      "private_key: {filename: /k.pem}}]";
  if (!common.empty()) out += ", " + std::string(common);
  out += "}";
  if (!extra.empty()) out += ", " + std::string(extra);
  return out + "}}";
}

std::string upstream(std::string_view body) {
  std::string out =
      "{name: envoy.transport_sockets.tls, typed_config: {'@type': "
      "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
  if (!body.empty()) out += ", " + std::string(body);
  return out + "}}";
}

TlsLoadResult<std::optional<DownstreamTls>> loadDown(const std::string& text) {
  return loadDownstreamTransportSocket(text, kListenerSocket);
}
// An UpstreamTlsContext transport socket whose context has `body` (flow-style keys).
TlsLoadResult<std::optional<UpstreamTls>> loadUp(const std::string& body) {
  return loadUpstreamTransportSocket(upstream(body), kClusterSocket);
}

TEST(TlsSection, ReadsAFullDownstreamContext) {
  const std::string yaml = R"(
name: envoy.transport_sockets.tls
typed_config:
  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
  require_client_certificate: true
  require_sni: true
  common_tls_context:
    tls_params:
      tls_minimum_protocol_version: TLSv1_2
      tls_maximum_protocol_version: tlsv1_3
      cipher_suites: [ECDHE-RSA-AES128-GCM-SHA256]
      ecdh_curves: [X25519]
    alpn_protocols: [http/1.1]
    tls_certificates:
    - certificate_chain: { filename: /etc/tls/cert.pem }
      private_key: { filename: /etc/tls/key.pem }
      watched_directory: { path: /etc/tls }
    validation_context:
      trusted_ca: { inline_string: "-----BEGIN CERTIFICATE-----" }
      max_verify_depth: 3
      match_typed_subject_alt_names:
      - san_type: DNS
        matcher: { suffix: .example.com }
)";
  const auto result = loadDown(yaml);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(strs(result.errors));
  EXPECT_THAT(strs(result.warnings), IsEmpty());
  ASSERT_TRUE(result.value->has_value());
  const DownstreamTls& tls = **result.value;
  EXPECT_TRUE(tls.require_client_certificate);
  EXPECT_TRUE(tls.require_sni);
  const CommonTlsContext& common = tls.common_tls_context;
  EXPECT_EQ(common.tls_params.min_version, TlsVersion::kTls1_2);
  EXPECT_EQ(common.tls_params.max_version, TlsVersion::kTls1_3);
  EXPECT_THAT(common.tls_params.cipher_suites, ElementsAre("ECDHE-RSA-AES128-GCM-SHA256"));
  EXPECT_THAT(common.tls_params.ecdh_curves, ElementsAre("X25519"));
  EXPECT_THAT(common.alpn_protocols, ElementsAre("http/1.1"));
  ASSERT_EQ(common.tls_certificates.size(), 1u);
  EXPECT_EQ(common.tls_certificates[0].certificate_chain.filename, "/etc/tls/cert.pem");
  EXPECT_EQ(common.tls_certificates[0].private_key.filename, "/etc/tls/key.pem");
  EXPECT_EQ(common.tls_certificates[0].watched_directory, "/etc/tls");
  ASSERT_TRUE(common.validation_context.has_value());
  ASSERT_TRUE(common.validation_context->trusted_ca.has_value());
  EXPECT_EQ(common.validation_context->trusted_ca->inline_string, "-----BEGIN CERTIFICATE-----");
  EXPECT_EQ(common.validation_context->max_verify_depth, 3u);
  ASSERT_EQ(common.validation_context->match_typed_subject_alt_names.size(), 1u);
  const SanMatcher& san = common.validation_context->match_typed_subject_alt_names[0];
  EXPECT_EQ(san.type, SanMatcher::Type::kDns);
  EXPECT_EQ(san.matcher.kind, StringMatch::Kind::kSuffix);
  EXPECT_EQ(san.matcher.value, ".example.com");
}

TEST(TlsSection, DefaultsAreEnvoys) {
  const auto result = loadDown(downstream());
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(strs(result.errors));
  const DownstreamTls& tls = **result.value;
  EXPECT_FALSE(tls.require_client_certificate);
  EXPECT_EQ(tls.common_tls_context.tls_params.min_version, TlsVersion::kAuto);
  EXPECT_EQ(tls.common_tls_context.tls_params.max_version, TlsVersion::kAuto);
  EXPECT_FALSE(tls.common_tls_context.validation_context.has_value());
}

TEST(TlsSection, RawBufferIsPlainTcp) {
  auto by_name = loadDown("{name: envoy.transport_sockets.raw_buffer}");
  ASSERT_TRUE(by_name.ok());
  EXPECT_FALSE(by_name.value->has_value());
  auto by_type = loadUpstreamTransportSocket(
      "{name: x, typed_config: {'@type': "
      "type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}}",
      kClusterSocket);
  ASSERT_TRUE(by_type.ok()) << ::testing::PrintToString(strs(by_type.errors));
  EXPECT_FALSE(by_type.value->has_value());
}

TEST(TlsSection, RejectsOtherTransportSockets) {
  const auto result = loadDown(
      "{name: envoy.transport_sockets.alts, typed_config: {'@type': "
      "type.googleapis.com/envoy.extensions.transport_sockets.alts.v3.Alts}}");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].path, kDownstream + ".@type");
  EXPECT_THAT(result.errors[0].message, HasSubstr("not supported by wslb"));
  EXPECT_THAT(result.errors[0].message, HasSubstr("DownstreamTlsContext"));
}

TEST(TlsSection, AnUpstreamContextOnAListenerIsRefused) {
  const auto result = loadDown(upstream("sni: a"));
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].path, kDownstream + ".@type");
}

TEST(TlsSection, TlsWithoutTypedConfigIsAnError) {
  const auto result = loadDown("{name: envoy.transport_sockets.tls}");
  EXPECT_THAT(strs(result.errors),
              ElementsAre(kDownstream + ": " + std::string("required field is missing")));
}

TEST(TlsSection, AServerNeedsACertificate) {
  const auto result =
      loadDown("{name: envoy.transport_sockets.tls, typed_config: {common_tls_context: {}}}");
  EXPECT_THAT(strs(result.errors),
              ElementsAre(kCommon + ".tls_certificates: a server needs at least one certificate"));
  const auto missing = loadDown("{name: envoy.transport_sockets.tls, typed_config: {}}");
  EXPECT_THAT(strs(missing.errors),
              ElementsAre(kDownstream + ".common_tls_context: required field is missing"));
}

TEST(TlsSection, VersionErrorsNameTheirPath) {
  const auto old = loadDown(downstream("tls_params: {tls_minimum_protocol_version: TLSv1_0}"));
  EXPECT_THAT(
      strs(old.errors),
      ElementsAre(kCommon + ".tls_params.tls_minimum_protocol_version: TLSv1_0 is not supported by "
                            "wslb (supported: TLS_AUTO, TLSv1_2, TLSv1_3)"));
  const auto unknown = loadDown(downstream("tls_params: {tls_maximum_protocol_version: TLS9}"));
  EXPECT_THAT(
      strs(unknown.errors),
      ElementsAre(kCommon + ".tls_params.tls_maximum_protocol_version: unknown value \"TLS9\"; "
                            "expected one of TLS_AUTO, TLSv1_2, TLSv1_3"));
  const auto inverted = loadDown(downstream(
      "tls_params: {tls_minimum_protocol_version: TLSv1_3, tls_maximum_protocol_version: 3}"));
  EXPECT_THAT(strs(inverted.errors),
              ElementsAre(kCommon + ".tls_params.tls_minimum_protocol_version: must not be "
                                    "above tls_maximum_protocol_version"));
}

TEST(TlsSection, DataSourceErrors) {
  const auto none = loadDown(
      "{name: envoy.transport_sockets.tls, typed_config: {common_tls_context: {tls_certificates: "
      "[{certificate_chain: {}, private_key: {filename: /k}}]}}}");
  EXPECT_THAT(strs(none.errors),
              ElementsAre(kCommon + ".tls_certificates[0].certificate_chain: one of filename or "
                                    "inline_string is required"));
  const auto both = loadDown(
      "{name: envoy.transport_sockets.tls, typed_config: {common_tls_context: {tls_certificates: "
      "[{certificate_chain: {filename: /c}, private_key: {filename: /k, inline_string: x}}]}}}");
  EXPECT_THAT(strs(both.errors),
              ElementsAre(kCommon + ".tls_certificates[0].private_key: only one of filename or "
                                    "inline_string may be set"));
  const auto env = loadDown(
      "{name: envoy.transport_sockets.tls, typed_config: {common_tls_context: {tls_certificates: "
      "[{certificate_chain: {environment_variable: C}, private_key: {filename: /k}}]}}}");
  EXPECT_THAT(
      strs(env.errors),
      ElementsAre(kCommon + ".tls_certificates[0].certificate_chain.environment_variable: not "
                            "supported by wslb",
                  kCommon + ".tls_certificates[0].certificate_chain: one of filename or "
                            "inline_string is required"));
  const auto missing_key = loadDown(
      "{name: envoy.transport_sockets.tls, typed_config: {common_tls_context: {tls_certificates: "
      "[{certificate_chain: {filename: /c}}]}}}");
  EXPECT_THAT(strs(missing_key.errors),
              ElementsAre(kCommon + ".tls_certificates[0].private_key: required field is missing"));
}

TEST(TlsSection, UnsupportedFieldsAreRejectedWithTheirPath) {
  const auto sds = loadDown(downstream("tls_certificate_sds_secret_configs: [{name: x}]"));
  EXPECT_THAT(strs(sds.errors),
              ElementsAre(kCommon + ".tls_certificate_sds_secret_configs: not supported by wslb"));
  const auto password = loadDown(
      "{name: envoy.transport_sockets.tls, typed_config: {common_tls_context: {tls_certificates: "
      "[{certificate_chain: {filename: /c}, private_key: {filename: /k}, password: {inline_string: "
      "p}}]}}}");
  EXPECT_THAT(strs(password.errors),
              ElementsAre(kCommon + ".tls_certificates[0].password: not supported by wslb"));
  const auto tickets = loadDown(downstream("", "session_ticket_keys: {keys: [{filename: /t}]}"));
  EXPECT_THAT(strs(tickets.errors),
              ElementsAre(kDownstream + ".session_ticket_keys: not supported by wslb"));
  const auto spki = loadDown(downstream(
      "validation_context: {trusted_ca: {filename: /ca}, verify_certificate_spki: [abc]}"));
  EXPECT_THAT(strs(spki.errors),
              ElementsAre(kCommon + ".validation_context.verify_certificate_spki: not supported "
                                    "by wslb"));
  const auto expired = loadDown(downstream(
      "validation_context: {trusted_ca: {filename: /ca}, allow_expired_certificate: true}"));
  EXPECT_THAT(strs(expired.errors),
              ElementsAre(kCommon + ".validation_context.allow_expired_certificate: true is not "
                                    "supported by wslb"));
  const auto untrusted = loadDown(
      downstream("validation_context: {trusted_ca: {filename: /ca}, trust_chain_verification: "
                 "ACCEPT_UNTRUSTED}"));
  EXPECT_THAT(strs(untrusted.errors),
              ElementsAre(kCommon + ".validation_context.trust_chain_verification: "
                                    "ACCEPT_UNTRUSTED is not supported by wslb (supported: "
                                    "VERIFY_TRUST_CHAIN)"));
  const auto regex = loadDown(
      downstream("validation_context: {trusted_ca: {filename: /ca}, match_typed_subject_alt_names: "
                 "[{san_type: DNS, matcher: {safe_regex: {regex: '.*'}}}]}"));
  EXPECT_THAT(strs(regex.errors),
              ElementsAre(kCommon + ".validation_context.match_typed_subject_alt_names[0].matcher."
                                    "safe_regex: not supported by wslb"));
}

TEST(TlsSection, UnknownKeysWarnLikeOtherSections) {
  const auto result = loadDown(downstream("", "frobnicate: 1"));
  ASSERT_TRUE(result.ok());
  EXPECT_THAT(strs(result.warnings),
              ElementsAre(kDownstream + ".frobnicate: unknown key; ignored"));
}

TEST(TlsSection, ListenersServeHttp11Only) {
  const auto result = loadDown(downstream("alpn_protocols: [h2, http/1.1]"));
  EXPECT_THAT(strs(result.errors),
              ElementsAre(kCommon + ".alpn_protocols[0]: h2 is not supported by wslb: listeners "
                                    "serve HTTP/1.1 only (supported: http/1.1)"));
}

TEST(TlsSection, ClientCertificatesNeedATrustedCa) {
  const auto result = loadDown(downstream("", "require_client_certificate: true"));
  EXPECT_THAT(strs(result.errors),
              ElementsAre(kDownstream + ".require_client_certificate: needs "
                                        "common_tls_context.validation_context.trusted_ca to "
                                        "verify clients with"));
}

TEST(TlsSection, SanMatchersNeedATrustedCa) {
  const auto result = loadUp(
      "common_tls_context: {validation_context: {match_typed_subject_alt_names: [{san_type: DNS, "
      "matcher: {exact: a.example}}]}}");
  EXPECT_THAT(
      strs(result.errors),
      ElementsAre(kUpstream +
                  ".common_tls_context.validation_context.match_typed_subject_alt_names: "
                  "needs trusted_ca (SAN checks on an unverified certificate are refused)"));
}

TEST(TlsSection, SanMatcherErrors) {
  const auto result = loadUp(
      "common_tls_context: {validation_context: {trusted_ca: {filename: /ca}, "
      "match_typed_subject_alt_names: [{san_type: OTHER_NAME, matcher: {exact: x}}, {san_type: "
      "DNS, matcher: {exact: a, prefix: b}}, {matcher: {exact: a}}]}}");
  const std::string sans =
      kUpstream + ".common_tls_context.validation_context.match_typed_subject_alt_names";
  EXPECT_THAT(strs(result.errors),
              ElementsAre(sans + "[0].san_type: OTHER_NAME is not supported by wslb (supported: "
                                 "EMAIL, DNS, URI, IP_ADDRESS)",
                          sans + "[1].matcher: exactly one of exact, prefix, suffix or contains "
                                 "is required",
                          sans + "[2].san_type: required field is missing"));
}

TEST(TlsSection, ReadsAnUpstreamContext) {
  const auto result = loadUp(
      "sni: backend.example, auto_sni_san_validation: true, common_tls_context: {alpn_protocols: "
      "[http/1.1], tls_params: {tls_maximum_protocol_version: TLSv1_3}, tls_certificates: "
      "[{certificate_chain: {filename: /c}, private_key: {filename: /k}}], validation_context: "
      "{trusted_ca: {filename: /ca.pem}, match_typed_subject_alt_names: [{san_type: URI, matcher: "
      "{prefix: 'spiffe://cluster.local/'}}]}}");
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(strs(result.errors));
  const UpstreamTls& tls = **result.value;
  EXPECT_EQ(tls.sni, "backend.example");
  EXPECT_TRUE(tls.auto_sni_san_validation);
  EXPECT_EQ(tls.common_tls_context.tls_params.max_version, TlsVersion::kTls1_3);
  EXPECT_EQ(tls.common_tls_context.validation_context->trusted_ca->filename, "/ca.pem");
  EXPECT_EQ(tls.common_tls_context.tls_certificates.size(), 1u);
  EXPECT_EQ(tls.common_tls_context.validation_context->match_typed_subject_alt_names[0].type,
            SanMatcher::Type::kUri);
}

TEST(TlsSection, UpstreamErrorsNameTheirPath) {
  const auto renegotiation = loadUp("allow_renegotiation: true");
  EXPECT_THAT(strs(renegotiation.errors),
              ElementsAre(kUpstream + ".allow_renegotiation: true is not supported by wslb"));
  const auto auto_sni = loadUp("auto_sni_san_validation: true");
  EXPECT_THAT(strs(auto_sni.errors),
              ElementsAre(kUpstream +
                          ".auto_sni_san_validation: needs sni (auto_host_sni is not supported)"));
  const auto no_ca = loadUp("sni: a, auto_sni_san_validation: true");
  EXPECT_THAT(strs(no_ca.errors),
              ElementsAre(kUpstream + ".auto_sni_san_validation: needs "
                                      "common_tls_context.validation_context.trusted_ca"));
  const auto long_sni = loadUp("sni: " + std::string(300, 'a'));
  EXPECT_THAT(strs(long_sni.errors), ElementsAre(kUpstream + ".sni: at most 255 characters"));
}

TEST(TlsSection, UpstreamContextWithoutAnythingIsPlainTls) {
  const auto result = loadUp("");
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(strs(result.errors));
  ASSERT_TRUE(result.value->has_value());
  EXPECT_TRUE((*result.value)->sni.empty());
}

constexpr std::string_view kMatchPath =
    "static_resources.listeners[0].filter_chains[1].filter_chain_match";

TEST(TlsSection, ServerNames) {
  const auto result = loadFilterChainMatch(
      "{server_names: [API.Example.com, '*.example.org'], transport_protocol: tls}", kMatchPath);
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(strs(result.errors));
  EXPECT_THAT(result.value->server_names, ElementsAre("api.example.com", "*.example.org"));
  EXPECT_EQ(result.value->transport_protocol, "tls");
}

TEST(TlsSection, ServerNameErrorsNameTheirPath) {
  const std::string names = std::string(kMatchPath) + ".server_names";
  const auto result = loadFilterChainMatch(
      "{server_names: ['w*.example.com', '*', a.example, A.EXAMPLE, '*.*.x', ''], "
      "transport_protocol: quic, destination_port: 443}",
      kMatchPath);
  const std::string wildcard =
      ": a wildcard must be the whole left-most label, as in *.example.com";
  EXPECT_THAT(
      strs(result.errors),
      ElementsAre(
          names + "[0]" + wildcard, names + "[1]" + wildcard, names + "[3]: duplicate server name",
          names + "[4]" + wildcard, names + "[5]: must not be empty",
          std::string(kMatchPath) + ".transport_protocol: \"quic\" is not supported by wslb "
                                    "(supported: tls, raw_buffer)",
          std::string(kMatchPath) + ".destination_port: not supported by wslb"));
}

TEST(TlsSection, BrokenYamlIsReported) {
  const auto result = loadDown("{name: [");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].path, kListenerSocket);
}

}  // namespace
}  // namespace wslb::config
