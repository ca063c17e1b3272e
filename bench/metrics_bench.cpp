// A /metrics scrape over 100 / 1,000 / 5,000 / 10,000 links, as text format 0.0.4. The figure
// is MetricsCollector::write(), which /metrics streams in 64 KiB chunks, and serialize(), the
// same text in one string; the baseline is prometheus-cpp's own TextSerializer over Collect(),
// the same families as its data model. `heap_bytes` is the heap in use for the scrape on top
// of the monitor (mallinfo2, measured once outside the timed loop): the peak while streaming,
// the finished string, the data model.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
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
// histograms carry values (non-zero numbers cost more to format than zeros). Quiet: the Logon
// and three Heartbeats each way, as on a link at rest (RttProbeInterval is off by default).
// Busy: also an application message each way and an answered RTT probe every round, the most
// series a link exports.
struct Fixture {
  ManualClock clock;
  LinkMonitor monitor;
  std::uint64_t probeId = 1;

  Fixture(std::size_t links, bool busy) : monitor(makeBenchConfig(links), clock) {
    for (std::size_t round = 0; round < 4; ++round) {
      for (std::size_t i = 0; i < links; ++i) {
        const auto link = static_cast<LinkIndex>(i);
        if (round == 0) {
          SessionEvent logon = event(link, EventKind::kMessageIn, MessageClass::kLogon);
          logon.aux = 30;
          publish(logon);
          publish(event(link, EventKind::kMessageOut, MessageClass::kLogon));
          publish(event(link, EventKind::kLogon, MessageClass::kApplication));
          continue;
        }
        SessionEvent hb = event(link, EventKind::kMessageIn, MessageClass::kHeartbeat);
        hb.seqNum = static_cast<std::uint32_t>(round + 1);
        publish(hb);
        publish(event(link, EventKind::kMessageOut, MessageClass::kHeartbeat));
        if (!busy) continue;
        publish(event(link, EventKind::kMessageIn, MessageClass::kApplication));
        publish(event(link, EventKind::kMessageOut, MessageClass::kApplication));
        SessionEvent probe = event(link, EventKind::kMessageOut, MessageClass::kTestRequest);
        probe.flags = event_flag::kHasTestReqId | event_flag::kProbeTestReqId;
        probe.testReqId = probeId;
        publish(probe);
      }
      drain();
      clock.advance(2 * kNanosPerMilli);
      if (busy && round > 0) {
        for (std::size_t i = 0; i < links; ++i) {
          SessionEvent answer =
              event(static_cast<LinkIndex>(i), EventKind::kMessageIn, MessageClass::kHeartbeat);
          answer.flags |= event_flag::kHasTestReqId | event_flag::kProbeTestReqId;
          answer.testReqId = probeId;
          publish(answer);
        }
        drain();
        ++probeId;
      }
      clock.advance(30 * kNanosPerSecond);
    }
    drain();
  }

  SessionEvent event(LinkIndex link, EventKind kind, MessageClass cls) const {
    SessionEvent e{};
    e.link = link;
    e.kind = kind;
    e.messageClass = cls;
    e.monotonic = clock.monotonic();
    e.wall = clock.wall();
    e.flags = event_flag::kHasSendingTime;
    e.sendingTime = e.wall - 3 * kNanosPerMilli;
    return e;
  }

  void publish(const SessionEvent& e) {
    if (monitor.hub().depth() > 30000) drain();
    if (!monitor.hub().publish(e)) std::abort();
  }

  void drain() {
    while (monitor.runOnce() != 0) {
    }
  }
};

// Heap in use (bytes) by this process's malloc, all arenas, with the blocks large enough to
// get their own mmap (a multi-megabyte string).
std::size_t heapInUse() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

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

void setCounters(benchmark::State& state, std::size_t bytes, std::size_t series,
                 std::size_t heapBytes) {
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["links"] = static_cast<double>(state.range(0));
  if (series != 0)
    state.counters["series_per_link"] =
        static_cast<double>(series) / static_cast<double>(state.range(0));
  state.counters["heap_bytes"] = static_cast<double>(heapBytes);
}

// What /metrics does: the exposition handed to a sink (the socket) a chunk at a time.
void streamScrape(benchmark::State& state, bool busy) {
  Fixture f(static_cast<std::size_t>(state.range(0)), busy);
  MetricsCollector collector(f.monitor);
  std::size_t bytes = 0;
  const MetricsCollector::TextSink sink = [&](std::string_view chunk) {
    bytes += chunk.size();
    benchmark::DoNotOptimize(chunk.data());
    return true;
  };
  for (auto _ : state) {
    bytes = 0;
    collector.write(sink);
  }
  const std::size_t before = heapInUse();
  std::size_t peak = before;
  collector.write([&](std::string_view) {
    peak = std::max(peak, heapInUse());
    return true;
  });
  setCounters(state, bytes, countSeries(collector.serialize()), peak - before);
}

void BM_Metrics_Stream(benchmark::State& state) { streamScrape(state, false); }
void BM_Metrics_StreamBusy(benchmark::State& state) { streamScrape(state, true); }

// The same text in one string (HEAD, HTTP/1.0).
void BM_Metrics_Serialise(benchmark::State& state) {
  Fixture f(static_cast<std::size_t>(state.range(0)), false);
  MetricsCollector collector(f.monitor);
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = collector.serialize();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  const std::size_t before = heapInUse();
  const std::string text = collector.serialize();
  setCounters(state, bytes, countSeries(text), heapInUse() - before);
}

// The baseline: Collect() + prometheus::TextSerializer::Serialize, as the exporter started.
void BM_Metrics_SerialiseTextSerializer(benchmark::State& state) {
  Fixture f(static_cast<std::size_t>(state.range(0)), false);
  MetricsCollector collector(f.monitor);
  const prometheus::TextSerializer serializer;
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = serializer.Serialize(collector.Collect());
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  const std::size_t before = heapInUse();
  const auto families = collector.Collect();
  const std::string text = serializer.Serialize(families);
  setCounters(state, bytes, 0, heapInUse() - before);
}

// Collect() alone: the data model without rendering.
void BM_Metrics_Collect(benchmark::State& state) {
  Fixture f(static_cast<std::size_t>(state.range(0)), false);
  MetricsCollector collector(f.monitor);
  for (auto _ : state) {
    const auto families = collector.Collect();
    benchmark::DoNotOptimize(families.data());
  }
  const std::size_t before = heapInUse();
  const auto families = collector.Collect();
  state.counters["links"] = static_cast<double>(state.range(0));
  state.counters["heap_bytes"] = static_cast<double>(heapInUse() - before);
}

void linkCounts(benchmark::internal::Benchmark* b) {
  b->Arg(100)->Arg(1000)->Arg(5000)->Arg(10000)->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_Metrics_Stream)->Apply(linkCounts);
BENCHMARK(BM_Metrics_StreamBusy)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Metrics_Serialise)->Apply(linkCounts);
BENCHMARK(BM_Metrics_SerialiseTextSerializer)->Apply(linkCounts);
BENCHMARK(BM_Metrics_Collect)->Apply(linkCounts);

}  // namespace
}  // namespace linkwatch

BENCHMARK_MAIN();
