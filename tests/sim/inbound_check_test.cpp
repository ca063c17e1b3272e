// The header checks of one inbound message, without a socket.
#include "sim/inbound_check.hpp"

#include <gtest/gtest.h>

#include "sim/sent_message_store.hpp"

namespace linkwatch::sim {
namespace {

using Action = InboundVerdict::Action;

constexpr Nanos kNow = 1'700'000'000 * kNanosPerSecond;

InboundExpectations expectations() {
  InboundExpectations e;
  e.beginString = "FIX.4.4";
  e.senderCompId = "EXCH";
  e.targetCompId = "BANK01";
  return e;
}

FixMessage message(std::vector<FixField> fields, std::string_view begin = "FIX.4.4",
                   std::string_view type = "0") {
  FixMessage m;
  EXPECT_TRUE(m.assign(encodeFixMessage(begin, type, fields)));
  return m;
}

std::vector<FixField> header() {
  return {{34, "7"}, {49, "EXCH"}, {52, formatSendingTime(kNow)}, {56, "BANK01"}};
}

std::vector<FixField> without(int tag) {
  auto h = header();
  std::erase_if(h, [tag](const FixField& f) { return f.tag == tag; });
  return h;
}

std::vector<FixField> with(int tag, std::string value) {
  auto h = header();
  bool found = false;
  for (FixField& f : h) {
    if (f.tag == tag) {
      f.value = value;
      found = true;
    }
  }
  if (!found) h.push_back({tag, std::move(value)});
  return h;
}

TEST(InboundCheck, AcceptsAValidHeader) {
  EXPECT_EQ(checkInboundHeader(message(header()), expectations(), kNow).action, Action::kAccept);
}

TEST(InboundCheck, WrongBeginStringEndsTheSession) {
  const auto v = checkInboundHeader(message(header(), "FIX.4.2"), expectations(), kNow);
  EXPECT_EQ(v.action, Action::kLogout);
  EXPECT_NE(v.text.find("'FIX.4.2'"), std::string::npos) << v.text;
}

TEST(InboundCheck, MissingOrZeroMsgSeqNumEndsTheSession) {
  EXPECT_EQ(checkInboundHeader(message(without(34)), expectations(), kNow).action, Action::kLogout);
  EXPECT_EQ(checkInboundHeader(message(with(34, "0")), expectations(), kNow).action,
            Action::kLogout);
  EXPECT_EQ(checkInboundHeader(message(with(34, "x1")), expectations(), kNow).action,
            Action::kLogout);
}

TEST(InboundCheck, MissingSenderTargetOrSendingTimeIsRejectedWithTheTag) {
  for (int tag : {49, 56, 52}) {
    const auto v = checkInboundHeader(message(without(tag)), expectations(), kNow);
    EXPECT_EQ(v.action, Action::kReject) << tag;
    EXPECT_EQ(v.reason, SessionRejectReason::kRequiredTagMissing) << tag;
    EXPECT_EQ(v.refTagId, tag);
  }
}

TEST(InboundCheck, WrongCompIdIsRejectedAndEndsTheSession) {
  for (int tag : {49, 56}) {
    const auto v = checkInboundHeader(message(with(tag, "OTHER")), expectations(), kNow);
    EXPECT_EQ(v.action, Action::kRejectAndLogout) << tag;
    EXPECT_EQ(v.reason, SessionRejectReason::kCompIdProblem);
    EXPECT_EQ(v.refTagId, tag);
    EXPECT_NE(v.text.find("'OTHER'"), std::string::npos) << v.text;
  }
}

TEST(InboundCheck, SendingTimeMalformedIsRejectedAndInaccurateEndsTheSession) {
  auto v = checkInboundHeader(message(with(52, "yesterday")), expectations(), kNow);
  EXPECT_EQ(v.action, Action::kReject);
  EXPECT_EQ(v.reason, SessionRejectReason::kIncorrectDataFormat);
  v = checkInboundHeader(message(with(52, formatSendingTime(kNow - 200 * kNanosPerSecond))),
                         expectations(), kNow);
  EXPECT_EQ(v.action, Action::kRejectAndLogout);
  EXPECT_EQ(v.reason, SessionRejectReason::kSendingTimeAccuracy);
  InboundExpectations lenient = expectations();
  lenient.maxSendingTimeSkew = 0;
  v = checkInboundHeader(message(with(52, formatSendingTime(kNow - 200 * kNanosPerSecond))),
                         lenient, kNow);
  EXPECT_EQ(v.action, Action::kAccept);
}

TEST(InboundCheck, PossDupNeedsAnOrigSendingTimeNotAfterSendingTime) {
  auto h = with(43, "Y");
  auto v = checkInboundHeader(message(h), expectations(), kNow);
  EXPECT_EQ(v.action, Action::kReject);
  EXPECT_EQ(v.refTagId, 122);
  // A GapFill may go without.
  EXPECT_EQ(checkInboundHeader(message(h, "FIX.4.4", "4"), expectations(), kNow).action,
            Action::kAccept);
  h.push_back({122, formatSendingTime(kNow - kNanosPerSecond)});
  EXPECT_EQ(checkInboundHeader(message(h), expectations(), kNow).action, Action::kAccept);
  h.back().value = formatSendingTime(kNow + kNanosPerSecond);
  v = checkInboundHeader(message(h), expectations(), kNow);
  EXPECT_EQ(v.action, Action::kRejectAndLogout);
  EXPECT_EQ(v.refTagId, 122);
}

TEST(ParseSendingTime, InvertsFormatSendingTimeAndRejectsNonsense) {
  EXPECT_EQ(parseSendingTime(formatSendingTime(kNow + 123 * kNanosPerMilli)),
            kNow + 123 * kNanosPerMilli);
  EXPECT_EQ(parseSendingTime("20231114-22:13:20"), kNow);
  EXPECT_EQ(parseSendingTime("20231114-22:13:20.000000001"), kNow + 1);
  for (const char* bad :
       {"", "20231114", "20231114-22:13:2", "20231114-22:13:20.", "20231114-22:13:20.1234567890",
        "20231131-00:00:00", "20231114-24:00:00", "2023111x-22:13:20", "20231114 22:13:20"}) {
    EXPECT_FALSE(parseSendingTime(bad).has_value()) << bad;
  }
}

TEST(SentMessageStore, PlansResendsForStoredMessagesAndGapFillsForTheRest) {
  SentMessageStore store;
  store.add(3, {"B", {{148, "a"}}, "t3"});
  store.add(4, {"B", {{148, "b"}}, "t4"});
  store.add(8, {"B", {{148, "c"}}, "t8"});
  const auto steps = store.plan(1, 9);
  ASSERT_EQ(steps.size(), 6U);
  EXPECT_TRUE(steps[0].gapFill);
  EXPECT_EQ(steps[0].seq, 1);
  EXPECT_EQ(steps[0].newSeqNo, 3);
  EXPECT_FALSE(steps[1].gapFill);
  EXPECT_EQ(steps[1].seq, 3);
  EXPECT_EQ(steps[1].message->sendingTime, "t3");
  EXPECT_EQ(steps[2].seq, 4);
  EXPECT_TRUE(steps[3].gapFill);
  EXPECT_EQ(steps[3].seq, 5);
  EXPECT_EQ(steps[3].newSeqNo, 8);
  EXPECT_EQ(steps[4].seq, 8);
  EXPECT_TRUE(steps[5].gapFill);
  EXPECT_EQ(steps[5].seq, 9);
  EXPECT_EQ(steps[5].newSeqNo, 10);
  EXPECT_TRUE(store.plan(5, 4).empty());
  const auto only = store.plan(4, 4);
  ASSERT_EQ(only.size(), 1U);
  EXPECT_FALSE(only[0].gapFill);
}

TEST(SentMessageStore, ForgetsTheOldestBeyondItsCapacity) {
  SentMessageStore store(2);
  for (std::int64_t seq = 1; seq <= 3; ++seq) store.add(seq, {"B", {}, "t"});
  EXPECT_EQ(store.size(), 2U);
  EXPECT_EQ(store.find(1), nullptr);
  const auto steps = store.plan(1, 3);
  ASSERT_EQ(steps.size(), 3U);
  EXPECT_TRUE(steps[0].gapFill);
  EXPECT_EQ(steps[0].newSeqNo, 2);
}

}  // namespace
}  // namespace linkwatch::sim
