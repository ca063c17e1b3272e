#include <linkwatch/link_monitor.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

namespace linkwatch {
namespace {

constexpr Nanos kSec = kNanosPerSecond;

MonitorConfig twoLinks() {
  MonitorConfig config;
  for (const char* id : {"BANK01", "BANK02"}) {
    LinkConfig link;
    link.memberId = id;
    link.memberName = id;
    link.sessionKey = std::string("FIX.4.4:EXCH->") + id;
    link.heartBtIntSeconds = 1;
    config.links.push_back(link);
  }
  return config;
}

class LinkMonitorTest : public ::testing::Test {
 protected:
  SessionEvent at(EventKind kind, LinkIndex link, MessageClass cls = MessageClass::kApplication) {
    SessionEvent e;
    std::memset(&e, 0, sizeof e);
    e.kind = kind;
    e.link = link;
    e.messageClass = cls;
    e.monotonic = clock.monotonic();
    e.wall = clock.wall();
    return e;
  }
  ManualClock clock;
  LinkMonitor monitor{twoLinks(), clock};
};

TEST_F(LinkMonitorTest, PublishesStateCountersAndTransitions) {
  monitor.hub().publish(at(EventKind::kLogon, 0));
  monitor.hub().publish(at(EventKind::kMessageIn, 0, MessageClass::kHeartbeat));
  EXPECT_EQ(monitor.runOnce(), 2u);
  const LinkStats& s = monitor.stats(0);
  EXPECT_EQ(s.state.load(), LinkState::kUp);
  EXPECT_EQ(s.logons.load(), 1u);
  EXPECT_EQ(s.heartbeatsReceived.load(), 1u);
  EXPECT_EQ(monitor.stats(1).state.load(), LinkState::kDown);
  const auto history = monitor.recentTransitions(10);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].link, 0u);
  EXPECT_EQ(history[0].to, LinkState::kUp);
}

TEST_F(LinkMonitorTest, OwnDeadlineDegradesAtHeartBtIntPlusGraceNotAtQuickfixsTick) {
  monitor.hub().publish(at(EventKind::kLogon, 0));
  monitor.runOnce();
  clock.advance(1200 * kNanosPerMilli - 1);
  monitor.runOnce();
  EXPECT_EQ(monitor.stats(0).state.load(), LinkState::kUp);
  clock.advance(1);
  monitor.runOnce();
  EXPECT_EQ(monitor.stats(0).state.load(), LinkState::kDegraded);
  EXPECT_EQ(monitor.stats(0).reason.load(), LinkReason::kHeartbeatLate);
}

TEST_F(LinkMonitorTest, OnlyAnUpLinksRoutineMessagesMayWaitForTheCoresNextWakeUp) {
  EXPECT_TRUE(monitor.hub().promptWake(0));  // down
  monitor.hub().publish(at(EventKind::kLogon, 0));
  monitor.runOnce();
  EXPECT_FALSE(monitor.hub().promptWake(0));  // up
  EXPECT_TRUE(monitor.hub().promptWake(1));   // still down
  clock.advance(1200 * kNanosPerMilli);
  monitor.runOnce();
  ASSERT_EQ(monitor.stats(0).state.load(), LinkState::kDegraded);
  EXPECT_TRUE(monitor.hub().promptWake(0));  // its next heartbeat must be applied at once
  monitor.hub().publish(at(EventKind::kMessageIn, 0, MessageClass::kHeartbeat));
  monitor.runOnce();
  EXPECT_EQ(monitor.stats(0).state.load(), LinkState::kUp);
  EXPECT_FALSE(monitor.hub().promptWake(0));
}

TEST_F(LinkMonitorTest, TalliedMessagesMoveAnUpLinksDeadlineAndCounters) {
  EventHub& hub = monitor.hub();
  EXPECT_FALSE(hub.mayTally(0));  // down
  hub.publish(at(EventKind::kLogon, 0));
  monitor.runOnce();
  ASSERT_EQ(monitor.stats(0).state.load(), LinkState::kUp);
  ASSERT_TRUE(hub.mayTally(0));
  EXPECT_FALSE(hub.mayTally(1));

  // Orders and a Heartbeat tallied by the FIX thread instead of published.
  clock.advance(kSec);
  for (int i = 0; i < 3; ++i) hub.tallyApplication(0, true, clock.monotonic());
  hub.tallyApplication(0, false, clock.monotonic());
  clock.advance(kSec / 10);
  hub.tallyHeartbeat(0, clock.monotonic());
  const Nanos lastHeartbeat = clock.monotonic();
  // Past the deadline the logon set (1.2 s): the core reads the tally before it fires.
  clock.advance(kSec / 5);
  monitor.runOnce();
  const LinkStats& s = monitor.stats(0);
  EXPECT_EQ(s.state.load(), LinkState::kUp);
  const auto app = static_cast<std::size_t>(MessageClass::kApplication);
  EXPECT_EQ(s.messagesReceived[app].load(), 3u);
  EXPECT_EQ(s.messagesSent[app].load(), 1u);
  EXPECT_EQ(s.heartbeatsReceived.load(), 1u);
  EXPECT_EQ(s.messagesReceived[static_cast<std::size_t>(MessageClass::kHeartbeat)].load(), 1u);

  // The Heartbeat's time sets the next deadline: 1.2 s after the latest time the coarse
  // clock allows for it, not before.
  clock.advance(lastHeartbeat + coarseMonotonicResolution() + 1200 * kNanosPerMilli - 1 -
                clock.monotonic());
  monitor.runOnce();
  EXPECT_EQ(s.state.load(), LinkState::kUp);
  clock.advance(1);
  monitor.runOnce();
  EXPECT_EQ(s.state.load(), LinkState::kDegraded);
  EXPECT_EQ(s.reason.load(), LinkReason::kHeartbeatLate);
  EXPECT_FALSE(hub.mayTally(0));  // a late link's messages are applied at once again
}

TEST_F(LinkMonitorTest, AnApplicationMessagesCoarseTimeNeverMovesTheDeadlineEarlier) {
  EventHub& hub = monitor.hub();
  hub.publish(at(EventKind::kLogon, 0));
  monitor.runOnce();
  ASSERT_TRUE(hub.mayTally(0));
  clock.advance(kSec);
  // The coarse clock may read up to one tick behind the message's real time: the core takes
  // the latest time the message can have had.
  hub.tallyApplication(0, true, clock.monotonic() - coarseMonotonicResolution());
  const Nanos sent = clock.monotonic();
  clock.advance(kSec / 2);
  monitor.runOnce();
  clock.advance(sent + 1200 * kNanosPerMilli - 1 - clock.monotonic());
  monitor.runOnce();
  EXPECT_EQ(monitor.stats(0).state.load(), LinkState::kUp);
}

TEST_F(LinkMonitorTest, AnEventPublishedForTheLinkStopsItsTallyUntilTheCoreHasAppliedIt) {
  EventHub& hub = monitor.hub();
  hub.publish(at(EventKind::kLogon, 0));
  monitor.runOnce();
  ASSERT_TRUE(hub.mayTally(0));
  // QuickFIX found a gap: its "too high" line and its ResendRequest are published; the
  // member's resends that follow must be read in full (PossDup closes the gap).
  SessionEvent tooHigh = at(EventKind::kSeqTooHigh, 0);
  tooHigh.seqNum = 10;
  tooHigh.aux = 5;
  hub.publish(tooHigh);
  EXPECT_FALSE(hub.mayTally(0));
  monitor.runOnce();
  EXPECT_EQ(monitor.stats(0).state.load(), LinkState::kDegraded);
  EXPECT_FALSE(hub.mayTally(0));
  SessionEvent resent = at(EventKind::kMessageIn, 0);
  resent.flags = event_flag::kPossDup;
  resent.seqNum = 9;
  hub.publish(resent);
  monitor.runOnce();
  EXPECT_EQ(monitor.stats(0).state.load(), LinkState::kUp);
  EXPECT_TRUE(hub.mayTally(0));
}

TEST_F(LinkMonitorTest, NoTallyWhileATestRequestAwaitsItsAnswer) {
  EventHub& hub = monitor.hub();
  hub.publish(at(EventKind::kLogon, 0));
  monitor.runOnce();
  ASSERT_TRUE(hub.mayTally(0));
  // QuickFIX's own TestRequest: the Heartbeat that answers it must be read in full.
  SessionEvent testRequest = at(EventKind::kMessageOut, 0, MessageClass::kTestRequest);
  testRequest.flags = event_flag::kHasTestReqId | event_flag::kQuickfixTestReqId;
  hub.publish(testRequest);
  monitor.runOnce();
  EXPECT_EQ(monitor.stats(0).state.load(), LinkState::kUp);
  EXPECT_FALSE(hub.mayTally(0));
  SessionEvent answer = at(EventKind::kMessageIn, 0, MessageClass::kHeartbeat);
  answer.flags = event_flag::kHasTestReqId | event_flag::kQuickfixTestReqId;
  hub.publish(answer);
  monitor.runOnce();
  EXPECT_TRUE(hub.mayTally(0));
}

TEST_F(LinkMonitorTest, CountsDisconnectsByReasonAndFlaps) {
  monitor.hub().publish(at(EventKind::kLogon, 1));
  monitor.runOnce();
  clock.advance(kSec / 10);
  monitor.hub().publish(at(EventKind::kHeartbeatTimeout, 1));
  monitor.hub().publish(at(EventKind::kDisconnect, 1));
  monitor.hub().publish(at(EventKind::kLogout, 1));
  monitor.runOnce();
  const LinkStats& s = monitor.stats(1);
  EXPECT_EQ(s.state.load(), LinkState::kDown);
  EXPECT_EQ(s.reason.load(), LinkReason::kHeartbeatTimeout);
  EXPECT_EQ(s.disconnects[static_cast<std::size_t>(LinkReason::kHeartbeatTimeout)].load(), 1u);
  EXPECT_EQ(s.flaps.load(), 2u);
  EXPECT_EQ(s.flapsInWindow.load(), 2u);
}

TEST_F(LinkMonitorTest, CountsLogonsForUnknownSessions) {
  SessionEvent e = at(EventKind::kUnknownSession, kNoLink);
  monitor.hub().publish(e);
  monitor.runOnce();
  EXPECT_EQ(monitor.monitorStats().unknownSessionLogons.load(), 1u);
  EXPECT_EQ(monitor.stats(0).state.load(), LinkState::kDown);
}

// The core thread reads its clock once per drain; an event stamped after that read (published
// while a preempted core thread was draining) must not get a transition older than itself.
// Such a transition once made detection_bench miss a reset's `down` (1 of 1,000).
TEST_F(LinkMonitorTest, TransitionNeverPrecedesTheEventThatCausedIt) {
  SessionEvent logon = at(EventKind::kLogon, 0);
  logon.monotonic += 3 * kNanosPerMilli;  // stamped after the clock the drain will read
  logon.wall += 3 * kNanosPerMilli;
  monitor.hub().publish(logon);
  monitor.runOnce();
  EXPECT_GE(monitor.stats(0).stateSinceWall.load(), logon.wall);
  clock.advance(2 * kSec);  // no heartbeat: a deadline, not an event, degrades the link
  monitor.runOnce();
  const auto history = monitor.recentTransitions(10);  // newest first
  ASSERT_EQ(history.size(), 2u);
  const Transition& up = history[1];
  const Transition& degraded = history[0];
  EXPECT_EQ(up.to, LinkState::kUp);
  EXPECT_EQ(up.causeMonotonic, logon.monotonic);
  EXPECT_GE(up.monotonic, logon.monotonic);
  EXPECT_GE(up.wall, logon.wall);
  EXPECT_EQ(degraded.to, LinkState::kDegraded);
  EXPECT_EQ(degraded.causeMonotonic, 0);
  EXPECT_EQ(degraded.monotonic, clock.monotonic());
}

TEST(LinkMonitorThread, AppliesAnEventWellUnderAMillisecondAfterItsPush) {
  SystemClock clock;
  LinkMonitor monitor(twoLinks(), clock);
  monitor.start();
  SessionEvent e;
  std::memset(&e, 0, sizeof e);
  e.kind = EventKind::kLogon;
  e.link = 0;
  e.monotonic = monotonicNow();
  e.wall = wallNow();
  monitor.hub().publish(e);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (monitor.stats(0).state.load() != LinkState::kUp &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  monitor.stop();
  EXPECT_EQ(monitor.stats(0).state.load(), LinkState::kUp);
  EXPECT_EQ(monitor.monitorStats().applyDelay.count(), 1u);
}

}  // namespace
}  // namespace linkwatch

namespace linkwatch {
namespace {

TEST(LinkMonitorMaintenance, ShowsMaintenanceUntilItExpiresWithoutCountingFlaps) {
  ManualClock clock;
  MonitorConfig config = twoLinks();
  LinkMonitor monitor(config, clock);
  SessionEvent logon;
  std::memset(&logon, 0, sizeof logon);
  logon.kind = EventKind::kLogon;
  logon.link = 0;
  logon.monotonic = clock.monotonic();
  logon.wall = clock.wall();
  monitor.hub().publish(logon);
  monitor.runOnce();
  const std::uint64_t flaps = monitor.stats(0).flaps.load();

  monitor.setMaintenance(0, clock.wall() + 60 * kSec);
  monitor.runOnce();
  EXPECT_EQ(monitor.stats(0).state.load(), LinkState::kMaintenance);
  EXPECT_EQ(monitor.stats(0).reason.load(), LinkReason::kMaintenance);
  EXPECT_EQ(monitor.stats(1).state.load(), LinkState::kDown);
  // Silence during maintenance stays maintenance.
  clock.advance(30 * kSec);
  monitor.runOnce();
  EXPECT_EQ(monitor.stats(0).state.load(), LinkState::kMaintenance);
  // The window runs out on its own: the link shows what it really is (silent: degraded).
  clock.advance(30 * kSec);
  monitor.runOnce();
  EXPECT_EQ(monitor.stats(0).state.load(), LinkState::kDegraded);
  EXPECT_EQ(monitor.stats(0).maintenanceUntilWall.load(), 0);
  EXPECT_EQ(monitor.stats(0).flaps.load(), flaps);  // in and out of maintenance: no flap
  const auto history = monitor.recentTransitions(3);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[1].to, LinkState::kMaintenance);
  EXPECT_EQ(history[0].from, LinkState::kMaintenance);
}

TEST(LinkMonitorMaintenance, EndsEarlyOnRequest) {
  ManualClock clock;
  LinkMonitor monitor(twoLinks(), clock);
  monitor.setMaintenance(1, clock.wall() + 3600 * kSec);
  monitor.runOnce();
  EXPECT_EQ(monitor.stats(1).state.load(), LinkState::kMaintenance);
  monitor.setMaintenance(1, 0);
  monitor.runOnce();
  EXPECT_EQ(monitor.stats(1).state.load(), LinkState::kDown);
  EXPECT_EQ(monitor.stats(1).reason.load(), LinkReason::kNeverConnected);
}

}  // namespace
}  // namespace linkwatch
