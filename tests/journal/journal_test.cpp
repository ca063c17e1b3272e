#include "journal/journal.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "journal/crc32c.hpp"
#include "journal/segment_format.hpp"

#include "common/test_support.hpp"

namespace linkwatch::journal {
namespace {

namespace fs = std::filesystem;
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
  config.alertStartupGrace = std::chrono::seconds(5);
  return config;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void writeFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

HistoryEvent transition(std::uint64_t id, const std::string& member, const std::string& to) {
  HistoryEvent e;
  e.id = id;
  e.member = member;
  e.from = "down";
  e.to = to;
  e.reason = to == "up" ? "logged_on" : "disconnected";
  e.wall = 1767225600LL * kSec + static_cast<Nanos>(id) * kSec;
  e.monotonic = static_cast<Nanos>(id);
  return e;
}

// A segment holding `n` transitions, and the offset at which each record starts.
std::string segmentWith(int n, std::vector<std::size_t>* starts = nullptr) {
  SegmentHeader header;
  header.firstId = 1;
  std::string bytes = encodeSegmentHeader(header);
  for (int i = 1; i <= n; ++i) {
    if (starts != nullptr) starts->push_back(bytes.size());
    appendRecord(bytes, encodePayload(transition(static_cast<std::uint64_t>(i), "BANK01",
                                                 i % 2 == 1 ? "up" : "down")));
  }
  return bytes;
}

class JournalTest : public ::testing::Test {
 protected:
  JournalOptions options() const {
    JournalOptions o;
    o.directory = dir;
    o.sync = JournalSyncMode::kEvery;
    o.queueCapacity = 1024;
    return o;
  }

  Transition change(LinkIndex link, LinkState from, LinkState to, LinkReason reason) {
    clock.advance(kSec);
    Transition t;
    t.link = link;
    t.from = from;
    t.to = to;
    t.reason = reason;
    t.wall = clock.wall();
    t.monotonic = clock.monotonic();
    return t;
  }

  std::vector<HistoryEvent> all(const Journal& j) {
    EventQuery q;
    q.limit = 1000000;
    auto events = j.query(q).events;
    std::reverse(events.begin(), events.end());
    return events;
  }

  test_support::TempDir temp;  // one directory a test, removed after it
  const std::string dir = temp.path().string();
  ManualClock clock;
  std::ostringstream log;
};

TEST(Crc32c, MatchesTheCastagnoliCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
  // Continuing over two parts equals one pass.
  EXPECT_EQ(crc32c("56789", crc32c("1234")), 0xE3069283u);
}

TEST(SegmentFormat, EveryKindRoundTrips) {
  HistoryEvent m;
  m.kind = HistoryEventKind::kMaintenance;
  m.id = 7;
  m.member = "BANK02";
  m.maintenanceUntilWall = 123 * kSec;
  m.detail = "maintenance started";
  HistoryEvent c;
  c.kind = HistoryEventKind::kCertification;
  c.id = 8;
  c.member = "BANK03";
  c.caseId = "1c_InvalidSenderCompID";
  c.verdict = "pass";
  c.reason = "logon refused as expected";
  c.runId = "run-1";
  HistoryEvent g;
  g.kind = HistoryEventKind::kGap;
  g.id = 9;
  g.droppedRecords = 42;
  for (const HistoryEvent& e : {transition(6, "BANK01", "up"), m, c, g}) {
    const auto back = decodePayload(encodePayload(e));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->kind, e.kind);
    EXPECT_EQ(back->id, e.id);
    EXPECT_EQ(back->member, e.member);
    EXPECT_EQ(back->to, e.to);
    EXPECT_EQ(back->maintenanceUntilWall, e.maintenanceUntilWall);
    EXPECT_EQ(back->caseId, e.caseId);
    EXPECT_EQ(back->verdict, e.verdict);
    EXPECT_EQ(back->runId, e.runId);
    EXPECT_EQ(back->droppedRecords, e.droppedRecords);
  }
  EXPECT_EQ(parseSegmentFileName(segmentFileName(42)), 42u);
  EXPECT_FALSE(parseSegmentFileName("segment-x.lwj").has_value());
}

TEST(SegmentFormat, ChecksumCatchesEveryFlippedBitAndLosesOnlyTheRecordItHits) {
  std::vector<std::size_t> starts;
  const std::string clean = segmentWith(3, &starts);
  ASSERT_EQ(scanSegment(clean).events.size(), 3u);
  starts.push_back(clean.size());
  for (std::size_t bit = 0; bit < clean.size() * 8; ++bit) {
    std::string bytes = clean;
    const std::size_t at = bit / 8;
    bytes[at] = static_cast<char>(bytes[at] ^ (1 << (bit % 8)));
    const SegmentScan scan = scanSegment(bytes);
    EXPECT_EQ(scan.corruptRecords, 1u) << "bit " << bit;
    ASSERT_EQ(scan.damage.size(), 1u) << "bit " << bit;
    EXPECT_FALSE(scan.problem.empty()) << "bit " << bit;
    // The header, or the one record the bit is in, is skipped; every other record is read.
    std::size_t hit = 0;  // 0: the header, k: record k
    while (hit < 3 && at >= starts[hit]) ++hit;
    std::vector<std::uint64_t> expected;
    for (std::uint64_t id = 1; id <= 3; ++id)
      if (id != hit) expected.push_back(id);
    std::vector<std::uint64_t> ids;
    for (const HistoryEvent& e : scan.events) ids.push_back(e.id);
    EXPECT_EQ(ids, expected) << "bit " << bit;
    const std::size_t from = hit == 0 ? 0 : starts[hit - 1];
    EXPECT_EQ(scan.damage[0].offset, from) << "bit " << bit;
    EXPECT_EQ(scan.damage[0].bytes, (hit == 0 ? kSegmentHeaderSize : starts[hit]) - from)
        << "bit " << bit;
    EXPECT_EQ(scan.damage[0].tail, hit == 3) << "bit " << bit;
  }
}

TEST(SegmentFormat, TornLastRecordAtEveryOffsetKeepsEverythingBefore) {
  std::vector<std::size_t> starts;
  const std::string clean = segmentWith(4, &starts);
  for (std::size_t cut = starts.back() + 1; cut < clean.size(); ++cut) {
    const SegmentScan scan = scanSegment(std::string_view(clean).substr(0, cut));
    ASSERT_EQ(scan.events.size(), 3u) << "cut at " << cut;
    EXPECT_EQ(scan.corruptRecords, 1u) << "cut at " << cut;
    EXPECT_EQ(scan.validBytes, starts.back()) << "cut at " << cut;
    EXPECT_EQ(scan.unreadableBytes, cut - starts.back()) << "cut at " << cut;
  }
  // Cut exactly at a record boundary: nothing is damaged.
  const SegmentScan exact = scanSegment(std::string_view(clean).substr(0, starts.back()));
  EXPECT_EQ(exact.events.size(), 3u);
  EXPECT_EQ(exact.corruptRecords, 0u);
}

TEST_F(JournalTest, RoundTripAcrossARestart) {
  {
    LinkMonitor monitor(twoLinks(), clock);
    Journal j(options(), clock, log);
    j.attach(monitor);
    j.start();
    j.onTransition(change(0, LinkState::kDown, LinkState::kUp, LinkReason::kLoggedOn));
    j.onTransition(change(1, LinkState::kDown, LinkState::kUp, LinkReason::kLoggedOn));
    j.onTransition(change(1, LinkState::kUp, LinkState::kDown, LinkReason::kHeartbeatTimeout));
    j.onMaintenance(MaintenanceChange{0, clock.wall() + 3600 * kSec, clock.wall(), 0});
    j.appendCertificationVerdict({"BANK01", "2b_HeartbeatOnTime", "pass", "", "run-7", ""});
    ASSERT_TRUE(j.flush(10 * kSec));
    EXPECT_EQ(j.stats().recordsWritten, 5u);
    EXPECT_GT(j.stats().bytesWritten, 5 * kRecordFrameSize);
    EXPECT_GE(j.syncLatency().count(), 1u);  // JournalSync=every: one sync per written batch
    j.stop();
  }
  Journal again(options(), clock, log);
  const auto events = all(again);
  ASSERT_EQ(events.size(), 5u);
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].id, i + 1);
    EXPECT_TRUE(events[i].previousRun);
  }
  EXPECT_EQ(events[2].member, "BANK02");
  EXPECT_EQ(events[2].to, "down");
  EXPECT_EQ(events[2].reason, "heartbeat_timeout");
  EXPECT_EQ(events[3].kind, HistoryEventKind::kMaintenance);
  EXPECT_EQ(events[4].kind, HistoryEventKind::kCertification);
  EXPECT_EQ(events[4].runId, "run-7");
  const auto last = again.lastKnown();
  EXPECT_EQ(last.at("BANK01").lastState, LinkState::kUp);
  EXPECT_GT(last.at("BANK01").maintenanceUntilWall, 0);
  EXPECT_EQ(last.at("BANK02").lastState, LinkState::kDown);
  EXPECT_EQ(last.at("BANK02").lastReason, LinkReason::kHeartbeatTimeout);
  EXPECT_EQ(again.stats().corruptRecords, 0u);
  EXPECT_TRUE(log.str().empty()) << log.str();
}

TEST_F(JournalTest, TornTailIsReportedSkippedAndNeverAppendedTo) {
  {
    LinkMonitor monitor(twoLinks(), clock);
    Journal j(options(), clock, log);
    j.attach(monitor);
    j.start();
    for (int i = 0; i < 4; ++i)
      j.onTransition(change(0, LinkState::kDown, LinkState::kUp, LinkReason::kLoggedOn));
    ASSERT_TRUE(j.flush(10 * kSec));
  }
  const auto segments = listSegments(dir);
  ASSERT_EQ(segments.size(), 1u);
  // A crash in the middle of the last write: its last 5 bytes never reached the disk.
  const std::string bytes = readFile(segments[0].path);
  writeFile(segments[0].path, std::string_view(bytes).substr(0, bytes.size() - 5));
  {
    LinkMonitor monitor(twoLinks(), clock);
    Journal j(options(), clock, log);
    EXPECT_EQ(j.stats().corruptRecords, 1u);
    EXPECT_NE(log.str().find("damaged record skipped"), std::string::npos) << log.str();
    EXPECT_EQ(all(j).size(), 3u);
    j.attach(monitor);
    j.start();
    j.onTransition(change(1, LinkState::kDown, LinkState::kUp, LinkReason::kLoggedOn));
    ASSERT_TRUE(j.flush(10 * kSec));
  }
  // The damaged segment is untouched; the new record went to a segment of its own.
  EXPECT_EQ(listSegments(dir).size(), 2u);
  std::ostringstream quiet;
  Journal j(options(), clock, quiet);
  const auto events = all(j);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events.back().member, "BANK02");
  EXPECT_GT(events.back().id, events[2].id);
}

TEST_F(JournalTest, ASegmentLeftEmptyByACrashIsNotReusedNorReportedAsDamage) {
  fs::create_directories(dir);
  // A crash between creating a segment and writing its header.
  writeFile(dir + "/" + segmentFileName(7), "");
  {
    LinkMonitor monitor(twoLinks(), clock);
    Journal j(options(), clock, log);
    EXPECT_EQ(j.stats().corruptRecords, 0u);
    j.attach(monitor);
    j.start();
    j.onTransition(change(0, LinkState::kDown, LinkState::kUp, LinkReason::kLoggedOn));
    ASSERT_TRUE(j.flush(10 * kSec));
  }
  Journal j(options(), clock, log);
  const auto events = all(j);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id, 8u);
  EXPECT_TRUE(log.str().empty()) << log.str();
}

TEST_F(JournalTest, RotatesBySizeAndRetentionDeletesTheOldest) {
  JournalOptions o = options();
  o.sync = JournalSyncMode::kNone;
  o.segmentBytes = 4096;
  o.retentionSegments = 3;
  LinkMonitor monitor(twoLinks(), clock);
  {
    Journal j(o, clock, log);
    j.attach(monitor);
    j.start();
    for (int i = 0; i < 1000; ++i)
      j.onTransition(change(static_cast<LinkIndex>(i % 2), LinkState::kDown, LinkState::kUp,
                            LinkReason::kLoggedOn));
    ASSERT_TRUE(j.flush(10 * kSec));
    EXPECT_EQ(j.stats().segments, 3u);
  }
  const auto segments = listSegments(dir);
  ASSERT_EQ(segments.size(), 3u);
  for (const auto& s : segments) EXPECT_LE(s.bytes, 4096u);
  Journal j(o, clock, log);
  const auto events = all(j);
  ASSERT_FALSE(events.empty());
  EXPECT_LT(events.size(), 1000u);
  EXPECT_EQ(events.back().id, 1000u);  // the newest are kept, contiguous
  EXPECT_EQ(events.front().id, segments.front().firstId);
  EXPECT_EQ(events.back().id - events.front().id + 1, events.size());
  EXPECT_EQ(j.stats().corruptRecords, 0u);
}

TEST_F(JournalTest, RetentionByBytes) {
  JournalOptions o = options();
  o.sync = JournalSyncMode::kNone;
  o.segmentBytes = 4096;
  o.retentionSegments = 0;
  o.retentionBytes = 10000;
  LinkMonitor monitor(twoLinks(), clock);
  Journal j(o, clock, log);
  j.attach(monitor);
  j.start();
  for (int i = 0; i < 1000; ++i)
    j.onTransition(change(0, LinkState::kDown, LinkState::kUp, LinkReason::kLoggedOn));
  ASSERT_TRUE(j.flush(10 * kSec));
  std::uint64_t total = 0;
  for (const auto& s : listSegments(dir)) total += s.bytes;
  EXPECT_LE(total, 10000u);
  EXPECT_GE(listSegments(dir).size(), 2u);
}

TEST_F(JournalTest, IntervalSyncSyncsWhatWasWrittenWithinTheInterval) {
  JournalOptions o = options();
  o.sync = JournalSyncMode::kInterval;
  o.syncInterval = 20 * kNanosPerMilli;
  LinkMonitor monitor(twoLinks(), clock);
  Journal j(o, clock, log);
  j.attach(monitor);
  j.start();
  j.onTransition(change(0, LinkState::kDown, LinkState::kUp, LinkReason::kLoggedOn));
  ASSERT_TRUE(j.flush(10 * kSec));
  // The writer's deadline runs on the journal's clock: move it past the interval.
  clock.advance(o.syncInterval);
  const Nanos deadline = monotonicNow() + 10 * kSec;
  while (j.syncLatency().count() == 0 && monotonicNow() < deadline) {
    j.onTransition(change(1, LinkState::kDown, LinkState::kUp, LinkReason::kLoggedOn));
    ASSERT_TRUE(j.flush(10 * kSec));
  }
  EXPECT_GE(j.syncLatency().count(), 1u);
}

TEST_F(JournalTest, ASecondOwnerOfTheDirectoryIsRefused) {
  Journal first(options(), clock, log);
  try {
    Journal second(options(), clock, log);
    FAIL() << "a second journal opened the same directory";
  } catch (const JournalError& e) {
    EXPECT_NE(std::string(e.what()).find("in use by another linkwatch process"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(std::to_string(::getpid())), std::string::npos);
  }
}

TEST_F(JournalTest, AFullQueueCountsDropsAndWritesAGapAndSnapshots) {
  JournalOptions o = options();
  o.queueCapacity = 4;
  LinkMonitor monitor(twoLinks(), clock);
  Journal j(o, clock, log);
  j.attach(monitor);
  // The writer is not running yet: the queue fills up.
  for (int i = 0; i < 10; ++i)
    j.onTransition(change(0, LinkState::kDown, LinkState::kUp, LinkReason::kLoggedOn));
  EXPECT_EQ(j.stats().droppedRecords, 6u);
  j.start();
  ASSERT_TRUE(j.flush(10 * kSec));
  EventQuery q;
  q.limit = 100;
  const auto events = j.query(q).events;  // newest first
  ASSERT_EQ(events.size(), 4u + 1u + 2u);
  std::size_t gaps = 0;
  std::size_t snapshots = 0;
  for (const auto& e : events) {
    if (e.kind == HistoryEventKind::kGap) {
      ++gaps;
      EXPECT_EQ(e.droppedRecords, 6u);
    }
    if (e.kind == HistoryEventKind::kSnapshot) ++snapshots;
  }
  EXPECT_EQ(gaps, 1u);
  EXPECT_EQ(snapshots, 2u);  // one per link
  EXPECT_NE(log.str().find("did not fit the journal queue"), std::string::npos);
  EXPECT_EQ(j.stats().droppedRecords, 6u);
}

TEST_F(JournalTest, QueryFiltersAndPages) {
  LinkMonitor monitor(twoLinks(), clock);
  Journal j(options(), clock, log);
  j.attach(monitor);
  j.start();
  for (int i = 0; i < 25; ++i)
    j.onTransition(change(static_cast<LinkIndex>(i % 2), LinkState::kDown, LinkState::kUp,
                          LinkReason::kLoggedOn));
  ASSERT_TRUE(j.flush(10 * kSec));
  EventQuery q;
  q.limit = 10;
  std::vector<std::uint64_t> ids;
  for (int page = 0; page < 5; ++page) {
    const EventPage p = j.query(q);
    for (const auto& e : p.events) ids.push_back(e.id);
    if (!p.nextBefore) break;
    q.beforeId = p.nextBefore;
  }
  ASSERT_EQ(ids.size(), 25u);
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], 25 - i);

  EventQuery members;
  members.member = "BANK02";
  members.limit = 100;
  EXPECT_EQ(j.query(members).events.size(), 12u);
  EventQuery since;
  since.since = all(j)[20].wall;
  since.limit = 100;
  EXPECT_EQ(j.query(since).events.size(), 5u);
}

TEST_F(JournalTest, RestoredLinksAreUnknownUntilReobserved) {
  {
    LinkMonitor monitor(twoLinks(), clock);
    Journal j(options(), clock, log);
    j.attach(monitor);
    j.start();
    j.onTransition(change(0, LinkState::kDown, LinkState::kUp, LinkReason::kLoggedOn));
    j.onTransition(change(1, LinkState::kDown, LinkState::kUp, LinkReason::kLoggedOn));
    ASSERT_TRUE(j.flush(10 * kSec));
  }
  LinkMonitor monitor(twoLinks(), clock);
  Journal j(options(), clock, log);
  EXPECT_EQ(j.restoreInto(monitor), 2u);
  j.attach(monitor);
  j.start();
  // Never a stale green: both links were up, both show unknown.
  for (LinkIndex link : {0u, 1u}) {
    EXPECT_EQ(monitor.stats(link).state.load(), LinkState::kUnknown);
    EXPECT_EQ(monitor.stats(link).reason.load(), LinkReason::kRestored);
    ASSERT_NE(monitor.restored(link), nullptr);
    EXPECT_EQ(monitor.restored(link)->lastState, LinkState::kUp);
  }
  // BANK01 logs on again: observed.
  SessionEvent logon{};
  logon.kind = EventKind::kLogon;
  logon.link = 0;
  logon.monotonic = clock.monotonic();
  logon.wall = clock.wall();
  monitor.hub().publish(logon);
  monitor.runOnce();
  EXPECT_EQ(monitor.stats(0).state.load(), LinkState::kUp);
  EXPECT_EQ(monitor.stats(1).state.load(), LinkState::kUnknown);
  // BANK02 says nothing for the observation window (max(2 x 1s, 5s)): down, never_connected.
  clock.advance(5 * kSec - 1);
  monitor.runOnce();
  EXPECT_EQ(monitor.stats(1).state.load(), LinkState::kUnknown);
  clock.advance(1);
  monitor.runOnce();
  EXPECT_EQ(monitor.stats(1).state.load(), LinkState::kDown);
  EXPECT_EQ(monitor.stats(1).reason.load(), LinkReason::kNeverConnected);
  EXPECT_EQ(monitor.stats(1).flaps.load(), 0u);
  ASSERT_TRUE(j.flush(10 * kSec));
  std::vector<HistoryEvent> events;
  for (const HistoryEvent& e : all(j))
    if (e.from == "unknown") events.insert(events.begin(), e);  // newest first
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].member, "BANK02");
  EXPECT_EQ(events[0].from, "unknown");
  EXPECT_EQ(events[0].to, "down");
  EXPECT_FALSE(events[0].previousRun);
  EXPECT_EQ(events[1].member, "BANK01");
  EXPECT_EQ(events[1].from, "unknown");
  EXPECT_EQ(events[1].to, "up");
}

TEST_F(JournalTest, AMaintenanceWindowSurvivesARestart) {
  {
    LinkMonitor monitor(twoLinks(), clock);
    Journal j(options(), clock, log);
    j.attach(monitor);
    j.start();
    monitor.setMaintenance(1, clock.wall() + 600 * kSec);
    monitor.runOnce();
    ASSERT_EQ(monitor.stats(1).state.load(), LinkState::kMaintenance);
    ASSERT_TRUE(j.flush(10 * kSec));
  }
  LinkMonitor monitor(twoLinks(), clock);
  Journal j(options(), clock, log);
  j.restoreInto(monitor);
  EXPECT_EQ(monitor.stats(1).state.load(), LinkState::kMaintenance);
  EXPECT_EQ(monitor.stats(0).state.load(), LinkState::kDown);  // nothing journaled for it
}

TEST(JournalConfig, ParsesTheJournalKeysAndRefusesBadValues) {
  const std::string head =
      "[DEFAULT]\nConnectionType=acceptor\nSocketAcceptPort=5001\nSenderCompID=EXCH\n"
      "BeginString=FIX.4.4\nHeartBtInt=1\nStartTime=00:00:00\nEndTime=00:00:00\n"
      "[SESSION]\nTargetCompID=B1\nMemberId=B1\n[LINKWATCH]\n";
  const MonitorConfig c = parseConfig(head +
                                          "JournalPath=/tmp/j\nJournalSync=interval:250ms\n"
                                          "JournalSegmentSize=1MiB\nJournalRetention=2GiB\n",
                                      "t.cfg");
  EXPECT_EQ(c.journalPath, "/tmp/j");
  EXPECT_EQ(c.journalSync, JournalSyncMode::kInterval);
  EXPECT_EQ(c.journalSyncInterval, std::chrono::milliseconds(250));
  EXPECT_EQ(c.journalSegmentBytes, 1u << 20);
  EXPECT_EQ(c.journalRetentionBytes, 2ull << 30);
  EXPECT_EQ(c.journalRetentionSegments, 0u);
  EXPECT_EQ(parseConfig(head + "JournalSync=every\nJournalRetention=4\n", "t.cfg")
                .journalRetentionSegments,
            4u);
  try {
    parseConfig(head + "JournalSync=sometimes\nJournalSegmentSize=12\nJournalRetention=0\n",
                "t.cfg");
    FAIL() << "accepted bad journal keys";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.issues().size(), 3u);
    EXPECT_EQ(e.issues()[0].line, 13);
    EXPECT_EQ(e.issues()[0].key, "JournalSync");
    EXPECT_NE(e.issues()[0].describe().find("t.cfg:13"), std::string::npos);
    EXPECT_EQ(e.issues()[1].key, "JournalSegmentSize");
    EXPECT_EQ(e.issues()[2].key, "JournalRetention");
  }
}

}  // namespace
}  // namespace linkwatch::journal
