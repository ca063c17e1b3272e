// MetricsCollector without HTTP: the data model it builds and the cost of a large scrape.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>
#include <prometheus/metric_family.h>

#include "http/http_test_support.hpp"
#include "http/metrics_collector.hpp"

namespace linkwatch {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;
using testing::Scenario;

const MetricFamily* findFamily(const std::vector<MetricFamily>& families, const std::string& name) {
  for (const auto& f : families)
    if (f.name == name) return &f;
  return nullptr;
}

TEST(MetricsCollector, GivesEveryFamilyHelpAndConventionalNames) {
  Scenario scenario;
  const auto families = MetricsCollector(scenario.monitor).Collect();
  ASSERT_FALSE(families.empty());
  for (const auto& f : families) {
    EXPECT_EQ(f.name.rfind("linkwatch_", 0), 0u) << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    EXPECT_FALSE(f.metric.empty()) << f.name;
    const bool total = f.name.size() > 6 && f.name.ends_with("_total");
    EXPECT_EQ(total, f.type == MetricType::Counter) << f.name;
  }
}

TEST(MetricsCollector, ConvertsHistogramsToCumulativeSecondsEndingInInf) {
  Scenario scenario;
  const auto families = MetricsCollector(scenario.monitor).Collect();
  const MetricFamily* hb = findFamily(families, "linkwatch_heartbeat_interval_seconds");
  ASSERT_NE(hb, nullptr);
  ASSERT_EQ(hb->type, MetricType::Histogram);
  const auto& h = hb->metric.at(Scenario::kM1).histogram;
  const auto boundsNs = buckets::heartbeatInterval();
  ASSERT_EQ(h.bucket.size(), boundsNs.size() + 1);
  for (std::size_t i = 0; i < boundsNs.size(); ++i)
    EXPECT_DOUBLE_EQ(h.bucket[i].upper_bound, static_cast<double>(boundsNs[i]) / 1e9);
  EXPECT_TRUE(std::isinf(h.bucket.back().upper_bound));
  for (std::size_t i = 1; i < h.bucket.size(); ++i)
    EXPECT_GE(h.bucket[i].cumulative_count, h.bucket[i - 1].cumulative_count);
  EXPECT_EQ(h.bucket.back().cumulative_count, h.sample_count);
  EXPECT_EQ(h.sample_count, 2u);
  EXPECT_DOUBLE_EQ(h.sample_sum, 60.0);
}

TEST(MetricsCollector, OmitsFamiliesWithNoSeriesYet) {
  Scenario scenario;  // no RTT probe was ever answered
  const auto families = MetricsCollector(scenario.monitor).Collect();
  EXPECT_EQ(findFamily(families, "linkwatch_rtt_last_seconds"), nullptr);
  EXPECT_NE(findFamily(families, "linkwatch_rtt_seconds"), nullptr);
}

// Not a benchmark (bench/ has those): checks that a 1,000-link exposition is complete and
// records how long it took, so a regression shows in the test log.
TEST(MetricsCollector, SerialisesAThousandLinks) {
  MonitorConfig config;
  config.historySize = 16;
  config.eventQueueCapacity = 1024;
  for (int i = 0; i < 1000; ++i)
    config.links.push_back(testing::makeLink(
        "MBR" + std::to_string(i), "Member " + std::to_string(i), Criticality::kStandard));
  ManualClock clock;
  LinkMonitor monitor(std::move(config), clock);
  MetricsCollector collector(monitor);

  // The first scrape pays for fresh pages; later ones reuse the allocator's memory.
  const auto time = [&](std::string& text) {
    const auto begin = std::chrono::steady_clock::now();
    text = collector.serialize();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin)
        .count();
  };
  std::string text;
  const double coldMs = time(text);
  double warmMs = time(text);
  for (int i = 0; i < 3; ++i) warmMs = std::min(warmMs, time(text));
  RecordProperty("cold_ms", std::to_string(coldMs));
  RecordProperty("warm_ms", std::to_string(warmMs));
  RecordProperty("bytes", std::to_string(text.size()));
  std::printf("1000 links: first scrape %.1f ms, then %.1f ms; %zu bytes\n", coldMs, warmMs,
              text.size());

  std::size_t upSeries = 0;
  for (std::size_t pos = 0; (pos = text.find("\nlinkwatch_link_up{", pos)) != std::string::npos;
       ++pos)
    ++upSeries;
  EXPECT_EQ(upSeries, 1000u);
  EXPECT_NE(text.find("linkwatch_links{state=\"down\"} 1000"), std::string::npos);
}

}  // namespace
}  // namespace linkwatch
