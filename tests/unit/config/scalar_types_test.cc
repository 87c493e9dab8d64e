// proto3 JSON typing rules as the loader applies them, checked through real fields.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_util.h"
#include "wslb/config/loader.h"

namespace wslb::config {
namespace {

using testing::clusterYaml;
using ::testing::ElementsAre;
using testing::errorsOf;
using testing::loadClusters;

constexpr std::string_view kMaxConnPath =
    "static_resources.clusters[0].circuit_breakers.thresholds[0].max_connections";

LoadResult loadMaxConnections(std::string_view value) {
  return loadClusters(clusterYaml(
      "c", "circuit_breakers: {thresholds: [{max_connections: " + std::string(value) + "}]}"));
}

TEST(Uint32Test, AcceptsIntegersAndStringsOfDigits) {
  for (auto [text, want] : std::vector<std::pair<std::string, uint32_t>>{
           {"7", 7}, {"\"7\"", 7}, {"'0'", 0}, {"4294967295", 4294967295u}, {"007", 7}}) {
    LoadResult r = loadMaxConnections(text);
    ASSERT_TRUE(r.ok()) << text << ": " << ::testing::PrintToString(errorsOf(r));
    EXPECT_EQ(r.bootstrap->clusters[0].default_thresholds.max_connections, want) << text;
  }
}

TEST(Uint32Test, RejectsEverythingElse) {
  for (std::string text :
       {"-1", "1.5", "1e3", "abc", "\"\"", "' 7'", "true", "[1]", "{a: 1}", "0x10", "+5"}) {
    LoadResult r = loadMaxConnections(text);
    EXPECT_THAT(errorsOf(r),
                ElementsAre(std::string(kMaxConnPath) + ": expected an unsigned integer"))
        << text;
    EXPECT_FALSE(r.bootstrap.has_value());
  }
}

TEST(Uint32Test, OutOfRangeSaysSo) {
  EXPECT_THAT(errorsOf(loadMaxConnections("4294967296")),
              ElementsAre(std::string(kMaxConnPath) +
                          ": expected an unsigned integer no larger than 4294967295"));
}

TEST(BoolTest, AcceptsTrueAndFalse) {
  LoadResult r = loadClusters(
      clusterYaml("c",
                  "circuit_breakers: {thresholds: [{track_remaining: true}, {priority: HIGH, "
                  "track_remaining: false}]}"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_TRUE(r.bootstrap->clusters[0].default_thresholds.track_remaining);
  ASSERT_TRUE(r.bootstrap->clusters[0].high_thresholds.has_value());
  EXPECT_FALSE(r.bootstrap->clusters[0].high_thresholds->track_remaining);
}

TEST(BoolTest, AcceptsTheYaml11WordsEnvoyAccepts) {
  for (auto [text, want] : std::vector<std::pair<std::string, bool>>{{"True", true},
                                                                     {"TRUE", true},
                                                                     {"yes", true},
                                                                     {"On", true},
                                                                     {"y", true},
                                                                     {"False", false},
                                                                     {"NO", false},
                                                                     {"off", false},
                                                                     {"\"false\"", false}}) {
    LoadResult r = loadClusters(
        clusterYaml("c", "circuit_breakers: {thresholds: [{track_remaining: " + text + "}]}"));
    ASSERT_TRUE(r.ok()) << text << ": " << ::testing::PrintToString(errorsOf(r));
    EXPECT_EQ(r.bootstrap->clusters[0].default_thresholds.track_remaining, want) << text;
  }
}

TEST(BoolTest, RejectsOtherWords) {
  for (std::string text : {"1", "0", "tRuE", "yep", "[true]", "{}"}) {
    LoadResult r = loadClusters(
        clusterYaml("c", "circuit_breakers: {thresholds: [{track_remaining: " + text + "}]}"));
    EXPECT_THAT(errorsOf(r), ElementsAre("static_resources.clusters[0].circuit_breakers."
                                         "thresholds[0].track_remaining: expected true or false"))
        << text;
  }
}

TEST(EnumTest, UnknownNamesAreErrors) {
  EXPECT_THAT(errorsOf(loadClusters(clusterYaml("c", "lb_policy: LEAST_REQ"))),
              ElementsAre("static_resources.clusters[0].lb_policy: unknown value "
                          "\"LEAST_REQ\"; expected one of LEAST_REQUEST, ROUND_ROBIN, RANDOM"));
  EXPECT_THAT(errorsOf(loadClusters(clusterYaml("c", "lb_policy: 4"))),
              ElementsAre("static_resources.clusters[0].lb_policy: unknown value "
                          "\"4\"; expected one of LEAST_REQUEST, ROUND_ROBIN, RANDOM"));
}

TEST(EnumTest, NamesAreCaseInsensitiveAsInEnvoy) {
  LoadResult r = loadClusters(clusterYaml("c", "lb_policy: round_robin") + ", " +
                              clusterYaml("d", "lb_policy: Random"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(r.bootstrap->clusters[0].lb_policy, LbPolicy::kRoundRobin);
  EXPECT_EQ(r.bootstrap->clusters[1].lb_policy, LbPolicy::kRandom);
  EXPECT_THAT(errorsOf(loadClusters(clusterYaml("c", "lb_policy: ring_hash"))),
              ElementsAre("static_resources.clusters[0].lb_policy: RING_HASH is not supported by "
                          "wslb (supported: LEAST_REQUEST, ROUND_ROBIN, RANDOM)"));
}

TEST(EnumTest, NumbersAreAcceptedAsInProto3Json) {
  LoadResult r = loadClusters(clusterYaml("c", "lb_policy: 3"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(r.bootstrap->clusters[0].lb_policy, LbPolicy::kRandom);
}

TEST(EnumTest, NonScalarIsAnError) {
  EXPECT_THAT(errorsOf(loadClusters(clusterYaml("c", "lb_policy: [RANDOM]"))),
              ElementsAre("static_resources.clusters[0].lb_policy: expected one of "
                          "LEAST_REQUEST, ROUND_ROBIN, RANDOM"));
}

TEST(NodeKindTest, MappingExpected) {
  EXPECT_THAT(errorsOf(loadClusters(clusterYaml("c", "circuit_breakers: [1]"))),
              ElementsAre("static_resources.clusters[0].circuit_breakers: expected a mapping"));
  EXPECT_THAT(errorsOf(loadClusters("7")),
              ElementsAre("static_resources.clusters[0]: expected a mapping"));
}

TEST(NodeKindTest, SequenceExpected) {
  EXPECT_THAT(errorsOf(loadBootstrapFromString("static_resources: {clusters: {name: c}}")),
              ElementsAre("static_resources.clusters: expected a sequence"));
}

TEST(NodeKindTest, StringExpected) {
  EXPECT_THAT(errorsOf(loadClusters("{name: [a]}")),
              ElementsAre("static_resources.clusters[0].name: expected a string"));
}

TEST(NullTest, NullMeansUnset) {
  LoadResult r = loadClusters(clusterYaml("c", "lb_policy: ~, connect_timeout: null"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(r.bootstrap->clusters[0].lb_policy, LbPolicy::kLeastRequest);
  EXPECT_EQ(r.bootstrap->clusters[0].connect_timeout, Duration(5000));
  EXPECT_TRUE(r.warnings.empty());
}

TEST(NullTest, NullRequiredFieldIsMissing) {
  EXPECT_THAT(errorsOf(loadClusters("{name: ~}")),
              ElementsAre("static_resources.clusters[0].name: required field is missing"));
}

TEST(DuplicateKeyTest, IsAnError) {
  EXPECT_THAT(errorsOf(loadClusters("{name: a, name: b}")),
              ElementsAre("static_resources.clusters[0].name: duplicate key"));
}

}  // namespace
}  // namespace wslb::config
