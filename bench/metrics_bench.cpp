// A /metrics scrape: MetricsCollector::Collect() over 100 / 1,000 / 10,000 links, rendered as
// text format 0.0.4. The baseline is prometheus-cpp's own TextSerializer on the same
// families; the figure is MetricsCollector::serialize(), which /metrics serves.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/text_serializer.h>

#include <linkwatch/clock.hpp>
#include <linkwatch/config.hpp>
#include <linkwatch/link_monitor.hpp>
#include <linkwatch/session_event.hpp>

#include "http/metrics_collector.hpp"

#include "bench_links.hpp"

namespace linkwatch {
namespace {

// A monitor whose links have logged on and exchanged some traffic, so counters and
// histograms carry values (non-zero numbers cost more to format than zeros).
struct Fixture {
  ManualClock clock;
  LinkMonitor monitor;

  explicit Fixture(std::size_t links) : monitor(makeBenchConfig(links), clock) {
    EventHub& hub = monitor.hub();
    for (std::size_t round = 0; round < 4; ++round) {
      for (std::size_t i = 0; i < links; ++i) {
        SessionEvent e{};
        e.link = static_cast<LinkIndex>(i);
        e.monotonic = clock.monotonic();
        e.wall = clock.wall();
        e.messageClass = MessageClass::kApplication;
        if (round == 0) {
          e.kind = EventKind::kLogon;
        } else {
          e.kind = EventKind::kMessageIn;
          e.messageClass = MessageClass::kHeartbeat;
          e.seqNum = static_cast<std::uint32_t>(round + 1);
          e.flags = event_flag::kHasSendingTime;
          e.sendingTime = e.wall - 3 * kNanosPerMilli;
        }
        if (!hub.publish(e)) std::abort();
        if (hub.depth() > 30000) drain();
      }
      drain();
      clock.advance(30 * kNanosPerSecond);
    }
    drain();
  }

  void drain() {
    while (monitor.runOnce() != 0) {
    }
  }
};

// Sample lines (not # HELP / # TYPE) in an exposition.
std::size_t countSeries(const std::string& text) {
  std::size_t n = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos && text[pos] != '#') ++n;
    pos = end + 1;
  }
  return n;
}

void BM_Metrics_Serialise(benchmark::State& state) {
  Fixture f(static_cast<std::size_t>(state.range(0)));
  MetricsCollector collector(f.monitor);
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = collector.serialize();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["links"] = static_cast<double>(state.range(0));
  state.counters["series_per_link"] =
      static_cast<double>(countSeries(collector.serialize())) / static_cast<double>(state.range(0));
}

// The baseline: Collect() + prometheus::TextSerializer::Serialize, as the exporter started.
void BM_Metrics_SerialiseTextSerializer(benchmark::State& state) {
  Fixture f(static_cast<std::size_t>(state.range(0)));
  MetricsCollector collector(f.monitor);
  const prometheus::TextSerializer serializer;
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = serializer.Serialize(collector.Collect());
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["links"] = static_cast<double>(state.range(0));
}

// Collect() alone: the data model without rendering.
void BM_Metrics_Collect(benchmark::State& state) {
  Fixture f(static_cast<std::size_t>(state.range(0)));
  MetricsCollector collector(f.monitor);
  for (auto _ : state) {
    const auto families = collector.Collect();
    benchmark::DoNotOptimize(families.data());
  }
  state.counters["links"] = static_cast<double>(state.range(0));
}

BENCHMARK(BM_Metrics_Serialise)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Metrics_SerialiseTextSerializer)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Metrics_Collect)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace linkwatch

BENCHMARK_MAIN();
