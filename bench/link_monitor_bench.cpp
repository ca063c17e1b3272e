// The core thread's side: events applied per second to 10,000 links' state machines and
// statistics, through hub().publish + runOnce() on one thread, with a ManualClock.
//
// Three views of the same work: publishing a batch alone (the drain untimed), draining and
// applying it alone (the publish untimed), and both together.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <linkwatch/clock.hpp>
#include <linkwatch/config.hpp>
#include <linkwatch/link_monitor.hpp>
#include <linkwatch/session_event.hpp>

#include "bench_links.hpp"

namespace linkwatch {
namespace {

constexpr std::size_t kLinks = 10000;
// Fits one lane (MonitorConfig::eventQueueCapacity = 65,536) with room to spare.
constexpr std::size_t kBatch = 16384;
constexpr std::size_t kPoolBatches = 8;
// Clock time between batches: deadlines and the once-a-second flap sweep do run.
constexpr Nanos kBatchInterval = kNanosPerMilli;

SessionEvent blank(EventKind kind, LinkIndex link, MessageClass cls) {
  SessionEvent e{};
  e.kind = kind;
  e.link = link;
  e.messageClass = cls;
  return e;
}

// A day's traffic in miniature, on links picked at random: 80 % inbound Heartbeats, 15 %
// application messages (in and out), ~5 % our RTT TestRequests with their answering
// Heartbeats, 0.1 % a Logout and Disconnect followed by a new Logon. Times are set at publish.
std::vector<SessionEvent> makeEventPool(std::size_t count) {
  std::mt19937_64 rng(20260101);
  std::uniform_int_distribution<LinkIndex> pickLink(0, static_cast<LinkIndex>(kLinks - 1));
  std::uniform_int_distribution<int> pickKind(0, 9999);
  std::vector<std::uint32_t> inSeq(kLinks, 2);
  std::vector<std::uint32_t> outSeq(kLinks, 2);
  std::uint64_t probeId = 1;
  std::vector<SessionEvent> pool;
  pool.reserve(count + 4);
  const auto inbound = [&](LinkIndex link, MessageClass cls, const char* type) {
    SessionEvent e = blank(EventKind::kMessageIn, link, cls);
    e.seqNum = inSeq[link]++;
    e.flags = event_flag::kHasSendingTime;
    e.msgType[0] = type[0];
    return e;
  };
  const auto outbound = [&](LinkIndex link, MessageClass cls, const char* type) {
    SessionEvent e = blank(EventKind::kMessageOut, link, cls);
    e.seqNum = outSeq[link]++;
    e.flags = event_flag::kHasSendingTime;
    e.msgType[0] = type[0];
    return e;
  };
  while (pool.size() < count) {
    const LinkIndex link = pickLink(rng);
    const int r = pickKind(rng);
    if (r < 8000) {
      pool.push_back(inbound(link, MessageClass::kHeartbeat, "0"));
    } else if (r < 9000) {
      pool.push_back(inbound(link, MessageClass::kApplication, "D"));
    } else if (r < 9500) {
      pool.push_back(outbound(link, MessageClass::kApplication, "8"));
    } else if (r < 9990) {
      SessionEvent req = outbound(link, MessageClass::kTestRequest, "1");
      req.flags |= event_flag::kHasTestReqId | event_flag::kProbeTestReqId;
      req.testReqId = probeId;
      pool.push_back(req);
      SessionEvent answer = inbound(link, MessageClass::kHeartbeat, "0");
      answer.flags |= event_flag::kHasTestReqId | event_flag::kProbeTestReqId;
      answer.testReqId = probeId++;
      pool.push_back(answer);
    } else {
      SessionEvent logout = inbound(link, MessageClass::kLogout, "5");
      pool.push_back(logout);
      pool.push_back(blank(EventKind::kLogout, link, MessageClass::kApplication));
      pool.push_back(blank(EventKind::kDisconnect, link, MessageClass::kApplication));
      SessionEvent logonMsg = inbound(link, MessageClass::kLogon, "A");
      logonMsg.aux = 30;
      pool.push_back(logonMsg);
      pool.push_back(blank(EventKind::kLogon, link, MessageClass::kApplication));
    }
  }
  pool.resize(count);
  return pool;
}

const std::vector<SessionEvent>& eventPool() {
  static const std::vector<SessionEvent> pool = makeEventPool(kBatch * kPoolBatches);
  return pool;
}

// A monitor with every link logged on, as after the morning's logons.
struct Fixture {
  ManualClock clock;
  LinkMonitor monitor{makeBenchConfig(kLinks), clock};
  std::size_t nextBatch = 0;
  std::size_t runOnceCalls = 0;  // that applied something
  Nanos drainNs = 0;             // spent in timedDrainAll()
  std::size_t drained = 0;       // events applied by timedDrainAll()

  Fixture() {
    for (std::size_t i = 0; i < kLinks; ++i) {
      SessionEvent e =
          blank(EventKind::kLogon, static_cast<LinkIndex>(i), MessageClass::kApplication);
      e.monotonic = clock.monotonic();
      e.wall = clock.wall();
      monitor.hub().publish(e);
    }
    drainAll();
  }

  // Stamps and publishes the next batch of the pool at the current clock time.
  void publishBatch() {
    clock.advance(kBatchInterval);
    const Nanos mono = clock.monotonic();
    const Nanos wall = clock.wall();
    const SessionEvent* events = eventPool().data() + nextBatch * kBatch;
    nextBatch = (nextBatch + 1) % kPoolBatches;
    EventHub& hub = monitor.hub();
    for (std::size_t i = 0; i < kBatch; ++i) {
      SessionEvent e = events[i];
      e.monotonic = mono;
      e.wall = wall;
      e.sendingTime = wall - kNanosPerMilli;
      hub.publish(e);
    }
  }

  // drainAll(), also timing itself on the wall clock: the same yardstick in every benchmark,
  // whether or not Google Benchmark's timer is paused around it.
  std::size_t timedDrainAll() {
    const Nanos t0 = monotonicNow();
    const std::size_t n = drainAll();
    drainNs += monotonicNow() - t0;
    drained += n;
    return n;
  }

  // runOnce() drains each lane in slices (see EventHub::drain): call it until all is applied.
  std::size_t drainAll() {
    std::size_t total = 0;
    std::size_t n = 0;
    do {
      n = monitor.runOnce();
      total += n;
      if (n != 0) ++runOnceCalls;
    } while (n != 0);
    return total;
  }
};

void report(benchmark::State& state, const Fixture& f, std::size_t applied) {
  state.SetItemsProcessed(static_cast<std::int64_t>(applied));
  const MonitorStats& ms = f.monitor.monitorStats();
  state.counters["dropped"] = static_cast<double>(ms.eventsDropped.load());
  state.counters["transitions"] = static_cast<double>(ms.transitions.load());
  // Drain + apply rate by the wall clock around drainAll(), in every benchmark.
  state.counters["apply_wall_Mps"] =
      f.drainNs == 0 ? 0.0 : static_cast<double>(f.drained) * 1e3 / static_cast<double>(f.drainNs);
  // With one busy producer lane, how many events one runOnce() pass applies.
  state.counters["events_per_runOnce"] =
      static_cast<double>(ms.eventsApplied.load()) /
      static_cast<double>(f.runOnceCalls == 0 ? 1 : f.runOnceCalls);
}

void BM_LinkMonitor_Apply(benchmark::State& state) {
  Fixture f;
  std::size_t applied = 0;
  for (auto _ : state) {
    state.PauseTiming();
    f.publishBatch();
    state.ResumeTiming();
    applied += f.timedDrainAll();
  }
  report(state, f, applied);
}
BENCHMARK(BM_LinkMonitor_Apply)->Unit(benchmark::kMicrosecond);

void BM_LinkMonitor_Publish(benchmark::State& state) {
  Fixture f;
  std::size_t published = 0;
  for (auto _ : state) {
    f.publishBatch();
    published += kBatch;
    state.PauseTiming();
    f.timedDrainAll();
    state.ResumeTiming();
  }
  report(state, f, published);
}
BENCHMARK(BM_LinkMonitor_Publish)->Unit(benchmark::kMicrosecond);

void BM_LinkMonitor_PublishAndApply(benchmark::State& state) {
  Fixture f;
  std::size_t applied = 0;
  for (auto _ : state) {
    f.publishBatch();
    applied += f.timedDrainAll();
  }
  report(state, f, applied);
}
BENCHMARK(BM_LinkMonitor_PublishAndApply)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace linkwatch

BENCHMARK_MAIN();
