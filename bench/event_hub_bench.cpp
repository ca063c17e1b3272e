// The FIX thread's hot path: stamp a SessionEvent (one clock read), optionally scan the raw
// message, and hand it to the core thread. EventHub (one SPSC lane per producer) against the
// obvious baseline, std::mutex + std::deque, in the same run and with the same consumer.
//
// Google Benchmark reports means; the *Latency benchmarks time each operation (or each batch
// of 64) with clock_gettime and report the distribution as p50_ns / p99_ns / p999_ns counters.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <linkwatch/clock.hpp>
#include <linkwatch/event_hub.hpp>
#include <linkwatch/fix_scan.hpp>
#include <linkwatch/session_event.hpp>

#include "fix/event_stamp.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BENCH_CPU_RELAX() _mm_pause()
#else
#define BENCH_CPU_RELAX() ((void)0)
#endif

namespace linkwatch {
namespace {

constexpr std::size_t kLinks = 1000;
// Four times the production default (MonitorConfig::eventQueueCapacity, 65,536): at the
// benchmark's ~10 M events/s a lane that size fills whenever the shared VM deschedules the
// consumer for ~5 ms, and we want the push path, not the drop path. Drops are still counted.
constexpr std::size_t kLaneCapacity = 262144;
constexpr std::size_t kLanes = 8;  // more than the most producer threads we run

// A Heartbeat as QuickFIX logs it in Log::onIncoming: BodyLength and CheckSum are right.
std::string makeHeartbeat() {
  const std::string body =
      "35=0\x01"
      "34=1234\x01"
      "49=MEMBER0001\x01"
      "52=20260101-12:00:00.123456\x01"
      "56=EXCHANGE\x01";
  std::string msg =
      "8=FIX.4.4\x01"
      "9=" +
      std::to_string(body.size()) + "\x01" + body;
  unsigned sum = 0;
  for (char c : msg) sum += static_cast<unsigned char>(c);
  char trailer[8];
  const unsigned cs = sum % 256;
  trailer[0] = '1';
  trailer[1] = '0';
  trailer[2] = '=';
  trailer[3] = static_cast<char>('0' + cs / 100);
  trailer[4] = static_cast<char>('0' + cs / 10 % 10);
  trailer[5] = static_cast<char>('0' + cs % 10);
  trailer[6] = '\x01';
  trailer[7] = '\0';
  return msg + trailer;
}

const std::string& heartbeat() {
  static const std::string msg = makeHeartbeat();
  return msg;
}

// How LinkMonitor's core thread waits (EventHub::waitForEvents, kIdleSpin, kDrainPacing): once
// its queues are empty it polls them with 64 pauses between polls (1.3-2.5 us on this EPYC)
// for 20 us, then sleeps on the hub's futex; after a drain that took events it takes the next
// no sooner than 10 us after it.
constexpr int kPausesBetweenPolls = 64;
constexpr Nanos kSpinNs = EventHub::kIdleSpin;
constexpr Nanos kDrainPacing = EventHub::kDrainPacing;
// LinkMonitor's kDrainMax: the most events one pass takes before it looks at its deadlines.
constexpr std::size_t kConsumerBatch = 4096;

// The consumer thread of both queues: refreshes the wall clock offset and drains in batches
// as LinkMonitor's core thread does (paced by kDrainPacing) and, when there is nothing to do,
// polls as that thread does for its 20 us spin. Where that thread would sleep on the futex this
// one yields between polls instead (the VM has two vCPUs shared with the producers), so
// producers pay the flag check but never the wake-up syscall. Both matter: a consumer that
// reads the queue's indices without pause, or takes each event as it comes, pulls their cache
// lines from the producer at every event.
// With `interval` > 0 it drains at most once per interval (spinning in between), as a core
// thread that batches more would: the producer then rarely meets the consumer on a cache line.
class ConsumerThread {
 public:
  template <class DrainOnce>
  ConsumerThread(DrainOnce drainOnce, Nanos interval)
      : thread_([this, drainOnce, interval]() mutable {
          Nanos idleSince = -1;
          Nanos next = 0;
          while (running_.load(std::memory_order_acquire)) {
            // LinkMonitor::runLoop refreshes the FIX threads' wall clock offset on every pass.
            refreshWallOffset();
            if (interval > 0) {
              while (monotonicNow() < next) {
                for (int i = 0; i < 64; ++i) BENCH_CPU_RELAX();
              }
              next = monotonicNow() + interval;
            }
            const Nanos drainedAt = monotonicNow();
            if (const std::size_t n = drainOnce(); n != 0) {
              idleSince = -1;
              if (n >= kConsumerBatch) continue;
              while (monotonicNow() < drainedAt + kDrainPacing) {
                for (int i = 0; i < kPausesBetweenPolls; ++i) BENCH_CPU_RELAX();
              }
              continue;
            }
            const Nanos now = monotonicNow();
            if (idleSince < 0) idleSince = now;
            if (now - idleSince < kSpinNs) {
              for (int i = 0; i < kPausesBetweenPolls; ++i) BENCH_CPU_RELAX();
            } else {
              std::this_thread::yield();
            }
          }
          while (drainOnce() != 0) {
          }
        }) {}
  ~ConsumerThread() {
    running_.store(false, std::memory_order_release);
    thread_.join();
  }
  ConsumerThread(const ConsumerThread&) = delete;
  ConsumerThread& operator=(const ConsumerThread&) = delete;

 private:
  std::atomic<bool> running_{true};
  std::thread thread_;
};

// The sink both consumers feed: touches every event so the drain is not optimised away.
struct Checksum {
  std::uint64_t sum = 0;
  void operator()(const SessionEvent& e) noexcept { sum += e.seqNum + e.link; }
};

// One hub for the whole process, its lanes written through once before any benchmark: a
// fresh lane's pages are mapped on first write, and a page fault (~10 us here) every 73
// events would otherwise own the p99 of the first run. A production hub pays that once, on
// the first 65,536 events of each lane. The consumer thread is per run, so nothing spins
// between benchmarks.
EventHub& warmHub() {
  static EventHub hub(kLinks, kLaneCapacity, kLanes);
  static const bool warmed = [] {
    // All threads alive at once, so each claims its own lane; each fills it to the brim.
    std::latch filled(static_cast<std::ptrdiff_t>(kLanes));
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < kLanes; ++t)
      threads.emplace_back([&filled, t] {
        const SessionEvent e = stampEvent(EventKind::kMessageIn, static_cast<LinkIndex>(t));
        for (std::size_t i = 0; i < kLaneCapacity; ++i) hub.publish(e);
        filled.arrive_and_wait();
      });
    for (std::thread& t : threads) t.join();
    Checksum sink;
    while (hub.drain(sink, 1u << 16) != 0) {
    }
    return true;
  }();
  (void)warmed;
  return hub;
}

class HubQueue {
 public:
  explicit HubQueue(Nanos consumerInterval = 0)
      : hub_(warmHub()), consumer_([this] { return drainOnce(); }, consumerInterval) {}
  bool publish(const SessionEvent& e) noexcept { return hub_.publish(e); }

 private:
  // As LinkMonitor::drainAndApply: drain until the lanes are empty or kConsumerBatch events
  // are taken (a backlog: the consumer then goes on at once, unpaced).
  std::size_t drainOnce() {
    std::size_t total = 0;
    while (total < kConsumerBatch) {
      const std::size_t n = hub_.drain(sink_, kConsumerBatch - total);
      if (n == 0) break;
      total += n;
    }
    return total;
  }

  EventHub& hub_;
  Checksum sink_;
  ConsumerThread consumer_;  // last: started once the rest exists, joined before it goes
};

// The baseline: what a first version would write. Producers push under the lock; the
// consumer swaps the whole deque out under the lock and processes it outside.
class MutexDequeQueue {
 public:
  explicit MutexDequeQueue(Nanos consumerInterval = 0)
      : consumer_([this] { return drainOnce(); }, consumerInterval) {}
  bool publish(const SessionEvent& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(e);
    return true;
  }

 private:
  std::size_t drainOnce() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (queue_.empty()) return 0;
      local_.swap(queue_);
    }
    const std::size_t n = local_.size();
    for (const SessionEvent& e : local_) sink_(e);
    local_.clear();
    return n;
  }

  std::mutex mutex_;
  std::deque<SessionEvent> queue_;
  std::deque<SessionEvent> local_;  // consumer only
  Checksum sink_;
  ConsumerThread consumer_;  // last
};

// One queue per benchmark run, shared by its producer threads. Thread 0 creates it before
// the loop's start barrier and destroys it after the stop barrier.
template <class Queue>
struct SharedQueue {
  static inline std::unique_ptr<Queue> queue;
};

// What each operation does: the enqueue alone (an event stamped once, up front), stamp both
// clocks + enqueue (onLogon & co.), or the full onIncoming path with the scan.
enum class Path { kEnqueue, kStamp, kStampScan };

template <class Queue, Path kPath>
inline bool publishOne(Queue& q, const SessionEvent& stamped, LinkIndex link, std::uint32_t seq) {
  if constexpr (kPath == Path::kEnqueue) {
    SessionEvent e = stamped;
    e.link = link;
    e.seqNum = seq;
    return q.publish(e);
  } else {
    SessionEvent e = stampEvent(EventKind::kMessageIn, link);
    if constexpr (kPath == Path::kStampScan) {
      scanFixMessage(heartbeat().data(), heartbeat().size(), e);
    } else {
      e.seqNum = seq;
    }
    return q.publish(e);
  }
}

template <class Queue, Path kPath>
void publishThroughput(benchmark::State& state) {
  if (state.thread_index() == 0) SharedQueue<Queue>::queue = std::make_unique<Queue>();
  const SessionEvent stamped = stampEvent(EventKind::kMessageIn, 0);
  auto link = static_cast<LinkIndex>(state.thread_index());
  std::uint32_t seq = 0;
  std::uint64_t failed = 0;
  for (auto _ : state) {
    Queue& q = *SharedQueue<Queue>::queue;
    if (!publishOne<Queue, kPath>(q, stamped, link, ++seq)) ++failed;
    link = link + 1 == kLinks ? 0 : link + 1;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  // Counters are summed over threads.
  state.counters["dropped"] = static_cast<double>(failed);
  if (state.thread_index() == 0) SharedQueue<Queue>::queue.reset();
}

void BM_EventHub_Publish(benchmark::State& state) {
  publishThroughput<HubQueue, Path::kStamp>(state);
}
void BM_MutexDeque_Publish(benchmark::State& state) {
  publishThroughput<MutexDequeQueue, Path::kStamp>(state);
}
void BM_EventHub_Enqueue(benchmark::State& state) {
  publishThroughput<HubQueue, Path::kEnqueue>(state);
}
void BM_MutexDeque_Enqueue(benchmark::State& state) {
  publishThroughput<MutexDequeQueue, Path::kEnqueue>(state);
}
void BM_EventHub_PublishAndScanHeartbeat(benchmark::State& state) {
  publishThroughput<HubQueue, Path::kStampScan>(state);
}
void BM_MutexDeque_PublishAndScanHeartbeat(benchmark::State& state) {
  publishThroughput<MutexDequeQueue, Path::kStampScan>(state);
}

// Each producer thread its own lane; the consumer thread comes on top, so 4 producers
// oversubscribe the 2 vCPUs: real time, and items/s summed over the producers.
BENCHMARK(BM_EventHub_Publish)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_MutexDeque_Publish)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_EventHub_Enqueue)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_MutexDeque_Enqueue)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_EventHub_PublishAndScanHeartbeat)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
BENCHMARK(BM_MutexDeque_PublishAndScanHeartbeat)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

// scanFixMessage alone, to split the full path's cost.
void BM_FixScan_Heartbeat(benchmark::State& state) {
  const std::string& msg = heartbeat();
  SessionEvent e{};
  for (auto _ : state) {
    benchmark::DoNotOptimize(msg.data());
    scanFixMessage(msg.data(), msg.size(), e);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(msg.size()));
}
BENCHMARK(BM_FixScan_Heartbeat);

// Both clock reads alone: the floor under every stamped event.
void BM_Clock_StampBoth(benchmark::State& state) {
  for (auto _ : state) {
    const SessionEvent e = stampEvent(EventKind::kMessageIn, 0);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Clock_StampBoth);

// --- distributions ---------------------------------------------------------------------

// Median cost of the two clock_gettime calls that bracket a timed section: subtracted from
// every sample so the figures are the operation's own.
Nanos clockOverhead() {
  std::vector<Nanos> d(20001);
  for (Nanos& x : d) {
    const Nanos a = monotonicNow();
    const Nanos b = monotonicNow();
    x = b - a;
  }
  std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2), d.end());
  return d[d.size() / 2];
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// One producer; each iteration times `batch` stamp+publish operations (Arg) and records
// (elapsed - clock overhead) / batch. batch = 1 gives the per-operation tail, which is what
// a FIX thread feels; batch = 64 smooths out the clock's own jitter.
template <class Queue, Path kPath, Nanos kConsumerInterval = 0>
void publishLatency(benchmark::State& state) {
  const auto batch = static_cast<std::uint32_t>(state.range(0));
  auto queue = std::make_unique<Queue>(kConsumerInterval);
  const Nanos overhead = clockOverhead();
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(state.max_iterations));
  const SessionEvent stamped = stampEvent(EventKind::kMessageIn, 0);
  LinkIndex link = 0;
  std::uint32_t seq = 0;
  std::uint64_t failed = 0;
  for (auto _ : state) {
    const Nanos t0 = monotonicNow();
    for (std::uint32_t i = 0; i < batch; ++i) {
      if (!publishOne<Queue, kPath>(*queue, stamped, link, ++seq)) ++failed;
      link = link + 1 == kLinks ? 0 : link + 1;
    }
    const Nanos t1 = monotonicNow();
    samples.push_back(static_cast<double>(std::max<Nanos>(t1 - t0 - overhead, 0)) / batch);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
  state.counters["p50_ns"] = percentile(samples, 0.50);
  state.counters["p99_ns"] = percentile(samples, 0.99);
  state.counters["p999_ns"] = percentile(samples, 0.999);
  state.counters["clock_ns"] = static_cast<double>(overhead);
  state.counters["dropped"] = static_cast<double>(failed);
  queue.reset();
}

void BM_EventHub_PublishLatency(benchmark::State& state) {
  publishLatency<HubQueue, Path::kStamp>(state);
}
void BM_MutexDeque_PublishLatency(benchmark::State& state) {
  publishLatency<MutexDequeQueue, Path::kStamp>(state);
}
void BM_EventHub_EnqueueLatency(benchmark::State& state) {
  publishLatency<HubQueue, Path::kEnqueue>(state);
}
void BM_MutexDeque_EnqueueLatency(benchmark::State& state) {
  publishLatency<MutexDequeQueue, Path::kEnqueue>(state);
}
// The same with a consumer that drains every 20 us instead of eagerly.
constexpr Nanos kBatchingInterval = 20 * kNanosPerMicro;
void BM_EventHub_EnqueueLatencyBatchingConsumer(benchmark::State& state) {
  publishLatency<HubQueue, Path::kEnqueue, kBatchingInterval>(state);
}
void BM_MutexDeque_EnqueueLatencyBatchingConsumer(benchmark::State& state) {
  publishLatency<MutexDequeQueue, Path::kEnqueue, kBatchingInterval>(state);
}
void BM_EventHub_PublishLatencyBatchingConsumer(benchmark::State& state) {
  publishLatency<HubQueue, Path::kStamp, kBatchingInterval>(state);
}
void BM_MutexDeque_PublishLatencyBatchingConsumer(benchmark::State& state) {
  publishLatency<MutexDequeQueue, Path::kStamp, kBatchingInterval>(state);
}
void BM_EventHub_PublishAndScanHeartbeatLatency(benchmark::State& state) {
  publishLatency<HubQueue, Path::kStampScan>(state);
}
void BM_MutexDeque_PublishAndScanHeartbeatLatency(benchmark::State& state) {
  publishLatency<MutexDequeQueue, Path::kStampScan>(state);
}

// The fast path of an up link's routine traffic (EventHub::mayTally): no enqueue at all, the
// message is added to the link's own tally with the coarse clock. A consumer thread reads
// every tally each 100 ms, as the core does. Per operation, `batch` operations a sample as
// above.
void tallyLatency(benchmark::State& state, bool heartbeat) {
  const auto batch = static_cast<std::uint32_t>(state.range(0));
  EventHub hub(kLinks, 1024);
  for (LinkIndex l = 0; l < kLinks; ++l) hub.setTallyAllowed(l, true);
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    std::uint64_t sum = 0;
    while (!stop.load(std::memory_order_acquire)) {
      for (LinkIndex l = 0; l < kLinks; ++l) sum += hub.readTally(l).messagesIn;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    benchmark::DoNotOptimize(sum);
  });
  const Nanos overhead = clockOverhead();
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(state.max_iterations));
  // A FIX thread serves a few links: its messages cycle through 16 of them.
  LinkIndex link = 0;
  std::uint64_t refused = 0;
  for (auto _ : state) {
    const Nanos t0 = monotonicNow();
    for (std::uint32_t i = 0; i < batch; ++i) {
      if (!hub.mayTally(link)) {
        ++refused;
      } else if (heartbeat) {
        hub.tallyHeartbeat(link, coarseMonotonicNow());
      } else {
        hub.tallyApplication(link, true, coarseMonotonicNow());
      }
      link = (link + 1) & 15;
    }
    const Nanos t1 = monotonicNow();
    samples.push_back(static_cast<double>(std::max<Nanos>(t1 - t0 - overhead, 0)) / batch);
  }
  stop.store(true, std::memory_order_release);
  reader.join();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
  state.counters["p50_ns"] = percentile(samples, 0.50);
  state.counters["p99_ns"] = percentile(samples, 0.99);
  state.counters["p999_ns"] = percentile(samples, 0.999);
  state.counters["clock_ns"] = static_cast<double>(overhead);
  state.counters["dropped"] = static_cast<double>(refused);
}
void BM_EventHub_TallyApplicationLatency(benchmark::State& state) { tallyLatency(state, false); }
void BM_EventHub_TallyHeartbeatLatency(benchmark::State& state) { tallyLatency(state, true); }

// A fixed number of samples per repetition so the percentiles rest on the same count.
constexpr benchmark::IterationCount kLatencySamples = 200000;
BENCHMARK(BM_EventHub_PublishLatency)->Arg(1)->Arg(64)->Iterations(kLatencySamples);
BENCHMARK(BM_MutexDeque_PublishLatency)->Arg(1)->Arg(64)->Iterations(kLatencySamples);
BENCHMARK(BM_EventHub_EnqueueLatency)->Arg(1)->Arg(64)->Iterations(kLatencySamples);
BENCHMARK(BM_MutexDeque_EnqueueLatency)->Arg(1)->Arg(64)->Iterations(kLatencySamples);
BENCHMARK(BM_EventHub_EnqueueLatencyBatchingConsumer)->Arg(1)->Iterations(kLatencySamples);
BENCHMARK(BM_MutexDeque_EnqueueLatencyBatchingConsumer)->Arg(1)->Iterations(kLatencySamples);
BENCHMARK(BM_EventHub_PublishLatencyBatchingConsumer)->Arg(1)->Iterations(kLatencySamples);
BENCHMARK(BM_MutexDeque_PublishLatencyBatchingConsumer)->Arg(1)->Iterations(kLatencySamples);
BENCHMARK(BM_EventHub_PublishAndScanHeartbeatLatency)->Arg(1)->Iterations(kLatencySamples);
BENCHMARK(BM_EventHub_TallyApplicationLatency)->Arg(1)->Arg(64)->Iterations(kLatencySamples);
BENCHMARK(BM_EventHub_TallyHeartbeatLatency)->Arg(1)->Iterations(kLatencySamples);
BENCHMARK(BM_MutexDeque_PublishAndScanHeartbeatLatency)->Arg(1)->Iterations(kLatencySamples);

}  // namespace
}  // namespace linkwatch

BENCHMARK_MAIN();
