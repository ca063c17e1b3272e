#include "sim/fix_wire.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace linkwatch::sim {
namespace {

std::string soh(std::string text) {
  for (char& c : text) {
    if (c == '|') c = kSoh;
  }
  return text;
}

std::string heartbeat(int seq) {
  return encodeFixMessage(
      "FIX.4.4", "0",
      {{34, std::to_string(seq)}, {49, "BANK01"}, {52, "20260101-00:00:00.000"}, {56, "EXCH"}});
}

TEST(FixWire, EncodesHeaderBodyLengthAndChecksumInOrder) {
  const std::string msg = encodeFixMessage("FIX.4.4", "0", {{34, "1"}, {49, "A"}, {56, "B"}});
  // Body "35=0|34=1|49=A|56=B|" is 20 bytes.
  const std::string expectedPrefix = soh("8=FIX.4.4|9=20|35=0|34=1|49=A|56=B|10=");
  ASSERT_EQ(msg.substr(0, expectedPrefix.size()), expectedPrefix);
  const std::string trailer = msg.substr(expectedPrefix.size());
  ASSERT_EQ(trailer.size(), 4U);
  EXPECT_EQ(trailer.back(), kSoh);
  const unsigned sum = fixChecksum(std::string_view(msg).substr(0, expectedPrefix.size() - 3));
  char digits[4];
  snprintf(digits, sizeof(digits), "%03u", sum);
  EXPECT_EQ(trailer.substr(0, 3), digits);
}

TEST(FixWire, FormatsSendingTimeAsUtcWithMilliseconds) {
  // 2026-01-01 00:00:00 UTC + 12:34:56.789
  const Nanos t =
      (1767225600LL + 12 * 3600 + 34 * 60 + 56) * kNanosPerSecond + 789 * kNanosPerMilli;
  EXPECT_EQ(formatSendingTime(t), "20260101-12:34:56.789");
  EXPECT_EQ(formatSendingTime(0), "19700101-00:00:00.000");
}

TEST(FixWire, ParsesWhatItEncodes) {
  FixStreamParser parser;
  const std::string msg =
      encodeFixMessage("FIX.4.4", "1", {{34, "7"}, {49, "BANK01"}, {56, "EXCH"}, {112, "probe-1"}});
  parser.feed(msg);
  FixMessage out;
  ASSERT_TRUE(parser.next(out));
  EXPECT_EQ(out.raw(), msg);
  EXPECT_EQ(out.msgType(), "1");
  EXPECT_EQ(out.get(8), "FIX.4.4");
  EXPECT_EQ(out.get(112), "probe-1");
  EXPECT_EQ(out.getInt(34), 7);
  EXPECT_FALSE(out.get(999).has_value());
  EXPECT_FALSE(out.getInt(49).has_value());
  EXPECT_FALSE(parser.next(out));
  EXPECT_EQ(parser.buffered(), 0U);
}

TEST(FixWire, ReassemblesMessagesSplitAtEveryByte) {
  const std::string stream = heartbeat(1) + heartbeat(2) + heartbeat(3);
  FixStreamParser parser;
  FixMessage out;
  std::vector<std::int64_t> seqs;
  for (char c : stream) {
    parser.feed(&c, 1);
    while (parser.next(out)) seqs.push_back(out.getInt(34).value_or(-1));
  }
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(parser.garbageBytes(), 0U);
}

TEST(FixWire, RejectsWrongChecksumAndKeepsTheNextMessage) {
  std::string bad = heartbeat(1);
  // Corrupt one checksum digit.
  char& digit = bad[bad.size() - 2];
  digit = digit == '9' ? '0' : static_cast<char>(digit + 1);
  FixStreamParser parser;
  parser.feed(bad + heartbeat(2));
  FixMessage out;
  ASSERT_TRUE(parser.next(out));
  EXPECT_EQ(out.getInt(34), 2);
  EXPECT_EQ(parser.badChecksums(), 1U);
  EXPECT_FALSE(parser.next(out));
}

TEST(FixWire, RejectsBodyLengthThatMissesTheTrailer) {
  std::string msg = heartbeat(1);
  // Claim two bytes more than the body has: "10=" is no longer where BodyLength says.
  const std::size_t pos = msg.find(soh("|9=")) + 3;
  const std::size_t end = msg.find(kSoh, pos);
  const int length = std::stoi(msg.substr(pos, end - pos));
  msg.replace(pos, end - pos, std::to_string(length + 2));
  FixStreamParser parser;
  parser.feed(msg + heartbeat(2));
  FixMessage out;
  ASSERT_TRUE(parser.next(out));
  EXPECT_EQ(out.getInt(34), 2);
  EXPECT_EQ(parser.badFraming(), 1U);
}

TEST(FixWire, ResynchronisesAfterGarbage) {
  FixStreamParser parser;
  parser.feed("garbage \x01\x02 8 9= 10=123" + heartbeat(1) + "more junk 8=" + heartbeat(2));
  FixMessage out;
  ASSERT_TRUE(parser.next(out));
  EXPECT_EQ(out.getInt(34), 1);
  ASSERT_TRUE(parser.next(out));
  EXPECT_EQ(out.getInt(34), 2);
  EXPECT_FALSE(parser.next(out));
  EXPECT_GT(parser.garbageBytes(), 0U);
}

TEST(FixWire, WaitsForTheRestOfAPartialMessage) {
  const std::string msg = heartbeat(1);
  FixStreamParser parser;
  parser.feed(msg.substr(0, msg.size() - 1));
  FixMessage out;
  EXPECT_FALSE(parser.next(out));
  EXPECT_EQ(parser.buffered(), msg.size() - 1);
  parser.feed(msg.substr(msg.size() - 1));
  EXPECT_TRUE(parser.next(out));
}

TEST(FixWire, DropsTheBufferWhenBodyLengthIsAbsurd) {
  FixStreamParser parser;
  parser.feed(soh("8=FIX.4.4|9=99999999|35=0|"));
  FixMessage out;
  EXPECT_FALSE(parser.next(out));
  EXPECT_EQ(parser.overflows(), 1U);
  EXPECT_EQ(parser.buffered(), 0U);
  // Just above the 1 MiB limit is absurd too; the stream recovers afterwards.
  parser.feed(soh("8=FIX.4.4|9=1048577|35=0|"));
  EXPECT_FALSE(parser.next(out));
  EXPECT_EQ(parser.overflows(), 2U);
  parser.feed(heartbeat(5));
  ASSERT_TRUE(parser.next(out));
  EXPECT_EQ(out.getInt(34), 5);
}

TEST(FixWire, RejectsMessagesWhoseThirdFieldIsNotMsgType) {
  std::string body = soh("34=1|35=0|");
  std::string msg = soh("8=FIX.4.4|9=") + std::to_string(body.size()) + soh("|") + body;
  const unsigned sum = fixChecksum(msg);
  char trailer[8];
  snprintf(trailer, sizeof(trailer), "10=%03u", sum);
  msg += trailer;
  msg += kSoh;
  FixStreamParser parser;
  parser.feed(msg);
  FixMessage out;
  EXPECT_FALSE(parser.next(out));
  EXPECT_GT(parser.garbageBytes(), 0U);
}

TEST(FixWire, SurvivesRandomBytesWithoutCrashing) {
  std::mt19937 rng(42);
  FixStreamParser parser(4096);
  FixMessage out;
  const std::string alphabet = soh("8=9|10350FIX.4");
  for (int round = 0; round < 2000; ++round) {
    std::string chunk;
    const int n = static_cast<int>(rng() % 64);
    for (int i = 0; i < n; ++i) {
      chunk.push_back(rng() % 2 ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng()));
    }
    if (round % 50 == 0) chunk += heartbeat(round);
    parser.feed(chunk);
    while (parser.next(out)) {
      EXPECT_FALSE(out.msgType().empty());
    }
    EXPECT_LE(parser.buffered(), 4096U + 64U + 128U);
  }
}

}  // namespace
}  // namespace linkwatch::sim
