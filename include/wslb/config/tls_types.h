#pragma once
// Typed form of Envoy's TLS transport socket (envoy.transport_sockets.tls): the subset of
// extensions.transport_sockets.tls.v3.DownstreamTlsContext / UpstreamTlsContext that wslb
// implements, and the server_names part of a listener's filter_chain_match. Plain data, as the
// rest of bootstrap.h; src/tls/ turns it into OpenSSL contexts. See docs/tls.md.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wslb::config {

inline constexpr std::string_view kTlsTransportSocketName = "envoy.transport_sockets.tls";
inline constexpr std::string_view kRawBufferTransportSocketName =
    "envoy.transport_sockets.raw_buffer";
inline constexpr std::string_view kDownstreamTlsContextTypeUrl =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
inline constexpr std::string_view kUpstreamTlsContextTypeUrl =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
inline constexpr std::string_view kRawBufferTypeUrl =
    "type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer";

/// envoy.config.core.v3.DataSource: a file (read at start-up and on every reload) or inline
/// text. Exactly one is set.
struct DataSource {
  std::string filename;
  std::optional<std::string> inline_string;
  bool isFile() const { return !inline_string.has_value(); }

  bool operator==(const DataSource&) const = default;
};

/// TlsParameters.TlsProtocol. TLSv1_0 and TLSv1_1 are refused (OpenSSL 3 disables them at its
/// default security level anyway). kAuto means the side's default (docs/tls.md).
enum class TlsVersion { kAuto, kTls1_2, kTls1_3 };

/// common_tls_context.tls_params.
struct TlsParams {
  TlsVersion min_version = TlsVersion::kAuto;  ///< tls_minimum_protocol_version
  TlsVersion max_version = TlsVersion::kAuto;  ///< tls_maximum_protocol_version
  /// cipher_suites (TLS 1.2 only, OpenSSL names), joined with ':' when applied; empty = default.
  std::vector<std::string> cipher_suites;
  /// ecdh_curves (OpenSSL group names such as X25519, P-256); empty = default.
  std::vector<std::string> ecdh_curves;

  bool operator==(const TlsParams&) const = default;
};

/// common_tls_context.tls_certificates[]: one certificate chain and its private key.
struct TlsCertificate {
  DataSource certificate_chain;
  DataSource private_key;
  /// watched_directory.path: a directory whose renames trigger a reload (Kubernetes secrets).
  std::string watched_directory;

  bool operator==(const TlsCertificate&) const = default;
};

/// type.matcher.v3.StringMatcher (safe_regex is not supported).
struct StringMatch {
  enum class Kind { kExact, kPrefix, kSuffix, kContains };
  Kind kind = Kind::kExact;
  std::string value;
  bool ignore_case = false;

  bool operator==(const StringMatch&) const = default;
};

/// CertificateValidationContext.match_typed_subject_alt_names[]: SubjectAltNameMatcher.
struct SanMatcher {
  enum class Type { kEmail, kDns, kUri, kIpAddress };
  Type type = Type::kDns;
  StringMatch matcher;

  bool operator==(const SanMatcher&) const = default;
};

/// common_tls_context.validation_context: how the peer's certificate is checked.
struct ValidationContext {
  std::optional<DataSource> trusted_ca;  ///< unset: the peer's certificate is not verified.
  /// Any one matching is enough (as in Envoy); empty = no SAN check.
  std::vector<SanMatcher> match_typed_subject_alt_names;
  std::optional<uint32_t> max_verify_depth;
  std::string watched_directory;  ///< watched_directory.path

  bool operator==(const ValidationContext&) const = default;
};

/// extensions.transport_sockets.tls.v3.CommonTlsContext.
struct CommonTlsContext {
  TlsParams tls_params;
  std::vector<TlsCertificate> tls_certificates;
  std::optional<ValidationContext> validation_context;
  std::vector<std::string> alpn_protocols;

  bool operator==(const CommonTlsContext&) const = default;
};

/// DownstreamTlsContext: TLS on a listener's filter chain.
struct DownstreamTls {
  CommonTlsContext common_tls_context;
  bool require_client_certificate = false;
  bool require_sni = false;
  /// disable_stateless_session_resumption: no TLS session tickets.
  bool disable_stateless_session_resumption = false;

  bool operator==(const DownstreamTls&) const = default;
};

/// UpstreamTlsContext: TLS toward a cluster's endpoints.
struct UpstreamTls {
  CommonTlsContext common_tls_context;
  std::string sni;  ///< empty: no SNI is sent.
  /// auto_sni_san_validation: the server's certificate must carry a DNS SAN matching `sni`
  /// (replaces match_typed_subject_alt_names when `sni` is set).
  bool auto_sni_san_validation = false;

  bool operator==(const UpstreamTls&) const = default;
};

/// The parts of listener.v3.FilterChainMatch that wslb can select on.
struct FilterChainMatch {
  /// server_names: exact names and "*.suffix" wildcards, lower case. Empty matches any name.
  std::vector<std::string> server_names;
  /// transport_protocol: "" (any), "tls" or "raw_buffer".
  std::string transport_protocol;

  bool operator==(const FilterChainMatch&) const = default;
};

}  // namespace wslb::config
