#include <linkwatch/fix_scan.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace linkwatch {
namespace {

std::string fix(std::string body) {
  for (char& c : body)
    if (c == '|') c = '\x01';
  return body;
}

SessionEvent scan(const std::string& raw) {
  SessionEvent e;
  std::memset(&e, 0, sizeof e);
  scanFixMessage(raw.data(), raw.size(), e);
  return e;
}

TEST(FixScan, ReadsHeartbeatWithOurProbeId) {
  const auto e = scan(
      fix("8=FIX.4.4|9=70|35=0|34=12|49=BANK|56=EXCH|52=20260101-00:00:01.250|112=LW42|10=000|"));
  EXPECT_EQ(e.messageClass, MessageClass::kHeartbeat);
  EXPECT_EQ(e.seqNum, 12u);
  EXPECT_TRUE(e.flags & event_flag::kProbeTestReqId);
  EXPECT_EQ(e.testReqId, 42u);
  ASSERT_TRUE(e.flags & event_flag::kHasSendingTime);
  EXPECT_EQ(e.sendingTime, 1767225600LL * kNanosPerSecond + 1250 * kNanosPerMilli);
}

TEST(FixScan, ReadsAnApplicationMessageOnlyUpToTheEndOfItsHeader) {
  // 112 and 36 in an order's body must not be taken for a TestReqID or a NewSeqNo.
  const auto e =
      scan(fix("8=FIX.4.4|9=90|35=D|34=7|43=Y|49=BANK|52=20260101-00:00:01|56=EXCH|11=ORD1|112=LW9|"
               "36=99|34=8|10=000|"));
  EXPECT_EQ(e.messageClass, MessageClass::kApplication);
  EXPECT_EQ(std::string(e.msgType, 1), "D");
  EXPECT_EQ(e.seqNum, 7u);
  EXPECT_TRUE(e.flags & event_flag::kPossDup);
  EXPECT_TRUE(e.flags & event_flag::kHasSendingTime);
  EXPECT_FALSE(e.flags & event_flag::kHasTestReqId);
  EXPECT_EQ(e.aux, 0u);
}

RoutineMessage routine(const std::string& text) {
  const std::string raw = fix(text);
  return classifyRoutineMessage(raw.data(), raw.size());
}

TEST(FixScan, TellsTheRoutineMessagesAnUpLinksFixThreadMayTally) {
  // The MsgType decides, whatever follows (while a link may tally, neither a TestReqID nor a
  // PossDupFlag can change its state: EventHub::mayTally).
  EXPECT_EQ(routine("8=FIX.4.4|9=90|35=D|34=7|49=BANK|52=20260101-00:00:01.123456789|11=A|10=000|"),
            RoutineMessage::kApplication);
  EXPECT_EQ(routine("8=FIXT.1.1|9=9|35=AE|1=2|10=000|"), RoutineMessage::kApplication);
  EXPECT_EQ(routine("8=FIX.4.4|9=9|35=AE|"), RoutineMessage::kApplication);
  EXPECT_EQ(routine("8=FIX.4.4|9=9|35=B|"), RoutineMessage::kApplication);
  EXPECT_EQ(routine("8=FIX.4.4|9=9|35=0|"), RoutineMessage::kHeartbeat);
  EXPECT_EQ(routine("8=FIX.4.2|9=123456|35=XYZ12|10=000|"), RoutineMessage::kApplication);
  EXPECT_EQ(routine("8=FIX.4.4|9=90|35=D|34=7|43=Y|10=000|"), RoutineMessage::kApplication);
  EXPECT_EQ(routine("8=FIX.4.4|9=40|35=0|34=8|49=BANK|52=20260101-00:00:01|56=EXCH|10=000|"),
            RoutineMessage::kHeartbeat);
  EXPECT_EQ(routine("8=FIX.4.4|9=40|35=0|34=8|49=BANK|112=TEST|10=000|"),
            RoutineMessage::kHeartbeat);
  EXPECT_EQ(routine("8=FIX.4.4|9=40|35=0"), RoutineMessage::kNotRoutine);  // MsgType cut short
  // Admin messages, and anything not shaped 8, 9, 35.
  for (const char* text : {"8=FIX.4.4|9=40|35=1|34=8|112=X|10=000|",
                           "8=FIX.4.4|9=40|35=2|34=8|7=1|16=0|10=000|",
                           "8=FIX.4.4|9=40|35=4|34=8|123=Y|36=9|10=000|",
                           "8=FIX.4.4|9=40|35=A|34=1|108=30|10=000|",
                           "8=FIX.4.4|9=40|35=5|10=000|",
                           "8=FIX.4.4|9=40|35=3|45=2|10=000|",
                           "9=40|8=FIX.4.4|35=D|10=000|",
                           "8=FIX.4.4|35=D|9=40|10=000|",
                           "8=FIX.4.4|9=40|35=|10=000|",
                           "8=FIX.4.4|9=40|35=D",
                           "",
                           "8=",
                           "garbage",
                           "8=FIX.4.4|9=|35=0|10=000|",
                           "8=FIX.4.4|9=4x|35=0|10=000|",
                           "8=FIX.4.4|9=40|35=0",
                           "8=FIX.4.4|9=40|35=AE",
                           "8=FIX.4.4|9=40|36=0|10=000|",
                           "8=FIX.4.4|9=40|35=",
                           "8=|9=40|35=",
                           "8=FIX.4.4|"})
    EXPECT_EQ(routine(text), RoutineMessage::kNotRoutine) << text;
}

// The classifier reads fixed runs of the header a word at a time; this is what it must
// answer, read a character at a time.
RoutineMessage routineByCharacters(std::string_view m) {
  std::size_t p = 0;
  const auto field = [&](std::string_view tag, std::string_view& value) {
    if (m.substr(p, tag.size()) != tag) return false;
    const std::size_t soh = m.find('\x01', p + tag.size());
    if (soh == std::string_view::npos) return false;
    value = m.substr(p + tag.size(), soh - p - tag.size());
    p = soh + 1;
    return true;
  };
  std::string_view begin, length, type;
  if (!field("8=", begin) || !field("9=", length) || !field("35=", type))
    return RoutineMessage::kNotRoutine;
  if (length.empty() || length.find_first_not_of("0123456789") != std::string_view::npos)
    return RoutineMessage::kNotRoutine;
  if (type.empty()) return RoutineMessage::kNotRoutine;
  if (type == "0") return RoutineMessage::kHeartbeat;
  if (type.size() == 1 && ((type[0] >= '1' && type[0] <= '5') || type[0] == 'A'))
    return RoutineMessage::kNotRoutine;
  return RoutineMessage::kApplication;
}

TEST(FixScan, ReadsBodyLengthsOfAnyLengthAndStopsAtTheFirstNonDigit) {
  EXPECT_EQ(routine("8=FIX.4.4|9=123456789012|35=0|10=000|"), RoutineMessage::kHeartbeat);
  EXPECT_EQ(routine("8=FIX.4.4|9=12345678|35=D|10=000|"), RoutineMessage::kApplication);
  EXPECT_EQ(routine("8=FIX.4.4|9=1234567|35=D|10=000|"), RoutineMessage::kApplication);
  // The characters either side of '0'-'9', and bytes that carry when six is added.
  for (const char* text : {"8=FIX.4.4|9=4:|35=0|10=000|", "8=FIX.4.4|9=4/|35=0|10=000|",
                           "8=FIX.4.4|9=4\xFA|35=0|10=000|",
                           "8=FIX.4.4|9=\xFF"
                           "4|35=0|10=000|",
                           "8=FIX.4.4|9=4\xC0|35=0|10=000|", "8=FIX.4.4|9=1234567:|35=0|10=000|"})
    EXPECT_EQ(routine(text), RoutineMessage::kNotRoutine) << text;
  // BeginStrings the one-compare path does not take.
  EXPECT_EQ(routine("8=FIX.4.44|9=9|35=0|10=000|"), RoutineMessage::kHeartbeat);
  EXPECT_EQ(routine("8=FIX.5.0|9=9|35=D|10=000|"), RoutineMessage::kApplication);
  EXPECT_EQ(routine("8=FIX.4.|9=9|35=D|10=000|"), RoutineMessage::kApplication);
  EXPECT_EQ(routine("8=FIX.4.4"), RoutineMessage::kNotRoutine);
}

TEST(FixScan, TheRoutineClassifierAgreesWithOneThatReadsACharacterAtATime) {
  // Headers cut and bent: every prefix of each, one character changed, one left out.
  const std::vector<std::string> headers = {
      fix("8=FIX.4.4|9=65|35=0|34=8|49=BANK|56=EXCH|10=000|"),
      fix("8=FIX.4.2|9=123|35=D|34=7|43=Y|10=000|"), fix("8=FIXT.1.1|9=9|35=AE|1=2|10=000|"),
      fix("8=FIX.4.4|9=12345678|35=A|10=000|"), fix("8=FIX.4.0|9=5|35=XYZ12|10=000|"),
      // 32 bytes and more, the fast path's shapes and their neighbours: FIXT.1.1, one to
      // seven BodyLength digits, MsgTypes of one, two and three characters.
      fix("8=FIXT.1.1|9=1234567|35=0|34=8|49=BANK|56=EXCH|10=000|"),
      fix("8=FIX.4.4|9=7|35=AE|34=8|49=BANK|56=EXCH|52=20260101-00:00:01|10=000|"),
      fix("8=FIX.4.1|9=40|35=XYZ|34=8|49=BANK|56=EXCH|10=000|"),
      fix("8=FIX.4.4|9=40|35=5|34=8|49=BANK|56=EXCH|10=000|")};
  const std::string replacements = std::string("0123456789:/=|\x01\xFA\xFF AD8935") + '\0';
  std::size_t compared = 0;
  for (const std::string& header : headers) {
    for (std::size_t cut = 0; cut <= header.size(); ++cut) {
      const std::string prefix = header.substr(0, cut);
      ASSERT_EQ(classifyRoutineMessage(prefix.data(), prefix.size()), routineByCharacters(prefix))
          << prefix;
      ++compared;
    }
    for (std::size_t at = 0; at < header.size(); ++at) {
      for (const char c : replacements) {
        std::string bent = header;
        bent[at] = c;
        ASSERT_EQ(classifyRoutineMessage(bent.data(), bent.size()), routineByCharacters(bent))
            << bent;
        ++compared;
      }
    }
    for (std::size_t at = 0; at < header.size(); ++at) {
      std::string shorter = header;
      shorter.erase(at, 1);
      ASSERT_EQ(classifyRoutineMessage(shorter.data(), shorter.size()),
                routineByCharacters(shorter))
          << shorter;
      ++compared;
    }
  }
  EXPECT_GT(compared, 1000u);
}

TEST(FixScan, SkipsAnApplicationMessagesSendingTimeWhenAskedButNeverAnAdminOnes) {
  const std::string order = fix("8=FIX.4.4|9=40|35=D|34=7|52=20260101-00:00:01|11=A|10=000|");
  const std::string heartbeat = fix("8=FIX.4.4|9=40|35=0|34=8|52=20260101-00:00:01|10=000|");
  SessionEvent e;
  std::memset(&e, 0, sizeof e);
  scanFixMessage(order.data(), order.size(), e, false);
  EXPECT_FALSE(e.flags & event_flag::kHasSendingTime);
  EXPECT_EQ(e.seqNum, 7u);
  std::memset(&e, 0, sizeof e);
  scanFixMessage(heartbeat.data(), heartbeat.size(), e, false);
  EXPECT_TRUE(e.flags & event_flag::kHasSendingTime);
}

TEST(FixScan, RecognisesQuickfixsOwnTestReqId) {
  const auto e = scan(fix("8=FIX.4.4|9=5|35=1|112=TEST|10=000|"));
  EXPECT_EQ(e.messageClass, MessageClass::kTestRequest);
  EXPECT_TRUE(e.flags & event_flag::kQuickfixTestReqId);
  EXPECT_FALSE(e.flags & event_flag::kProbeTestReqId);
}

TEST(FixScan, ReadsGapFillFields) {
  const auto e = scan(fix("8=FIX.4.4|9=5|35=4|34=5|43=Y|123=Y|36=10|10=000|"));
  EXPECT_EQ(e.messageClass, MessageClass::kSequenceReset);
  EXPECT_TRUE(e.flags & event_flag::kGapFill);
  EXPECT_TRUE(e.flags & event_flag::kPossDup);
  EXPECT_EQ(e.aux, 10u);
}

TEST(FixScan, KeepsApplicationMsgType) {
  const auto e = scan(fix("8=FIX.4.4|9=5|35=AE|34=9|10=000|"));
  EXPECT_EQ(e.messageClass, MessageClass::kApplication);
  EXPECT_STREQ(std::string(e.msgType, 2).c_str(), "AE");
}

TEST(FixScan, GarbageIsGarbledNotACrash) {
  for (const std::string& raw :
       {std::string("hello"), std::string(""), std::string("=\x01=\x01"), std::string("35"),
        fix("8=FIX.4.4|9=abc|"), std::string(1000, '\xff')}) {
    EXPECT_EQ(scan(raw).messageClass, MessageClass::kGarbled) << raw;
  }
}

TEST(FixScan, ParsesUtcTimestampsWithAndWithoutFraction) {
  Nanos t = 0;
  ASSERT_TRUE(parseUtcTimestamp("20260101-00:00:00", 17, t));
  EXPECT_EQ(t, 1767225600LL * kNanosPerSecond);
  ASSERT_TRUE(parseUtcTimestamp("20260101-00:00:00.123456789", 27, t));
  EXPECT_EQ(t, 1767225600LL * kNanosPerSecond + 123456789);
  EXPECT_FALSE(parseUtcTimestamp("20261301-00:00:00", 17, t));
  EXPECT_FALSE(parseUtcTimestamp("20260101 00:00:00", 17, t));
  EXPECT_FALSE(parseUtcTimestamp("20260101-00:00:00.", 18, t));
}

struct EventText {
  const char* text;
  EventKind kind;
};

TEST(FixScan, ClassifiesQuickfixEventTexts) {
  const EventText cases[] = {
      {"Disconnecting", EventKind::kDisconnect},
      {"Timed out waiting for heartbeat", EventKind::kHeartbeatTimeout},
      {"Timed out waiting for logon response", EventKind::kLogonTimeout},
      {"Received logon outside of valid logon time", EventKind::kLogonRefused},
      {"Session is not enabled for logon", EventKind::kLogonRefused},
      {"Rejected Logon Attempt: bad password", EventKind::kLogonRefused},
      {"Session not found for incoming message: 8=FIX.4.4", EventKind::kUnknownSession},
      {"Connection reset by peer.", EventKind::kSocketError},
  };
  for (const auto& c : cases) {
    SessionEvent e{};
    ASSERT_TRUE(classifyQuickfixEvent(c.text, std::strlen(c.text), e)) << c.text;
    EXPECT_EQ(e.kind, c.kind) << c.text;
  }
  SessionEvent e{};
  EXPECT_FALSE(classifyQuickfixEvent("Created session", 15, e));
}

TEST(FixScan, ParsesSequenceNumbersOfTooHigh) {
  const std::string text = "MsgSeqNum too high, expecting 5 but received 10";
  SessionEvent e{};
  ASSERT_TRUE(classifyQuickfixEvent(text.data(), text.size(), e));
  EXPECT_EQ(e.kind, EventKind::kSeqTooHigh);
  EXPECT_EQ(e.aux, 5u);
  EXPECT_EQ(e.seqNum, 10u);
}

}  // namespace
}  // namespace linkwatch
