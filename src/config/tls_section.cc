#include "config/tls_section.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <utility>

namespace wslb::config {
namespace {

// The "@type" of a typed_config, if it has one.
std::optional<std::string> typeUrlOf(const Field& typed_config) {
  if (!typed_config.node.IsMap()) return std::nullopt;
  const YAML::Node type = typed_config.node["@type"];
  if (!type.IsDefined() || !type.IsScalar()) return std::nullopt;
  return type.Scalar();
}

// Consumes "@type" and checks that it names `expected`.
void checkTypeUrl(Context& ctx, MapReader& map, std::string_view expected) {
  if (std::optional<Field> type = map.take("@type")) {
    std::optional<std::string> value = ctx.readString(*type);
    if (value && *value != expected) {
      std::string message = "expected \"";
      message += expected;
      message += '"';
      ctx.error(type->path, std::move(message));
    }
  }
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string notSupportedValue(std::string_view value) {
  std::string out(value);
  out += " is ";
  out += kNotSupported;
  return out;
}

// envoy.config.core.v3.DataSource.
std::optional<DataSource> readDataSource(Context& ctx, const Field& field) {
  MapReader map(ctx, field);
  if (!map.isMap()) return std::nullopt;
  DataSource out;
  int sources = 0;
  if (std::optional<Field> file = map.take("filename")) {
    ++sources;
    if (std::optional<std::string> value = ctx.readNonEmptyString(*file)) out.filename = *value;
  }
  if (std::optional<Field> text = map.take("inline_string")) {
    ++sources;
    if (std::optional<std::string> value = ctx.readNonEmptyString(*text)) {
      out.inline_string = *value;
    }
  }
  map.reject({"inline_bytes", "environment_variable", "watched_directory"});
  map.finish();
  const size_t errors = ctx.errorCount();
  if (sources == 0) {
    ctx.error(field.path, "one of filename or inline_string is required");
  } else if (sources > 1) {
    ctx.error(field.path, "only one of filename or inline_string may be set");
  }
  if (ctx.errorCount() != errors) return std::nullopt;
  if (out.filename.empty() && !out.inline_string) return std::nullopt;
  return out;
}

// watched_directory: {path: ...}.
std::string readWatchedDirectory(Context& ctx, const Field& field) {
  MapReader map(ctx, field);
  std::string out;
  if (std::optional<Field> path = map.require("path")) {
    if (std::optional<std::string> value = ctx.readNonEmptyString(*path)) out = *value;
  }
  map.finish();
  return out;
}

// TlsParameters.TlsProtocol. Envoy reads enums case-insensitively and by number.
std::optional<TlsVersion> readTlsVersion(Context& ctx, const Field& field) {
  struct Entry {
    std::string_view name;
    int number;
    std::optional<TlsVersion> value;
  };
  static constexpr Entry kTable[] = {{"TLS_AUTO", 0, TlsVersion::kAuto},
                                     {"TLSv1_0", 1, std::nullopt},
                                     {"TLSv1_1", 2, std::nullopt},
                                     {"TLSv1_2", 3, TlsVersion::kTls1_2},
                                     {"TLSv1_3", 4, TlsVersion::kTls1_3}};
  static constexpr std::string_view kSupported = "TLS_AUTO, TLSv1_2, TLSv1_3";
  std::string expected = "expected one of ";
  expected += kSupported;
  if (!field.node.IsScalar()) {
    ctx.error(field.path, std::move(expected));
    return std::nullopt;
  }
  const std::string text = field.node.Scalar();
  for (const Entry& entry : kTable) {
    if (asciiUpper(text) == asciiUpper(entry.name) || text == std::to_string(entry.number)) {
      if (!entry.value) {
        std::string message = notSupportedValue(entry.name);
        message += " (supported: ";
        message += kSupported;
        message += ')';
        ctx.error(field.path, std::move(message));
      }
      return entry.value;
    }
  }
  std::string message = "unknown value \"";
  message += text;
  message += "\"; ";
  message += expected;
  ctx.error(field.path, std::move(message));
  return std::nullopt;
}

std::vector<std::string> readNonEmptyStrings(Context& ctx, const Field& field) {
  std::vector<std::string> out;
  for (const Field& item : ctx.readSequence(field)) {
    if (std::optional<std::string> value = ctx.readNonEmptyString(item)) out.push_back(*value);
  }
  return out;
}

TlsParams readTlsParams(Context& ctx, const Field& field) {
  TlsParams out;
  MapReader map(ctx, field);
  if (!map.isMap()) return out;
  if (std::optional<Field> min = map.take("tls_minimum_protocol_version")) {
    if (std::optional<TlsVersion> value = readTlsVersion(ctx, *min)) out.min_version = *value;
  }
  if (std::optional<Field> max = map.take("tls_maximum_protocol_version")) {
    if (std::optional<TlsVersion> value = readTlsVersion(ctx, *max)) out.max_version = *value;
  }
  if (out.min_version == TlsVersion::kTls1_3 && out.max_version == TlsVersion::kTls1_2) {
    ctx.error(map.pathOf("tls_minimum_protocol_version"),
              "must not be above tls_maximum_protocol_version");
  }
  if (std::optional<Field> ciphers = map.take("cipher_suites")) {
    out.cipher_suites = readNonEmptyStrings(ctx, *ciphers);
  }
  if (std::optional<Field> curves = map.take("ecdh_curves")) {
    out.ecdh_curves = readNonEmptyStrings(ctx, *curves);
  }
  map.reject({"signature_algorithms", "compliance_policies"});
  map.finish();
  return out;
}

TlsCertificate readTlsCertificate(Context& ctx, const Field& field) {
  TlsCertificate out;
  MapReader map(ctx, field);
  if (!map.isMap()) return out;
  if (std::optional<Field> chain = map.require("certificate_chain")) {
    if (std::optional<DataSource> value = readDataSource(ctx, *chain)) {
      out.certificate_chain = *value;
    }
  }
  if (std::optional<Field> key = map.require("private_key")) {
    if (std::optional<DataSource> value = readDataSource(ctx, *key)) out.private_key = *value;
  }
  if (std::optional<Field> watched = map.take("watched_directory")) {
    out.watched_directory = readWatchedDirectory(ctx, *watched);
  }
  // A password-protected or provider-held key, or a stapled OCSP response, would change what
  // the handshake does; wslb cannot honour them.
  map.reject({"pkcs12", "password", "private_key_provider", "ocsp_staple"});
  map.ignore({"signed_certificate_timestamp"});
  map.finish();
  return out;
}

std::optional<StringMatch> readStringMatcher(Context& ctx, const Field& field) {
  MapReader map(ctx, field);
  if (!map.isMap()) return std::nullopt;
  StringMatch out;
  int kinds = 0;
  static constexpr std::pair<std::string_view, StringMatch::Kind> kKinds[] = {
      {"exact", StringMatch::Kind::kExact},
      {"prefix", StringMatch::Kind::kPrefix},
      {"suffix", StringMatch::Kind::kSuffix},
      {"contains", StringMatch::Kind::kContains}};
  for (const auto& [key, kind] : kKinds) {
    if (std::optional<Field> value_field = map.take(key)) {
      ++kinds;
      out.kind = kind;
      if (std::optional<std::string> value = ctx.readString(*value_field)) out.value = *value;
    }
  }
  if (std::optional<Field> ignore_case = map.take("ignore_case")) {
    out.ignore_case = ctx.readBool(*ignore_case).value_or(false);
  }
  const bool regex = map.has("safe_regex");
  map.reject({"safe_regex", "custom"});
  map.finish();
  if (regex) return std::nullopt;
  if (kinds != 1) {
    ctx.error(field.path, "exactly one of exact, prefix, suffix or contains is required");
    return std::nullopt;
  }
  return out;
}

std::optional<SanMatcher> readSanMatcher(Context& ctx, const Field& field) {
  MapReader map(ctx, field);
  if (!map.isMap()) return std::nullopt;
  SanMatcher out;
  bool ok = true;
  if (std::optional<Field> type = map.require("san_type")) {
    std::optional<SanMatcher::Type> value =
        ctx.readEnum<SanMatcher::Type>(*type, {{"SAN_TYPE_UNSPECIFIED", 0, std::nullopt},
                                               {"EMAIL", 1, SanMatcher::Type::kEmail},
                                               {"DNS", 2, SanMatcher::Type::kDns},
                                               {"URI", 3, SanMatcher::Type::kUri},
                                               {"IP_ADDRESS", 4, SanMatcher::Type::kIpAddress},
                                               {"OTHER_NAME", 5, std::nullopt}});
    if (value) {
      out.type = *value;
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  if (std::optional<Field> matcher = map.require("matcher")) {
    if (std::optional<StringMatch> value = readStringMatcher(ctx, *matcher)) {
      out.matcher = *value;
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  map.reject({"oid"});
  map.finish();
  if (!ok) return std::nullopt;
  return out;
}

ValidationContext readValidationContext(Context& ctx, const Field& field) {
  ValidationContext out;
  MapReader map(ctx, field);
  if (!map.isMap()) return out;
  if (std::optional<Field> ca = map.take("trusted_ca")) out.trusted_ca = readDataSource(ctx, *ca);
  if (std::optional<Field> sans = map.take("match_typed_subject_alt_names")) {
    for (const Field& item : ctx.readSequence(*sans)) {
      if (std::optional<SanMatcher> value = readSanMatcher(ctx, item)) {
        out.match_typed_subject_alt_names.push_back(*value);
      }
    }
  }
  if (std::optional<Field> depth = map.take("max_verify_depth")) {
    out.max_verify_depth = ctx.readUint32(*depth);
  }
  if (std::optional<Field> watched = map.take("watched_directory")) {
    out.watched_directory = readWatchedDirectory(ctx, *watched);
  }
  if (std::optional<Field> chain = map.take("trust_chain_verification")) {
    // ACCEPT_UNTRUSTED would turn verification off behind the operator's back.
    (void)ctx.readEnum<bool>(
        *chain, {{"VERIFY_TRUST_CHAIN", 0, true}, {"ACCEPT_UNTRUSTED", 1, std::nullopt}});
  }
  map.rejectUnless("allow_expired_certificate", false);
  map.rejectUnless("require_signed_certificate_timestamp", false);
  map.reject({"verify_certificate_spki", "verify_certificate_hash", "match_subject_alt_names",
              "crl", "custom_validator_config", "system_root_certs",
              "ca_certificate_provider_instance"});
  map.ignore({"only_verify_leaf_cert_crl"});
  map.finish();
  return out;
}

CommonTlsContext readCommonTlsContext(Context& ctx, const Field& field) {
  CommonTlsContext out;
  MapReader map(ctx, field);
  if (!map.isMap()) return out;
  if (std::optional<Field> params = map.take("tls_params")) {
    out.tls_params = readTlsParams(ctx, *params);
  }
  if (std::optional<Field> certs = map.take("tls_certificates")) {
    for (const Field& item : ctx.readSequence(*certs)) {
      out.tls_certificates.push_back(readTlsCertificate(ctx, item));
    }
  }
  if (std::optional<Field> validation = map.take("validation_context")) {
    out.validation_context = readValidationContext(ctx, *validation);
  }
  if (std::optional<Field> alpn = map.take("alpn_protocols")) {
    for (const Field& item : ctx.readSequence(*alpn)) {
      std::optional<std::string> value = ctx.readNonEmptyString(item);
      if (!value) continue;
      if (value->size() > 255) {
        ctx.error(item.path, "an ALPN protocol name is at most 255 bytes");
        continue;
      }
      out.alpn_protocols.push_back(*value);
    }
  }
  // Secrets from SDS or a certificate provider, a custom handshaker or certificate selector:
  // all change where keys come from or how the handshake runs.
  map.reject({"tls_certificate_sds_secret_configs", "tls_certificate_provider_instance",
              "tls_certificate_certificate_provider",
              "tls_certificate_certificate_provider_instance",
              "validation_context_sds_secret_config", "combined_validation_context",
              "validation_context_certificate_provider",
              "validation_context_certificate_provider_instance", "custom_handshaker",
              "custom_tls_certificate_selector"});
  map.ignore({"key_log"});
  map.finish();
  if (out.validation_context && !out.validation_context->trusted_ca &&
      !out.validation_context->match_typed_subject_alt_names.empty()) {
    // As Envoy: checking names on a certificate nobody verified proves nothing.
    ctx.error(childPath(map.pathOf("validation_context"), "match_typed_subject_alt_names"),
              "needs trusted_ca (SAN checks on an unverified certificate are refused)");
  }
  return out;
}

}  // namespace

std::optional<DownstreamTls> readDownstreamTlsContext(Context& ctx, const Field& field) {
  const size_t errors = ctx.errorCount();
  DownstreamTls out;
  MapReader map(ctx, field);
  if (!map.isMap()) return std::nullopt;
  checkTypeUrl(ctx, map, kDownstreamTlsContextTypeUrl);
  const std::string common_path = map.pathOf("common_tls_context");
  if (std::optional<Field> common = map.require("common_tls_context")) {
    out.common_tls_context = readCommonTlsContext(ctx, *common);
  }
  if (std::optional<Field> require = map.take("require_client_certificate")) {
    out.require_client_certificate = ctx.readBool(*require).value_or(false);
  }
  if (std::optional<Field> require = map.take("require_sni")) {
    out.require_sni = ctx.readBool(*require).value_or(false);
  }
  if (std::optional<Field> disable = map.take("disable_stateless_session_resumption")) {
    out.disable_stateless_session_resumption = ctx.readBool(*disable).value_or(false);
  }
  map.reject({"session_ticket_keys", "session_ticket_keys_sds_secret_config", "ocsp_staple_policy",
              "tls_session_ticket_keys"});
  map.ignore({"full_scan_certs_on_sni_mismatch", "prefer_client_ciphers",
              "disable_stateful_session_resumption", "session_timeout"});
  map.finish();

  const CommonTlsContext& common = out.common_tls_context;
  if (map.has("common_tls_context") && common.tls_certificates.empty()) {
    ctx.error(childPath(common_path, "tls_certificates"),
              "a server needs at least one certificate");
  }
  for (size_t i = 0; i < common.alpn_protocols.size(); ++i) {
    if (common.alpn_protocols[i] != "http/1.1") {
      std::string message = notSupportedValue(common.alpn_protocols[i]);
      message += ": listeners serve HTTP/1.1 only (supported: http/1.1)";
      ctx.error(indexPath(childPath(common_path, "alpn_protocols"), i), std::move(message));
    }
  }
  const bool has_ca = common.validation_context && common.validation_context->trusted_ca;
  if (out.require_client_certificate && !has_ca) {
    ctx.error(map.pathOf("require_client_certificate"),
              "needs common_tls_context.validation_context.trusted_ca to verify clients with");
  }
  if (ctx.errorCount() != errors) return std::nullopt;
  return out;
}

std::optional<UpstreamTls> readUpstreamTlsContext(Context& ctx, const Field& field) {
  const size_t errors = ctx.errorCount();
  UpstreamTls out;
  MapReader map(ctx, field);
  if (!map.isMap()) return std::nullopt;
  checkTypeUrl(ctx, map, kUpstreamTlsContextTypeUrl);
  if (std::optional<Field> common = map.take("common_tls_context")) {
    out.common_tls_context = readCommonTlsContext(ctx, *common);
  }
  if (std::optional<Field> sni = map.take("sni")) {
    if (std::optional<std::string> value = ctx.readString(*sni)) {
      if (value->size() > 255) {
        ctx.error(sni->path, "at most 255 characters");
      } else {
        out.sni = *value;
      }
    }
  }
  if (std::optional<Field> san = map.take("auto_sni_san_validation")) {
    out.auto_sni_san_validation = ctx.readBool(*san).value_or(false);
  }
  map.rejectUnless("allow_renegotiation", false);
  map.rejectUnless("auto_host_sni", false);
  map.ignore({"max_session_keys", "enforce_rsa_key_usage"});
  map.finish();
  if (out.auto_sni_san_validation) {
    const auto& validation = out.common_tls_context.validation_context;
    if (out.sni.empty()) {
      ctx.error(map.pathOf("auto_sni_san_validation"),
                "needs sni (auto_host_sni is not supported)");
    } else if (!validation || !validation->trusted_ca) {
      ctx.error(map.pathOf("auto_sni_san_validation"),
                "needs common_tls_context.validation_context.trusted_ca");
    }
  }
  if (ctx.errorCount() != errors) return std::nullopt;
  return out;
}

namespace {

// The common part of both transport_socket readers: name and typed_config. Returns the
// typed_config to read with `type_url`, or nullopt for raw_buffer or on errors.
std::optional<Field> readTransportSocketHead(Context& ctx, const Field& field,
                                             std::string_view type_url, bool& raw_buffer) {
  raw_buffer = false;
  MapReader map(ctx, field);
  if (!map.isMap()) return std::nullopt;
  std::string name;
  if (std::optional<Field> name_field = map.take("name")) {
    name = ctx.readString(*name_field).value_or("");
  }
  std::optional<Field> typed_config = map.take("typed_config");
  map.reject({"config_discovery"});
  map.finish();
  const std::optional<std::string> type = typed_config ? typeUrlOf(*typed_config) : std::nullopt;
  // As Envoy, the typed_config's type decides; the name is only used without one.
  if (type ? *type == kRawBufferTypeUrl : name == kRawBufferTransportSocketName) {
    raw_buffer = true;
    return std::nullopt;
  }
  if (type ? *type == type_url : name == kTlsTransportSocketName) {
    if (!typed_config) {
      ctx.error(map.pathOf("typed_config"), std::string(kRequired));
      return std::nullopt;
    }
    return typed_config;
  }
  std::string message = "transport socket \"";
  message += type.value_or(name.empty() ? std::string("(unnamed)") : name);
  message += "\" is ";
  message += kNotSupported;
  message += " (supported: ";
  message += kTlsTransportSocketName;
  message += " with ";
  message += type_url.substr(type_url.rfind('/') + 1);
  message += ", ";
  message += kRawBufferTransportSocketName;
  message += ')';
  ctx.error(type ? childPath(typed_config->path, "@type") : field.path, std::move(message));
  return std::nullopt;
}

}  // namespace

std::optional<DownstreamTls> readDownstreamTransportSocket(Context& ctx, const Field& field) {
  bool raw_buffer = false;
  std::optional<Field> typed_config =
      readTransportSocketHead(ctx, field, kDownstreamTlsContextTypeUrl, raw_buffer);
  if (!typed_config) return std::nullopt;
  return readDownstreamTlsContext(ctx, *typed_config);
}

std::optional<UpstreamTls> readUpstreamTransportSocket(Context& ctx, const Field& field) {
  bool raw_buffer = false;
  std::optional<Field> typed_config =
      readTransportSocketHead(ctx, field, kUpstreamTlsContextTypeUrl, raw_buffer);
  if (!typed_config) return std::nullopt;
  return readUpstreamTlsContext(ctx, *typed_config);
}

std::vector<std::string> readServerNames(Context& ctx, const Field& field) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const Field& item : ctx.readSequence(field)) {
    std::optional<std::string> value = ctx.readNonEmptyString(item);
    if (!value) continue;
    std::string name = lower(*value);
    const size_t star = name.find('*');
    // Envoy: a wildcard only as the whole left-most label ("*.example.com").
    if (star != std::string::npos && (star != 0 || name.size() < 3 || name[1] != '.' ||
                                      name.find('*', 1) != std::string::npos)) {
      ctx.error(item.path, "a wildcard must be the whole left-most label, as in *.example.com");
      continue;
    }
    if (!seen.insert(name).second) {
      ctx.error(item.path, "duplicate server name");
      continue;
    }
    out.push_back(std::move(name));
  }
  return out;
}

FilterChainMatch readFilterChainMatch(Context& ctx, const Field& field) {
  FilterChainMatch out;
  MapReader map(ctx, field);
  if (!map.isMap()) return out;
  if (std::optional<Field> names = map.take("server_names")) {
    out.server_names = readServerNames(ctx, *names);
  }
  if (std::optional<Field> protocol = map.take("transport_protocol")) {
    if (std::optional<std::string> value = ctx.readString(*protocol)) {
      if (*value == "tls" || *value == "raw_buffer") {
        out.transport_protocol = *value;
      } else {
        std::string message = "\"";
        message += *value;
        message += "\" is ";
        message += kNotSupported;
        message += " (supported: tls, raw_buffer)";
        ctx.error(protocol->path, std::move(message));
      }
    }
  }
  map.reject({"destination_port", "prefix_ranges", "address_suffix", "suffix_len",
              "direct_source_prefix_ranges", "source_type", "source_prefix_ranges", "source_ports",
              "application_protocols"});
  map.finish();
  return out;
}

namespace {

// Runs `read` on `text` parsed as YAML, the document standing at `path`.
template <typename T, typename Read>
TlsLoadResult<T> loadStandalone(std::string_view text, std::string_view path, Read read) {
  TlsLoadResult<T> result;
  Context ctx;
  YAML::Node node;
  try {
    node = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    ctx.error(std::string(path), e.what());
    result.errors = ctx.takeErrors();
    return result;
  }
  T value = read(ctx, Field{node, std::string(path)});
  result.errors = ctx.takeErrors();
  result.warnings = ctx.takeWarnings();
  if (result.errors.empty()) result.value = std::move(value);
  return result;
}

}  // namespace

TlsLoadResult<std::optional<DownstreamTls>> loadDownstreamTransportSocket(std::string_view text,
                                                                          std::string_view path) {
  return loadStandalone<std::optional<DownstreamTls>>(text, path, readDownstreamTransportSocket);
}

TlsLoadResult<std::optional<UpstreamTls>> loadUpstreamTransportSocket(std::string_view text,
                                                                      std::string_view path) {
  return loadStandalone<std::optional<UpstreamTls>>(text, path, readUpstreamTransportSocket);
}

TlsLoadResult<FilterChainMatch> loadFilterChainMatch(std::string_view text, std::string_view path) {
  return loadStandalone<FilterChainMatch>(text, path, readFilterChainMatch);
}

}  // namespace wslb::config
