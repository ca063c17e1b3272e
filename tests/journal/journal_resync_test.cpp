// The reader resynchronises after damage in the middle of a segment: it scans forward for the
// next record whose checksum holds, reports what it skipped (offset, bytes), and keeps every
// record before and after.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "journal/journal.hpp"
#include "journal/journal_reader.hpp"
#include "journal/segment_format.hpp"

#include "common/test_support.hpp"

namespace linkwatch::journal {
namespace {

namespace fs = std::filesystem;

HistoryEvent transition(std::uint64_t id) {
  HistoryEvent e;
  e.id = id;
  e.member = id % 2 == 0 ? "BANK02" : "BANK01";
  e.from = "down";
  e.to = "up";
  e.reason = "logged_on";
  e.detail = "record " + std::to_string(id);
  e.wall = 1767225600LL * kNanosPerSecond + static_cast<Nanos>(id) * kNanosPerSecond;
  e.monotonic = static_cast<Nanos>(id);
  return e;
}

// A segment of records firstId.. firstId + n - 1; `starts` gets each record's offset and,
// last, the end of the segment.
std::string segmentWith(std::uint64_t firstId, int n, std::vector<std::size_t>& starts) {
  SegmentHeader header;
  header.firstId = firstId;
  std::string bytes = encodeSegmentHeader(header);
  for (int i = 0; i < n; ++i) {
    starts.push_back(bytes.size());
    appendRecord(bytes, encodePayload(transition(firstId + static_cast<std::uint64_t>(i))));
  }
  starts.push_back(bytes.size());
  return bytes;
}

std::vector<std::uint64_t> idsOf(const std::vector<HistoryEvent>& events) {
  std::vector<std::uint64_t> ids;
  for (const HistoryEvent& e : events) ids.push_back(e.id);
  return ids;
}

std::vector<std::uint64_t> idsExcept(std::uint64_t first, std::uint64_t last,
                                     std::uint64_t lostFrom, std::uint64_t lostTo) {
  std::vector<std::uint64_t> ids;
  for (std::uint64_t id = first; id <= last; ++id)
    if (id < lostFrom || id > lostTo) ids.push_back(id);
  return ids;
}

TEST(JournalResync, AZeroedRangeInTheMiddleLosesOnlyTheRecordsItTouches) {
  std::vector<std::size_t> starts;
  std::string bytes = segmentWith(1, 20, starts);
  // From the middle of record 5 to the middle of record 8 (ids 5..8, starts[4..7]).
  const std::size_t from = starts[4] + 10;
  const std::size_t to = starts[7] + 12;
  std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(from),
            bytes.begin() + static_cast<std::ptrdiff_t>(to), '\0');
  const SegmentScan scan = scanSegment(bytes);
  EXPECT_EQ(idsOf(scan.events), idsExcept(1, 20, 5, 8));
  ASSERT_EQ(scan.damage.size(), 1u);
  EXPECT_EQ(scan.damage[0].offset, starts[4]);
  EXPECT_EQ(scan.damage[0].bytes, starts[8] - starts[4]);
  EXPECT_FALSE(scan.damage[0].tail);
  EXPECT_EQ(scan.corruptRecords, 1u);
  EXPECT_EQ(scan.unreadableBytes, 0u);
  EXPECT_EQ(scan.skippedBytes, starts[8] - starts[4]);
  EXPECT_EQ(scan.validBytes, bytes.size());
  const std::string expected = "bytes " + std::to_string(starts[4]) + ".." +
                               std::to_string(starts[8] - 1) + " (" +
                               std::to_string(starts[8] - starts[4]) + ") skipped";
  EXPECT_NE(scan.problem.find(expected), std::string::npos) << scan.problem;
  EXPECT_NE(scan.problem.find("resumed at byte " + std::to_string(starts[8])), std::string::npos)
      << scan.problem;
}

TEST(JournalResync, FlippedBytesInEveryRecordPositionAreSkippedOneRecordAtATime) {
  std::vector<std::size_t> starts;
  const std::string clean = segmentWith(1, 6, starts);
  // Records 2 and 5 damaged at every byte offset inside them (length, checksum, payload).
  for (std::size_t a = starts[1]; a < starts[2]; ++a) {
    std::string bytes = clean;
    bytes[a] = static_cast<char>(bytes[a] ^ 0xFF);
    const std::size_t b = starts[4] + (a - starts[1]) % (starts[5] - starts[4]);
    bytes[b] = static_cast<char>(bytes[b] ^ 0x5A);
    const SegmentScan scan = scanSegment(bytes);
    EXPECT_EQ(idsOf(scan.events), (std::vector<std::uint64_t>{1, 3, 4, 6})) << "byte " << a;
    ASSERT_EQ(scan.damage.size(), 2u) << "byte " << a;
    EXPECT_EQ(scan.damage[0].offset, starts[1]);
    EXPECT_EQ(scan.damage[0].bytes, starts[2] - starts[1]);
    EXPECT_EQ(scan.damage[1].offset, starts[4]);
    EXPECT_EQ(scan.damage[1].bytes, starts[5] - starts[4]);
  }
}

TEST(JournalResync, GarbageInsertedBetweenRecordsIsSkippedAndATornTailStillReported) {
  std::vector<std::size_t> starts;
  const std::string clean = segmentWith(1, 10, starts);
  std::string garbage;
  for (int i = 0; i < 300; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) & 0xFF));
  std::string bytes = clean.substr(0, starts[3]) + garbage + clean.substr(starts[3]);
  bytes.resize(bytes.size() - 3);  // and the last record torn
  const SegmentScan scan = scanSegment(bytes);
  EXPECT_EQ(idsOf(scan.events), idsExcept(1, 9, 10, 10));
  ASSERT_EQ(scan.damage.size(), 2u);
  EXPECT_EQ(scan.damage[0].offset, starts[3]);
  EXPECT_EQ(scan.damage[0].bytes, garbage.size());
  EXPECT_TRUE(scan.damage[1].tail);
  EXPECT_EQ(scan.damage[1].offset, starts[9] + garbage.size());
  EXPECT_EQ(scan.unreadableBytes, bytes.size() - scan.damage[1].offset);
  EXPECT_EQ(scan.validBytes + scan.unreadableBytes, bytes.size());
}

TEST(JournalResync, ADamagedHeaderLosesNoRecordButAnUnknownVersionIsNotGuessedAt) {
  std::vector<std::size_t> starts;
  std::string bytes = segmentWith(1, 4, starts);
  bytes[0] = 'X';
  SegmentScan scan = scanSegment(bytes);
  EXPECT_FALSE(scan.headerValid);
  EXPECT_EQ(idsOf(scan.events), idsExcept(1, 4, 0, 0));
  ASSERT_EQ(scan.damage.size(), 1u);
  EXPECT_EQ(scan.damage[0].bytes, kSegmentHeaderSize);

  SegmentHeader v2;
  v2.version = 2;
  bytes = encodeSegmentHeader(v2) + bytes.substr(kSegmentHeaderSize);
  scan = scanSegment(bytes);
  EXPECT_TRUE(scan.events.empty());
  ASSERT_EQ(scan.damage.size(), 1u);
  EXPECT_NE(scan.problem.find("version 2"), std::string::npos) << scan.problem;
}

TEST(JournalResync, AHostileSegmentOfPlausibleLengthsIsBoundedWork) {
  std::vector<std::size_t> starts;
  std::string bytes = segmentWith(1, 3, starts);
  // Every fourth offset claims a 16 KiB record of a valid kind: unbounded, the forward scan
  // would checksum 16 KiB at each of them (about 4 GiB for this 1 MiB).
  bytes.push_back('\xFF');  // damage: the byte after the last good record frames nothing
  while (bytes.size() < (1u << 20)) bytes.append(std::string("\x00\x40\x00\x00", 4));
  const SegmentScan scan = scanSegment(bytes);
  EXPECT_EQ(idsOf(scan.events), idsExcept(1, 3, 0, 0));
  ASSERT_EQ(scan.damage.size(), 1u);
  EXPECT_TRUE(scan.damage[0].tail);
  EXPECT_EQ(scan.damage[0].offset, starts[3]);
  EXPECT_NE(scan.problem.find("gave up"), std::string::npos) << scan.problem;
}

class JournalResyncOnDisk : public ::testing::Test {
 protected:
  void write(std::uint64_t firstId, const std::string& bytes) {
    std::ofstream out(dir + "/" + segmentFileName(firstId), std::ios::binary | std::ios::trunc);
    out << bytes;
  }

  test_support::TempDir temp;  // one directory a test, removed after it
  const std::string dir = temp.path().string();
};

TEST_F(JournalResyncOnDisk, StartupRestoresEveryRecordAroundTheDamageAndSaysWhere) {
  std::vector<std::size_t> starts;
  std::string bytes = segmentWith(1, 30, starts);
  for (std::size_t i = starts[10] + 3; i < starts[12] + 5; ++i) bytes[i] = '\0';
  write(1, bytes);
  ManualClock clock;
  std::ostringstream log;
  JournalOptions o;
  o.directory = dir;
  Journal j(o, clock, log);
  EventQuery all;
  all.kind.reset();
  all.limit = 1000;
  std::vector<std::uint64_t> ids = idsOf(j.query(all).events);
  std::reverse(ids.begin(), ids.end());
  EXPECT_EQ(ids, idsExcept(1, 30, 11, 13));
  EXPECT_EQ(j.stats().corruptRecords, 1u);
  ASSERT_EQ(j.scanAtStart().damage.size(), 1u);
  EXPECT_EQ(j.scanAtStart().damage[0].damage.offset, starts[10]);
  EXPECT_EQ(j.scanAtStart().damage[0].damage.bytes, starts[13] - starts[10]);
  const std::string where = dir + "/" + segmentFileName(1) + ": bytes " +
                            std::to_string(starts[10]) + ".." + std::to_string(starts[13] - 1);
  EXPECT_NE(log.str().find(where), std::string::npos) << log.str();
  // The last state comes from the records after the damage.
  EXPECT_EQ(j.lastKnown().at("BANK02").lastSinceWall, transition(30).wall);
  EXPECT_EQ(j.scanAtStart().nextId, 31u);
}

TEST_F(JournalResyncOnDisk, ATornTailInTheSegmentBeingWrittenIsNotDamage) {
  std::vector<std::size_t> starts;
  const std::string bytes = segmentWith(1, 5, starts);
  write(1, bytes.substr(0, bytes.size() - 4));
  for (const std::uint64_t active : {std::uint64_t{1}, std::uint64_t{0}}) {
    BackwardReadOptions o;
    o.activeSegment = active;
    std::vector<std::uint64_t> ids;
    std::vector<JournalDamage> damage;
    readJournalBackwards(
        dir, o,
        [&](HistoryEvent&& e) {
          ids.push_back(e.id);
          return true;
        },
        [&](const JournalDamage& d) { damage.push_back(d); });
    EXPECT_EQ(ids, (std::vector<std::uint64_t>{4, 3, 2, 1}));
    EXPECT_EQ(damage.size(), active == 1 ? 0u : 1u);
  }
}

}  // namespace
}  // namespace linkwatch::journal
