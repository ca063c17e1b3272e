#include <linkwatch/event_hub.hpp>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "core/process_fence.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LINKWATCH_CPU_RELAX() _mm_pause()
#else
#define LINKWATCH_CPU_RELAX() ((void)0)
#endif

namespace linkwatch {
namespace {

std::atomic<std::uint64_t> nextHubId{1};

// A thread's claimed lanes, one entry per hub it has published to. Hub ids are never
// reused, so a stale entry for a destroyed hub can't be mistaken for a live one.
struct ClaimedLane {
  std::uint64_t hubId = 0;
  void* lane = nullptr;  // EventHub::Lane*, for the hot path
  std::atomic<bool>* owned = nullptr;
  std::weak_ptr<void> keepAlive;  // the lane itself: locked while releasing it
};

void release(ClaimedLane& c) noexcept {
  if (c.lane == nullptr) return;
  // Only touch the lane if its hub has not freed it.
  if (std::shared_ptr<void> lane = c.keepAlive.lock())
    c.owned->store(false, std::memory_order_release);
  c = ClaimedLane{};
}
constexpr int kClaimCacheSize = 4;

long futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t value,
           const timespec* timeout) noexcept {
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, value, timeout, nullptr, 0);
}

}  // namespace

// Releases a thread's lanes when the thread ends, so connection threads of a
// ThreadedSocketAcceptor that come and go do not exhaust the lanes.
struct LaneReleaser {
  ClaimedLane claims[kClaimCacheSize];
  int next = 0;
  ~LaneReleaser() {
    for (ClaimedLane& c : claims) release(c);
  }
};

namespace {
thread_local LaneReleaser tlsClaims;
}

EventHub::EventHub(std::size_t linkCount, std::size_t laneCapacity, std::size_t laneCount,
                   TallySlot* sharedTallies)
    : id_(nextHubId.fetch_add(1)),
      linkCount_(linkCount),
      sleepWord_(&sleeping_),
      futexWait_(FUTEX_WAIT_PRIVATE),
      futexWake_(FUTEX_WAKE_PRIVATE),
      asymmetricFence_(ProcessFence::available()),
      deferredWords_((linkCount + 63) / 64),
      laneCapacity_(laneCapacity),
      lazyBacklog_(laneCapacity / 4 < kMaxLazyBacklog ? laneCapacity / 4 : kMaxLazyBacklog) {
  if (laneCount == 0 || laneCapacity < 2) throw std::invalid_argument("EventHub: empty lanes");
  lanes_.reserve(laneCount);
  for (std::size_t i = 0; i < laneCount; ++i)
    lanes_.push_back(std::make_shared<Lane>(laneCapacity));
  // lockfree::queue's fixed_sized mode caps at 65,535 nodes.
  shared_ = std::make_unique<Mpmc>(laneCapacity < 65534 ? laneCapacity : 65534);
  deferredSlots_ = std::make_unique<DeferredSlot[]>(linkCount == 0 ? 1 : linkCount);
  for (std::size_t l = 0; l < linkCount; ++l)
    for (int k = 0; k < kDeferredKinds; ++k) {
      deferredSlots_[l].at[k].store(0, std::memory_order_relaxed);
      deferredSlots_[l].wallAt[k].store(0, std::memory_order_relaxed);
    }
  deferredDirty_ = std::make_unique<std::atomic<std::uint64_t>[]>(deferredWords_ + 1);
  for (std::size_t w = 0; w <= deferredWords_; ++w) deferredDirty_[w].store(0);
  promptWake_ = std::make_unique<std::atomic<std::uint8_t>[]>(linkCount == 0 ? 1 : linkCount);
  for (std::size_t l = 0; l < linkCount; ++l) promptWake_[l].store(1, std::memory_order_relaxed);
  if (sharedTallies == nullptr)
    ownTallies_ = std::make_unique<TallySlot[]>(linkCount == 0 ? 1 : linkCount);
  tallies_ = sharedTallies != nullptr ? sharedTallies : ownTallies_.get();
  consumerTallies_ = std::make_unique<TallySlot*[]>(linkCount == 0 ? 1 : linkCount);
  for (std::size_t l = 0; l < linkCount; ++l) consumerTallies_[l] = &tallies_[l];
  applied_ = std::make_unique<std::uint64_t[]>(linkCount == 0 ? 1 : linkCount);
  allowedAsOf_ = std::make_unique<std::uint64_t[]>(linkCount == 0 ? 1 : linkCount);
  drainBuffer_ = std::make_unique<SessionEvent[]>(kDrainBatch);
  for (std::size_t l = 0; l < linkCount; ++l) {
    applied_[l] = 0;
    allowedAsOf_[l] = kTallyOff;
  }
}

RoutineTally EventHub::readTally(LinkIndex link) const noexcept {
  RoutineTally t;
  if (link >= linkCount_) return t;
  const TallySlot& slot = *consumerTallies_[link];
  // Count first (acquire pairs with tally()'s release): the time read after it is at least
  // as new as the count's message.
  t.messagesIn = slot.messagesIn.load(std::memory_order_acquire);
  t.lastIn = slot.lastIn.load(std::memory_order_relaxed);
  t.messagesOut = slot.messagesOut.load(std::memory_order_acquire);
  t.lastOut = slot.lastOut.load(std::memory_order_relaxed);
  t.heartbeatsIn = slot.heartbeatsIn.load(std::memory_order_acquire);
  t.lastHeartbeatIn = slot.lastHeartbeatIn.load(std::memory_order_relaxed);
  return t;
}

void EventHub::setTallyAllowed(LinkIndex link, bool up) noexcept {
  if (link >= linkCount_) return;
  const std::uint64_t value = up ? applied_[link] : kTallyOff;
  if (allowedAsOf_[link] == value) return;
  allowedAsOf_[link] = value;
  consumerTallies_[link]->upAsOf.store(value, std::memory_order_release);
}

EventHub::~EventHub() = default;

void EventHub::addSource(EventSource& source) { sources_.push_back(&source); }

void EventHub::shareWakeWord(std::atomic<std::uint32_t>& word) noexcept {
  sleepWord_ = &word;
  futexWait_ = FUTEX_WAIT;
  futexWake_ = FUTEX_WAKE;
}

std::uint64_t EventHub::dropped() const noexcept {
  std::uint64_t n = dropped_.load(std::memory_order_relaxed);
  for (const EventSource* source : sources_) n += source->dropped();
  return n;
}

int EventHub::deferredIndex(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::kLogon:
      return 0;
    case EventKind::kLogout:
      return 1;
    case EventKind::kDisconnect:
      return 2;
    case EventKind::kHeartbeatTimeout:
      return 3;
    case EventKind::kLogonTimeout:
      return 4;
    case EventKind::kLogonRefused:
      return 5;
    case EventKind::kSeqTooLow:
      return 6;
    case EventKind::kSocketError:
      return 7;
    default:
      return -1;
  }
}

EventKind EventHub::deferredKind(int index) noexcept {
  static constexpr EventKind kinds[kDeferredKinds] = {
      EventKind::kLogon,        EventKind::kLogout,
      EventKind::kDisconnect,   EventKind::kHeartbeatTimeout,
      EventKind::kLogonTimeout, EventKind::kLogonRefused,
      EventKind::kSeqTooLow,    EventKind::kSocketError};
  return kinds[index];
}

EventHub::Lane* EventHub::laneForThisThread() noexcept {
  LaneReleaser& claims = tlsClaims;
  for (ClaimedLane& c : claims.claims)
    if (c.hubId == id_) return static_cast<Lane*>(c.lane);
  for (auto& lane : lanes_) {
    bool expected = false;
    if (!lane->owned.load(std::memory_order_relaxed) &&
        lane->owned.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      ClaimedLane& slot = claims.claims[claims.next];
      claims.next = (claims.next + 1) % kClaimCacheSize;
      release(slot);  // evicting a claim on another hub gives that lane back
      slot.hubId = id_;
      slot.lane = lane.get();
      slot.owned = &lane->owned;
      slot.keepAlive = lane;
      return lane.get();
    }
  }
  return nullptr;  // all lanes taken: use the shared multi-producer lane
}

bool EventHub::publish(const SessionEvent& event) noexcept {
  Lane* lane = laneForThisThread();
  const bool pushed = lane != nullptr ? lane->queue.push(event) : shared_->bounded_push(event);
  if (!pushed) {
    if (isConnectivityEvent(event.kind) && event.link < linkCount_) {
      defer(event);
      wakeIfSleeping(event, nullptr);
      return true;
    }
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  // Counted after the push: the consumer may apply the event first, and then waits for this
  // count to match before the link's routine messages are tallied again (mayTally).
  if (event.link < linkCount_ && !isRoutineMessage(event))
    tallies_[event.link].published.fetch_add(1, std::memory_order_acq_rel);
  if (connectivityHook_ != nullptr && isConnectivityEvent(event.kind) &&
      connectivityHook_(connectivityHookContext_))
    return true;
  wakeIfSleeping(event, lane);
  return true;
}

void EventHub::defer(const SessionEvent& event) noexcept {
  DeferredSlot& slot = deferredSlots_[event.link];
  const int k = deferredIndex(event.kind);
  slot.wallAt[k].store(event.wall, std::memory_order_relaxed);
  // A later event of the same kind replaces an earlier one; 0 means empty, so never store it.
  // The consumer delivers (and counts as applied) one event for each slot it finds filled:
  // count one published each time a slot goes from empty to filled, not each replacement.
  if (slot.at[k].exchange(event.monotonic == 0 ? 1 : event.monotonic, std::memory_order_acq_rel) ==
      0)
    tallies_[event.link].published.fetch_add(1, std::memory_order_acq_rel);
  deferredDirty_[event.link / 64].fetch_or(std::uint64_t{1} << (event.link % 64),
                                           std::memory_order_release);
  deferredPending_.store(true, std::memory_order_release);
  deferred_.fetch_add(1, std::memory_order_relaxed);
}

void EventHub::wakeIfSleeping(const SessionEvent& event, const Lane* lane) noexcept {
  // Store-buffer pattern against the consumer: the push above, then a read of the
  // consumer's flags (its sleep word, and whether this link's routine messages need it);
  // the consumer writes those flags, then re-checks the lanes before it sleeps. A barrier
  // on each side means at least one of the two sees the other: no lost wake-up, and no
  // routine message left waiting after its link stopped being up. The consumer's side is
  // the heavy one (ProcessFence): this side then needs only a compiler barrier, and the FIX
  // thread never waits for its store buffer to drain.
#if defined(__SANITIZE_THREAD__)
  // TSan does not model fences: a read-modify-write on the flag is the equivalent it can
  // check (slower: every producer writes the flag's cache line).
  const bool asleep = sleepWord_->fetch_add(0, std::memory_order_seq_cst) != 0;
#else
  ProcessFence::light(asymmetricFence_);
  const bool asleep = sleepWord_->load(std::memory_order_relaxed) != 0;
#endif
  if (!asleep) return;
  // A routine message of an up link waits for the core's next wake-up, unless its lane has
  // a backlog (isRoutineMessage, setPromptWake).
  if (isRoutineMessage(event) && !promptWake(event.link) && lane != nullptr &&
      lane->queue.write_available() + lazyBacklog_ > laneCapacity_)
    return;
  if (sleepWord_->exchange(0, std::memory_order_acq_rel) != 0) {
    futex(sleepWord_, futexWake_, 1, nullptr);
  }
}

void EventHub::wakeConsumer() noexcept {
  wakeRequested_.store(true, std::memory_order_release);
  sleepWord_->exchange(0, std::memory_order_acq_rel);
  futex(sleepWord_, futexWake_, 1, nullptr);
}

bool EventHub::empty() const noexcept {
  for (const auto& lane : lanes_)
    if (lane->queue.read_available() != 0) return false;
  for (const EventSource* source : sources_)
    if (!source->empty()) return false;
  return shared_->empty() && !deferredPending_.load(std::memory_order_acquire);
}

std::size_t EventHub::depth() const noexcept {
  std::size_t n = 0;
  for (const auto& lane : lanes_) n += lane->queue.read_available();
  for (const EventSource* source : sources_) n += source->depth();
  return n;
}

void EventHub::waitForEvents(Nanos deadline, Nanos spinNs, Nanos notBefore) noexcept {
  Nanos now = monotonicNow();
  const Nanos spinUntil = std::max(now + spinNs, notBefore);
  while (now < notBefore && now < deadline) {
    for (int i = 0; i < 64; ++i) LINKWATCH_CPU_RELAX();
    now = monotonicNow();
  }
  while (empty()) {
    now = monotonicNow();
    if (now >= deadline) return;
    if (now < spinUntil) {
      for (int i = 0; i < 64; ++i) LINKWATCH_CPU_RELAX();
      continue;
    }
    sleepWord_->exchange(1, std::memory_order_seq_cst);
#if !defined(__SANITIZE_THREAD__)
    // Every producer thread of this process now has its pushes before its read of the word
    // (wakeIfSleeping). Producers in other processes fence for themselves.
    ProcessFence::heavy(asymmetricFence_);
#endif
    if (!empty() || wakeRequested_.exchange(false, std::memory_order_acq_rel)) {
      sleepWord_->store(0, std::memory_order_relaxed);
      return;
    }
    const Nanos wait = deadline - now;
    timespec ts{static_cast<time_t>(wait / kNanosPerSecond),
                static_cast<long>(wait % kNanosPerSecond)};
    futex(sleepWord_, futexWait_, 1, &ts);
    sleepWord_->store(0, std::memory_order_relaxed);
    return;
  }
}

}  // namespace linkwatch
