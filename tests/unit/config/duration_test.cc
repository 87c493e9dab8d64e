#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "config_test_util.h"
#include "wslb/config/loader.h"

namespace wslb::config {
namespace {

using ::testing::TestWithParam;
using ::testing::Values;

struct DurationCase {
  std::string text;
  std::optional<int64_t> millis;  ///< nullopt: must be rejected.
};

class ParseDurationTest : public TestWithParam<DurationCase> {};

TEST_P(ParseDurationTest, ParsesOrRejects) {
  const DurationCase& c = GetParam();
  std::optional<Duration> got = parseDuration(c.text);
  if (c.millis) {
    ASSERT_TRUE(got.has_value()) << c.text;
    EXPECT_EQ(got->count(), *c.millis) << c.text;
  } else {
    EXPECT_FALSE(got.has_value()) << c.text << " parsed as " << got->count() << "ms";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Valid, ParseDurationTest,
    Values(DurationCase{"5s", 5000}, DurationCase{"0s", 0}, DurationCase{"0.25s", 250},
           DurationCase{"1.5s", 1500}, DurationCase{"1.000340012s", 1000},
           DurationCase{"0.999999999s", 999}, DurationCase{"00010s", 10'000},
           DurationCase{"300s", 300'000},
           // Below a millisecond but not zero: rounds up so the timeout is not disabled.
           DurationCase{"0.0005s", 1}, DurationCase{"0.000000001s", 1}, DurationCase{"0.000s", 0},
           DurationCase{"315576000000s", int64_t{315'576'000'000} * 1000}));

INSTANTIATE_TEST_SUITE_P(
    Invalid, ParseDurationTest,
    Values(DurationCase{"", std::nullopt}, DurationCase{"s", std::nullopt},
           DurationCase{"5", std::nullopt}, DurationCase{"5ms", std::nullopt},
           DurationCase{"5m", std::nullopt}, DurationCase{"-1s", std::nullopt},
           DurationCase{"+1s", std::nullopt}, DurationCase{"1.s", std::nullopt},
           DurationCase{".5s", std::nullopt}, DurationCase{"1.0000000001s", std::nullopt},
           DurationCase{"1,5s", std::nullopt}, DurationCase{" 5s", std::nullopt},
           DurationCase{"5s ", std::nullopt}, DurationCase{"1e3s", std::nullopt},
           DurationCase{"5S", std::nullopt}, DurationCase{"1.2.3s", std::nullopt},
           DurationCase{"315576000001s", std::nullopt},
           DurationCase{"99999999999999999999s", std::nullopt}));

// Duration fields report the same message wherever they are.
TEST(DurationFieldTest, MalformedDurationIsAnErrorAtItsPath) {
  LoadResult r = testing::loadClusters(testing::clusterYaml("c", "connect_timeout: 5"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(testing::errorsOf(r),
            (std::vector<std::string>{"static_resources.clusters[0].connect_timeout: expected a "
                                      "duration such as \"5s\""}));
}

TEST(DurationFieldTest, MappingFormIsRejected) {
  LoadResult r = testing::loadClusters(testing::clusterYaml("c", "connect_timeout: {seconds: 5}"));
  EXPECT_EQ(testing::errorsOf(r),
            (std::vector<std::string>{"static_resources.clusters[0].connect_timeout: expected a "
                                      "duration such as \"5s\""}));
}

TEST(DurationFieldTest, QuotedAndPlainDurationsAreAccepted) {
  LoadResult r = testing::loadClusters(testing::clusterYaml("c", "connect_timeout: \"0.5s\"") +
                                       ", " + testing::clusterYaml("d", "connect_timeout: 2s"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(testing::errorsOf(r));
  EXPECT_EQ(r.bootstrap->clusters[0].connect_timeout, Duration(500));
  EXPECT_EQ(r.bootstrap->clusters[1].connect_timeout, Duration(2000));
}

}  // namespace
}  // namespace wslb::config
