// Hands SessionEvents from FIX threads to the one core thread without locks.
//
// Each producer thread claims its own single-producer lane (Boost spsc_queue: ~3 ns a push,
// against ~700 ns for the multi-producer lockfree::queue); threads beyond the lane count
// share one multi-producer lane. When a lane is full the event is dropped and counted,
// except connectivity events (logon, logout, disconnect and their causes), which are kept
// in a per-link slot and applied later: a disconnect is never lost.
//
// This header is included by the C++14 QuickFIX adapter: keep it C++14-clean.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/spsc_queue.hpp>

#include <linkwatch/session_event.hpp>

namespace linkwatch {

constexpr std::size_t kCacheLineSize = 64;

// Events that decide whether a link is logged on, and why it is not. Never dropped.
inline bool isConnectivityEvent(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::kLogon:
    case EventKind::kLogout:
    case EventKind::kDisconnect:
    case EventKind::kHeartbeatTimeout:
    case EventKind::kLogonTimeout:
    case EventKind::kLogonRefused:
    case EventKind::kSeqTooLow:
    case EventKind::kSocketError:
      return true;
    default:
      return false;
  }
}

// Whether the core thread must wake for this event at once. Routine traffic of a link that is
// up (Heartbeats without a TestReqID, application messages, neither resent) changes no
// state: it only moves the link's heartbeat deadline later, and the core drains the lanes
// before it fires any deadline. Such events wait in their lane for the core's next wake-up
// (a deadline, another event, or its periodic sweep), which spares the FIX thread the
// FUTEX_WAKE system call that otherwise dominates its cost per message.
inline bool isRoutineMessage(const SessionEvent& e) noexcept {
  if (e.kind != EventKind::kMessageIn && e.kind != EventKind::kMessageOut) return false;
  if (e.messageClass != MessageClass::kHeartbeat && e.messageClass != MessageClass::kApplication)
    return false;
  return (e.flags & static_cast<std::uint8_t>(~event_flag::kHasSendingTime)) == 0;
}

// What the FIX thread of an up link records instead of publishing its routine messages
// (EventHub::mayTally): one cache line a link, written by that link's FIX thread (one thread
// at a time), read by the core at the link's deadlines, before the link's next other event,
// and every 100 ms. Counts only grow. Times are CLOCK_MONOTONIC_COARSE (behind
// CLOCK_MONOTONIC by up to coarseMonotonicResolution()). An inbound message that comes 100 ms
// or more after the last one read in full is read in full too (MonitoringLog samples its
// SendingTime), so on a quiet link the last message before a silence is timed exactly.
struct RoutineTally {
  std::uint64_t messagesIn = 0;  // application messages
  Nanos lastIn = 0;
  std::uint64_t messagesOut = 0;  // application messages
  Nanos lastOut = 0;
  std::uint64_t heartbeatsIn = 0;
  Nanos lastHeartbeatIn = 0;
};

// Another supply of events for the core thread, drained alongside the hub's own lanes: the
// shared-memory lanes of QuickFIX worker processes (src/core/shm_event_channel.cpp). Called
// on the consumer thread only, except empty(), which producers' wake-up logic never calls.
class EventSource {
 public:
  virtual ~EventSource() {}
  virtual std::size_t pop(SessionEvent* out, std::size_t max) noexcept = 0;
  virtual bool empty() const noexcept = 0;
  virtual std::size_t depth() const noexcept = 0;
  virtual std::uint64_t dropped() const noexcept { return 0; }
};

class EventHub {
 public:
  static constexpr std::size_t kDefaultLanes = 16;
  static constexpr std::size_t kDrainBatch = 256;
  // Routine messages left waiting in one lane before their producer wakes the core anyway:
  // bounds the backlog (and the lane's share of the cache) on a busy link.
  static constexpr std::size_t kMaxLazyBacklog = 1024;

  // One cache line a link, where the tally of an up link is kept (mayTally). `published`
  // counts the events other than routine messages that producers put in a lane or a deferred
  // slot for the link (any thread; a fetch_add on those rare events); `upAsOf` is the
  // consumer's count of those it had applied when it last found the link up, or kTallyOff.
  // Equal means nothing published for the link is waiting and the link is up. Address-free
  // atomics only: a QuickFIX worker process keeps its links' slots in memory shared with the
  // core (ShmShard::tallies), so that the core, which decides, and the worker's FIX threads,
  // which tally, see the same slot.
  static constexpr std::uint64_t kTallyOff = ~std::uint64_t{0};
  struct alignas(kCacheLineSize) TallySlot {
    std::atomic<std::uint64_t> published{0};
    std::atomic<std::uint64_t> upAsOf{kTallyOff};
    std::atomic<std::uint64_t> messagesIn{0};
    std::atomic<Nanos> lastIn{0};
    std::atomic<std::uint64_t> messagesOut{0};
    std::atomic<Nanos> lastOut{0};
    std::atomic<std::uint64_t> heartbeatsIn{0};
    std::atomic<Nanos> lastHeartbeatIn{0};
  };

  // `sharedTallies`: linkCount slots owned by the caller (a worker's shard), used instead of
  // the hub's own; null for the hub's own.
  EventHub(std::size_t linkCount, std::size_t laneCapacity, std::size_t laneCount = kDefaultLanes,
           TallySlot* sharedTallies = nullptr);
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Producer side: any thread. Lock-free and allocation-free (a thread's first call claims
  // a lane). Returns false when the event was dropped (connectivity events are deferred
  // instead, and still return true).
  bool publish(const SessionEvent& event) noexcept;

  // Producer side, set before any producer starts: called on the publishing thread right
  // after a connectivity event went into a lane, with `context`. It returns true when it has
  // itself taken every queued event to where the consumer would have taken them, so that the
  // consumer need not be woken. A QuickFIX worker process sets one: a FIX thread that has
  // just seen a disconnect then forwards it to the core at once when the worker's forwarder
  // is idle, instead of waking the forwarder to do it (one futex wake-up fewer on the way).
  using ConnectivityHook = bool (*)(void* context);
  void setConnectivityHook(ConnectivityHook hook, void* context) noexcept {
    connectivityHook_ = hook;
    connectivityHookContext_ = context;
  }

  // Consumer side: whether routine messages of `link` wake the core (true, the initial
  // value) or wait for its next wake-up (false: the core sets this while the link is up).
  void setPromptWake(LinkIndex link, bool prompt) noexcept {
    if (link < linkCount_) promptWake_[link].store(prompt ? 1 : 0, std::memory_order_relaxed);
  }
  bool promptWake(LinkIndex link) const noexcept {
    return link >= linkCount_ || promptWake_[link].load(std::memory_order_relaxed) != 0;
  }

  // Producer side, the fast path of an up link's routine application messages: whether the
  // link's FIX thread may record one in the link's RoutineTally instead of publishing it.
  // True only while the core has applied every other event published for the link into a
  // lane and found the link up with no TestRequest outstanding afterwards. An application
  // message or a Heartbeat can then change nothing but counters and the link's last-message
  // times, so its place in the order of events does not matter. That holds for a resent
  // message too: a gap or a resend is always announced first by an event that is published
  // (QuickFIX's "too high" line, a ResendRequest either way), which ends the tally until the
  // core has applied it, and the link is not up while either is under way. A TestReqID only
  // matters as the answer to a TestRequest, which is published before it and ends the tally
  // until answered. Admin messages and event lines are always published.
  bool mayTally(LinkIndex link) const noexcept {
    return link < linkCount_ && mayTally(tallies_[link]);
  }
  // Records one routine application message of `link`, or one inbound Heartbeat, at
  // `coarseAt`; only after mayTally(link), and only on the link's FIX thread (single writer:
  // no read-modify-write).
  void tallyApplication(LinkIndex link, bool inbound, Nanos coarseAt) noexcept {
    tallyApplication(tallies_[link], inbound, coarseAt);
  }
  void tallyHeartbeat(LinkIndex link, Nanos coarseAt) noexcept {
    tallyHeartbeat(tallies_[link], coarseAt);
  }
  // The same on the slot itself, which a producer may keep (MonitoringLog does: on a quiet
  // link every message would otherwise fetch the hub's line, to find the slot, from cold).
  // tallySlot() is null for a link this hub does not have.
  TallySlot* tallySlot(LinkIndex link) noexcept {
    return link < linkCount_ ? &tallies_[link] : nullptr;
  }
  static bool mayTally(const TallySlot& slot) noexcept {
    return slot.upAsOf.load(std::memory_order_acquire) ==
           slot.published.load(std::memory_order_relaxed);
  }
  static void tallyApplication(TallySlot& slot, bool inbound, Nanos coarseAt) noexcept {
    if (inbound)
      record(slot.messagesIn, slot.lastIn, coarseAt);
    else
      record(slot.messagesOut, slot.lastOut, coarseAt);
  }
  static void tallyHeartbeat(TallySlot& slot, Nanos coarseAt) noexcept {
    record(slot.heartbeatsIn, slot.lastHeartbeatIn, coarseAt);
  }
  // Before the consumer starts: `link`'s routine messages are tallied by another process's
  // hub, in `slot` (a worker's shard, where that hub was given it as its own slot), and its
  // other events reach this hub through an EventSource. The consumer side (readTally,
  // setTallyAllowed) then works on that slot, and events from sources count as applied.
  void shareTally(LinkIndex link, TallySlot& slot) noexcept {
    if (link < linkCount_) consumerTallies_[link] = &slot;
  }
  // Consumer side: what the link's FIX thread has recorded so far.
  RoutineTally readTally(LinkIndex link) const noexcept;
  // Consumer side, after applying events of `link`: whether the link is up now. Lets its
  // routine messages be tallied while every event published for it has been applied.
  void setTallyAllowed(LinkIndex link, bool up) noexcept;
  bool tallyAllowed(LinkIndex link) const noexcept {
    return link < linkCount_ && allowedAsOf_[link] != kTallyOff;
  }

  // Consumer side: the one core thread. Calls sink(const SessionEvent&) for up to `max`
  // queued events, then for every deferred connectivity event. Returns events delivered.
  template <class Sink>
  std::size_t drain(Sink&& sink, std::size_t max) {
    return drain(
        sink, [](const SessionEvent&) {}, max);
  }
  // The same, calling prefetch(e) for the event kPrefetchAhead places after each one the sink
  // gets: the consumer starts loading that event's state from memory while it applies this
  // one, instead of stalling on each link's cache lines in turn.
  template <class Sink, class Prefetch>
  std::size_t drain(Sink&& sink, Prefetch&& prefetch, std::size_t max);
  static constexpr std::size_t kPrefetchAhead = 8;
  // Connectivity kinds a link keeps one deferred event of each when its lane is full: after
  // kDrainBatch queued events, one drain() delivers at most this many a link.
  static constexpr int kDeferredKinds = 8;

  // How the core thread waits (LinkMonitor::runLoop; the benches' consumers do the same).
  // After the last event it spins kIdleSpin before it sleeps: bursts are common and a futex
  // wake-up costs ~30 us. After a pass that applied events it looks at the lanes again no
  // sooner than kDrainPacing after it last did: each look that takes events moves the lane's
  // read index, and the FIX thread's next push then reads that cache line from the core's CPU
  // (several hundred ns when the two vCPUs are far apart). Taking a flow of events every
  // 10 us instead of one by one spares the FIX threads nearly all of those reads, at up to
  // 10 us on an event that follows another.
  static constexpr Nanos kIdleSpin = 20 * kNanosPerMicro;
  static constexpr Nanos kDrainPacing = 10 * kNanosPerMicro;

  // Blocks the consumer until an event is published or `deadline` (CLOCK_MONOTONIC) passes.
  // Spins for `spinNs` first, since a futex wake-up costs ~30 us. Does not look at the lanes
  // before `notBefore` (kDrainPacing); `deadline` still ends the wait.
  void waitForEvents(Nanos deadline, Nanos spinNs, Nanos notBefore = 0) noexcept;
  // Wakes the consumer from waitForEvents (for shutdown).
  void wakeConsumer() noexcept;

  // Before the consumer starts: drain `source` too (it must outlive the hub's consumer), and
  // sleep on `word`, a futex word in memory shared with other processes, which their
  // producers wake (non-private futex operations). Without this the word is private.
  void addSource(EventSource& source);
  void shareWakeWord(std::atomic<std::uint32_t>& word) noexcept;

  bool empty() const noexcept;
  // Whether the consumer is (about to be) asleep in waitForEvents: for tests and diagnostics.
  bool consumerSleeping() const noexcept {
    return sleepWord_->load(std::memory_order_acquire) != 0;
  }
  std::size_t depth() const noexcept;
  std::uint64_t dropped() const noexcept;
  std::uint64_t deferred() const noexcept { return deferred_.load(std::memory_order_relaxed); }
  std::size_t laneCount() const noexcept { return lanes_.size(); }
  std::size_t linkCount() const noexcept { return linkCount_; }

 private:
  using Spsc = boost::lockfree::spsc_queue<SessionEvent>;
  using Mpmc = boost::lockfree::queue<SessionEvent, boost::lockfree::fixed_sized<true>>;

  // Boost 1.74's spsc_queue pads only between its two indexes and its buffer starts on the
  // read index's line: give each lane whole cache lines so neighbouring lanes never share.
  struct alignas(kCacheLineSize) Lane {
    explicit Lane(std::size_t capacity) : queue(capacity) {}
    std::atomic<bool> owned{false};
    char pad0[kCacheLineSize - sizeof(std::atomic<bool>)];
    Spsc queue;
    char pad1[kCacheLineSize];
  };

  // Latest time of each connectivity kind that did not fit in a lane, per link.
  struct DeferredSlot {
    std::atomic<Nanos> at[kDeferredKinds];
    std::atomic<Nanos> wallAt[kDeferredKinds];
  };
  static int deferredIndex(EventKind kind) noexcept;
  static EventKind deferredKind(int index) noexcept;

  static void record(std::atomic<std::uint64_t>& count, std::atomic<Nanos>& last,
                     Nanos at) noexcept {
    last.store(at, std::memory_order_relaxed);
    count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
  void countApplied(const SessionEvent& event) noexcept {
    if (event.link >= linkCount_ || isRoutineMessage(event)) return;
    // A worker that died published events that never came (they died with it): the core's
    // own disconnect for its links says how many it had published in all (markLinksDown), so
    // that its successor, which counts on from there, can tally again.
    if (event.kind == EventKind::kDisconnect && (event.flags & event_flag::kFixWorkerLost) != 0)
      applied_[event.link] = event.testReqId;
    else
      ++applied_[event.link];
  }

  Lane* laneForThisThread() noexcept;
  void defer(const SessionEvent& event) noexcept;
  // `event` was just pushed (into `lane`, or the shared lane when null): wake the consumer if
  // it sleeps and the event needs it.
  void wakeIfSleeping(const SessionEvent& event, const Lane* lane) noexcept;
  template <class Sink>
  std::size_t drainDeferred(Sink& sink);

  const std::uint64_t id_;
  const std::size_t linkCount_;
  // Read-mostly, beside the other constants, away from the consumer's written fields.
  std::atomic<std::uint32_t>* sleepWord_;  // futex word the consumer sleeps on
  int futexWait_;
  int futexWake_;
  bool asymmetricFence_;  // producers use a compiler barrier, the sleeping consumer membarrier
  ConnectivityHook connectivityHook_ = nullptr;
  void* connectivityHookContext_ = nullptr;
  // Shared so that a producer thread ending after the hub can still release its claim.
  std::vector<std::shared_ptr<Lane>> lanes_;
  std::unique_ptr<Mpmc> shared_;
  std::unique_ptr<DeferredSlot[]> deferredSlots_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> deferredDirty_;  // one bit a link
  std::size_t deferredWords_;
  std::size_t laneCapacity_;
  std::size_t lazyBacklog_;  // kMaxLazyBacklog, or less for small lanes
  std::unique_ptr<std::atomic<std::uint8_t>[]> promptWake_;  // one a link, read by producers
  std::unique_ptr<TallySlot[]> ownTallies_;                  // one a link, unless shared
  TallySlot* tallies_;  // ownTallies_ or the caller's: what this hub's producers use
  // The consumer side's slot of each link: tallies_[link], or another process's (shareTally).
  std::unique_ptr<TallySlot*[]> consumerTallies_;
  // Consumer only: events other than routine messages applied (from lanes, sources and
  // deferred slots), per link, and the value last stored in the link's upAsOf.
  std::unique_ptr<std::uint64_t[]> applied_;
  std::unique_ptr<std::uint64_t[]> allowedAsOf_;
  // drain()'s scratch space (kDrainBatch events), not the stack: the consumer may be a FIX
  // thread (a worker's connectivity hook), and each of thousands of those would keep 14 KiB
  // more of its stack for it.
  std::unique_ptr<SessionEvent[]> drainBuffer_;

  alignas(kCacheLineSize) std::atomic<bool> deferredPending_{false};
  alignas(kCacheLineSize) std::atomic<std::uint32_t> sleeping_{0};  // futex word
  std::atomic<bool> wakeRequested_{false};
  alignas(kCacheLineSize) std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> deferred_{0};
  std::size_t nextLane_ = 0;  // consumer's round-robin start
  std::vector<EventSource*> sources_;
};

template <class Sink, class Prefetch>
std::size_t EventHub::drain(Sink&& sink, Prefetch&& prefetch, std::size_t max) {
  std::size_t delivered = 0;
  const std::size_t n = lanes_.size();
  // Round-robin in bounded batches so one busy lane cannot starve the others.
  const std::size_t batch = max / (n + 1) + 1;
  SessionEvent* const buffer = drainBuffer_.get();
  for (std::size_t k = 0; k < n && delivered < max; ++k) {
    Lane& lane = *lanes_[(nextLane_ + k) % n];
    std::size_t want = batch < kDrainBatch ? batch : kDrainBatch;
    if (want > max - delivered) want = max - delivered;
    const std::size_t got = lane.queue.pop(buffer, want);
    for (std::size_t i = 0; i < got && i < kPrefetchAhead; ++i) prefetch(buffer[i]);
    for (std::size_t i = 0; i < got; ++i) {
      if (i + kPrefetchAhead < got) prefetch(buffer[i + kPrefetchAhead]);
      countApplied(buffer[i]);
      sink(buffer[i]);
    }
    delivered += got;
  }
  nextLane_ = (nextLane_ + 1) % n;
  for (EventSource* source : sources_) {
    std::size_t want = batch < kDrainBatch ? batch : kDrainBatch;
    if (want > max - delivered) want = max - delivered;
    const std::size_t got = source->pop(buffer, want);
    for (std::size_t i = 0; i < got && i < kPrefetchAhead; ++i) prefetch(buffer[i]);
    for (std::size_t i = 0; i < got; ++i) {
      if (i + kPrefetchAhead < got) prefetch(buffer[i + kPrefetchAhead]);
      countApplied(buffer[i]);
      sink(buffer[i]);
    }
    delivered += got;
  }
  SessionEvent e;
  while (delivered < max && shared_->pop(e)) {
    countApplied(e);
    sink(e);
    ++delivered;
  }
  if (deferredPending_.load(std::memory_order_acquire)) delivered += drainDeferred(sink);
  return delivered;
}

template <class Sink>
std::size_t EventHub::drainDeferred(Sink& sink) {
  deferredPending_.store(false, std::memory_order_seq_cst);
  std::size_t delivered = 0;
  for (std::size_t w = 0; w < deferredWords_; ++w) {
    std::uint64_t bits = deferredDirty_[w].exchange(0, std::memory_order_acq_rel);
    while (bits != 0) {
      const int b = __builtin_ctzll(bits);
      bits &= bits - 1;
      const LinkIndex link = static_cast<LinkIndex>(w * 64 + static_cast<std::size_t>(b));
      DeferredSlot& slot = deferredSlots_[link];
      // Deliver in time order: the state machine keeps the newest connectivity fact.
      SessionEvent events[kDeferredKinds];
      int count = 0;
      for (int i = 0; i < kDeferredKinds; ++i) {
        const Nanos at = slot.at[i].exchange(0, std::memory_order_acq_rel);
        if (at == 0) continue;
        SessionEvent& e = events[count++];
        e = SessionEvent{};
        e.kind = deferredKind(i);
        e.link = link;
        e.monotonic = at;
        e.wall = slot.wallAt[i].load(std::memory_order_relaxed);
        e.messageClass = MessageClass::kApplication;
      }
      for (int i = 1; i < count; ++i)
        for (int j = i; j > 0 && events[j].monotonic < events[j - 1].monotonic; --j) {
          SessionEvent t = events[j];
          events[j] = events[j - 1];
          events[j - 1] = t;
        }
      for (int i = 0; i < count; ++i) {
        countApplied(events[i]);
        sink(events[i]);
      }
      delivered += static_cast<std::size_t>(count);
    }
  }
  return delivered;
}

}  // namespace linkwatch
