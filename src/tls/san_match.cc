#include "wslb/tls/san_match.h"

#include <arpa/inet.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace wslb::tls {
namespace {

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view asView(const ASN1_STRING* text) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
          static_cast<size_t>(ASN1_STRING_length(text))};
}

// An iPAddress entry as text ("10.0.0.1", "::1"); empty if malformed.
std::string ipText(const ASN1_OCTET_STRING* address) {
  char text[INET6_ADDRSTRLEN] = {};
  const int length = ASN1_STRING_length(address);
  const unsigned char* bytes = ASN1_STRING_get0_data(address);
  if (length == 4 && inet_ntop(AF_INET, bytes, text, sizeof text) != nullptr) return text;
  if (length == 16 && inet_ntop(AF_INET6, bytes, text, sizeof text) != nullptr) return text;
  return {};
}

int generalNameType(config::SanMatcher::Type type) {
  switch (type) {
    case config::SanMatcher::Type::kEmail:
      return GEN_EMAIL;
    case config::SanMatcher::Type::kDns:
      return GEN_DNS;
    case config::SanMatcher::Type::kUri:
      return GEN_URI;
    case config::SanMatcher::Type::kIpAddress:
      return GEN_IPADD;
  }
  return -1;
}

bool entryMatches(const GENERAL_NAME* entry, const config::SanMatcher& matcher) {
  if (entry->type != generalNameType(matcher.type)) return false;
  if (entry->type == GEN_IPADD) return stringMatches(matcher.matcher, ipText(entry->d.iPAddress));
  const std::string_view value = asView(entry->d.ia5);
  if (entry->type == GEN_DNS && matcher.matcher.kind == config::StringMatch::Kind::kExact) {
    return dnsNameMatches(matcher.matcher.value, value);
  }
  return stringMatches(matcher.matcher, value);
}

}  // namespace

bool stringMatches(const config::StringMatch& matcher, std::string_view value) {
  std::string folded_value;
  std::string folded_pattern;
  std::string_view pattern = matcher.value;
  if (matcher.ignore_case) {
    folded_value = lower(value);
    folded_pattern = lower(pattern);
    value = folded_value;
    pattern = folded_pattern;
  }
  switch (matcher.kind) {
    case config::StringMatch::Kind::kExact:
      return value == pattern;
    case config::StringMatch::Kind::kPrefix:
      return value.starts_with(pattern);
    case config::StringMatch::Kind::kSuffix:
      return value.ends_with(pattern);
    case config::StringMatch::Kind::kContains:
      return value.find(pattern) != std::string_view::npos;
  }
  return false;
}

bool dnsNameMatches(std::string_view name, std::string_view certificate_name) {
  if (equalsIgnoringCase(name, certificate_name)) return true;
  if (!certificate_name.starts_with("*.")) return false;
  const size_t dot = name.find('.');
  if (dot == 0 || dot == std::string_view::npos) return false;
  return equalsIgnoringCase(name.substr(dot), certificate_name.substr(1));
}

bool certificateMatchesAny(X509* certificate, const std::vector<config::SanMatcher>& matchers) {
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return false;
  bool matched = false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && !matched; ++i) {
    const GENERAL_NAME* entry = sk_GENERAL_NAME_value(names, i);
    for (const config::SanMatcher& matcher : matchers) {
      if (entryMatches(entry, matcher)) {
        matched = true;
        break;
      }
    }
  }
  GENERAL_NAMES_free(names);
  return matched;
}

}  // namespace wslb::tls
