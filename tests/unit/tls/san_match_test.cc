#include "wslb/tls/san_match.h"

#include <gtest/gtest.h>

namespace wslb::tls {
namespace {

using config::StringMatch;

TEST(SanMatch, DnsNamesAsEnvoyComparesThem) {
  EXPECT_TRUE(dnsNameMatches("api.example.com", "api.example.com"));
  EXPECT_TRUE(dnsNameMatches("API.example.com", "api.EXAMPLE.com"));
  EXPECT_TRUE(dnsNameMatches("api.example.com", "*.example.com"));
  EXPECT_FALSE(dnsNameMatches("a.b.example.com", "*.example.com"));  // one label only
  EXPECT_FALSE(dnsNameMatches("example.com", "*.example.com"));
  EXPECT_FALSE(dnsNameMatches("api.example.org", "*.example.com"));
  EXPECT_FALSE(dnsNameMatches("api.example.com", "api.example.co"));
}

TEST(SanMatch, StringMatchers) {
  EXPECT_TRUE(stringMatches({StringMatch::Kind::kExact, "a", false}, "a"));
  EXPECT_FALSE(stringMatches({StringMatch::Kind::kExact, "a", false}, "A"));
  EXPECT_TRUE(stringMatches({StringMatch::Kind::kExact, "a", true}, "A"));
  EXPECT_TRUE(stringMatches({StringMatch::Kind::kPrefix, "spiffe://", false}, "spiffe://x/y"));
  EXPECT_TRUE(stringMatches({StringMatch::Kind::kSuffix, ".svc", false}, "a.ns.svc"));
  EXPECT_FALSE(stringMatches({StringMatch::Kind::kSuffix, ".svc", false}, "a.ns.svc.x"));
  EXPECT_TRUE(stringMatches({StringMatch::Kind::kContains, "ns", false}, "a.ns.svc"));
}

}  // namespace
}  // namespace wslb::tls
