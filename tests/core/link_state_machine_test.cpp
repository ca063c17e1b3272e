#include "core/link_state_machine.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace linkwatch {
namespace {

constexpr Nanos kSec = kNanosPerSecond;
constexpr Nanos kMs = kNanosPerMilli;
constexpr Nanos kWall0 = 1767225600LL * kSec;  // 2026-01-01 00:00 UTC, a Thursday

SessionEvent event(EventKind kind, Nanos at, MessageClass cls = MessageClass::kApplication) {
  SessionEvent e;
  std::memset(&e, 0, sizeof e);
  e.kind = kind;
  e.monotonic = at;
  e.wall = kWall0 + at;
  e.messageClass = cls;
  return e;
}

SessionEvent inbound(MessageClass cls, Nanos at) { return event(EventKind::kMessageIn, at, cls); }
SessionEvent outbound(MessageClass cls, Nanos at) { return event(EventKind::kMessageOut, at, cls); }

class Machine {
 public:
  explicit Machine(Nanos heartBtInt = 30 * kSec, const TradingSchedule* schedule = nullptr)
      : m_(LinkTimings{heartBtInt, 0.2, 1 * kSec}, schedule) {
    m_.evaluate(0, kWall0);
  }
  Machine& apply(const SessionEvent& e) {
    last_ = m_.apply(e);
    m_.evaluate(e.monotonic, e.wall);
    return *this;
  }
  Machine& at(Nanos t) {
    m_.evaluate(t, kWall0 + t);
    return *this;
  }
  LinkState state() const { return m_.state(); }
  LinkReason reason() const { return m_.reason(); }
  LinkStateMachine& raw() { return m_; }
  const AppliedEvent& last() const { return last_; }

 private:
  LinkStateMachine m_;
  AppliedEvent last_;
};

TEST(LinkStateMachine, StartsDownNeverConnectedInsideSchedule) {
  Machine m;
  EXPECT_EQ(m.state(), LinkState::kDown);
  EXPECT_EQ(m.reason(), LinkReason::kNeverConnected);
}

TEST(LinkStateMachine, GoesUpOnLogon) {
  Machine m;
  m.apply(event(EventKind::kLogon, 1 * kSec));
  EXPECT_EQ(m.state(), LinkState::kUp);
  EXPECT_EQ(m.reason(), LinkReason::kLoggedOn);
  EXPECT_TRUE(m.last().loggedOn);
}

TEST(LinkStateMachine, GoesDegradedWhenHeartbeatIsLateAtHeartBtIntPlusGrace) {
  Machine m(10 * kSec);
  m.apply(event(EventKind::kLogon, 0));
  m.apply(inbound(MessageClass::kHeartbeat, 1 * kSec));
  // Late after 10 s + 20 %: 12 s after the last inbound message.
  m.at(13 * kSec - 1);
  EXPECT_EQ(m.state(), LinkState::kUp);
  EXPECT_EQ(m.raw().nextDeadline(1 * kSec, kWall0 + 1 * kSec), 13 * kSec);
  m.at(13 * kSec);
  EXPECT_EQ(m.state(), LinkState::kDegraded);
  EXPECT_EQ(m.reason(), LinkReason::kHeartbeatLate);
  m.apply(inbound(MessageClass::kHeartbeat, 14 * kSec));
  EXPECT_EQ(m.state(), LinkState::kUp);
}

TEST(LinkStateMachine, UsesHeartBtIntFromTheMembersLogon) {
  Machine m(0);  // an acceptor without a configured HeartBtInt
  SessionEvent logon = inbound(MessageClass::kLogon, 0);
  logon.aux = 2;
  m.apply(logon).apply(event(EventKind::kLogon, 0));
  EXPECT_EQ(m.raw().heartBtInt(), 2 * kSec);
  m.at(2400 * kMs - 1);
  EXPECT_EQ(m.state(), LinkState::kUp);
  m.at(2400 * kMs);
  EXPECT_EQ(m.state(), LinkState::kDegraded);
}

struct DownCase {
  const char* name;
  std::vector<SessionEvent> events;
  LinkReason reason;
};

void PrintTo(const DownCase& c, std::ostream* os) { *os << c.name; }

class LinkStateMachineDown : public ::testing::TestWithParam<DownCase> {};

TEST_P(LinkStateMachineDown, GoesDownWithTheReasonThatCausedIt) {
  Machine m;
  m.apply(event(EventKind::kLogon, 1 * kSec));
  for (const SessionEvent& e : GetParam().events) m.apply(e);
  EXPECT_EQ(m.state(), LinkState::kDown);
  EXPECT_EQ(m.reason(), GetParam().reason);
}

INSTANTIATE_TEST_SUITE_P(
    Reasons, LinkStateMachineDown,
    ::testing::Values(
        DownCase{
            "disconnect", {event(EventKind::kDisconnect, 2 * kSec)}, LinkReason::kDisconnected},
        DownCase{"socket_error",
                 {event(EventKind::kSocketError, 2 * kSec), event(EventKind::kDisconnect, 2 * kSec),
                  event(EventKind::kLogout, 2 * kSec)},
                 LinkReason::kDisconnected},
        DownCase{
            "member_logout",
            {inbound(MessageClass::kLogout, 2 * kSec), outbound(MessageClass::kLogout, 2 * kSec),
             event(EventKind::kDisconnect, 2 * kSec), event(EventKind::kLogout, 2 * kSec)},
            LinkReason::kLogout},
        DownCase{"heartbeat_timeout",
                 {event(EventKind::kHeartbeatTimeout, 2 * kSec),
                  event(EventKind::kDisconnect, 2 * kSec)},
                 LinkReason::kHeartbeatTimeout},
        DownCase{"sequence_too_low",
                 {event(EventKind::kSeqTooLow, 2 * kSec), outbound(MessageClass::kLogout, 2 * kSec),
                  event(EventKind::kDisconnect, 2 * kSec)},
                 LinkReason::kSequenceTooLow},
        DownCase{
            "onlogout_alone", {event(EventKind::kLogout, 2 * kSec)}, LinkReason::kDisconnected},
        // A QuickFIX worker process died or hung: its supervisor says so on the disconnect,
        // whatever else the session was doing.
        DownCase{"fix_worker_lost",
                 {event(EventKind::kHeartbeatTimeout, 2 * kSec),
                  [] {
                    SessionEvent e = event(EventKind::kDisconnect, 2 * kSec);
                    e.flags = event_flag::kFixWorkerLost;
                    return e;
                  }()},
                 LinkReason::kFixWorkerLost}),
    [](const auto& param) { return std::string(param.param.name); });

TEST(LinkStateMachine, CountsOneDisconnectForDisconnectingFollowedByOnLogout) {
  Machine m;
  m.apply(event(EventKind::kLogon, 1 * kSec));
  m.apply(event(EventKind::kDisconnect, 2 * kSec));
  EXPECT_TRUE(m.last().countedDisconnect);
  m.apply(event(EventKind::kLogout, 2 * kSec));
  EXPECT_FALSE(m.last().countedDisconnect);
}

TEST(LinkStateMachine, RefusedLogonLeavesTheLinkDownWithLogonRejected) {
  Machine m;
  m.apply(event(EventKind::kLogonRefused, 1 * kSec));
  EXPECT_TRUE(m.last().logonRefused);
  m.apply(event(EventKind::kDisconnect, 1 * kSec));
  EXPECT_FALSE(m.last().countedDisconnect);
  EXPECT_EQ(m.state(), LinkState::kDown);
  EXPECT_EQ(m.reason(), LinkReason::kLogonRejected);
}

TEST(LinkStateMachine, InitiatorLogonTimeoutLeavesTheLinkDownWithLogonTimeout) {
  Machine m;
  m.apply(event(EventKind::kLogonTimeout, 1 * kSec));
  m.apply(event(EventKind::kDisconnect, 1 * kSec));
  EXPECT_EQ(m.state(), LinkState::kDown);
  EXPECT_EQ(m.reason(), LinkReason::kLogonTimeout);
  // The next successful logon clears it.
  m.apply(event(EventKind::kLogon, 5 * kSec));
  EXPECT_EQ(m.state(), LinkState::kUp);
}

TEST(LinkStateMachine, AnyInboundMessageCountsAsLifeNotJustHeartbeats) {
  Machine m(10 * kSec);
  m.apply(event(EventKind::kLogon, 0));
  m.apply(inbound(MessageClass::kApplication, 11 * kSec));
  m.at(12 * kSec);
  EXPECT_EQ(m.state(), LinkState::kUp);
  m.at(23 * kSec);
  EXPECT_EQ(m.state(), LinkState::kDegraded);
}

TEST(LinkStateMachine, IgnoresAConnectivityEventOlderThanTheNewestApplied) {
  // A disconnect deferred from a full queue arrives after the newer logon.
  Machine m;
  m.apply(event(EventKind::kLogon, 5 * kSec));
  m.apply(event(EventKind::kDisconnect, 4 * kSec));
  EXPECT_EQ(m.state(), LinkState::kUp);
}

TEST(LinkStateMachine, UnansweredProbeDegradesAfterTestRequestTimeout) {
  Machine m;
  m.apply(event(EventKind::kLogon, 0));
  SessionEvent probe = outbound(MessageClass::kTestRequest, 1 * kSec);
  probe.flags = event_flag::kHasTestReqId | event_flag::kProbeTestReqId;
  probe.testReqId = 7;
  m.apply(probe);
  m.at(2 * kSec - 1);
  EXPECT_EQ(m.state(), LinkState::kUp);
  m.at(2 * kSec);
  EXPECT_EQ(m.state(), LinkState::kDegraded);
  EXPECT_EQ(m.reason(), LinkReason::kTestRequestUnanswered);
  SessionEvent answer = inbound(MessageClass::kHeartbeat, 2500 * kMs);
  answer.flags = probe.flags;
  answer.testReqId = 7;
  m.apply(answer);
  EXPECT_EQ(m.state(), LinkState::kUp);
  ASSERT_TRUE(m.last().rtt.has_value());
  EXPECT_EQ(*m.last().rtt, 1500 * kMs);
}

TEST(LinkStateMachine, ProbeAnswerWithAnotherIdGivesNoRtt) {
  Machine m;
  m.apply(event(EventKind::kLogon, 0));
  SessionEvent probe = outbound(MessageClass::kTestRequest, 1 * kSec);
  probe.flags = event_flag::kHasTestReqId | event_flag::kProbeTestReqId;
  probe.testReqId = 7;
  m.apply(probe);
  SessionEvent answer = inbound(MessageClass::kHeartbeat, 1100 * kMs);
  answer.flags = probe.flags;
  answer.testReqId = 8;
  m.apply(answer);
  EXPECT_FALSE(m.last().rtt.has_value());
}

TEST(LinkStateMachine, SequenceGapDegradesUntilGapFillReachesIt) {
  Machine m;
  m.apply(event(EventKind::kLogon, 0));
  SessionEvent tooHigh = event(EventKind::kSeqTooHigh, 1 * kSec);
  tooHigh.aux = 5;
  tooHigh.seqNum = 10;
  m.apply(tooHigh);
  EXPECT_TRUE(m.last().gapDetected);
  m.apply(outbound(MessageClass::kResendRequest, 1 * kSec));
  EXPECT_FALSE(m.last().gapDetected);  // the same gap
  EXPECT_EQ(m.state(), LinkState::kDegraded);
  EXPECT_EQ(m.reason(), LinkReason::kSequenceGap);
  SessionEvent gapFill = inbound(MessageClass::kSequenceReset, 1100 * kMs);
  gapFill.flags = event_flag::kGapFill | event_flag::kPossDup;
  gapFill.seqNum = 5;
  gapFill.aux = 10;
  m.apply(gapFill);
  EXPECT_EQ(m.state(), LinkState::kUp);
}

TEST(LinkStateMachine, ResendToTheMemberShowsUntilTheResendIsOver) {
  Machine m;
  m.apply(event(EventKind::kLogon, 0));
  m.apply(inbound(MessageClass::kResendRequest, 1 * kSec));
  EXPECT_EQ(m.reason(), LinkReason::kResendInProgress);
  SessionEvent resent = outbound(MessageClass::kApplication, 1 * kSec);
  resent.flags = event_flag::kPossDup;
  m.apply(resent);
  EXPECT_EQ(m.reason(), LinkReason::kResendInProgress);
  m.apply(outbound(MessageClass::kHeartbeat, 1100 * kMs));
  EXPECT_EQ(m.state(), LinkState::kUp);
}

TEST(LinkStateMachine, QuickfixTestRequestCountsAsOutstandingUntilAnswered) {
  Machine m(100 * kSec);
  m.apply(event(EventKind::kLogon, 0));
  SessionEvent test = outbound(MessageClass::kTestRequest, 1 * kSec);
  test.flags = event_flag::kHasTestReqId | event_flag::kQuickfixTestReqId;
  m.apply(test);
  m.at(2 * kSec);
  EXPECT_EQ(m.reason(), LinkReason::kTestRequestUnanswered);
  SessionEvent answer = inbound(MessageClass::kHeartbeat, 3 * kSec);
  answer.flags = test.flags;
  m.apply(answer);
  EXPECT_EQ(m.state(), LinkState::kUp);
}

TEST(LinkStateMachine, AnyInboundMessageAnswersQuickfixsTestRequestLikeQuickfixDoes) {
  // The member ignores QuickFIX's TEST but resumes heartbeating: QuickFIX keeps the session,
  // and so the link is up again, not stuck in test_request_unanswered.
  Machine m(1 * kSec);
  m.apply(event(EventKind::kLogon, 0));
  SessionEvent test = outbound(MessageClass::kTestRequest, 2 * kSec);
  test.flags = event_flag::kHasTestReqId | event_flag::kQuickfixTestReqId;
  m.apply(test);
  m.apply(inbound(MessageClass::kHeartbeat, 2500 * kMs));  // no TestReqID
  m.at(3500 * kMs);
  EXPECT_EQ(m.state(), LinkState::kUp);
}

TEST(LinkStateMachine, CountsHeartbeatInterArrival) {
  Machine m;
  m.apply(event(EventKind::kLogon, 0));
  m.apply(inbound(MessageClass::kHeartbeat, 30 * kSec));
  EXPECT_FALSE(m.last().heartbeatInterval.has_value());
  m.apply(inbound(MessageClass::kHeartbeat, 61 * kSec));
  ASSERT_TRUE(m.last().heartbeatInterval.has_value());
  EXPECT_EQ(*m.last().heartbeatInterval, 31 * kSec);
}

TEST(LinkStateMachine, IsOffhoursOutsideTheScheduleEvenWhenDisconnected) {
  ScheduleSpec spec;
  spec.startSecond = 8 * 3600;
  spec.endSecond = 17 * 3600;
  const TradingSchedule schedule(spec);
  // kWall0 is midnight: outside 08:00-17:00.
  Machine m(30 * kSec, &schedule);
  EXPECT_EQ(m.state(), LinkState::kOffhours);
  EXPECT_EQ(m.reason(), LinkReason::kOutsideSchedule);
  // The deadline is the opening time.
  EXPECT_EQ(m.raw().nextDeadline(0, kWall0), 8 * 3600 * kSec);
  m.at(8 * 3600 * kSec);
  EXPECT_EQ(m.state(), LinkState::kDown);
  EXPECT_EQ(m.reason(), LinkReason::kNeverConnected);
  // Like QuickFIX, EndTime is inclusive to the whole second.
  m.at(17 * 3600 * kSec + 999 * kNanosPerMilli);
  EXPECT_EQ(m.state(), LinkState::kDown);
  m.at((17 * 3600 + 1) * kSec);
  EXPECT_EQ(m.state(), LinkState::kOffhours);
}

TEST(LinkStateMachine, ScheduleAcrossMidnightOpensAtNightAndClosesInTheMorning) {
  ScheduleSpec spec;
  spec.startSecond = 22 * 3600;
  spec.endSecond = 6 * 3600;
  const TradingSchedule schedule(spec);
  Machine m(30 * kSec, &schedule);  // midnight: inside
  EXPECT_EQ(m.state(), LinkState::kDown);
  m.at((6 * 3600 + 1) * kSec);
  EXPECT_EQ(m.state(), LinkState::kOffhours);
  m.at(22 * 3600 * kSec);
  EXPECT_EQ(m.state(), LinkState::kDown);
}

TEST(LinkStateMachine, WeeklyScheduleIsClosedOverTheWeekend) {
  ScheduleSpec spec;
  spec.startDay = 0;  // Sunday 22:00
  spec.startSecond = 22 * 3600;
  spec.endDay = 5;  // Friday 22:00
  spec.endSecond = 22 * 3600;
  const TradingSchedule schedule(spec);
  Machine m(30 * kSec, &schedule);  // Thursday: open
  EXPECT_EQ(m.state(), LinkState::kDown);
  const Nanos fridayClose = ((24 + 22) * 3600 + 1) * kSec;  // EndTime inclusive
  m.at(fridayClose - 1);
  EXPECT_EQ(m.state(), LinkState::kDown);
  m.at(fridayClose);
  EXPECT_EQ(m.state(), LinkState::kOffhours);
  m.at(fridayClose + 24 * 3600 * kSec);  // Saturday
  EXPECT_EQ(m.state(), LinkState::kOffhours);
  m.at(fridayClose - 1 * kSec + 48 * 3600 * kSec);  // Sunday 22:00
  EXPECT_EQ(m.state(), LinkState::kDown);
}

}  // namespace
}  // namespace linkwatch
