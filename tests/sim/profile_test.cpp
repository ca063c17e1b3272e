// Each broken-member profile breaks exactly its own rule: the check of the conformance test
// for that rule comes out the other way, and the member otherwise stays a working session.
#include <gtest/gtest.h>

#include "sim/member_session.hpp"

namespace linkwatch::sim {
namespace {

using namespace std::chrono_literals;
using test::hasValue;
using test::MemberSession;

class Profile : public MemberSession {
 protected:
  void startWith(SimProfile profile) {
    SimMemberConfig c = config();
    c.profile = profile;
    start(c);
  }
  // No message matching `pred` within `window`; what arrived meanwhile is kept.
  bool nothingLike(const std::function<bool(const FixMessage&)>& pred,
                   std::chrono::milliseconds window) {
    return !acceptor_.waitFor(pred, window).has_value();
  }
  static bool isHeartbeat(const FixMessage& m) { return m.msgType() == "0" && !m.get(112); }
};

TEST(SimProfileNames, RoundTripAndListEveryProfile) {
  for (SimProfile p : kAllSimProfiles) {
    EXPECT_EQ(simProfileFromString(toString(p)), p);
    EXPECT_NE(simProfileNames().find(toString(p)), std::string::npos);
    EXPECT_FALSE(describe(p).empty());
  }
  EXPECT_FALSE(simProfileFromString("sloppy").has_value());
  EXPECT_FALSE(simProfileFromString("").has_value());
  EXPECT_EQ(toString(SimProfile::kWellBehaved), "well-behaved");
}

TEST_F(Profile, NoTestRequestAnswerLeavesProbesUnansweredButKeepsHeartbeating) {
  startWith(SimProfile::kNoTestRequestAnswer);
  logOn();
  acceptor_.sendAdmin("1", {{112, "PROBE"}});
  int heartbeats = 0;
  EXPECT_TRUE(nothingLike(
      [&](const FixMessage& m) {
        if (isHeartbeat(m)) ++heartbeats;
        return hasValue(m, 112, "PROBE");
      },
      1500ms));
  EXPECT_GE(heartbeats, 1);
  EXPECT_EQ(member().counters.testRequestsIgnored, 1U);
}

TEST_F(Profile, IgnoreGapsSendsNoResendRequestAndActsOnTheMessageAboveTheGap) {
  startWith(SimProfile::kIgnoreGaps);
  logOn();
  acceptor_.setNextOutSeq(acceptor_.nextOutSeq() + 3);
  EXPECT_TRUE(answersTestRequest("ABOVE-GAP", 1500ms)) << "answered at once, gap and all";
  EXPECT_TRUE(acceptor_.receivedOfType("2").empty());
  EXPECT_EQ(member().counters.resendRequestsSent, 0U);
}

TEST_F(Profile, EmptyResendAnswersAResendRequestWithNothing) {
  startWith(SimProfile::kEmptyResend);
  logOn();
  ASSERT_TRUE(answersTestRequest("ONE"));
  acceptor_.sendAdmin("2", {{7, "1"}, {16, "0"}});
  EXPECT_TRUE(nothingLike([](const FixMessage& m) { return hasValue(m, 43, "Y"); }, 1500ms));
  EXPECT_TRUE(acceptor_.receivedOfType("4").empty());
  EXPECT_TRUE(answersTestRequest("STILL-UP"));
}

TEST_F(Profile, WrongHeartbeatRateHeartbeatsAtTwiceHeartBtInt) {
  startWith(SimProfile::kWrongHeartbeatRate);
  const FixMessage logon = logOn();
  EXPECT_EQ(logon.get(108), "1") << "the Logon still announces HeartBtInt";
  ASSERT_TRUE(acceptor_.waitFor(isHeartbeat, 3500ms).has_value());
  const Nanos first = acceptor_.received().back().at;
  ASSERT_TRUE(acceptor_.waitFor(isHeartbeat, 3500ms).has_value());
  const Nanos gap = acceptor_.received().back().at - first;
  EXPECT_GT(gap, 1600 * kNanosPerMilli) << "a conformant member heartbeats every 1 s";
}

TEST_F(Profile, IgnoreInvalidDropsAWrongCompIdMessageSilently) {
  startWith(SimProfile::kIgnoreInvalid);
  logOn();
  auto h = headerWith(49, "INTRUDER");
  h.push_back({112, "FROM-INTRUDER"});
  acceptor_.sendCustom("FIX.4.4", "1", h);
  // The member stays in the session: the next valid message is in sequence and answered.
  EXPECT_TRUE(answersTestRequest("VALID"));
  EXPECT_TRUE(nothingLike(
      [](const FixMessage& m) { return m.msgType() == "3" || m.msgType() == "5"; }, 500ms));
  EXPECT_TRUE(acceptor_.receivedOfType("2").empty());
  EXPECT_EQ(member().counters.invalidIgnored, 1U);
  EXPECT_EQ(member().counters.rejectsSent, 0U);
}

TEST_F(Profile, ResetOnReconnectResetsOnEveryLogonButTheFirst) {
  startWith(SimProfile::kResetOnReconnect);
  const FixMessage first = logOn();
  EXPECT_FALSE(first.get(141).has_value());
  ASSERT_TRUE(answersTestRequest("ONE"));
  acceptor_.closeConnection();
  const FixMessage again = logOn();
  EXPECT_EQ(again.get(141), "Y");
  EXPECT_EQ(again.getInt(34), 1);
}

TEST_F(Profile, NoLogoutReplyLeavesTheCounterpartysLogoutUnanswered) {
  startWith(SimProfile::kNoLogoutReply);
  logOn();
  acceptor_.sendAdmin("5", {{58, "bye"}});
  int heartbeats = 0;
  EXPECT_TRUE(nothingLike(
      [&](const FixMessage& m) {
        if (isHeartbeat(m)) ++heartbeats;
        return m.msgType() == "5";
      },
      1500ms));
  EXPECT_GE(heartbeats, 1) << "the session carries on as if nothing was said";
}

TEST_F(Profile, TightLogonRetryRetriesARefusedLogonAtOnce) {
  SimMemberConfig c = config();
  c.profile = SimProfile::kTightLogonRetry;
  c.reconnectDelay = 1000ms;
  c.minLogonRetryDelay = 2000ms;  // what a well-behaved member would wait at least
  start(c);
  ASSERT_TRUE(acceptor_.accept());
  ASSERT_TRUE(acceptor_.waitForType("A").has_value());
  const Nanos refusedAt = monotonicNow();
  acceptor_.sendAdmin("5", {{58, "not now"}});
  ASSERT_TRUE(acceptor_.accept(1000ms)) << "no retry within 1 s";
  EXPECT_LT(monotonicNow() - refusedAt, 1000 * kNanosPerMilli);
}

}  // namespace
}  // namespace linkwatch::sim
