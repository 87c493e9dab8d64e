// The HttpConnectionManager's downstream HTTP/1.1 limits and timeouts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_util.h"
#include "wslb/config/loader.h"

namespace wslb::config {
namespace {

using ::testing::ElementsAre;
using testing::errorsOf;
using testing::hcmBody;
using ::testing::IsEmpty;
using testing::kHcmPath;
using testing::loadHcm;
using testing::warningsOf;

const std::string kHcm(kHcmPath);

const HttpConnectionManager& hcmOf(const LoadResult& r) {
  return r.bootstrap->listeners[0].hcm;
}

TEST(HcmLimitsTest, Defaults) {
  LoadResult r = loadHcm(hcmBody());
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  const HttpConnectionManager& hcm = hcmOf(r);
  EXPECT_EQ(hcm.max_request_headers_kb, 60u);
  EXPECT_EQ(hcm.max_headers_count, 100u);
  EXPECT_EQ(hcm.request_headers_timeout, Duration(60'000));
  EXPECT_EQ(hcm.idle_timeout, Duration(3'600'000));
  EXPECT_EQ(hcm.max_connection_duration, Duration(0));
}

TEST(HcmLimitsTest, ParsesEveryField) {
  LoadResult r = loadHcm(hcmBody(
      "max_request_headers_kb: 8, request_headers_timeout: 0.25s, common_http_protocol_options: "
      "{idle_timeout: 30s, max_connection_duration: 600s, max_headers_count: 20}"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), IsEmpty());
  const HttpConnectionManager& hcm = hcmOf(r);
  EXPECT_EQ(hcm.max_request_headers_kb, 8u);
  EXPECT_EQ(hcm.request_headers_timeout, Duration(250));
  EXPECT_EQ(hcm.idle_timeout, Duration(30'000));
  EXPECT_EQ(hcm.max_connection_duration, Duration(600'000));
  EXPECT_EQ(hcm.max_headers_count, 20u);
}

TEST(HcmLimitsTest, ZeroDisablesTimeouts) {
  LoadResult r = loadHcm(
      hcmBody("request_headers_timeout: 0s, common_http_protocol_options: {idle_timeout: 0s, "
              "max_connection_duration: 0s}"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(hcmOf(r).request_headers_timeout, Duration(0));
  EXPECT_EQ(hcmOf(r).idle_timeout, Duration(0));
  EXPECT_EQ(hcmOf(r).max_connection_duration, Duration(0));
}

TEST(HcmLimitsTest, MaxRequestHeadersKbRange) {
  EXPECT_TRUE(loadHcm(hcmBody("max_request_headers_kb: 8192")).ok());
  EXPECT_TRUE(loadHcm(hcmBody("max_request_headers_kb: 1")).ok());
  EXPECT_THAT(errorsOf(loadHcm(hcmBody("max_request_headers_kb: 0"))),
              ElementsAre(kHcm + ".max_request_headers_kb: must be from 1 to 8192"));
  EXPECT_THAT(errorsOf(loadHcm(hcmBody("max_request_headers_kb: 8193"))),
              ElementsAre(kHcm + ".max_request_headers_kb: must be from 1 to 8192"));
  EXPECT_THAT(errorsOf(loadHcm(hcmBody("max_request_headers_kb: -1"))),
              ElementsAre(kHcm + ".max_request_headers_kb: expected an unsigned integer"));
}

TEST(HcmLimitsTest, InvalidValuesNameTheirPath) {
  const std::string options = kHcm + ".common_http_protocol_options";
  EXPECT_THAT(errorsOf(loadHcm(hcmBody("common_http_protocol_options: {max_headers_count: 0}"))),
              ElementsAre(options + ".max_headers_count: must be at least 1"));
  EXPECT_THAT(errorsOf(loadHcm(hcmBody("common_http_protocol_options: {idle_timeout: 1h}"))),
              ElementsAre(options + ".idle_timeout: expected a duration such as \"5s\""));
  EXPECT_THAT(
      errorsOf(loadHcm(hcmBody("common_http_protocol_options: {max_connection_duration: x}"))),
      ElementsAre(options + ".max_connection_duration: expected a duration such as \"5s\""));
  EXPECT_THAT(errorsOf(loadHcm(hcmBody("request_headers_timeout: -1s"))),
              ElementsAre(kHcm + ".request_headers_timeout: expected a duration such as \"5s\""));
  EXPECT_THAT(errorsOf(loadHcm(hcmBody("common_http_protocol_options: [1]"))),
              ElementsAre(options + ": expected a mapping"));
}

TEST(HcmLimitsTest, OtherProtocolOptionsAreIgnoredWithAWarning) {
  LoadResult r = loadHcm(hcmBody(
      "common_http_protocol_options: {max_stream_duration: 5s, headers_with_underscores_action: "
      "ALLOW, bogus: 1}"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  const std::string options = kHcm + ".common_http_protocol_options";
  EXPECT_THAT(warningsOf(r),
              ElementsAre(options + ".max_stream_duration: not supported by wslb; ignored",
                          options + ".headers_with_underscores_action: not supported by wslb; "
                                    "ignored",
                          options + ".bogus: unknown key; ignored"));
}

}  // namespace
}  // namespace wslb::config
