#include <linkwatch/link_monitor.hpp>

#include <algorithm>
#include <queue>

#include <linkwatch/thread_scheduling.hpp>

#include "core/link_state_machine.hpp"

namespace linkwatch {
namespace {

constexpr std::size_t kDrainMax = 4096;
// How often flap windows are re-counted while nothing else happens.
constexpr Nanos kSweepInterval = kNanosPerSecond;
constexpr std::size_t kFlapRing = 64;
// Routine messages of up links do not wake the core (EventHub::setPromptWake); it comes back
// for them at least this often, so counters and last-message times lag by no more.
constexpr Nanos kRoutineFlushInterval = 100 * kNanosPerMilli;

void bump(Counter& c, std::uint64_t by = 1) {
  c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

}  // namespace

// Min-heap of (deadline, link). A link has at most one live entry (scheduled[link]);
// entries that no longer match are skipped when popped, so moving a deadline later costs
// nothing until the old one fires.
struct LinkMonitor::DeadlineQueue {
  using Entry = std::pair<Nanos, LinkIndex>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
  std::vector<Nanos> scheduled;
  // Transition times per link, for flaps in the sliding window (core thread only).
  std::vector<std::array<Nanos, kFlapRing>> flapTimes;
  std::vector<std::size_t> flapNext;
  Nanos nextSweep = 0;

  void schedule(LinkIndex link, Nanos at) {
    if (at == kNever || at >= scheduled[link]) return;
    scheduled[link] = at;
    heap.emplace(at, link);
  }
  Nanos earliest() const { return heap.empty() ? kNever : heap.top().first; }
};

LinkMonitor::LinkMonitor(MonitorConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock), deadlines_(std::make_unique<DeadlineQueue>()) {
  const std::size_t n = config_.links.size();
  hub_ = std::make_unique<EventHub>(n, config_.eventQueueCapacity);
  deadlines_->scheduled.assign(n, kNever);
  tallySeen_.assign(n, RoutineTally{});
  deadlines_->flapTimes.assign(n, {});
  deadlines_->flapNext.assign(n, 0);
  history_.resize(std::max<std::size_t>(config_.historySize, 1));
  machines_.reserve(n);
  stats_.reserve(n);
  const Nanos nowMono = clock_.monotonic();
  const Nanos nowWall = clock_.wall();
  monitorStats_.startedWall.store(nowWall);
  for (std::size_t i = 0; i < n; ++i) {
    const LinkConfig& lc = config_.links[i];
    LinkTimings timings;
    timings.heartBtInt = static_cast<Nanos>(lc.heartBtIntSeconds) * kNanosPerSecond;
    timings.heartbeatGrace = config_.heartbeatGrace;
    timings.testRequestTimeout =
        std::chrono::duration_cast<std::chrono::nanoseconds>(config_.testRequestTimeout).count();
    machines_.push_back(std::make_unique<LinkStateMachine>(timings, &lc.schedule));
    stats_.push_back(std::make_unique<LinkStats>());
    LinkStateMachine& m = *machines_.back();
    LinkStats& s = *stats_.back();
    m.evaluate(nowMono, nowWall);
    s.state.store(m.state());
    s.reason.store(m.reason());
    s.stateSinceWall.store(nowWall);
    s.heartBtIntSeconds.store(static_cast<std::uint32_t>(std::max(lc.heartBtIntSeconds, 0)));
    deadlines_->schedule(static_cast<LinkIndex>(i), m.nextDeadline(nowMono, nowWall));
  }
}

LinkMonitor::~LinkMonitor() { stop(); }

void LinkMonitor::addListener(TransitionListener listener) {
  listeners_.push_back(std::move(listener));
}

void LinkMonitor::addMaintenanceListener(MaintenanceListener listener) {
  maintenanceListeners_.push_back(std::move(listener));
}

void LinkMonitor::restore(LinkIndex link, const RestoredLink& restored) {
  if (link >= machines_.size() || running_.load(std::memory_order_acquire)) return;
  if (restored_.size() != machines_.size()) restored_.resize(machines_.size());
  restored_[link] = std::make_unique<RestoredLink>(restored);
  const Nanos nowMono = clock_.monotonic();
  const Nanos nowWall = clock_.wall();
  const LinkConfig& lc = config_.links[link];
  const Nanos window = std::max<Nanos>(
      {2 * static_cast<Nanos>(std::max(lc.heartBtIntSeconds, 0)) * kNanosPerSecond,
       std::chrono::duration_cast<std::chrono::nanoseconds>(config_.alertStartupGrace).count(), 1});
  LinkStateMachine& m = *machines_[link];
  LinkStats& s = *stats_[link];
  m.markUnknownUntil(nowMono + window);
  if (restored.maintenanceUntilWall > nowWall) {
    m.setMaintenance(restored.maintenanceUntilWall);
    s.maintenanceUntilWall.store(restored.maintenanceUntilWall, std::memory_order_relaxed);
  }
  if (m.evaluate(nowMono, nowWall)) {
    s.reason.store(m.reason(), std::memory_order_relaxed);
    s.stateSinceWall.store(nowWall, std::memory_order_relaxed);
    s.state.store(m.state(), std::memory_order_release);
  }
  deadlines_->schedule(link, m.nextDeadline(nowMono, nowWall));
}

const RestoredLink* LinkMonitor::restored(LinkIndex link) const {
  return link < restored_.size() ? restored_[link].get() : nullptr;
}

void LinkMonitor::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { runLoop(); });
}

void LinkMonitor::stop() {
  if (!running_.exchange(false)) return;
  hub_->wakeConsumer();
  if (thread_.joinable()) thread_.join();
}

void LinkMonitor::setMaintenance(LinkIndex link, Nanos untilWall) {
  if (link >= machines_.size()) return;
  {
    std::lock_guard<std::mutex> lock(commandsMutex_);
    maintenanceCommands_.emplace_back(link, untilWall);
  }
  commandsPending_.store(true, std::memory_order_release);
  hub_->wakeConsumer();
}

void LinkMonitor::applyCommands(Nanos nowMono, Nanos nowWall) {
  if (!commandsPending_.exchange(false, std::memory_order_acq_rel)) return;
  std::vector<std::pair<LinkIndex, Nanos>> commands;
  {
    std::lock_guard<std::mutex> lock(commandsMutex_);
    commands.swap(maintenanceCommands_);
  }
  for (const auto& [link, until] : commands) {
    machines_[link]->setMaintenance(until);
    stats_[link]->maintenanceUntilWall.store(until, std::memory_order_relaxed);
    const MaintenanceChange change{link, until, nowWall, nowMono};
    for (const auto& listener : maintenanceListeners_) listener(change);
    reevaluate(link, nowMono, nowWall);
  }
}

std::size_t LinkMonitor::runOnce() {
  applyCommands(clock_.monotonic(), clock_.wall());
  std::size_t total = 0;
  for (std::size_t n = drainAndApply(); n != 0; n = drainAndApply()) total += n;
  const Nanos nowMono = clock_.monotonic();
  // As often as the core thread reads every link's tally (runLoop), no more: a scan of all
  // links on every call would dominate a benchmark's batches.
  if (nowMono >= nextTallyRead_) {
    nextTallyRead_ = nowMono + kRoutineFlushInterval;
    absorbTallies(nowMono, clock_.wall());
  }
  fireDeadlines(nowMono, clock_.wall());
  return total;
}

void LinkMonitor::runLoop() {
  // Woken by a disconnect, the core thread should preempt a busy thread rather than wait out
  // its slice (ThreadTimeSlice). Best effort: older kernels ignore it, and `run` reports it.
  if (const auto slice = std::chrono::nanoseconds(config_.threadTimeSlice).count(); slice != 0)
    static_cast<void>(setThreadTimeSlice(slice));
  while (running_.load(std::memory_order_acquire)) {
    refreshWallOffset();
    const Nanos drainedAt = monotonicNow();
    const std::size_t n = drainAndApply();
    const Nanos nowMono = clock_.monotonic();
    const Nanos nowWall = clock_.wall();
    applyCommands(nowMono, nowWall);
    if (nowMono >= nextTallyRead_) {
      nextTallyRead_ = nowMono + kRoutineFlushInterval;
      absorbTallies(nowMono, nowWall);
    }
    fireDeadlines(nowMono, nowWall);
    if (n >= kDrainMax) continue;  // a backlog: take the rest at once
    const Nanos wakeAt =
        std::min({deadlines_->earliest(), deadlines_->nextSweep, nowMono + kRoutineFlushInterval});
    hub_->waitForEvents(wakeAt, EventHub::kIdleSpin,
                        n != 0 ? drainedAt + EventHub::kDrainPacing : 0);
  }
  // What was published before stop() is still applied.
  while (drainAndApply() != 0) {
  }
  absorbTallies(clock_.monotonic(), clock_.wall());
}

void LinkMonitor::absorbTally(LinkIndex link, Nanos nowMono, Nanos nowWall) {
  const RoutineTally t = hub_->readTally(link);
  RoutineTally& seen = tallySeen_[link];
  const auto replay = [&](EventKind kind, MessageClass cls, std::uint64_t count, Nanos at) {
    SessionEvent e{};
    e.kind = kind;
    e.link = link;
    e.messageClass = cls;
    e.monotonic = at;
    e.wall = wallFromMonotonic(at);
    bump(monitorStats_.eventsApplied, count);
    apply(e, nowMono, nowWall, count);
  };
  // Tallied messages carry the coarse clock, up to one tick behind: take the latest they
  // can have been, so that a heartbeat deadline is not moved earlier than it is (it may fire
  // up to one tick late after a burst of messages instead). A VM's timer interrupt can come
  // late, and the coarse clock fall further behind (4.8 ms with a 4 ms tick seen here): the
  // deadline may then come that much early, a fraction of a millisecond against the
  // HeartBtInt x grace it allows.
  const auto latest = [&](Nanos coarseAt) {
    return std::min(coarseAt + coarseMonotonicResolution(), clock_.monotonic());
  };
  // Counts only grow (one writer); a smaller one would be a second writer's lost update.
  if (t.messagesIn > seen.messagesIn) {
    const std::uint64_t count = t.messagesIn - seen.messagesIn;
    seen.messagesIn = t.messagesIn;
    replay(EventKind::kMessageIn, MessageClass::kApplication, count, latest(t.lastIn));
  }
  if (t.messagesOut > seen.messagesOut) {
    const std::uint64_t count = t.messagesOut - seen.messagesOut;
    seen.messagesOut = t.messagesOut;
    replay(EventKind::kMessageOut, MessageClass::kApplication, count, latest(t.lastOut));
  }
  if (t.heartbeatsIn > seen.heartbeatsIn) {
    const std::uint64_t count = t.heartbeatsIn - seen.heartbeatsIn;
    seen.heartbeatsIn = t.heartbeatsIn;
    replay(EventKind::kMessageIn, MessageClass::kHeartbeat, count, latest(t.lastHeartbeatIn));
  }
}

void LinkMonitor::absorbTallies(Nanos nowMono, Nanos nowWall) {
  for (std::size_t link = 0; link < tallySeen_.size(); ++link)
    absorbTally(static_cast<LinkIndex>(link), nowMono, nowWall);
}

std::size_t LinkMonitor::drainAndApply() {
  const Nanos nowMono = clock_.monotonic();
  const Nanos nowWall = clock_.wall();
  // With thousands of links, applying an event is mostly waiting for its link's cache lines:
  // ask for those of the event a few places ahead while this one is applied (the pointers
  // are read, not the objects: only the hint touches them).
  const auto prefetch = [this](const SessionEvent& e) {
    if (e.link >= machines_.size()) return;
    const LinkStats& s = *stats_[e.link];
    __builtin_prefetch(machines_[e.link].get());
    __builtin_prefetch(&s.lastInboundWall);
    if (static_cast<std::size_t>(e.messageClass) < kMessageClassCount)
      __builtin_prefetch(&s.messagesReceived[static_cast<std::size_t>(e.messageClass)]);
    __builtin_prefetch(&s.heartbeatsReceived);
    __builtin_prefetch(&s.heartbeatInterval);
    __builtin_prefetch(reinterpret_cast<const char*>(&s.heartbeatInterval) + kCacheLineSize);
  };
  // Drain until the lanes are empty, but hand back to the deadlines after kDrainMax events
  // at most: under a flood, timers still fire.
  std::size_t total = 0;
  while (total < kDrainMax) {
    const std::size_t n = hub_->drain([&](const SessionEvent& e) { apply(e, nowMono, nowWall); },
                                      prefetch, kDrainMax - total);
    if (n == 0) break;
    total += n;
  }
  if (total != 0) bump(monitorStats_.eventsApplied, total);
  monitorStats_.queueDepth.store(hub_->depth(), std::memory_order_relaxed);
  monitorStats_.eventsDropped.store(hub_->dropped(), std::memory_order_relaxed);
  monitorStats_.criticalEventsDeferred.store(hub_->deferred(), std::memory_order_relaxed);
  return total;
}

void LinkMonitor::apply(const SessionEvent& e, Nanos nowMono, Nanos nowWall, std::uint64_t count) {
  // Routine messages may wait for the core's next wake-up on purpose (isRoutineMessage):
  // their delay says nothing about how fast a change is seen.
  const bool routine = isRoutineMessage(e);
  if (!routine) monitorStats_.applyDelay.observe(std::max<Nanos>(nowMono - e.monotonic, 0));
  if (e.link >= machines_.size()) {
    if (e.kind == EventKind::kUnknownSession) bump(monitorStats_.unknownSessionLogons);
    return;
  }
  // What the link's FIX thread tallied before it published this event comes first.
  if (!routine) absorbTally(e.link, nowMono, nowWall);
  LinkStats& s = *stats_[e.link];
  LinkStateMachine& m = *machines_[e.link];
  const auto cls = static_cast<std::size_t>(e.messageClass);
  if (e.kind == EventKind::kMessageIn) {
    bump(s.messagesReceived[cls], count);
    s.lastInboundWall.store(e.wall, std::memory_order_relaxed);
    switch (e.messageClass) {
      case MessageClass::kHeartbeat:
        bump(s.heartbeatsReceived, count);
        break;
      case MessageClass::kTestRequest:
        bump(s.testRequestsReceived);
        break;
      case MessageClass::kResendRequest:
        bump(s.resendRequestsReceived);
        break;
      case MessageClass::kReject:
        bump(s.rejectsReceived);
        break;
      default:
        break;
    }
    if ((e.flags & event_flag::kHasSendingTime) != 0 && (e.flags & event_flag::kPossDup) == 0) {
      s.lastSendingTimeSkew.store(e.wall - e.sendingTime, std::memory_order_relaxed);
      s.hasSendingTimeSkew.store(true, std::memory_order_relaxed);
    }
  } else if (e.kind == EventKind::kMessageOut) {
    bump(s.messagesSent[cls], count);
    switch (e.messageClass) {
      case MessageClass::kTestRequest:
        bump(s.testRequestsSent);
        break;
      case MessageClass::kResendRequest:
        bump(s.resendRequestsSent);
        break;
      case MessageClass::kReject:
        bump(s.rejectsSent);
        break;
      default:
        break;
    }
  }

  const AppliedEvent applied = m.apply(e);
  if (applied.loggedOn) {
    bump(s.logons);
    s.lastLogonWall.store(e.wall, std::memory_order_relaxed);
  }
  if (applied.logonRefused) bump(s.logonRejects);
  if (applied.countedDisconnect)
    bump(s.disconnects[static_cast<std::size_t>(applied.disconnectReason)]);
  if (applied.gapDetected) bump(s.sequenceGaps);
  if (applied.rtt) {
    s.lastRtt.store(*applied.rtt, std::memory_order_relaxed);
    s.rtt.observe(*applied.rtt);
  }
  // A tally of several Heartbeats spans as many intervals: observe their mean once.
  if (applied.heartbeatInterval)
    s.heartbeatInterval.observe(count == 1
                                    ? *applied.heartbeatInterval
                                    : *applied.heartbeatInterval / static_cast<Nanos>(count));
  const auto hb = static_cast<std::uint32_t>(m.heartBtInt() / kNanosPerSecond);
  if (s.heartBtIntSeconds.load(std::memory_order_relaxed) != hb)
    s.heartBtIntSeconds.store(hb, std::memory_order_relaxed);

  // A routine message on an up link whose next deadline is still ahead changes no state and
  // moves no deadline earlier, so the link need not be re-evaluated (most of what the core
  // applies: Heartbeats, order flow, replayed tallies). Every condition that can take an up
  // link elsewhere by itself (a heartbeat or TestRequest running late, a trading-hours edge)
  // has its time among the deadlines given at the link's last evaluation, and scheduled[]
  // is the earliest of them; a routine message only moves them later or ends them (an
  // inbound one ends QuickFIX's TestRequest, an outbound one a finished resend). The old
  // deadline fires as before and the link is re-evaluated then. One difference: a step of the
  // wall clock across a trading-hours edge shows at that deadline instead of at the message.
  const Nanos scheduled = deadlines_->scheduled[e.link];
  if (!(routine && m.state() == LinkState::kUp && scheduled != kNever && nowMono < scheduled))
    reevaluate(e.link, nowMono, nowWall, e.monotonic);
  // If every event published for the link so far has been applied and it is up with no
  // TestRequest outstanding, its routine messages may be tallied (again: EventHub::mayTally).
  hub_->setTallyAllowed(e.link, m.routineMessagesMayBeTallied());
}

void LinkMonitor::reevaluate(LinkIndex link, Nanos nowMono, Nanos nowWall, Nanos causeMono) {
  LinkStateMachine& m = *machines_[link];
  const LinkState before = m.state();
  if (m.evaluate(nowMono, nowWall)) {
    Transition t;
    t.link = link;
    t.from = before;
    t.to = m.state();
    t.reason = m.reason();
    t.wall = nowWall;
    t.monotonic = nowMono;
    t.causeMonotonic = causeMono;
    if (causeMono != 0) {
      // nowMono was read when the drain began; an event published since (a preempted core
      // thread drains late) would get a transition older than its cause. Transitions are
      // rare: read the clock again.
      const Nanos at = std::max(clock_.monotonic(), causeMono);
      t.wall = nowWall + (at - nowMono);
      t.monotonic = at;
    }
    LinkStats& s = *stats_[link];
    // Reason and since before state: a reader that sees the new state sees its reason.
    s.reason.store(t.reason, std::memory_order_relaxed);
    s.stateSinceWall.store(t.wall, std::memory_order_relaxed);
    s.state.store(t.to, std::memory_order_release);
    // While the link is up its routine messages need not wake the core (event_hub.hpp).
    hub_->setPromptWake(link, t.to != LinkState::kUp);
    hub_->setTallyAllowed(link, m.routineMessagesMayBeTallied());
    // An operator's maintenance window is not a flap of the link, nor is the first
    // observation of a link restored as unknown after a restart.
    if (t.from != t.to && t.from != LinkState::kMaintenance && t.to != LinkState::kMaintenance &&
        t.from != LinkState::kUnknown) {
      bump(s.flaps);
      auto& ring = deadlines_->flapTimes[link];
      ring[deadlines_->flapNext[link]++ % kFlapRing] = nowMono;
      s.flapsInWindow.store(static_cast<std::uint32_t>(std::count_if(
                                ring.begin(), ring.end(),
                                [&](Nanos at) {
                                  return at != 0 &&
                                         nowMono - at <=
                                             std::chrono::nanoseconds(config_.flapWindow).count();
                                })),
                            std::memory_order_relaxed);
    }
    record(t);
  }
  // A maintenance window that has run out is over everywhere, not just in the state.
  if (m.maintenanceUntil() != 0 && m.maintenanceUntil() <= nowWall) {
    m.setMaintenance(0);
    stats_[link]->maintenanceUntilWall.store(0, std::memory_order_relaxed);
  }
  deadlines_->schedule(link, m.nextDeadline(nowMono, nowWall));
}

void LinkMonitor::fireDeadlines(Nanos nowMono, Nanos nowWall) {
  DeadlineQueue& q = *deadlines_;
  while (!q.heap.empty() && q.heap.top().first <= nowMono) {
    const auto [at, link] = q.heap.top();
    q.heap.pop();
    if (q.scheduled[link] != at) continue;  // superseded by an earlier entry
    q.scheduled[link] = kNever;
    // Routine messages the FIX thread tallied may have moved this deadline.
    absorbTally(link, nowMono, nowWall);
    reevaluate(link, nowMono, nowWall);
  }
  if (nowMono >= q.nextSweep) {
    q.nextSweep = nowMono + kSweepInterval;
    const Nanos window = std::chrono::nanoseconds(config_.flapWindow).count();
    for (std::size_t i = 0; i < stats_.size(); ++i) {
      LinkStats& s = *stats_[i];
      if (s.flapsInWindow.load(std::memory_order_relaxed) == 0) continue;
      const auto& ring = q.flapTimes[i];
      s.flapsInWindow.store(static_cast<std::uint32_t>(std::count_if(
                                ring.begin(), ring.end(),
                                [&](Nanos at) { return at != 0 && nowMono - at <= window; })),
                            std::memory_order_relaxed);
    }
  }
}

void LinkMonitor::record(const Transition& t) {
  bump(monitorStats_.transitions);
  {
    std::lock_guard<std::mutex> lock(historyMutex_);
    history_[historyNext_] = t;
    historyNext_ = (historyNext_ + 1) % history_.size();
    historyCount_ = std::min(historyCount_ + 1, history_.size());
  }
  for (const auto& listener : listeners_) listener(t);
}

std::vector<Transition> LinkMonitor::recentTransitions(std::size_t limit) const {
  std::lock_guard<std::mutex> lock(historyMutex_);
  const std::size_t n = std::min(limit, historyCount_);
  std::vector<Transition> out;
  out.reserve(n);
  for (std::size_t k = 1; k <= n; ++k)
    out.push_back(history_[(historyNext_ + history_.size() - k) % history_.size()]);
  return out;
}

LinkIndex LinkMonitor::findLink(const std::string& memberIdOrSession) const {
  for (std::size_t i = 0; i < config_.links.size(); ++i) {
    const LinkConfig& lc = config_.links[i];
    if (lc.memberId == memberIdOrSession || lc.sessionKey == memberIdOrSession)
      return static_cast<LinkIndex>(i);
  }
  return kNoLink;
}

}  // namespace linkwatch
