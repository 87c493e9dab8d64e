#include "wslb/accesslog/response_flags.h"

#include <gtest/gtest.h>

namespace wslb::accesslog {
namespace {

TEST(ResponseFlagsTest, NamesRoundTrip) {
  for (size_t i = 0; i < kResponseFlagCount; ++i) {
    const auto flag = static_cast<ResponseFlag>(i);
    EXPECT_EQ(parseShortName(shortName(flag)), flag) << shortName(flag);
    EXPECT_FALSE(longName(flag).empty());
  }
  EXPECT_EQ(shortName(ResponseFlag::kUpstreamOverflow), "UO");
  EXPECT_EQ(longName(ResponseFlag::kStreamIdleTimeout), "StreamIdleTimeout");
  EXPECT_EQ(parseShortName("uo"), std::nullopt);
  EXPECT_EQ(parseShortName(""), std::nullopt);
}

TEST(ResponseFlagsTest, SetAndPrint) {
  ResponseFlags flags;
  EXPECT_FALSE(flags.any());
  std::string out;
  appendShortNames(flags, out);
  EXPECT_EQ(out, "-");

  flags.set(ResponseFlag::kStreamIdleTimeout).set(ResponseFlag::kNoHealthyUpstream);
  EXPECT_TRUE(flags.has(ResponseFlag::kNoHealthyUpstream));
  EXPECT_FALSE(flags.has(ResponseFlag::kUpstreamOverflow));
  out.clear();
  appendShortNames(flags, out);
  EXPECT_EQ(out, "UH,SI");
  out.clear();
  appendLongNames(flags, out);
  EXPECT_EQ(out, "NoHealthyUpstream,StreamIdleTimeout");
}

}  // namespace
}  // namespace wslb::accesslog
