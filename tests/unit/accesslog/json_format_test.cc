#include <gtest/gtest.h>

#include "accesslog_test_util.h"

namespace wslb::accesslog {
namespace {

using testing::jsonFormat;
using testing::jsonLeaf;
using testing::jsonNode;
using testing::render;
using testing::webSocketRecord;
using Kind = config::AccessLogJsonValue::Kind;

TEST(JsonFormatTest, NumericOperatorsAreNumbersAndOthersStrings) {
  const config::AccessLogFormat format =
      jsonFormat({jsonLeaf("start", "%START_TIME%"), jsonLeaf("code", "%RESPONSE_CODE%"),
                  jsonLeaf("flags", "%RESPONSE_FLAGS%"), jsonLeaf("duration", "%DURATION%"),
                  jsonLeaf("rx", "%BYTES_RECEIVED%"), jsonLeaf("tx", "%BYTES_SENT%"),
                  jsonLeaf("upstream", "%UPSTREAM_HOST%"), jsonLeaf("id", "%CONNECTION_ID%"),
                  jsonLeaf("in", "%WS_MESSAGES_RECEIVED%"), jsonLeaf("out", "%WS_MESSAGES_SENT%"),
                  jsonLeaf("close_down", "%WS_CLOSE_CODE_DOWNSTREAM%"),
                  jsonLeaf("close_up", "%WS_CLOSE_CODE_UPSTREAM%"),
                  jsonLeaf("attempts", "%UPSTREAM_REQUEST_ATTEMPT_COUNT%"),
                  jsonLeaf("port", "%DOWNSTREAM_REMOTE_PORT%")});
  EXPECT_EQ(render(format, webSocketRecord()),
            "{\"start\":\"2016-04-15T20:17:00.310Z\",\"code\":101,\"flags\":\"-\","
            "\"duration\":1234,\"rx\":154,\"tx\":226,\"upstream\":\"10.0.2.1:8080\",\"id\":42,"
            "\"in\":7,\"out\":9,\"close_down\":1000,\"close_up\":1001,\"attempts\":2,"
            "\"port\":\"51234\"}\n");
}

TEST(JsonFormatTest, MissingSingleOperatorIsNullAndMixedTextUsesDash) {
  const config::AccessLogFormat format = jsonFormat(
      {jsonLeaf("upstream", "%UPSTREAM_HOST%"), jsonLeaf("duration", "%DURATION%"),
       jsonLeaf("close", "%WS_CLOSE_CODE_UPSTREAM%"), jsonLeaf("ua", "%REQ(USER-AGENT)%"),
       jsonLeaf("both", "%UPSTREAM_HOST% after %DURATION%ms"), jsonLeaf("literal", "fixed")});
  EXPECT_EQ(render(format, AccessLogRecord{}),
            "{\"upstream\":null,\"duration\":null,\"close\":null,\"ua\":null,"
            "\"both\":\"- after -ms\",\"literal\":\"fixed\"}\n");
}

TEST(JsonFormatTest, UntypedFormatPrintsEveryValueAsAString) {
  // FileAccessLog.json_format (deprecated in Envoy): strings only, "-" for missing values.
  const config::AccessLogFormat format =
      jsonFormat({jsonLeaf("code", "%RESPONSE_CODE%"), jsonLeaf("upstream", "%UPSTREAM_HOST%"),
                  jsonLeaf("duration", "%DURATION%")},
                 false);
  AccessLogRecord r;
  r.response_code = 404;
  EXPECT_EQ(render(format, r), "{\"code\":\"404\",\"upstream\":\"-\",\"duration\":\"-\"}\n");
}

TEST(JsonFormatTest, NestedObjectsAndLists) {
  const config::AccessLogFormat format = jsonFormat(
      {jsonNode(Kind::kObject, "ws",
                {jsonLeaf("in", "%WS_MESSAGES_RECEIVED%"), jsonLeaf("out", "%WS_MESSAGES_SENT%"),
                 jsonNode(Kind::kObject, "close",
                          {jsonLeaf("client", "%WS_CLOSE_CODE_DOWNSTREAM%"),
                           jsonLeaf("backend", "%WS_CLOSE_CODE_UPSTREAM%")})}),
       jsonNode(Kind::kList, "tags",
                {jsonLeaf("", "%UPSTREAM_CLUSTER%"), jsonLeaf("", "%RESPONSE_CODE%"),
                 jsonNode(Kind::kObject, "", {jsonLeaf("pod", "%UPSTREAM_HOSTNAME%")})})});
  EXPECT_EQ(render(format, webSocketRecord()),
            "{\"ws\":{\"in\":7,\"out\":9,\"close\":{\"client\":1000,\"backend\":1001}},"
            "\"tags\":[\"chat\",101,{\"pod\":\"chat-0\"}]}\n");
}

TEST(JsonFormatTest, OmitEmptyValuesLeavesOutMissingMembersAndItems) {
  config::AccessLogFormat format = jsonFormat(
      {jsonLeaf("code", "%RESPONSE_CODE%"), jsonLeaf("upstream", "%UPSTREAM_HOST%"),
       jsonNode(Kind::kList, "list", {jsonLeaf("", "%UPSTREAM_CLUSTER%"), jsonLeaf("", "x")}),
       jsonLeaf("mixed", "[%UPSTREAM_HOST%]")});
  format.omit_empty_values = true;
  EXPECT_EQ(render(format, AccessLogRecord{}), "{\"code\":0,\"list\":[\"x\"],\"mixed\":\"[]\"}\n");
}

TEST(JsonFormatTest, SortPropertiesSortsEveryObject) {
  config::AccessLogFormat format =
      jsonFormat({jsonLeaf("b", "%RESPONSE_CODE%"),
                  jsonNode(Kind::kObject, "a", {jsonLeaf("z", "1"), jsonLeaf("y", "2")}),
                  jsonNode(Kind::kList, "c", {jsonLeaf("", "second"), jsonLeaf("", "first")})});
  format.sort_properties = true;
  EXPECT_EQ(render(format, webSocketRecord()),
            "{\"a\":{\"y\":\"2\",\"z\":\"1\"},\"b\":101,\"c\":[\"second\",\"first\"]}\n");
}

TEST(JsonFormatTest, ValuesAreEscaped) {
  const config::AccessLogFormat format =
      jsonFormat({jsonLeaf("ua", "%REQ(USER-AGENT)%"), jsonLeaf("path", "path=%REQ(:PATH)%")});
  EXPECT_EQ(render(format, webSocketRecord(),
                   {{"user-agent", "evil\"\n{\"x\":1}"}, {":path", "/a\\b\tc"}}),
            "{\"ua\":\"evil\\\"\\n{\\\"x\\\":1}\",\"path\":\"path=/a\\\\b\\tc\"}\n");
}

TEST(JsonFormatTest, TruncationAppliesToStrings) {
  const config::AccessLogFormat format = jsonFormat({jsonLeaf("ua", "%REQ(USER-AGENT):3%")});
  EXPECT_EQ(render(format, webSocketRecord(), {{"user-agent", "Mozilla"}}), "{\"ua\":\"Moz\"}\n");
}

TEST(JsonFormatTest, DocumentedExample) {
  // The example in docs/configuration.md, section 2.16.
  const config::AccessLogFormat format = jsonFormat(
      {jsonLeaf("start", "%START_TIME%"), jsonLeaf("code", "%RESPONSE_CODE%"),
       jsonLeaf("flags", "%RESPONSE_FLAGS%"), jsonLeaf("duration_ms", "%DURATION%"),
       jsonNode(Kind::kObject, "pod",
                {jsonLeaf("address", "%UPSTREAM_HOST%"), jsonLeaf("name", "%UPSTREAM_HOSTNAME%")}),
       jsonNode(Kind::kObject, "ws",
                {jsonLeaf("in", "%WS_MESSAGES_RECEIVED%"), jsonLeaf("out", "%WS_MESSAGES_SENT%"),
                 jsonNode(Kind::kList, "close",
                          {jsonLeaf("", "%WS_CLOSE_CODE_DOWNSTREAM%"),
                           jsonLeaf("", "%WS_CLOSE_CODE_UPSTREAM%")})})});
  AccessLogRecord r = webSocketRecord();
  r.response_flags.set(ResponseFlag::kDownstreamConnectionTermination);
  r.upstream_close_code.reset();
  EXPECT_EQ(render(format, r),
            "{\"start\":\"2016-04-15T20:17:00.310Z\",\"code\":101,\"flags\":\"DC\","
            "\"duration_ms\":1234,\"pod\":{\"address\":\"10.0.2.1:8080\",\"name\":\"chat-0\"},"
            "\"ws\":{\"in\":7,\"out\":9,\"close\":[1000,null]}}\n");
}

TEST(JsonFormatTest, EmptyDictionaryIsAnEmptyObject) {
  EXPECT_EQ(render(jsonFormat({}), webSocketRecord()), "{}\n");
}

TEST(JsonFormatTest, InvalidLeafIsRejected) {
  HeaderRegistry registry;
  EXPECT_THROW(Formatter::create(
                   jsonFormat({jsonNode(Kind::kObject, "a", {jsonLeaf("b", "%NOPE%")})}), registry),
               std::invalid_argument);
}

}  // namespace
}  // namespace wslb::accesslog
