#pragma once
// Envoy's match_typed_subject_alt_names check of a peer certificate.

#include <openssl/x509.h>

#include <string_view>
#include <vector>

#include "wslb/config/tls.h"

namespace wslb::tls {

/// Whether `value` satisfies `matcher` (exact, prefix, suffix, contains; ignore_case).
bool stringMatches(const config::StringMatch& matcher, std::string_view value);

/// DNS names as Envoy compares them for an exact DNS matcher: equal ignoring case, or the
/// certificate's "*.example.com" covering exactly one label of `name` ("a.example.com").
bool dnsNameMatches(std::string_view name, std::string_view certificate_name);

/// Whether one of the certificate's subjectAltName entries satisfies one of `matchers`
/// (Envoy: any match is enough). IP addresses are compared in their text form.
bool certificateMatchesAny(X509* certificate, const std::vector<config::SanMatcher>& matchers);

}  // namespace wslb::tls
