// Shared memory between `linkwatch run` (the core) and its QuickFIX worker processes.
//
// One memfd holds a header with the core's futex word and one ShmShard per worker: a
// worker → core lane of SessionEvents and a core → worker lane of commands, both Boost
// spsc_queues with compile-time capacity. Such a queue keeps its ring inline and holds no
// pointer, so it works at a different address in each process; its indexes are lock-free
// atomics, which are address-free. Both processes run the same executable, so the layout is
// the same (the header's magic and sizes are checked on attach).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <boost/lockfree/spsc_queue.hpp>

#include <linkwatch/event_hub.hpp>
#include <linkwatch/session_event.hpp>
#include <linkwatch/shm_worker_counters.hpp>

namespace linkwatch {

// A request from the core to a worker.
struct ShmCommand {
  enum Kind : std::uint32_t { kTestRequest = 1 };
  std::uint32_t kind;
  LinkIndex link;  // global link index
  std::uint64_t id;
};
static_assert(std::is_trivially_copyable<ShmCommand>::value, "ShmCommand crosses processes");

// A worker's lifecycle as the core sees it.
enum class ShmWorkerState : std::uint32_t { kStarting = 0, kReady = 1, kFailed = 2 };

struct alignas(kCacheLineSize) ShmShard {
  // 16,384 events hold several seconds of a full shard's heartbeats should the core stall;
  // the worker's own EventHub absorbs more (and keeps connectivity events) behind it.
  static constexpr std::size_t kEventCapacity = 16384;
  static constexpr std::size_t kCommandCapacity = 1024;
  // Above what one select()-bound QuickFIX process can hold (DescriptorBudget::kLimit).
  static constexpr std::size_t kMaxLinks = 1024;

  using EventQueue =
      boost::lockfree::spsc_queue<SessionEvent, boost::lockfree::capacity<kEventCapacity>>;
  using CommandQueue =
      boost::lockfree::spsc_queue<ShmCommand, boost::lockfree::capacity<kCommandCapacity>>;

  // Written by the worker.
  std::atomic<std::uint32_t> state{0};     // ShmWorkerState
  std::atomic<std::uint64_t> dropped{0};   // events the worker's own hub dropped
  std::atomic<std::int64_t> heartbeat{0};  // forwarder loop, CLOCK_MONOTONIC ns
  char failure[512] = {};                  // why the worker could not start (NUL-terminated)
  std::atomic<std::uint8_t> loggedOn[kMaxLinks] = {};  // by local index, refreshed by the worker

  // Written by the core before a worker starts.
  std::uint32_t linkCount = 0;
  LinkIndex links[kMaxLinks] = {};  // local index → global link index

  // Written by the worker as its logon checks count; read by the core at scrape time, and
  // cleared by it once the worker is dead (shm_worker_counters.hpp).
  ShmWorkerCounters counters;

  // Events the worker moved to `events` since it started: the hand-offs its FIX threads'
  // traffic costs (an up link's routine messages are tallied instead). Cleared by the core
  // once the worker is dead, as `counters` are.
  std::atomic<std::uint64_t> forwarded{0};

  // The tally slot of each of the worker's links, by local index: the worker's EventHub uses
  // them as its own, the core's EventHub reads and grants them (EventHub::shareTally). Kept
  // across restarts: a new worker counts on where the last one stopped.
  EventHub::TallySlot tallies[kMaxLinks];

  // Separate cache lines from the status above: the queue indexes are the hot words.
  alignas(kCacheLineSize) EventQueue events;
  alignas(kCacheLineSize) CommandQueue commands;
};

static_assert(ShmShard::kMaxLinks == ShmWorkerCounters::kMaxLinks,
              "a worker's counters have a row for each of its links");

struct ShmRegionHeader {
  static constexpr std::uint64_t kMagic = 0x6c6b77746368534dull;  // "lkwtchSM"
  std::uint64_t magic = 0;
  std::uint64_t shardBytes = 0;
  std::uint32_t shardCount = 0;
  std::uint32_t linkTotal = 0;
  // The core's futex word (EventHub::shareWakeWord): workers wake the core through it.
  alignas(kCacheLineSize) std::atomic<std::uint32_t> coreSleeping{0};
};

// A mapped region. Move-only; unmaps (and closes its descriptor) on destruction.
// Thread-safety: the mapping itself is immutable; the shards follow their queues' rules.
class ShmRegion {
 public:
  // A new anonymous region (memfd, close-on-exec) with `shardCount` zeroed shards.
  // Throws std::system_error.
  static ShmRegion create(std::uint32_t shardCount, std::uint32_t linkTotal);
  // Maps a region created by another process from its inherited descriptor (this object
  // owns the descriptor afterwards). Throws std::runtime_error when it is not one.
  static ShmRegion attach(int fd);

  ShmRegion(ShmRegion&& other) noexcept;
  ShmRegion& operator=(ShmRegion&& other) noexcept;
  ~ShmRegion();

  int fd() const noexcept { return fd_; }
  std::size_t bytes() const noexcept { return bytes_; }
  ShmRegionHeader& header() const noexcept { return *static_cast<ShmRegionHeader*>(base_); }
  std::uint32_t shardCount() const noexcept { return header().shardCount; }
  ShmShard& shard(std::uint32_t i) const noexcept;

 private:
  ShmRegion(int fd, void* base, std::size_t bytes) noexcept : fd_(fd), base_(base), bytes_(bytes) {}
  void release() noexcept;

  int fd_ = -1;
  void* base_ = nullptr;
  std::size_t bytes_ = 0;
};

// Producer side of a shard's event lane (one thread at a time: the worker's forwarder, or the
// core's supervisor once the worker is dead). Pushes as many of `events` as fit; returns how
// many. Call wakeCore() after a batch.
std::size_t shmPushEvents(ShmShard& shard, const SessionEvent* events, std::size_t count) noexcept;
// Wakes the core if it sleeps on the header's futex word (the store-buffer pattern of
// EventHub::wakeIfSleeping, across processes).
void shmWakeCore(ShmRegionHeader& header) noexcept;

// Consumer side: one shard's event lane as an EventSource of the core's EventHub.
class ShmEventSource final : public EventSource {
 public:
  explicit ShmEventSource(ShmShard& shard) noexcept : shard_(shard) {}
  std::size_t pop(SessionEvent* out, std::size_t max) noexcept override {
    return shard_.events.pop(out, max);
  }
  bool empty() const noexcept override { return shard_.events.read_available() == 0; }
  std::size_t depth() const noexcept override { return shard_.events.read_available(); }
  std::uint64_t dropped() const noexcept override {
    return shard_.dropped.load(std::memory_order_relaxed);
  }

 private:
  ShmShard& shard_;
};

}  // namespace linkwatch
