#include <gtest/gtest.h>

#include "accesslog_test_util.h"

namespace wslb::accesslog {
namespace {

using testing::renderText;
using namespace std::chrono_literals;

AccessLogRecord at(std::chrono::system_clock::time_point time) {
  AccessLogRecord r;
  r.start_time = time;
  return r;
}

TEST(StartTimeTest, DefaultIsIso8601UtcWithMilliseconds) {
  EXPECT_EQ(renderText("%START_TIME%", at(testing::exampleTime())), "2016-04-15T20:17:00.310Z");
  // An empty format is the default too.
  EXPECT_EQ(renderText("%START_TIME()%", at(testing::exampleTime())), "2016-04-15T20:17:00.310Z");
  // Milliseconds are truncated, not rounded.
  EXPECT_EQ(renderText("%START_TIME%", at(testing::exampleTime() + 689876543ns)),
            "2016-04-15T20:17:00.999Z");
}

TEST(StartTimeTest, StrftimeSpecifiersInUtc) {
  EXPECT_EQ(renderText("%START_TIME(%Y/%m/%dT%H:%M:%S%z)%", at(testing::exampleTime())),
            "2016/04/15T20:17:00+0000");
  EXPECT_EQ(renderText("%START_TIME(%a %d %b %Y)%", at(testing::exampleTime())), "Fri 15 Apr 2016");
}

TEST(StartTimeTest, EpochSecondsAndFractions) {
  const AccessLogRecord r = at(testing::exampleTime());
  EXPECT_EQ(renderText("%START_TIME(%s)%", r), "1460751420");
  EXPECT_EQ(renderText("%START_TIME(%s.%3f)%", r), "1460751420.310");
  EXPECT_EQ(renderText("%START_TIME(%s.%6f)%", r), "1460751420.310123");
  EXPECT_EQ(renderText("%START_TIME(%s.%9f)%", r), "1460751420.310123456");
  EXPECT_EQ(renderText("%START_TIME(%s.%f)%", r), "1460751420.310123456");
  EXPECT_EQ(renderText("%START_TIME(%s.%1f)%", r), "1460751420.3");
  // Envoy's documented example, several specifiers in one format.
  EXPECT_EQ(renderText("%START_TIME(%Y/%m/%dT%H:%M:%S%z %s)%", r),
            "2016/04/15T20:17:00+0000 1460751420");
}

TEST(StartTimeTest, AbslSecondsAndOffsetExtensions) {
  const AccessLogRecord r = at(testing::exampleTime());
  EXPECT_EQ(renderText("%START_TIME(%H:%M:%E3S)%", r), "20:17:00.310");
  EXPECT_EQ(renderText("%START_TIME(%E6S)%", r), "00.310123");
  EXPECT_EQ(renderText("%START_TIME(%E*S)%", r), "00.310123456");
  EXPECT_EQ(renderText("%START_TIME(%E0S)%", r), "00");
  EXPECT_EQ(renderText("%START_TIME(%E3f)%", r), "310");
  EXPECT_EQ(renderText("%START_TIME(%Ez)%", r), "+00:00");

  const AccessLogRecord round = at(testing::exampleTime() - 10123456ns);  // .300000000
  EXPECT_EQ(renderText("%START_TIME(%E*S)%", round), "00.3");
  EXPECT_EQ(renderText("%START_TIME(%E*f)%", round), "3");
  const AccessLogRecord whole = at(testing::exampleTime() - 310123456ns);
  EXPECT_EQ(renderText("%START_TIME(%E*S)%", whole), "00");
}

TEST(StartTimeTest, PercentEscapesStayLiteral) {
  const AccessLogRecord r = at(testing::exampleTime());
  EXPECT_EQ(renderText("%START_TIME(%%s %%f 100%%)%", r), "%s %f 100%");
}

TEST(StartTimeTest, SeveralStartTimesInOneLine) {
  EXPECT_EQ(renderText("%START_TIME(%s)% [%START_TIME%]", at(testing::exampleTime())),
            "1460751420 [2016-04-15T20:17:00.310Z]");
}

}  // namespace
}  // namespace wslb::accesslog
