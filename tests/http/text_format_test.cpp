// Differential: our text-format writer against prometheus::TextSerializer, the reference.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "http/http_test_support.hpp"
#include "http/metrics_collector.hpp"
#include "http/text_format.hpp"

namespace linkwatch {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::string reference(const std::vector<MetricFamily>& families) {
  return prometheus::TextSerializer().Serialize(families);
}

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

TEST(TextFormat, MatchesTextSerializerOnAMonitorScrape) {
  testing::Scenario scenario;
  const auto families = MetricsCollector(scenario.monitor).Collect();
  EXPECT_EQ(toTextFormat(families), reference(families));
}

// What /metrics serves (MetricsCollector::write, streamed without building the model) is
// TextSerializer's rendering of what Collect() builds, on a scrape with every kind of family:
// probes answered, messages each way, hostile label values, links never connected.
TEST(TextFormat, StreamedScrapeIsTextSerializersRenderingOfTheModel) {
  testing::Scenario scenario;
  using testing::Scenario;
  SessionEvent probe =
      scenario.event(Scenario::kM1, EventKind::kMessageOut, MessageClass::kTestRequest);
  probe.flags = event_flag::kHasTestReqId | event_flag::kProbeTestReqId;
  probe.testReqId = 1;
  scenario.publish(probe);
  scenario.apply();
  scenario.clock.advance(1234567);
  SessionEvent answer =
      scenario.event(Scenario::kM1, EventKind::kMessageIn, MessageClass::kHeartbeat);
  answer.flags = event_flag::kHasTestReqId | event_flag::kProbeTestReqId;
  answer.testReqId = 1;
  scenario.publish(answer);
  scenario.publish(scenario.event(Scenario::kM1, EventKind::kMessageIn, MessageClass::kReject));
  scenario.publish(scenario.event(Scenario::kM2, EventKind::kMessageOut));
  scenario.apply();

  MetricsCollector collector(scenario.monitor);
  collector.recordScrapeDuration(12345678);
  const std::string expected = reference(collector.Collect());
  EXPECT_NE(expected.find("linkwatch_rtt_seconds_bucket"), std::string::npos);
  EXPECT_NE(expected.find("Best\\\""), std::string::npos);  // an escaped label value
  EXPECT_EQ(collector.serialize(), expected);
  for (const std::size_t chunkBytes : {std::size_t{1}, std::size_t{100}, std::size_t{1} << 20}) {
    std::string streamed;
    EXPECT_TRUE(collector.write(
        [&](std::string_view chunk) {
          streamed += chunk;
          return true;
        },
        chunkBytes));
    EXPECT_EQ(streamed, expected) << "chunks of " << chunkBytes;
  }
}

TEST(TextFormat, MatchesTextSerializerOnEdgeCases) {
  std::vector<MetricFamily> families;
  auto& g = families.emplace_back(family("g", "help with \"quotes\"", MetricType::Gauge));
  for (const double v :
       {0.0, -0.0, 1.0, -1.5, 0.1 + 0.2, 1e-7, 1e21, 1e15, 1e16, 0.0001, 123456789012345678.0,
        5e-324, 1767225600.123, std::numeric_limits<double>::max(), std::nan(""),
        std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()}) {
    ClientMetric& m = g.metric.emplace_back();
    m.gauge.value = v;
  }
  ClientMetric& labelled = g.metric.emplace_back();
  labelled.label = {{"a", "plain"}, {"b", "q\"uo\\te\nnew <script>"}, {"c", ""}};
  labelled.timestamp_ms = 1767225600123;

  auto& c = families.emplace_back(family("c_total", "", MetricType::Counter));
  c.metric.emplace_back().counter.value = 42;

  auto& u = families.emplace_back(family("u", "untyped", MetricType::Untyped));
  u.metric.emplace_back().untyped.value = 7;

  auto& s = families.emplace_back(family("s_seconds", "summary", MetricType::Summary));
  ClientMetric& sm = s.metric.emplace_back();
  sm.label = {{"x", "y"}};
  sm.summary.sample_count = 10;
  sm.summary.sample_sum = 1.25;
  sm.summary.quantile = {{0.5, 0.1}, {0.99, 0.9}};

  auto& h = families.emplace_back(family("h_seconds", "histogram", MetricType::Histogram));
  ClientMetric& withoutInf = h.metric.emplace_back();  // the serializer adds +Inf itself
  withoutInf.histogram.sample_count = std::numeric_limits<std::uint64_t>::max();
  withoutInf.histogram.bucket = {{1, 0.0001}, {2, 2.5e-5}};
  ClientMetric& withInf = h.metric.emplace_back();
  withInf.label = {{"member", "M\"1"}};
  withInf.histogram.sample_count = 3;
  withInf.histogram.sample_sum = 0.5;
  withInf.histogram.bucket = {{1, 0.1}, {3, std::numeric_limits<double>::infinity()}};

  families.emplace_back(family("empty", "no series", MetricType::Gauge));

  EXPECT_EQ(toTextFormat(families), reference(families));
}

TEST(TextFormat, MatchesTextSerializerOnRandomDoubles) {
  std::mt19937_64 rng(20260101);
  MetricFamily f = family("r", "random", MetricType::Gauge);
  for (int i = 0; i < 20000; ++i) {
    ClientMetric& m = f.metric.emplace_back();
    // Half arbitrary bit patterns (every exponent), half values of a plausible magnitude.
    m.gauge.value = i % 2 == 0 ? std::bit_cast<double>(rng())
                               : std::ldexp(static_cast<double>(rng() >> 11), -40);
  }
  const std::vector<MetricFamily> families{f};
  EXPECT_EQ(toTextFormat(families), reference(families));
}

}  // namespace
}  // namespace linkwatch
