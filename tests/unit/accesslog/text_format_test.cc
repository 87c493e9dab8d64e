#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <stdexcept>

#include "accesslog_test_util.h"
#include "wslb/accesslog/formatter.h"

namespace wslb::accesslog {
namespace {

using testing::Headers;
using testing::renderText;
using testing::webSocketRecord;
using namespace std::chrono_literals;

TEST(TextFormatTest, LiteralTextIsCopied) {
  EXPECT_EQ(renderText("plain text\n", webSocketRecord()), "plain text\n");
  EXPECT_EQ(renderText("", webSocketRecord()), "");
}

TEST(TextFormatTest, Durations) {
  const AccessLogRecord r = webSocketRecord();
  EXPECT_EQ(renderText("%DURATION% %REQUEST_DURATION% %RESPONSE_DURATION%", r), "1234 5 12");
  AccessLogRecord missing;
  EXPECT_EQ(renderText("%DURATION% %REQUEST_DURATION% %RESPONSE_DURATION%", missing), "- - -");
}

TEST(TextFormatTest, ResponseCode) {
  AccessLogRecord r = webSocketRecord();
  EXPECT_EQ(renderText("%RESPONSE_CODE%", r), "101");
  r.response_code = 503;
  EXPECT_EQ(renderText("%RESPONSE_CODE%", r), "503");
  // Envoy prints 0 when no response was sent.
  EXPECT_EQ(renderText("%RESPONSE_CODE%", AccessLogRecord{}), "0");
}

TEST(TextFormatTest, ResponseFlagsInEnvoyOrder) {
  AccessLogRecord r;
  EXPECT_EQ(renderText("%RESPONSE_FLAGS%|%RESPONSE_FLAGS_LONG%", r), "-|-");
  r.response_flags.set(ResponseFlag::kUpstreamRetryLimitExceeded)
      .set(ResponseFlag::kUpstreamConnectionFailure);
  EXPECT_EQ(renderText("%RESPONSE_FLAGS%", r), "UF,URX");
  EXPECT_EQ(renderText("%RESPONSE_FLAGS_LONG%", r),
            "UpstreamConnectionFailure,UpstreamRetryLimitExceeded");
  r.response_flags = ResponseFlags().set(ResponseFlag::kDownstreamConnectionTermination);
  EXPECT_EQ(renderText("%RESPONSE_FLAGS%", r), "DC");
}

TEST(TextFormatTest, BytesAndProtocol) {
  AccessLogRecord r = webSocketRecord();
  EXPECT_EQ(renderText("%BYTES_RECEIVED% %BYTES_SENT% %PROTOCOL%", r), "154 226 HTTP/1.1");
  r.protocol = Protocol::kHttp10;
  EXPECT_EQ(renderText("%PROTOCOL%", r), "HTTP/1.0");
  EXPECT_EQ(renderText("%BYTES_RECEIVED% %BYTES_SENT% %PROTOCOL%", AccessLogRecord{}), "0 0 -");
}

TEST(TextFormatTest, UpstreamOperators) {
  const AccessLogRecord r = webSocketRecord();
  EXPECT_EQ(renderText("%UPSTREAM_HOST% %UPSTREAM_REMOTE_ADDRESS% "
                       "%UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %UPSTREAM_REMOTE_PORT%",
                       r),
            "10.0.2.1:8080 10.0.2.1:8080 10.0.2.1 8080");
  EXPECT_EQ(renderText("%UPSTREAM_CLUSTER% %UPSTREAM_HOSTNAME% %UPSTREAM_REQUEST_ATTEMPT_COUNT% "
                       "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
                       r),
            "chat chat-0 2 Connection refused");
  EXPECT_EQ(renderText("%UPSTREAM_HOST% %UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% "
                       "%UPSTREAM_REMOTE_PORT% %UPSTREAM_CLUSTER% %UPSTREAM_HOSTNAME% "
                       "%UPSTREAM_REQUEST_ATTEMPT_COUNT% %UPSTREAM_TRANSPORT_FAILURE_REASON%",
                       AccessLogRecord{}),
            "- - - - - 0 -");
}

TEST(TextFormatTest, Ipv6AddressesAreBracketedWithAPort) {
  AccessLogRecord r;
  r.upstream_address = testing::endpoint("::1", 9000);
  r.downstream_remote_address = testing::endpoint("2001:db8::7", 443);
  EXPECT_EQ(renderText("%UPSTREAM_HOST% %UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% "
                       "%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
                       r),
            "[::1]:9000 ::1 [2001:db8::7]:443 2001:db8::7");
}

TEST(TextFormatTest, DownstreamOperators) {
  const AccessLogRecord r = webSocketRecord();
  EXPECT_EQ(renderText("%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% "
                       "%DOWNSTREAM_REMOTE_PORT%",
                       r),
            "10.0.35.28:51234 10.0.35.28 51234");
  EXPECT_EQ(renderText("%DOWNSTREAM_DIRECT_REMOTE_ADDRESS% "
                       "%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT% "
                       "%DOWNSTREAM_DIRECT_REMOTE_PORT%",
                       r),
            "10.0.35.28:51234 10.0.35.28 51234");
  EXPECT_EQ(renderText("%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT% "
                       "%DOWNSTREAM_LOCAL_PORT%",
                       r),
            "10.0.0.5:10000 10.0.0.5 10000");
  EXPECT_EQ(renderText("%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_LOCAL_PORT%", AccessLogRecord{}),
            "- -");
}

TEST(TextFormatTest, RouteAndConnection) {
  EXPECT_EQ(renderText("%ROUTE_NAME% %CONNECTION_ID%", webSocketRecord()), "ws_route 42");
  EXPECT_EQ(renderText("%ROUTE_NAME% %CONNECTION_ID%", AccessLogRecord{}), "- 0");
}

TEST(TextFormatTest, WebSocketOperators) {
  const std::string format =
      "%WS_MESSAGES_RECEIVED% %WS_MESSAGES_SENT% %WS_CLOSE_CODE_DOWNSTREAM% "
      "%WS_CLOSE_CODE_UPSTREAM%";
  EXPECT_EQ(renderText(format, webSocketRecord()), "7 9 1000 1001");
  AccessLogRecord r;
  r.upstream_close_code = 1005;  // a Close frame without a code
  EXPECT_EQ(renderText(format, r), "0 0 - 1005");
}

TEST(TextFormatTest, RequestHeaders) {
  const Headers headers = {{":method", "GET"},
                           {":path", "/chat?room=1"},
                           {":authority", "chat.example.com"},
                           {"user-agent", "Mozilla/5.0 (X11)"},
                           {"x-request-id", "cc21d9b0"}};
  const AccessLogRecord r = webSocketRecord();
  EXPECT_EQ(
      renderText("%REQ(:METHOD)% %REQ(:path)% %REQ(User-Agent)% %REQUEST_HEADER(X-REQUEST-ID)%", r,
                 headers),
      "GET /chat?room=1 Mozilla/5.0 (X11) cc21d9b0");
  // HTTP/1.1's Host is :authority.
  EXPECT_EQ(renderText("%REQ(HOST)% %REQ(:AUTHORITY)%", r, headers),
            "chat.example.com chat.example.com");
  // Absent: "-".
  EXPECT_EQ(renderText("%REQ(X-FORWARDED-FOR)%", r, headers), "-");
}

TEST(TextFormatTest, RequestHeaderAlternativeAndTruncation) {
  const AccessLogRecord r = webSocketRecord();
  const std::string format = "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%";
  EXPECT_EQ(renderText(format, r, {{":path", "/ws"}}), "/ws");
  EXPECT_EQ(renderText(format, r, {{":path", "/ws"}, {"x-envoy-original-path", "/orig"}}), "/orig");
  EXPECT_EQ(renderText(format, r, {}), "-");
  EXPECT_EQ(renderText("%REQ(USER-AGENT):7%", r, {{"user-agent", "Mozilla/5.0 (X11)"}}), "Mozilla");
  EXPECT_EQ(renderText("%REQ(USER-AGENT?:PATH):3%", r, {{":path", "/chat"}}), "/ch");
  // A value shorter than the limit is left alone; an empty header counts as missing.
  EXPECT_EQ(renderText("%REQ(A):100%", r, {{"a", "short"}}), "short");
  EXPECT_EQ(renderText("%REQ(A)%", r, {{"a", ""}}), "-");
}

TEST(TextFormatTest, RecordWithoutCapturedHeadersPrintsMissing) {
  config::AccessLogFormat format = testing::textFormat("%REQ(:PATH)%");
  HeaderRegistry registry;
  FormatterPtr formatter = Formatter::create(format, registry);
  std::string out;
  formatter->format(webSocketRecord(), out);  // request_headers left empty
  EXPECT_EQ(out, "-");
}

TEST(TextFormatTest, HostnameAndEnvironment) {
  std::array<char, 256> name{};
  ASSERT_EQ(gethostname(name.data(), name.size() - 1), 0);
  EXPECT_EQ(renderText("%HOSTNAME%", AccessLogRecord{}), std::string(name.data()));

  setenv("WSLB_ACCESSLOG_TEST_POD", "chat-7f9c", 1);
  unsetenv("WSLB_ACCESSLOG_TEST_UNSET");
  EXPECT_EQ(renderText("%ENVIRONMENT(WSLB_ACCESSLOG_TEST_POD)% "
                       "%ENVIRONMENT(WSLB_ACCESSLOG_TEST_POD):4% "
                       "%ENVIRONMENT(WSLB_ACCESSLOG_TEST_UNSET)%",
                       AccessLogRecord{}),
            "chat-7f9c chat -");
}

TEST(TextFormatTest, OmitEmptyValuesPrintsNothingForMissingValues) {
  const config::AccessLogFormat format =
      testing::textFormat("[%UPSTREAM_HOST%][%REQ(X)%][%RESPONSE_CODE%]", true);
  EXPECT_EQ(testing::render(format, AccessLogRecord{}), "[][][0]");
}

TEST(TextFormatTest, DefaultFormatForAWebSocket) {
  const Headers headers = {{":method", "GET"},           {":path", "/chat"},
                           {"user-agent", "wscat/5"},    {"x-request-id", "cc21d9b0"},
                           {":authority", "chat.local"}, {"x-forwarded-for", "10.0.35.28"}};
  config::AccessLogFormat format;  // kind kDefault; the line shown in docs/configuration.md
  AccessLogRecord r = webSocketRecord();
  r.response_flags.set(ResponseFlag::kDownstreamConnectionTermination);
  EXPECT_EQ(testing::render(format, r, headers),
            "[2016-04-15T20:17:00.310Z] \"GET /chat HTTP/1.1\" 101 DC 154 226 1234 12 "
            "\"10.0.35.28\" \"wscat/5\" \"cc21d9b0\" \"chat.local\" \"10.0.2.1:8080\"\n");
}

TEST(TextFormatTest, DefaultFormatForALocalReply) {
  AccessLogRecord r;
  r.start_time = testing::exampleTime();
  r.duration = 0ms;
  r.request_duration = 0ms;
  r.response_code = 503;
  r.bytes_sent = 91;
  r.protocol = Protocol::kHttp11;
  r.response_flags.set(ResponseFlag::kUpstreamOverflow);
  config::AccessLogFormat format;
  EXPECT_EQ(testing::render(format, r, {{":method", "GET"}, {":path", "/"}}),
            "[2016-04-15T20:17:00.310Z] \"GET / HTTP/1.1\" 503 UO 0 91 0 - \"-\" \"-\" \"-\" "
            "\"-\" \"-\"\n");
}

struct BadFormat {
  std::string format;
  std::string error;
};

class FormatErrorTest : public ::testing::TestWithParam<BadFormat> {};

TEST_P(FormatErrorTest, IsRejectedWithItsReason) {
  const BadFormat& bad = GetParam();
  EXPECT_EQ(validateFormatString(bad.format), bad.error);
  HeaderRegistry registry;
  try {
    Formatter::create(testing::textFormat(bad.format), registry);
    ADD_FAILURE() << "no exception for " << bad.format;
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(e.what(), bad.error);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Formats, FormatErrorTest,
    ::testing::Values(
        BadFormat{"%FOO%", "unknown command operator %FOO%"},
        BadFormat{"x %BYTES% y", "unknown command operator %BYTES%"},
        BadFormat{"%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
                  "command operator %RESP% is not supported by wslb"},
        BadFormat{"%DYNAMIC_METADATA(a:b)%",
                  "command operator %DYNAMIC_METADATA% is not supported by wslb"},
        BadFormat{"%DURATION(x)%", "%DURATION% takes no argument"},
        BadFormat{"%DURATION:5%", "%DURATION% takes no length"},
        BadFormat{"%REQ%", "%REQ% needs a header name: %REQ(name)% or %REQ(name?alternative)%"},
        BadFormat{"%REQ()%", "%REQ()%: empty header name"},
        BadFormat{"%REQ(a?)%", "%REQ(a?)%: empty alternative header name"},
        BadFormat{"%REQ(a?b?c)%", "%REQ(a?b?c)%: more than one alternative header"},
        BadFormat{"%ENVIRONMENT%", "%ENVIRONMENT% needs a variable name: %ENVIRONMENT(NAME)%"},
        BadFormat{"%REQ(a):99999999999999999999999%",
                  "%REQ%: length 99999999999999999999999 is too large"},
        BadFormat{"100%",
                  "invalid command operator at position 3 (expected %NAME%, "
                  "%NAME(argument)% or %NAME(argument):length%)"},
        BadFormat{"%duration%",
                  "invalid command operator at position 0 (expected %NAME%, "
                  "%NAME(argument)% or %NAME(argument):length%)"},
        BadFormat{"%START_TIME(%Y%",
                  "invalid command operator at position 0 (expected %NAME%, "
                  "%NAME(argument)% or %NAME(argument):length%)"},
        BadFormat{"%REQ(a):%",
                  "invalid command operator at position 0 (expected %NAME%, "
                  "%NAME(argument)% or %NAME(argument):length%)"}));

TEST(FormatValidationTest, ValidFormatsPass) {
  EXPECT_EQ(validateFormatString(kDefaultFormat), std::nullopt);
  EXPECT_EQ(validateFormatString("%START_TIME(%Y/%m/%d %s.%3f)% %REQ(a?b):10%"), std::nullopt);
  EXPECT_EQ(validateFormatString("no operators at all"), std::nullopt);
}

}  // namespace
}  // namespace wslb::accesslog
