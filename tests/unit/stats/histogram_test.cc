#include "wslb/stats/histogram.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "wslb/stats/render.h"

namespace wslb::stats {
namespace {

TEST(HistogramTest, BucketsAreCumulativeWithEnvoysBounds) {
  Histogram h;
  for (double v : {0.2, 0.5, 3.0, 7.0, 120.0, 5000000.0}) h.record(v);
  auto s = h.snapshot();
  EXPECT_EQ(s->count, 6u);
  EXPECT_DOUBLE_EQ(s->sum, 0.2 + 0.5 + 3 + 7 + 120 + 5000000);
  ASSERT_EQ(s->bounds.size(), kDefaultBuckets.size());
  EXPECT_EQ(s->cumulative[0], 2u);      // <= 0.5
  EXPECT_EQ(s->cumulative[1], 2u);      // <= 1
  EXPECT_EQ(s->cumulative[2], 3u);      // <= 5
  EXPECT_EQ(s->cumulative[3], 4u);      // <= 10
  EXPECT_EQ(s->cumulative[7], 5u);      // <= 250
  EXPECT_EQ(s->cumulative.back(), 5u);  // 5,000,000 is above the last bound: only in count
  h.reset();
  EXPECT_EQ(h.snapshot()->count, 0u);
}

TEST(HistogramTest, QuantilesInterpolateInsideBuckets) {
  Histogram h;
  for (int i = 0; i < 100; ++i) h.record(7);  // all in (5, 10]
  auto s = h.snapshot();
  EXPECT_DOUBLE_EQ(s->quantile(0.5), 7.5);
  EXPECT_DOUBLE_EQ(s->quantile(1.0), 10);
  EXPECT_EQ(Histogram().snapshot()->quantile(0.5), 0);
}

TEST(HistogramTest, ConcurrentRecordsAreAllCounted) {
  Histogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) h.record(i % 100);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.snapshot()->count, 40000u);
}

TEST(HistogramTest, RenderedAsEnvoyTextAndPrometheusHistogram) {
  Histogram h;
  h.record(3);
  h.record(30);
  std::vector<Stat> stats;
  stats.emplace_back("cluster.c.upstream_cx_connect_ms", "cluster.upstream_cx_connect_ms",
                     Tags{{"envoy_cluster_name", "c"}}, StatType::kHistogram, 2, h.snapshot());
  stats.emplace_back("cluster.c.upstream_cx_length_ms", "cluster.upstream_cx_length_ms",
                     Tags{{"envoy_cluster_name", "c"}}, StatType::kHistogram, 0,
                     Histogram().snapshot());
  const std::string text = renderText(stats);
  EXPECT_THAT(text,
              ::testing::HasSubstr("cluster.c.upstream_cx_connect_ms: P0(1,1) P25(3,3) P50(5,5)"));
  EXPECT_THAT(text, ::testing::HasSubstr("cluster.c.upstream_cx_length_ms: No recorded values"));
  const std::string prom = renderPrometheus(stats);
  EXPECT_THAT(prom, ::testing::HasSubstr("# TYPE envoy_cluster_upstream_cx_connect_ms histogram"));
  EXPECT_THAT(prom, ::testing::HasSubstr(
                        "envoy_cluster_upstream_cx_connect_ms_bucket{envoy_cluster_name=\"c\",le="
                        "\"5\"} 1"));
  EXPECT_THAT(prom, ::testing::HasSubstr(
                        "envoy_cluster_upstream_cx_connect_ms_bucket{envoy_cluster_name=\"c\",le="
                        "\"+Inf\"} 2"));
  EXPECT_THAT(prom, ::testing::HasSubstr(
                        "envoy_cluster_upstream_cx_connect_ms_sum{envoy_cluster_name=\"c\"} 33"));
  EXPECT_THAT(prom, ::testing::HasSubstr(
                        "envoy_cluster_upstream_cx_connect_ms_count{envoy_cluster_name=\"c\"} 2"));
}

}  // namespace
}  // namespace wslb::stats
