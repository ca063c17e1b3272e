#include <linkwatch/event_hub.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sys/syscall.h>
#include <unistd.h>

namespace linkwatch {
namespace {

SessionEvent makeEvent(EventKind kind, LinkIndex link, Nanos at) {
  SessionEvent e;
  std::memset(&e, 0, sizeof e);
  e.kind = kind;
  e.link = link;
  e.monotonic = at;
  e.wall = at;
  return e;
}

void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("pause");
#else
  asm volatile("" ::: "memory");
#endif
}

std::vector<SessionEvent> drainAll(EventHub& hub) {
  std::vector<SessionEvent> out;
  while (hub.drain([&](const SessionEvent& e) { out.push_back(e); }, 1024) != 0) {
  }
  return out;
}

TEST(EventHub, DeliversEventsOfOneThreadInOrder) {
  EventHub hub(4, 1024);
  for (Nanos i = 1; i <= 100; ++i) ASSERT_TRUE(hub.publish(makeEvent(EventKind::kMessageIn, 1, i)));
  const auto events = drainAll(hub);
  ASSERT_EQ(events.size(), 100u);
  for (std::size_t i = 0; i < events.size(); ++i)
    EXPECT_EQ(events[i].monotonic, static_cast<Nanos>(i + 1));
  EXPECT_TRUE(hub.empty());
}

// The core asks for each event's link state a few events ahead (LinkMonitor's prefetch): every
// event the sink gets was handed to prefetch first, once, in the same order.
TEST(EventHub, PrefetchSeesEveryEventBeforeTheSinkDoes) {
  EventHub hub(4, 1024);
  for (Nanos i = 1; i <= 300; ++i) ASSERT_TRUE(hub.publish(makeEvent(EventKind::kMessageIn, 2, i)));
  std::vector<Nanos> prefetched;
  std::vector<Nanos> applied;
  std::size_t aheadAtMost = 0;
  std::size_t total = 0;
  while (true) {
    const std::size_t n = hub.drain(
        [&](const SessionEvent& e) {
          ASSERT_FALSE(prefetched.empty());
          // Prefetched, and not too far ahead of the sink: the hint must still be in cache.
          ASSERT_GE(prefetched.size(), applied.size() + 1);
          aheadAtMost = std::max(aheadAtMost, prefetched.size() - applied.size() - 1);
          applied.push_back(e.monotonic);
        },
        [&](const SessionEvent& e) { prefetched.push_back(e.monotonic); }, 1024);
    if (n == 0) break;
    total += n;
  }
  EXPECT_EQ(total, 300u);
  EXPECT_EQ(prefetched, applied);
  EXPECT_EQ(aheadAtMost, EventHub::kPrefetchAhead);
}

TEST(EventHub, CountsDropsWhenFullButKeepsEveryConnectivityEvent) {
  EventHub hub(8, 16, 1);
  Nanos t = 1;
  for (int i = 0; i < 16; ++i) hub.publish(makeEvent(EventKind::kMessageIn, 3, t++));
  // The lane is full now: plain messages are dropped and counted...
  EXPECT_FALSE(hub.publish(makeEvent(EventKind::kMessageIn, 3, t++)));
  EXPECT_EQ(hub.dropped(), 1u);
  // ...but a disconnect and a logout are deferred, not lost.
  EXPECT_TRUE(hub.publish(makeEvent(EventKind::kHeartbeatTimeout, 3, t++)));
  EXPECT_TRUE(hub.publish(makeEvent(EventKind::kDisconnect, 3, t++)));
  EXPECT_TRUE(hub.publish(makeEvent(EventKind::kLogout, 5, t++)));
  EXPECT_EQ(hub.deferred(), 3u);
  const auto events = drainAll(hub);
  ASSERT_EQ(events.size(), 19u);
  // Deferred events of one link come out in time order, after the queued ones.
  EXPECT_EQ(events[16].kind, EventKind::kHeartbeatTimeout);
  EXPECT_EQ(events[17].kind, EventKind::kDisconnect);
  EXPECT_EQ(events[17].link, 3u);
  EXPECT_EQ(events[18].kind, EventKind::kLogout);
  EXPECT_EQ(events[18].link, 5u);
}

TEST(EventHub, ProducerThreadsNeverBlockAndNoDisconnectIsLostUnderOverflow) {
  constexpr int kThreads = 4;
  constexpr LinkIndex kLinks = 64;
  EventHub hub(kLinks, 64, 2);  // fewer lanes than threads: the shared lane is used too
  std::atomic<bool> stop{false};
  std::atomic<int> finished{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (LinkIndex l = static_cast<LinkIndex>(t); l < kLinks; l += kThreads) {
        for (int i = 0; i < 2000; ++i)
          hub.publish(makeEvent(EventKind::kMessageIn, l, monotonicNow()));
        hub.publish(makeEvent(EventKind::kDisconnect, l, monotonicNow()));
      }
      finished.fetch_add(1);
    });
  }
  std::vector<int> disconnects(kLinks, 0);
  std::size_t total = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  // A slow consumer: drain a little at a time so the lanes overflow.
  while (!stop.load()) {
    total += hub.drain(
        [&](const SessionEvent& e) {
          if (e.kind == EventKind::kDisconnect) ++disconnects[e.link];
        },
        8);
    if (finished.load() == kThreads && hub.empty()) stop = true;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
  }
  for (auto& p : producers) p.join();
  for (LinkIndex l = 0; l < kLinks; ++l) EXPECT_EQ(disconnects[l], 1) << "link " << l;
  EXPECT_GT(hub.dropped(), 0u);
  EXPECT_EQ(total + hub.dropped(), static_cast<std::size_t>(kLinks) * 2001);
}

TEST(EventHub, WakesASleepingConsumerPromptly) {
  EventHub hub(1, 64);
  std::atomic<bool> woke{false};
  std::thread consumer([&] {
    hub.waitForEvents(monotonicNow() + 10 * kNanosPerSecond, 0);
    woke = !hub.empty();
  });
  // Whether the consumer is already asleep or not, the event must end the wait.
  hub.publish(makeEvent(EventKind::kLogon, 0, monotonicNow()));
  consumer.join();
  EXPECT_TRUE(woke.load());
}

// The core's pacing (kDrainPacing): after a pass that took events it does not look at the
// lanes before `notBefore`, even with an event waiting; its deadline still ends the wait.
TEST(EventHub, AWaitDoesNotLookAtTheLanesBeforeItsNotBefore) {
  EventHub hub(1, 64);
  ASSERT_TRUE(hub.publish(makeEvent(EventKind::kLogout, 0, monotonicNow())));
  const Nanos pace = 5 * kNanosPerMilli;
  Nanos start = monotonicNow();
  hub.waitForEvents(start + 10 * kNanosPerSecond, EventHub::kIdleSpin, start + pace);
  Nanos waited = monotonicNow() - start;
  EXPECT_GE(waited, pace);
  EXPECT_LT(waited, 5 * kNanosPerSecond);

  start = monotonicNow();
  hub.waitForEvents(start + pace, EventHub::kIdleSpin, start + 20 * kNanosPerSecond);
  waited = monotonicNow() - start;
  EXPECT_GE(waited, pace);
  EXPECT_LT(waited, 10 * kNanosPerSecond);
  EXPECT_EQ(drainAll(hub).size(), 1u);
}

// The sleep handshake, publishes landing at every point of the consumer's way into sleep
// (random spins between rounds): a lost wake-up leaves the event waiting for the consumer's
// 5 s deadline. It fails at once without the consumer's last look at the lanes. The race a
// missing barrier opens (ProcessFence) is a few nanoseconds wide: 200,000 rounds did not
// catch it here, so this test guards the handshake, not the barrier.
TEST(EventHub, NoWakeUpIsLostAsTheConsumerFallsAsleep) {
  EventHub hub(1, 64);
  std::atomic<std::uint64_t> consumed{0};
  std::atomic<bool> stop{false};
  std::thread consumer([&] {
    while (!stop.load(std::memory_order_acquire)) {
      const std::size_t n = hub.drain([](const SessionEvent&) {}, 64);
      consumed.fetch_add(n, std::memory_order_release);
      if (n == 0) hub.waitForEvents(monotonicNow() + 5 * kNanosPerSecond, 0);
    }
  });
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> spins(0, 3000);
  constexpr std::uint64_t kRounds = 4000;
  std::uint64_t late = 0;
  for (std::uint64_t round = 1; round <= kRounds; ++round) {
    for (int i = spins(random); i > 0; --i) cpuRelax();
    hub.publish(makeEvent(EventKind::kMessageIn, 0, monotonicNow()));
    const Nanos giveUp = monotonicNow() + 2 * kNanosPerSecond;
    while (consumed.load(std::memory_order_acquire) < round && monotonicNow() < giveUp)
      std::this_thread::yield();
    if (consumed.load(std::memory_order_acquire) < round) {
      ++late;
      // Let the consumer's deadline pass so that the rounds after this one are counted too.
      while (consumed.load(std::memory_order_acquire) < round) std::this_thread::yield();
    }
  }
  stop = true;
  hub.wakeConsumer();
  consumer.join();
  EXPECT_EQ(late, 0u) << "events left waiting for the consumer's deadline";
}

// Whether thread `tid` of this process is asleep (state S in /proc: the consumer waits with no
// spin, so that is its futex wait).
bool threadSleeps(pid_t tid) {
  if (tid == 0) return false;
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const std::size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'S';
}

// Publishes `event` once the consumer sleeps in a wait of `wait` (the hub must be empty, or
// the consumer would not sleep); returns how long the wait lasted in all.
Nanos waitAcrossPublish(EventHub& hub, const SessionEvent& event, Nanos wait, int copies = 1) {
  Nanos waited = 0;
  std::atomic<pid_t> consumerTid{0};
  std::thread consumer([&] {
    consumerTid = static_cast<pid_t>(syscall(SYS_gettid));
    const Nanos start = monotonicNow();
    hub.waitForEvents(start + wait, 0);
    waited = monotonicNow() - start;
  });
  // Asleep in the kernel, not merely announcing it: between setting its sleep word and its
  // futex wait the consumer looks at the lanes once more, and would see the event there.
  const Nanos giveUp = monotonicNow() + 10 * kNanosPerSecond;
  while (!(hub.consumerSleeping() && threadSleeps(consumerTid.load())) && monotonicNow() < giveUp)
    std::this_thread::yield();
  for (int i = 0; i < copies; ++i) hub.publish(event);
  consumer.join();
  return waited;
}

// What a QuickFIX worker's FIX thread uses to forward a disconnect itself (fix_worker.cpp):
// the hook runs on the publishing thread, for connectivity events only, once the event is in
// its lane; when it has taken every event, the sleeping consumer is left asleep.
struct HookRecord {
  EventHub* hub = nullptr;
  bool takeEverything = false;
  std::vector<std::size_t> depthSeen;
  std::vector<std::thread::id> threads;
  std::vector<SessionEvent> taken;
};

bool recordingHook(void* context) {
  HookRecord& r = *static_cast<HookRecord*>(context);
  r.depthSeen.push_back(r.hub->depth());
  r.threads.push_back(std::this_thread::get_id());
  if (!r.takeEverything) return false;
  r.hub->drain([&](const SessionEvent& e) { r.taken.push_back(e); }, EventHub::kDrainBatch);
  return true;
}

TEST(EventHub, ConnectivityHookRunsOnThePublishingThreadOnceTheEventIsQueued) {
  EventHub hub(2, 64);
  HookRecord record;
  record.hub = &hub;
  hub.setConnectivityHook(&recordingHook, &record);
  SessionEvent heartbeat = makeEvent(EventKind::kMessageIn, 0, 1);
  heartbeat.messageClass = MessageClass::kHeartbeat;
  ASSERT_TRUE(hub.publish(heartbeat));
  EXPECT_TRUE(record.depthSeen.empty()) << "a message is no connectivity event";
  ASSERT_TRUE(hub.publish(makeEvent(EventKind::kDisconnect, 0, 2)));
  ASSERT_EQ(record.depthSeen.size(), 1u);
  EXPECT_EQ(record.depthSeen[0], 2u) << "the Heartbeat and the disconnect, both queued";
  EXPECT_EQ(record.threads[0], std::this_thread::get_id());
  EXPECT_EQ(drainAll(hub).size(), 2u) << "a hook that took nothing leaves every event queued";
}

TEST(EventHub, ConsumerSleepsOnWhenTheConnectivityHookTookEverything) {
  EventHub hub(2, 64);
  HookRecord record;
  record.hub = &hub;
  record.takeEverything = true;
  hub.setConnectivityHook(&recordingHook, &record);
  const Nanos wait = 300 * kNanosPerMilli;
  const Nanos waited = waitAcrossPublish(hub, makeEvent(EventKind::kDisconnect, 1, 5), wait);
  ASSERT_EQ(record.taken.size(), 1u);
  EXPECT_EQ(record.taken[0].kind, EventKind::kDisconnect);
  EXPECT_TRUE(hub.empty());
  // Nothing woke it: it slept to its deadline (it returns early only when woken).
  EXPECT_GE(waited, wait - 50 * kNanosPerMilli);
}

TEST(EventHub, RoutineMessagesOfAnUpLinkWaitForTheConsumersNextWakeUp) {
  EventHub hub(2, 8192);
  hub.setPromptWake(0, false);  // link 0 is up; link 1 is not
  SessionEvent heartbeat = makeEvent(EventKind::kMessageIn, 0, monotonicNow());
  heartbeat.messageClass = MessageClass::kHeartbeat;
  heartbeat.flags = event_flag::kHasSendingTime;
  const Nanos wait = 300 * kNanosPerMilli;
  // Not woken: the wait runs to its deadline, and the heartbeat is still delivered after.
  EXPECT_GE(waitAcrossPublish(hub, heartbeat, wait), wait);
  EXPECT_EQ(drainAll(hub).size(), 1u);

  // Anything that may change the state wakes at once: the same message on a link that is
  // not up, an answer to a TestRequest, a resent message, an admin message, a logout.
  const Nanos longWait = 20 * kNanosPerSecond;
  SessionEvent other = heartbeat;
  other.link = 1;
  SessionEvent answer = heartbeat;
  answer.flags |= event_flag::kHasTestReqId;
  SessionEvent resent = heartbeat;
  resent.messageClass = MessageClass::kApplication;
  resent.flags = event_flag::kPossDup;
  SessionEvent reject = heartbeat;
  reject.messageClass = MessageClass::kReject;
  for (const SessionEvent& prompt :
       {other, answer, resent, reject, makeEvent(EventKind::kLogout, 0, monotonicNow())}) {
    EXPECT_LT(waitAcrossPublish(hub, prompt, longWait), longWait);
    EXPECT_EQ(drainAll(hub).size(), 1u);
  }

  // A backlog of routine messages wakes the consumer too: the lane never fills unnoticed.
  EXPECT_LT(
      waitAcrossPublish(hub, heartbeat, longWait, static_cast<int>(EventHub::kMaxLazyBacklog)),
      longWait);
}

TEST(EventHub, RoutineMessagesAreTalliedOnlyWhileEveryOtherEventOfTheLinkIsApplied) {
  EventHub hub(2, 64);
  // Nothing is tallied before the consumer has found the link up.
  EXPECT_FALSE(hub.mayTally(0));
  hub.setTallyAllowed(0, true);
  EXPECT_TRUE(hub.mayTally(0));
  EXPECT_FALSE(hub.mayTally(1));
  EXPECT_FALSE(hub.mayTally(2));  // no such link

  // A routine message published all the same (a sampled SendingTime) changes nothing.
  SessionEvent heartbeat = makeEvent(EventKind::kMessageIn, 0, monotonicNow());
  heartbeat.messageClass = MessageClass::kHeartbeat;
  ASSERT_TRUE(hub.publish(heartbeat));
  EXPECT_TRUE(hub.mayTally(0));

  // Anything else stops the tally until the consumer has applied it and says the link is
  // still up; saying so before it has applied the event is not enough.
  SessionEvent testRequest = heartbeat;
  testRequest.kind = EventKind::kMessageOut;
  testRequest.messageClass = MessageClass::kTestRequest;
  ASSERT_TRUE(hub.publish(testRequest));
  EXPECT_FALSE(hub.mayTally(0));
  hub.setTallyAllowed(0, true);
  EXPECT_FALSE(hub.mayTally(0));
  EXPECT_EQ(drainAll(hub).size(), 2u);
  EXPECT_FALSE(hub.mayTally(0));
  hub.setTallyAllowed(0, true);
  EXPECT_TRUE(hub.mayTally(0));
  hub.setTallyAllowed(0, false);  // the link is no longer up
  EXPECT_FALSE(hub.mayTally(0));
  hub.setTallyAllowed(0, true);

  // Another link's events do not stop this one's tally.
  ASSERT_TRUE(hub.publish(makeEvent(EventKind::kLogon, 1, monotonicNow())));
  EXPECT_TRUE(hub.mayTally(0));

  hub.tallyApplication(0, true, 100);
  hub.tallyApplication(0, true, 200);
  hub.tallyApplication(0, false, 300);
  hub.tallyHeartbeat(0, 400);
  const RoutineTally t = hub.readTally(0);
  EXPECT_EQ(t.messagesIn, 2u);
  EXPECT_EQ(t.lastIn, 200);
  EXPECT_EQ(t.messagesOut, 1u);
  EXPECT_EQ(t.lastOut, 300);
  EXPECT_EQ(t.heartbeatsIn, 1u);
  EXPECT_EQ(t.lastHeartbeatIn, 400);
  EXPECT_EQ(hub.readTally(1).messagesIn, 0u);
  EXPECT_TRUE(hub.empty() || drainAll(hub).size() == 1u);  // only link 1's logon was queued
}

// The events a worker process's forwarder has moved to the core: an EventSource of the core's
// hub, with the worker's local link indexes translated to global ones as the forwarder does.
class ForwardedEvents final : public EventSource {
 public:
  std::size_t pop(SessionEvent* out, std::size_t max) noexcept override {
    std::size_t n = 0;
    while (n < max && next_ < events_.size()) out[n++] = events_[next_++];
    return n;
  }
  bool empty() const noexcept override { return next_ == events_.size(); }
  std::size_t depth() const noexcept override { return events_.size() - next_; }

  // Everything `worker` holds, its local link `local` becoming `global`.
  void forwardAll(EventHub& worker, LinkIndex local, LinkIndex global) {
    for (SessionEvent e : drainAll(worker)) {
      EXPECT_EQ(e.link, local);
      e.link = global;
      events_.push_back(e);
    }
  }
  void push(const SessionEvent& e) { events_.push_back(e); }

 private:
  std::vector<SessionEvent> events_;
  std::size_t next_ = 0;
};

// The core's hub, one of whose links (`global`) is a worker's: its events come through
// `forwarded`, its routine messages are tallied in `slot` (ShmShard::tallies).
struct WorkerLink {
  explicit WorkerLink(std::size_t links = 1, LinkIndex global = 0) : core(links, 64) {
    core.addSource(forwarded);
    core.shareTally(global, slot[0]);
  }
  EventHub::TallySlot slot[1];  // the worker's one link, local index 0
  ForwardedEvents forwarded;
  EventHub core;
};

// A worker process's hub tallies in slots the core's hub reads and grants (ShmShard::tallies):
// the core's count of the events it applied from the worker decides, as for its own lanes.
TEST(EventHub, AWorkersRoutineMessagesAreTalliedInSlotsTheCoreGrants) {
  constexpr LinkIndex kGlobal = 2;
  WorkerLink link(3, kGlobal);
  EventHub& core = link.core;
  ForwardedEvents& forwarded = link.forwarded;

  EventHub worker(1, 64, 1, link.slot);
  EXPECT_FALSE(worker.mayTally(0));
  ASSERT_TRUE(worker.publish(makeEvent(EventKind::kLogon, 0, 10)));
  core.setTallyAllowed(kGlobal, true);  // before the logon is applied: not enough
  EXPECT_FALSE(worker.mayTally(0));
  forwarded.forwardAll(worker, 0, kGlobal);
  EXPECT_EQ(drainAll(core).size(), 1u);
  core.setTallyAllowed(kGlobal, true);
  EXPECT_TRUE(worker.mayTally(0));
  EXPECT_FALSE(core.mayTally(kGlobal));  // the core's own slot for the link is not used

  // What the worker tallies, the core reads for the global link.
  worker.tallyApplication(0, true, 100);
  worker.tallyHeartbeat(0, 200);
  EXPECT_EQ(core.readTally(kGlobal).messagesIn, 1u);
  EXPECT_EQ(core.readTally(kGlobal).lastHeartbeatIn, 200);
  EXPECT_EQ(core.readTally(0).messagesIn, 0u);

  // A TestRequest stops the tally until the core has applied it.
  SessionEvent testRequest = makeEvent(EventKind::kMessageIn, 0, 300);
  testRequest.messageClass = MessageClass::kTestRequest;
  ASSERT_TRUE(worker.publish(testRequest));
  EXPECT_FALSE(worker.mayTally(0));
  forwarded.forwardAll(worker, 0, kGlobal);
  EXPECT_EQ(drainAll(core).size(), 1u);
  core.setTallyAllowed(kGlobal, true);
  EXPECT_TRUE(worker.mayTally(0));
}

// A worker that dies takes published events with it. The core's own disconnect for its links
// carries how many it published in all, so that its successor (a new hub on the same slots)
// tallies again once the core has applied what the successor published.
TEST(EventHub, AWorkersSuccessorTalliesAgainAfterEventsWereLostWithTheWorker) {
  WorkerLink link;
  EventHub& core = link.core;
  ForwardedEvents& forwarded = link.forwarded;
  EventHub::TallySlot* const shared = link.slot;
  {
    EventHub dying(1, 64, 1, shared);
    ASSERT_TRUE(dying.publish(makeEvent(EventKind::kLogon, 0, 10)));
    forwarded.forwardAll(dying, 0, 0);
    EXPECT_EQ(drainAll(core).size(), 1u);
    core.setTallyAllowed(0, true);
    EXPECT_TRUE(dying.mayTally(0));
    // Published, never forwarded: the worker is killed.
    ASSERT_TRUE(dying.publish(makeEvent(EventKind::kLogout, 0, 20)));
    ASSERT_TRUE(dying.publish(makeEvent(EventKind::kDisconnect, 0, 30)));
  }
  SessionEvent lost = makeEvent(EventKind::kDisconnect, 0, 40);
  lost.flags = event_flag::kFixWorkerLost;
  lost.testReqId = shared[0].published.load();
  EXPECT_EQ(lost.testReqId, 3u);
  forwarded.push(lost);
  EXPECT_EQ(drainAll(core).size(), 1u);
  core.setTallyAllowed(0, false);  // the link is down

  EventHub successor(1, 64, 1, shared);
  EXPECT_FALSE(successor.mayTally(0));
  ASSERT_TRUE(successor.publish(makeEvent(EventKind::kLogon, 0, 50)));
  forwarded.forwardAll(successor, 0, 0);
  EXPECT_EQ(drainAll(core).size(), 1u);
  core.setTallyAllowed(0, true);
  EXPECT_TRUE(successor.mayTally(0));

  // Without the count the core would have waited for the two lost events forever.
  WorkerLink unsynced;
  unsynced.slot[0].published.store(2);  // two published, lost
  unsynced.forwarded.push(makeEvent(EventKind::kDisconnect, 0, 40));
  EXPECT_EQ(drainAll(unsynced.core).size(), 1u);
  EventHub successor2(1, 64, 1, unsynced.slot);
  ASSERT_TRUE(successor2.publish(makeEvent(EventKind::kLogon, 0, 50)));
  unsynced.forwarded.forwardAll(successor2, 0, 0);
  EXPECT_EQ(drainAll(unsynced.core).size(), 1u);
  unsynced.core.setTallyAllowed(0, true);
  EXPECT_FALSE(successor2.mayTally(0));
}

// A connectivity event kept in its link's overflow slot (the lane was full) counts as
// published once, however often it was replaced before the consumer came, and the consumer
// counts it applied when it delivers it: through a worker's forwarder (where it becomes an
// ordinary event) the tally goes on afterwards as it does after any other event.
TEST(EventHub, AConnectivityEventKeptForAFullLaneStopsTheTallyUntilApplied) {
  WorkerLink link;
  EventHub& core = link.core;
  EventHub worker(1, 2, 1, link.slot);
  core.setTallyAllowed(0, true);
  ASSERT_TRUE(worker.mayTally(0));

  SessionEvent resent = makeEvent(EventKind::kMessageIn, 0, 1);
  resent.messageClass = MessageClass::kApplication;
  resent.flags = event_flag::kPossDup;  // a resend: published, not routine
  while (worker.publish(resent)) {
  }
  ASSERT_TRUE(worker.publish(makeEvent(EventKind::kLogout, 0, 2)));
  ASSERT_TRUE(worker.publish(makeEvent(EventKind::kLogout, 0, 3)));  // replaces the one kept
  EXPECT_EQ(worker.deferred(), 2u);
  EXPECT_FALSE(worker.mayTally(0));

  link.forwarded.forwardAll(worker, 0, 0);
  const std::vector<SessionEvent> out = drainAll(core);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back().kind, EventKind::kLogout);
  EXPECT_EQ(out.back().monotonic, 3);
  core.setTallyAllowed(0, true);
  EXPECT_TRUE(worker.mayTally(0));
}

TEST(EventHub, ReleasesTheLaneOfAThreadThatEnded) {
  EventHub hub(1, 64, 1);
  for (int i = 0; i < 3; ++i) {
    std::thread([&] { hub.publish(makeEvent(EventKind::kLogon, 0, 1)); }).join();
  }
  // Every thread got the single lane in turn: nothing went to the shared lane.
  EXPECT_EQ(drainAll(hub).size(), 3u);
  EXPECT_EQ(hub.dropped(), 0u);
}

}  // namespace
}  // namespace linkwatch
