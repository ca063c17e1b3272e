// MetricsCollector without HTTP: the data model it builds and the cost of a large scrape.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <prometheus/metric_family.h>

#include <linkwatch/atomic_histogram.hpp>
#include <linkwatch/link_stats.hpp>

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
  ASSERT_EQ(hb->metric.size(), 1u);  // M2 and M3 have no interval yet
  const auto& h = hb->metric.at(0).histogram;
  const auto boundsNs = MetricsCollector::exportedHeartbeatIntervalBoundsNs();
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

// The exported bounds are a subset of the core's, so each exported cumulative count is exact:
// heartbeats arriving exactly on and just after every core bound land where they would with
// all of the core's buckets.
TEST(MetricsCollector, ExportsASubsetOfTheCoreBucketsWithExactCounts) {
  for (const auto& [core, wanted] :
       {std::pair{buckets::rtt(), MetricsCollector::exportedRttBoundsNs()},
        std::pair{buckets::heartbeatInterval(),
                  MetricsCollector::exportedHeartbeatIntervalBoundsNs()}}) {
    for (const std::int64_t w : wanted)
      EXPECT_NE(std::find(core.begin(), core.end(), w), core.end())
          << w << " ns is not a bound of the core's histogram";
    EXPECT_EQ(MetricsCollector::exportedBuckets(core, wanted).seconds.size(), wanted.size());
    EXPECT_LT(wanted.size(), core.size());
  }
  // A bound set the core no longer has: every bound rather than none.
  EXPECT_EQ(MetricsCollector::exportedBuckets({1, 2, 3}, {7}).seconds.size(), 3u);

  Scenario scenario;
  std::vector<Nanos> intervals;
  for (const Nanos bound : buckets::heartbeatInterval()) {
    intervals.push_back(bound);      // on a bound: counts as <= it
    intervals.push_back(bound + 1);  // just above
  }
  intervals.push_back(200 * kNanosPerSecond);  // beyond the last: +Inf only
  for (const Nanos interval : intervals) {
    scenario.clock.advance(interval);
    scenario.publish(
        scenario.event(Scenario::kM1, EventKind::kMessageIn, MessageClass::kHeartbeat));
    scenario.apply();
  }
  intervals.push_back(30 * kNanosPerSecond);  // the Scenario's own two
  intervals.push_back(30 * kNanosPerSecond);

  const auto families = MetricsCollector(scenario.monitor).Collect();
  const MetricFamily* hb = findFamily(families, "linkwatch_heartbeat_interval_seconds");
  ASSERT_NE(hb, nullptr);
  const auto& h = hb->metric.at(0).histogram;
  const auto wanted = MetricsCollector::exportedHeartbeatIntervalBoundsNs();
  ASSERT_EQ(h.bucket.size(), wanted.size() + 1);
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    const auto expected = static_cast<std::uint64_t>(
        std::count_if(intervals.begin(), intervals.end(), [&](Nanos v) { return v <= wanted[i]; }));
    EXPECT_EQ(h.bucket[i].cumulative_count, expected) << "le " << h.bucket[i].upper_bound;
  }
  EXPECT_EQ(h.bucket.back().cumulative_count, intervals.size());
  EXPECT_EQ(h.sample_count, intervals.size());
}

TEST(MetricsCollector, OmitsFamiliesWithNoSeriesYet) {
  Scenario scenario;  // no RTT probe was ever answered
  const auto families = MetricsCollector(scenario.monitor).Collect();
  EXPECT_EQ(findFamily(families, "linkwatch_rtt_last_seconds"), nullptr);
  EXPECT_EQ(findFamily(families, "linkwatch_rtt_seconds"), nullptr);
  EXPECT_NE(findFamily(families, "linkwatch_heartbeat_interval_seconds"), nullptr);
}

// Counts the series of one link in an exposition.
std::size_t seriesOf(const std::string& text, const std::string& member) {
  const std::string needle = "{member=\"" + member + "\",";
  std::size_t n = 0;
  for (std::size_t pos = 0; (pos = text.find(needle, pos)) != std::string::npos; ++pos) ++n;
  return n;
}

TEST(MetricsCollector, ExportsMessageTypesAndHistogramsOnceSeen) {
  Scenario scenario;
  MetricsCollector collector(scenario.monitor);
  const std::string before = collector.serialize();
  // M3 never connected: no message type but garbled, no histogram; the incident counters
  // are there at zero.
  EXPECT_NE(before.find("linkwatch_messages_received_total{member=\"M3\",session=\"FIX.4.4:EXCH->"
                        "M3\",msg_type=\"garbled\"} 0\n"),
            std::string::npos);
  EXPECT_EQ(before.find("linkwatch_messages_sent_total{member=\"M3\""), std::string::npos);
  EXPECT_EQ(before.find("linkwatch_heartbeat_interval_seconds_count{member=\"M3\""),
            std::string::npos);
  EXPECT_NE(before.find("linkwatch_disconnects_total{member=\"M3\",session=\"FIX.4.4:EXCH->M3\","
                        "reason=\"logout\"} 0\n"),
            std::string::npos);
  EXPECT_EQ(before.find("msg_type=\"application\""), std::string::npos);
  const std::size_t quiet = seriesOf(before, "M3");

  // An RTT probe answered, an application message each way.
  SessionEvent probe =
      scenario.event(Scenario::kM1, EventKind::kMessageOut, MessageClass::kTestRequest);
  probe.flags = event_flag::kHasTestReqId | event_flag::kProbeTestReqId;
  probe.testReqId = 7;
  scenario.publish(probe);
  scenario.apply();
  scenario.clock.advance(2 * kNanosPerMilli);
  SessionEvent answer =
      scenario.event(Scenario::kM1, EventKind::kMessageIn, MessageClass::kHeartbeat);
  answer.flags = event_flag::kHasTestReqId | event_flag::kProbeTestReqId;
  answer.testReqId = 7;
  scenario.publish(answer);
  scenario.publish(scenario.event(Scenario::kM1, EventKind::kMessageIn));
  scenario.publish(scenario.event(Scenario::kM1, EventKind::kMessageOut));
  scenario.apply();

  const std::string after = collector.serialize();
  const std::string m1 = "{member=\"M1\",session=\"FIX.4.4:EXCH->M1\"";
  EXPECT_NE(after.find("linkwatch_rtt_seconds_count" + m1 + "} 1\n"), std::string::npos);
  EXPECT_NE(after.find("linkwatch_rtt_seconds_bucket" + m1 + ",le=\"0.005\"} 1\n"),
            std::string::npos);
  EXPECT_NE(after.find("linkwatch_rtt_seconds_bucket" + m1 + ",le=\"0.001\"} 0\n"),
            std::string::npos);
  EXPECT_NE(after.find("linkwatch_messages_received_total" + m1 + ",msg_type=\"application\"} 1\n"),
            std::string::npos);
  EXPECT_NE(after.find("linkwatch_messages_sent_total" + m1 + ",msg_type=\"test_request\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(after.find("linkwatch_rtt_seconds_count{member=\"M2\""), std::string::npos);

  // What a link costs: a quiet one, and one with traffic of every usual kind and probes.
  const std::size_t busy = seriesOf(after, "M1");
  RecordProperty("series_quiet_link", std::to_string(quiet));
  RecordProperty("series_busy_link", std::to_string(busy));
  std::printf("series a link: %zu never connected, %zu logged on with probes and traffic\n", quiet,
              busy);
  EXPECT_LE(quiet, 30u);
  EXPECT_LE(busy, 70u);
}

TEST(MetricsCollector, StreamsInChunksAndStopsWhenTheSinkDoes) {
  Scenario scenario;
  MetricsCollector collector(scenario.monitor);
  const std::string whole = collector.serialize();
  std::string streamed;
  std::size_t chunks = 0;
  std::size_t largest = 0;
  EXPECT_TRUE(collector.write(
      [&](std::string_view chunk) {
        ++chunks;
        largest = std::max(largest, chunk.size());
        streamed += chunk;
        return true;
      },
      512));
  EXPECT_EQ(streamed, whole);
  EXPECT_GT(chunks, whole.size() / 2048);
  EXPECT_LT(largest, 512u + 2048u);  // a chunk overshoots by at most one histogram

  std::size_t calls = 0;
  EXPECT_FALSE(collector.write(
      [&](std::string_view) {
        ++calls;
        return false;  // the client went away
      },
      512));
  EXPECT_EQ(calls, 1u);
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
