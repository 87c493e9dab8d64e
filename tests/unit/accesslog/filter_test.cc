#include "wslb/accesslog/filter.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "accesslog_test_util.h"

namespace wslb::accesslog {
namespace {

using namespace std::chrono_literals;
using Kind = config::AccessLogFilter::Kind;
using Op = config::AccessLogFilter::Op;

config::AccessLogFilter comparison(Kind kind, Op op, uint32_t value) {
  config::AccessLogFilter f;
  f.kind = kind;
  f.op = op;
  f.value = value;
  return f;
}

AccessLogRecord withCode(uint32_t code) {
  AccessLogRecord r;
  r.response_code = code;
  return r;
}

TEST(FilterTest, StatusCodeComparisons) {
  EXPECT_TRUE(Filter(comparison(Kind::kStatusCode, Op::kEq, 101)).matches(withCode(101)));
  EXPECT_FALSE(Filter(comparison(Kind::kStatusCode, Op::kEq, 101)).matches(withCode(503)));
  EXPECT_TRUE(Filter(comparison(Kind::kStatusCode, Op::kGe, 400)).matches(withCode(503)));
  EXPECT_TRUE(Filter(comparison(Kind::kStatusCode, Op::kGe, 400)).matches(withCode(400)));
  EXPECT_FALSE(Filter(comparison(Kind::kStatusCode, Op::kGe, 400)).matches(withCode(101)));
  EXPECT_TRUE(Filter(comparison(Kind::kStatusCode, Op::kLe, 299)).matches(withCode(101)));
  EXPECT_FALSE(Filter(comparison(Kind::kStatusCode, Op::kLe, 299)).matches(withCode(404)));
  EXPECT_TRUE(Filter(comparison(Kind::kStatusCode, Op::kNe, 101)).matches(withCode(0)));
  EXPECT_FALSE(Filter(comparison(Kind::kStatusCode, Op::kNe, 101)).matches(withCode(101)));
}

TEST(FilterTest, DurationInMilliseconds) {
  const Filter longer(comparison(Kind::kDuration, Op::kGe, 60000));
  AccessLogRecord r;
  EXPECT_FALSE(longer.matches(r));  // no duration: no match
  r.duration = 59999ms + 999us;
  EXPECT_FALSE(longer.matches(r));
  r.duration = 60s;
  EXPECT_TRUE(longer.matches(r));
}

TEST(FilterTest, ResponseFlags) {
  config::AccessLogFilter any;
  any.kind = Kind::kResponseFlag;
  config::AccessLogFilter overflow = any;
  overflow.response_flags = {"UO", "UH"};

  AccessLogRecord r;
  EXPECT_FALSE(Filter(any).matches(r));
  EXPECT_FALSE(Filter(overflow).matches(r));
  r.response_flags.set(ResponseFlag::kDownstreamConnectionTermination);
  EXPECT_TRUE(Filter(any).matches(r));
  EXPECT_FALSE(Filter(overflow).matches(r));
  r.response_flags.set(ResponseFlag::kNoHealthyUpstream);
  EXPECT_TRUE(Filter(overflow).matches(r));

  config::AccessLogFilter bad = any;
  bad.response_flags = {"XX"};
  EXPECT_THROW(Filter{bad}, std::invalid_argument);
}

TEST(FilterTest, NotHealthCheckMatchesEverything) {
  config::AccessLogFilter f;
  f.kind = Kind::kNotHealthCheck;
  EXPECT_TRUE(Filter(f).matches(AccessLogRecord{}));
}

TEST(FilterTest, AndOr) {
  config::AccessLogFilter both;
  both.kind = Kind::kAnd;
  both.filters = {comparison(Kind::kStatusCode, Op::kEq, 101),
                  comparison(Kind::kDuration, Op::kGe, 1000)};
  config::AccessLogFilter either = both;
  either.kind = Kind::kOr;

  AccessLogRecord r = withCode(101);
  r.duration = 10ms;
  EXPECT_FALSE(Filter(both).matches(r));
  EXPECT_TRUE(Filter(either).matches(r));
  r.duration = 2s;
  EXPECT_TRUE(Filter(both).matches(r));
  r.response_code = 503;
  r.duration = 10ms;
  EXPECT_FALSE(Filter(either).matches(r));

  config::AccessLogFilter nested;
  nested.kind = Kind::kOr;
  nested.filters = {both, comparison(Kind::kStatusCode, Op::kGe, 500)};
  EXPECT_TRUE(Filter(nested).matches(r));
}

}  // namespace
}  // namespace wslb::accesslog
