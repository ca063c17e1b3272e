// The simulated member as a FIX session-level initiator, rule by rule, against a raw acceptor
// that writes whatever the FIX Session Layer Test Cases ask for (case ids in the names' notes).
#include <gtest/gtest.h>

#include "sim/member_session.hpp"

namespace linkwatch::sim {
namespace {

using namespace std::chrono_literals;
using test::hasValue;
using test::MemberSession;

using Conformance = MemberSession;

std::string now52() { return formatSendingTime(wallNow()); }
// OrigSendingTime(122) of a resend: a second ago. Taking "now" again for it could land a
// millisecond after the message's own SendingTime, which the member rightly rejects (2g).
std::string orig52() { return formatSendingTime(wallNow() - kNanosPerSecond); }

// 1B: Logon ----------------------------------------------------------------------------------

TEST_F(Conformance, ResetSeqNumFlagAndMsgSeqNumOneOnEveryLogonOnlyWhenConfigured) {
  SimMemberConfig c = config();
  c.resetSeqNumOnLogon = true;
  start(c);
  const FixMessage first = logOn();
  EXPECT_EQ(first.get(141), "Y");
  EXPECT_EQ(first.getInt(34), 1);
  ASSERT_TRUE(answersTestRequest("BEFORE"));
  acceptor_.closeConnection();
  const FixMessage again = logOn();
  EXPECT_EQ(again.get(141), "Y");
  EXPECT_EQ(again.getInt(34), 1);
  EXPECT_TRUE(answersTestRequest("AFTER"));
}

TEST_F(Conformance, ReconnectLogsOnWithTheNextSequenceNumbersBothWays) {  // 1B, 9
  start();
  const FixMessage first = logOn();
  EXPECT_EQ(first.getInt(34), 1);
  ASSERT_TRUE(answersTestRequest("ONE"));  // member 34=2, acceptor 34=2
  acceptor_.closeConnection();
  const std::size_t from = mark();
  const FixMessage again = logOn();  // our Logon answer carries 34=3
  EXPECT_EQ(again.getInt(34), 3);
  EXPECT_FALSE(again.get(141).has_value());
  EXPECT_TRUE(answersTestRequest("TWO"));
  EXPECT_TRUE(since(from, "2").empty()) << "no ResendRequest: nothing was missing";
  EXPECT_TRUE(since(from, "5").empty());
  EXPECT_EQ(member().nextTargetSeq, 5);
}

TEST_F(Conformance, LogonAnswerWithMsgSeqNumTooHighIsFollowedByAResendRequest) {  // 1B c
  start();
  ASSERT_TRUE(acceptor_.accept());
  acceptor_.setNextOutSeq(5);
  ASSERT_TRUE(acceptor_.completeLogon().has_value());
  const auto resend = acceptor_.waitForType("2", 2000ms);
  ASSERT_TRUE(resend.has_value());
  EXPECT_EQ(resend->getInt(7), 1);
  EXPECT_EQ(resend->getInt(16), 4);
  acceptor_.sendCustom("FIX.4.4", "4",
                       {{34, "1"},
                        {49, "EXCH"},
                        {52, now52()},
                        {56, "BANK01"},
                        {43, "Y"},
                        {122, orig52()},
                        {123, "Y"},
                        {36, "5"}});
  EXPECT_TRUE(answersTestRequest("FILLED"));
  EXPECT_EQ(member().nextTargetSeq, 7);
}

TEST_F(Conformance, LogonAnswerWithMsgSeqNumTooLowIsRefusedWithTheReason) {
  SimMemberConfig c = config();
  c.minLogonRetryDelay = 300ms;
  start(c);
  logOn();
  ASSERT_TRUE(answersTestRequest("ONE"));  // the member expects 3 next
  acceptor_.closeConnection();
  ASSERT_TRUE(acceptor_.accept());
  acceptor_.setNextOutSeq(1);  // as a counterparty that lost its state would
  ASSERT_TRUE(acceptor_.completeLogon().has_value());
  const auto logout = acceptor_.waitForType("5", 2000ms);
  ASSERT_TRUE(logout.has_value());
  EXPECT_EQ(logout->get(58), "MsgSeqNum too low, expecting 3 but received 1");
  EXPECT_TRUE(acceptor_.waitForClose(2000ms));
  const Nanos closedAt = monotonicNow();
  ASSERT_TRUE(acceptor_.accept(3000ms));
  EXPECT_GE(monotonicNow() - closedAt, 250 * kNanosPerMilli) << "retried like a refused logon";
  EXPECT_EQ(member().counters.logons, 1U);
}

TEST_F(Conformance, LogonAnswerThatIsNotALogonEndsTheAttemptWithLogout) {  // 1B e
  start();
  ASSERT_TRUE(acceptor_.accept());
  ASSERT_TRUE(acceptor_.waitForType("A").has_value());
  acceptor_.sendAdmin("0", {});
  const auto logout = acceptor_.waitForType("5", 2000ms);
  ASSERT_TRUE(logout.has_value());
  EXPECT_NE(logout->get(58).value_or("").find("not a Logon"), std::string_view::npos);
  EXPECT_TRUE(acceptor_.waitForClose(2000ms));
  EXPECT_EQ(member().counters.logonsRefused, 1U);
}

TEST_F(Conformance, LogonAnswerWithAWrongCompIdIsRefused) {  // 1B d
  start();
  ASSERT_TRUE(acceptor_.accept());
  ASSERT_TRUE(acceptor_.waitForType("A").has_value());
  acceptor_.sendCustom(
      "FIX.4.4", "A",
      {{34, "1"}, {49, "IMPOSTOR"}, {52, now52()}, {56, "BANK01"}, {98, "0"}, {108, "1"}});
  const auto reject = acceptor_.waitForType("3", 2000ms);
  ASSERT_TRUE(reject.has_value());
  EXPECT_EQ(reject->getInt(373), 9);
  const auto logout = acceptor_.waitForType("5", 2000ms);
  ASSERT_TRUE(logout.has_value());
  EXPECT_TRUE(acceptor_.waitForClose(2000ms));
  EXPECT_EQ(sim_->loggedOnCount(), 0U);
  EXPECT_EQ(member().counters.logons, 0U);
}

// Logon discipline: a refused logon is retried no faster than the minimum, then slower.

TEST_F(Conformance, RefusedLogonsAreRetriedNoFasterThanTheMinimumAndBackOff) {
  SimMemberConfig c = config();
  c.minLogonRetryDelay = 400ms;
  start(c);
  std::vector<Nanos> refusedAt;
  std::vector<Nanos> connectedAt;
  for (int attempt = 0; attempt < 3; ++attempt) {
    ASSERT_TRUE(acceptor_.accept(5000ms)) << "attempt " << attempt;
    connectedAt.push_back(monotonicNow());
    ASSERT_TRUE(acceptor_.waitForType("A").has_value());
    refusedAt.push_back(monotonicNow());
    if (attempt == 1) {
      acceptor_.closeConnection();  // a disconnect before the answer counts as a refusal too
    } else {
      acceptor_.sendAdmin("5", {{58, "not now"}});
    }
  }
  // The member cannot have connected before the refusal plus its delay: lower bounds only.
  EXPECT_GE(connectedAt[1] - refusedAt[0], 400 * kNanosPerMilli);
  EXPECT_GE(connectedAt[2] - refusedAt[1], 800 * kNanosPerMilli) << "the delay doubles";
  EXPECT_GE(member().counters.logonsRefused, 2U);
}

// 4a, 4b: heartbeats and TestRequests are covered in simulator_test.cpp.

// 2b, 10: inbound gaps --------------------------------------------------------------------

TEST_F(Conformance, MsgSeqNumTooHighGetsAResendRequestForExactlyTheGapAndWaitsForIt) {  // 2b
  start();
  logOn();
  const std::int64_t expected = acceptor_.nextOutSeq();
  acceptor_.setNextOutSeq(expected + 3);
  acceptor_.sendAdmin("1", {{112, "ABOVE-GAP"}});
  const auto resend = acceptor_.waitForType("2", 2000ms);
  ASSERT_TRUE(resend.has_value());
  EXPECT_EQ(resend->getInt(7), expected);
  EXPECT_EQ(resend->getInt(16), expected + 2);
  // The TestRequest above the gap waits for the gap to be filled.
  const auto early =
      acceptor_.waitFor([](const FixMessage& m) { return m.get(112).has_value(); }, 300ms);
  EXPECT_FALSE(early.has_value()) << "answered before the gap was filled";
  acceptor_.sendCustom("FIX.4.4", "4",
                       {{34, std::to_string(expected)},
                        {49, "EXCH"},
                        {52, now52()},
                        {56, "BANK01"},
                        {43, "Y"},
                        {122, orig52()},
                        {123, "Y"},
                        {36, std::to_string(expected + 3)}});
  const auto answer =
      acceptor_.waitFor([](const FixMessage& m) { return hasValue(m, 112, "ABOVE-GAP"); }, 2000ms);
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(answersTestRequest("IN-STEP"));
  const auto s = member();
  EXPECT_EQ(s.counters.resendRequestsSent, 1U);
  EXPECT_EQ(s.counters.sequenceResetsReceived, 1U);
  EXPECT_EQ(s.nextTargetSeq, expected + 5);
}

TEST_F(Conformance, GapFilledByPossDupResendsIsAccepted) {
  start();
  logOn();
  const std::int64_t expected = acceptor_.nextOutSeq();
  acceptor_.setNextOutSeq(expected + 2);
  acceptor_.sendAdmin("1", {{112, "ABOVE-GAP"}});
  const auto resend = acceptor_.waitForType("2", 2000ms);
  ASSERT_TRUE(resend.has_value());
  EXPECT_EQ(resend->getInt(16), expected + 1);
  const std::string orig = now52();
  for (std::int64_t seq = expected; seq < expected + 2; ++seq) {
    acceptor_.sendCustom("FIX.4.4", "B",
                         {{34, std::to_string(seq)},
                          {49, "EXCH"},
                          {52, now52()},
                          {56, "BANK01"},
                          {43, "Y"},
                          {122, orig},
                          {148, "resent news"},
                          {33, "1"},
                          {58, "x"}});
  }
  EXPECT_TRUE(
      acceptor_.waitFor([](const FixMessage& m) { return hasValue(m, 112, "ABOVE-GAP"); }, 2000ms)
          .has_value());
  EXPECT_TRUE(answersTestRequest("IN-STEP"));
  EXPECT_EQ(member().counters.resendRequestsSent, 1U);
}

TEST_F(Conformance, PartlyFilledGapIsAskedForAgain) {
  start();
  logOn();
  const std::int64_t expected = acceptor_.nextOutSeq();
  acceptor_.setNextOutSeq(expected + 4);
  acceptor_.sendAdmin("0", {});
  ASSERT_TRUE(acceptor_.waitForType("2", 2000ms).has_value());
  // Fill only the first two numbers of four.
  acceptor_.sendCustom("FIX.4.4", "4",
                       {{34, std::to_string(expected)},
                        {49, "EXCH"},
                        {52, now52()},
                        {56, "BANK01"},
                        {43, "Y"},
                        {123, "Y"},
                        {36, std::to_string(expected + 2)}});
  // Asked again once the answer has had a HeartBtInt to arrive.
  const auto again = acceptor_.waitForType("2", 3000ms);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->getInt(7), expected + 2);
  EXPECT_EQ(again->getInt(16), expected + 3);
}

// 8: answering a ResendRequest ------------------------------------------------------------

TEST_F(Conformance, ResendRequestIsAnsweredWithPossDupResendsAndGapFillsOverTheWholeRange) {
  start();
  logOn();                                          // member 34=1
  ASSERT_TRUE(sim_->sendApplication("BANK01", 2));  // 34=2, 34=3
  ASSERT_TRUE(acceptor_.waitFor([](const FixMessage& m) { return m.getInt(34) == 3; }, 2000ms));
  std::vector<std::string> originalTimes;
  for (const FixMessage& m : acceptor_.receivedOfType("B"))
    originalTimes.emplace_back(m.get(52).value_or(""));
  ASSERT_EQ(originalTimes.size(), 2U);
  ASSERT_TRUE(answersTestRequest("HB"));  // 34=4
  const std::size_t from = mark();
  acceptor_.sendAdmin("2", {{7, "1"}, {16, "0"}});
  ASSERT_TRUE(acceptor_.waitFor(
      [](const FixMessage& m) { return m.msgType() == "4" && m.getInt(34) == 4; }, 2000ms));
  std::vector<FixMessage> answer;
  for (std::size_t i = from; i < acceptor_.received().size(); ++i)
    answer.push_back(acceptor_.received()[i].message);
  ASSERT_EQ(answer.size(), 4U);
  // 1: the Logon, gap-filled; 2, 3: the News, resent; 4: the Heartbeat, gap-filled.
  EXPECT_EQ(answer[0].msgType(), "4");
  EXPECT_EQ(answer[0].getInt(34), 1);
  EXPECT_EQ(answer[0].getInt(36), 2);
  EXPECT_EQ(answer[0].get(123), "Y");
  for (int i : {1, 2}) {
    const FixMessage& m = answer[static_cast<std::size_t>(i)];
    EXPECT_EQ(m.msgType(), "B");
    EXPECT_EQ(m.getInt(34), i + 1);
    EXPECT_EQ(m.get(43), "Y");
    EXPECT_EQ(m.get(122), originalTimes[static_cast<std::size_t>(i - 1)]);
    EXPECT_TRUE(m.get(148).has_value());
  }
  EXPECT_EQ(answer[3].getInt(34), 4);
  EXPECT_EQ(answer[3].getInt(36), 5);
  // The member's next message carries exactly the last NewSeqNo.
  ASSERT_TRUE(answersTestRequest("NEXT"));
  EXPECT_EQ(acceptor_.received().back().message.getInt(34), 5);
  EXPECT_EQ(member().counters.messagesResent, 2U);
}

TEST_F(Conformance, ResendRequestWithAnEndSeqNoAnswersOnlyThatRange) {
  start();
  logOn();
  ASSERT_TRUE(sim_->sendApplication("BANK01", 3));  // 34=2..4
  ASSERT_TRUE(acceptor_.waitFor([](const FixMessage& m) { return m.getInt(34) == 4; }, 2000ms));
  const std::size_t from = mark();
  acceptor_.sendAdmin("2", {{7, "3"}, {16, "3"}});
  const auto resent = acceptor_.waitForType("B", 2000ms);
  ASSERT_TRUE(resent.has_value());
  EXPECT_EQ(resent->getInt(34), 3);
  EXPECT_EQ(resent->get(43), "Y");
  ASSERT_TRUE(answersTestRequest("AFTER"));
  EXPECT_EQ(acceptor_.received().size() - from, 2U) << "one resend and the Heartbeat";
}

// 11: SequenceReset-Reset -------------------------------------------------------------------

TEST_F(Conformance, SequenceResetResetToAHigherNumberIsAccepted) {  // 11a
  start();
  logOn();
  const std::int64_t seq = acceptor_.nextOutSeq();
  acceptor_.sendCustom("FIX.4.4", "4",
                       {{34, std::to_string(seq)},
                        {49, "EXCH"},
                        {52, now52()},
                        {56, "BANK01"},
                        {36, std::to_string(seq + 50)}});
  acceptor_.setNextOutSeq(seq + 50);
  const std::size_t from = mark();
  EXPECT_TRUE(answersTestRequest("AFTER-RESET"));
  EXPECT_TRUE(since(from, "2").empty()) << "no ResendRequest after a Reset";
  EXPECT_EQ(member().nextTargetSeq, seq + 51);
  EXPECT_EQ(member().counters.sequenceResetsReceived, 1U);
}

TEST_F(Conformance, SequenceResetResetToALowerNumberIsRejected) {  // 11c
  start();
  logOn();
  ASSERT_TRUE(answersTestRequest("ONE"));
  const std::int64_t seq = acceptor_.nextOutSeq();
  acceptor_.sendCustom(
      "FIX.4.4", "4",
      {{34, std::to_string(seq)}, {49, "EXCH"}, {52, now52()}, {56, "BANK01"}, {36, "1"}});
  const auto reject = acceptor_.waitForType("3", 2000ms);
  ASSERT_TRUE(reject.has_value());
  EXPECT_EQ(reject->getInt(373), 5);
  EXPECT_EQ(reject->getInt(371), 36);
  EXPECT_EQ(member().nextTargetSeq, seq);
}

// 2a-2t, 14: invalid messages ------------------------------------------------------------------

class MissingHeaderField : public MemberSession, public ::testing::WithParamInterface<int> {};

TEST_P(MissingHeaderField, GetsARejectNamingTheTagAndTheSessionCarriesOn) {  // 14a
  const int tag = GetParam();
  start();
  logOn();
  const std::int64_t seq = acceptor_.nextOutSeq();
  acceptor_.sendCustom("FIX.4.4", "1", [&] {
    auto h = headerWithout(tag);
    h.push_back({112, "INVALID"});
    return h;
  }());
  const auto reject = acceptor_.waitForType("3", 2000ms);
  ASSERT_TRUE(reject.has_value());
  EXPECT_EQ(reject->getInt(45), seq);
  EXPECT_EQ(reject->getInt(371), tag);
  EXPECT_EQ(reject->get(372), "1");
  EXPECT_EQ(reject->getInt(373), 1);
  EXPECT_FALSE(reject->get(58).value_or("").empty());
  // Its MsgSeqNum counted: the next message is in sequence, no ResendRequest, no Logout.
  const std::size_t from = mark();
  EXPECT_TRUE(answersTestRequest("AFTER"));
  EXPECT_TRUE(since(from, "2").empty());
  EXPECT_TRUE(since(0, "5").empty());
  EXPECT_TRUE(since(0, "0").size() >= 1);
  EXPECT_FALSE(acceptor_.receivedOfType("0").empty());
  EXPECT_TRUE(std::none_of(acceptor_.received().begin(), acceptor_.received().end(),
                           [](const auto& r) { return hasValue(r.message, 112, "INVALID"); }))
      << "an invalid TestRequest must not be answered";
}

INSTANTIATE_TEST_SUITE_P(SenderTargetSendingTime, MissingHeaderField, ::testing::Values(49, 56, 52),
                         [](const auto& p) { return "Tag" + std::to_string(p.param); });

class WrongCompId : public MemberSession, public ::testing::WithParamInterface<int> {};

TEST_P(WrongCompId, GetsARejectThenALogoutThenTheConnectionCloses) {  // 2k
  const int tag = GetParam();
  start();
  logOn();
  const std::int64_t seq = acceptor_.nextOutSeq();
  acceptor_.sendCustom("FIX.4.4", "0", headerWith(tag, "INTRUDER"));
  const auto reject = acceptor_.waitForType("3", 2000ms);
  ASSERT_TRUE(reject.has_value());
  EXPECT_EQ(reject->getInt(45), seq);
  EXPECT_EQ(reject->getInt(371), tag);
  EXPECT_EQ(reject->getInt(373), 9);
  const auto logout = acceptor_.waitForType("5", 2000ms);
  ASSERT_TRUE(logout.has_value());
  EXPECT_NE(logout->get(58).value_or("").find("CompID"), std::string_view::npos);
  EXPECT_TRUE(acceptor_.waitForClose(2000ms));
  logOn();  // and it comes back
}

INSTANTIATE_TEST_SUITE_P(SenderAndTarget, WrongCompId, ::testing::Values(49, 56),
                         [](const auto& p) { return "Tag" + std::to_string(p.param); });

TEST_F(Conformance, WrongBeginStringGetsALogoutThenTheConnectionCloses) {  // 2i
  start();
  logOn();
  acceptor_.sendCustom("FIX.4.2", "0", acceptor_.header());
  const auto logout = acceptor_.waitForType("5", 2000ms);
  ASSERT_TRUE(logout.has_value());
  EXPECT_NE(logout->get(58).value_or("").find("BeginString"), std::string_view::npos);
  EXPECT_TRUE(acceptor_.waitForClose(2000ms));
  EXPECT_TRUE(acceptor_.receivedOfType("3").empty());
}

TEST_F(Conformance, MissingMsgSeqNumGetsALogout) {
  start();
  logOn();
  acceptor_.sendCustom("FIX.4.4", "0", headerWithout(34));
  const auto logout = acceptor_.waitForType("5", 2000ms);
  ASSERT_TRUE(logout.has_value());
  EXPECT_NE(logout->get(58).value_or("").find("MsgSeqNum"), std::string_view::npos);
  EXPECT_TRUE(acceptor_.waitForClose(2000ms));
}

TEST_F(Conformance, SendingTimeFarFromNowGetsARejectAndALogout) {  // 2o
  start();
  logOn();
  acceptor_.sendCustom("FIX.4.4", "0",
                       headerWith(52, formatSendingTime(wallNow() - 600 * kNanosPerSecond)));
  const auto reject = acceptor_.waitForType("3", 2000ms);
  ASSERT_TRUE(reject.has_value());
  EXPECT_EQ(reject->getInt(373), 10);
  EXPECT_TRUE(acceptor_.waitForType("5", 2000ms).has_value());
  EXPECT_TRUE(acceptor_.waitForClose(2000ms));
}

TEST_F(Conformance, PossDupWithoutOrigSendingTimeIsRejected) {  // 2e
  start();
  logOn();
  auto h = acceptor_.header();
  h.push_back({43, "Y"});
  acceptor_.sendCustom("FIX.4.4", "0", h);
  const auto reject = acceptor_.waitForType("3", 2000ms);
  ASSERT_TRUE(reject.has_value());
  EXPECT_EQ(reject->getInt(371), 122);
  EXPECT_EQ(reject->getInt(373), 1);
  EXPECT_TRUE(answersTestRequest("AFTER"));
}

// 2d, 2g: MsgSeqNum too low -------------------------------------------------------------------

TEST_F(Conformance, MsgSeqNumTooLowWithoutPossDupLogsOutWithTheReasonAndDisconnects) {  // 2d
  start();
  logOn();
  ASSERT_TRUE(answersTestRequest("ONE"));  // acceptor 34=2: the member expects 3
  acceptor_.setNextOutSeq(2);
  acceptor_.sendAdmin("0", {});
  const auto logout = acceptor_.waitForType("5", 2000ms);
  ASSERT_TRUE(logout.has_value());
  EXPECT_EQ(logout->get(58), "MsgSeqNum too low, expecting 3 but received 2");
  EXPECT_TRUE(acceptor_.waitForClose(2000ms));
  EXPECT_EQ(member().counters.seqNumTooLowLogouts, 1U);
}

TEST_F(Conformance, MsgSeqNumTooLowWithPossDupIsIgnored) {  // 2g
  start();
  logOn();
  ASSERT_TRUE(answersTestRequest("ONE"));
  acceptor_.sendCustom("FIX.4.4", "1",
                       {{34, "2"},
                        {49, "EXCH"},
                        {52, now52()},
                        {56, "BANK01"},
                        {43, "Y"},
                        {122, orig52()},
                        {112, "DUPLICATE"}});
  EXPECT_TRUE(answersTestRequest("TWO"));
  EXPECT_TRUE(acceptor_.receivedOfType("5").empty());
  EXPECT_TRUE(std::none_of(acceptor_.received().begin(), acceptor_.received().end(),
                           [](const auto& r) { return hasValue(r.message, 112, "DUPLICATE"); }));
}

// 12, 13: Logout ----------------------------------------------------------------------------

TEST_F(Conformance, InitiatesLogoutOnCommandAndClosesAfterTheAnswer) {  // 12
  start();
  logOn();
  EXPECT_EQ(sim_->handleControlLine("logout BANK01 end of day"), "ok\n");
  const auto logout = acceptor_.waitForType("5", 2000ms);
  ASSERT_TRUE(logout.has_value());
  EXPECT_EQ(logout->get(58), "end of day");
  acceptor_.sendAdmin("5", {});
  EXPECT_TRUE(acceptor_.waitForClose(2000ms));
  logOn();  // reconnects after its delay, sequence numbers carried on
  EXPECT_EQ(sim_->handleControlLine("logout NOPE"), "error unknown member 'NOPE'\n");
  EXPECT_EQ(sim_->handleControlLine("logout"), "error usage: logout MEMBER [TEXT]\n");
}

TEST_F(Conformance, AppCommandSendsNewsMessages) {
  start();
  logOn();
  EXPECT_EQ(sim_->handleControlLine("app BANK01 2"), "ok\n");
  ASSERT_TRUE(acceptor_.waitFor(
      [&](const FixMessage&) { return acceptor_.receivedOfType("B").size() == 2; }, 2000ms));
  EXPECT_EQ(sim_->handleControlLine("app BANK01 lots").substr(0, 6), "error ");
  EXPECT_EQ(member().counters.applicationMessagesSent, 2U);
}

// Configuration ---------------------------------------------------------------------------

TEST(MemberConfigFromLink, ResetsSequenceNumbersOnLogonOnlyWhenTheMonitorResets) {
  LinkConfig link;
  link.memberId = "BANK01";
  link.senderCompId = "EXCH";
  link.targetCompId = "BANK01";
  link.socketPort = 9880;
  EXPECT_FALSE(memberConfigFromLink(link).resetSeqNumOnLogon);
  for (const char* key : {"ResetOnLogon", "ResetOnLogout", "ResetOnDisconnect"}) {
    LinkConfig resetting = link;
    resetting.settings[key] = "Y";
    EXPECT_TRUE(memberConfigFromLink(resetting).resetSeqNumOnLogon) << key;
    resetting.settings[key] = "N";
    EXPECT_FALSE(memberConfigFromLink(resetting).resetSeqNumOnLogon) << key;
  }
}

}  // namespace
}  // namespace linkwatch::sim
