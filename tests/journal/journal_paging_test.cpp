// /api/v1/events pages through the whole journal on disk, not only the newest records kept in
// memory: before/next_before reach every record exactly once, newest first, across segments,
// restarts, rotation, retention and damage.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "journal/journal.hpp"
#include "journal/segment_format.hpp"

#include "common/test_support.hpp"

namespace linkwatch::journal {
namespace {

namespace fs = std::filesystem;
constexpr Nanos kSec = kNanosPerSecond;

MonitorConfig threeLinks() {
  MonitorConfig config;
  for (const char* id : {"BANK01", "BANK02", "BANK03"}) {
    LinkConfig link;
    link.memberId = id;
    link.memberName = id;
    link.sessionKey = std::string("FIX.4.4:EXCH->") + id;
    link.heartBtIntSeconds = 1;
    config.links.push_back(link);
  }
  return config;
}

struct Paged {
  std::vector<HistoryEvent> events;  // in the order the pages gave them
  std::vector<std::string> problems;
  std::size_t pages = 0;
};

// Follows next_before until there is none, like an API client.
Paged pageAll(const Journal& j, EventQuery q) {
  Paged out;
  for (;;) {
    const EventPage page = j.query(q);
    ++out.pages;
    out.events.insert(out.events.end(), page.events.begin(), page.events.end());
    out.problems.insert(out.problems.end(), page.problems.begin(), page.problems.end());
    if (!page.nextBefore) return out;
    EXPECT_TRUE(!q.beforeId || *page.nextBefore < *q.beforeId) << "the cursor went back";
    if (q.beforeId && *page.nextBefore >= *q.beforeId) return out;
    q.beforeId = page.nextBefore;
  }
}

std::vector<std::uint64_t> idsOf(const std::vector<HistoryEvent>& events) {
  std::vector<std::uint64_t> ids;
  for (const HistoryEvent& e : events) ids.push_back(e.id);
  return ids;
}

std::vector<std::uint64_t> descending(std::uint64_t from, std::uint64_t to) {
  std::vector<std::uint64_t> ids;
  for (std::uint64_t id = from; id >= to && id != 0; --id) ids.push_back(id);
  return ids;
}

class JournalPaging : public ::testing::Test {
 protected:
  // Eight records in memory, about ten per segment, every segment kept.
  JournalOptions options() const {
    JournalOptions o;
    o.directory = dir;
    o.sync = JournalSyncMode::kNone;
    o.segmentBytes = 1024;
    o.retentionSegments = 0;
    o.historyCapacity = 8;
    o.queueCapacity = 4096;
    return o;
  }

  // Record i (1-based, of this call) goes to link i % 3; every seventh is a maintenance
  // change. The journal plays the core thread's part itself.
  void writeRecords(Journal& j, int n) {
    for (int i = 0; i < n; ++i) {
      clock.advance(kSec);
      const auto link = static_cast<LinkIndex>(written % 3);
      ++written;
      if (written % 7 == 0) {
        j.onMaintenance(
            MaintenanceChange{link, clock.wall() + 60 * kSec, clock.wall(), clock.monotonic()});
        continue;
      }
      Transition t;
      t.link = link;
      t.from = LinkState::kDown;
      t.to = LinkState::kUp;
      t.reason = LinkReason::kLoggedOn;
      t.wall = clock.wall();
      t.monotonic = clock.monotonic();
      j.onTransition(t);
    }
    ASSERT_TRUE(j.flush(30 * kSec));
  }

  test_support::TempDir temp;  // one directory a test, removed after it
  const std::string dir = temp.path().string();
  ManualClock clock;
  std::ostringstream log;
  std::uint64_t written = 0;
};

TEST_F(JournalPaging, EveryRecordOnDiskExactlyOnceNewestFirstAcrossSegmentsAndARestart) {
  {
    LinkMonitor monitor(threeLinks(), clock);
    Journal j(options(), clock, log);
    j.attach(monitor);
    j.start();
    writeRecords(j, 150);
    ASSERT_GE(j.stats().segments, 10u);
    EventQuery q;
    q.kind.reset();
    q.limit = 7;
    const Paged paged = pageAll(j, q);
    EXPECT_EQ(idsOf(paged.events), descending(150, 1));
    EXPECT_TRUE(paged.problems.empty());
    for (const HistoryEvent& e : paged.events) EXPECT_FALSE(e.previousRun) << e.id;
  }
  // After a restart the memory holds the newest 8; the rest comes from the files.
  LinkMonitor monitor(threeLinks(), clock);
  Journal j(options(), clock, log);
  j.attach(monitor);
  j.start();
  writeRecords(j, 20);
  for (const std::size_t limit : {std::size_t{1}, std::size_t{8}, std::size_t{33}}) {
    EventQuery q;
    q.kind.reset();
    q.limit = limit;
    const Paged paged = pageAll(j, q);
    ASSERT_EQ(idsOf(paged.events), descending(170, 1)) << "limit " << limit;
    // The last page knows it is the last: no empty page after it.
    EXPECT_EQ(paged.pages, (170 + limit - 1) / limit) << "limit " << limit;
    for (const HistoryEvent& e : paged.events) EXPECT_EQ(e.previousRun, e.id <= 150) << e.id;
  }
  // A decoded record from disk is the record that was written.
  EventQuery one;
  one.kind.reset();
  one.beforeId = 8;
  one.limit = 1;
  const EventPage page = j.query(one);
  ASSERT_EQ(page.events.size(), 1u);
  EXPECT_EQ(page.events[0].id, 7u);
  EXPECT_EQ(page.events[0].kind, HistoryEventKind::kMaintenance);
  EXPECT_EQ(page.events[0].member, "BANK01");
  EXPECT_EQ(page.nextBefore, 7u);
  EXPECT_EQ(j.stats().corruptRecords, 0u);
}

TEST_F(JournalPaging, MemberKindAndSinceFiltersReachAcrossSegments) {
  LinkMonitor monitor(threeLinks(), clock);
  Journal j(options(), clock, log);
  j.attach(monitor);
  j.start();
  const Nanos start = clock.wall();
  writeRecords(j, 200);
  // Record i was written at start + i seconds, to link (i - 1) % 3, a maintenance change when
  // i % 7 == 0.
  const auto expect = [&](const std::function<bool(std::uint64_t)>& keep) {
    std::vector<std::uint64_t> ids;
    for (std::uint64_t id = 200; id >= 1; --id)
      if (keep(id)) ids.push_back(id);
    return ids;
  };
  const auto member = [](std::uint64_t id) { return "BANK0" + std::to_string((id - 1) % 3 + 1); };
  EventQuery q;
  q.limit = 5;
  q.kind = HistoryEventKind::kTransition;  // the API's default
  q.member = "BANK02";
  EXPECT_EQ(idsOf(pageAll(j, q).events),
            expect([&](std::uint64_t id) { return member(id) == "BANK02" && id % 7 != 0; }));
  q.member.reset();
  q.kind = HistoryEventKind::kMaintenance;
  EXPECT_EQ(idsOf(pageAll(j, q).events), expect([](std::uint64_t id) { return id % 7 == 0; }));
  q.member = "BANK03";
  EXPECT_EQ(idsOf(pageAll(j, q).events),
            expect([&](std::uint64_t id) { return id % 7 == 0 && member(id) == "BANK03"; }));
  q.member.reset();
  q.kind.reset();
  q.since = start + 120 * kSec;
  EXPECT_EQ(idsOf(pageAll(j, q).events), expect([](std::uint64_t id) { return id >= 120; }));
  // A page that ends exactly at the last match says so.
  q.since = start + 181 * kSec;
  q.limit = 20;
  const EventPage exact = j.query(q);
  EXPECT_EQ(exact.events.size(), 20u);
  EXPECT_FALSE(exact.nextBefore.has_value());
}

TEST_F(JournalPaging, AByteBudgetReturnsShortPagesWhoseCursorStillReachesEverything) {
  JournalOptions o = options();
  o.queryScanBytes = 1;  // one segment per query
  LinkMonitor monitor(threeLinks(), clock);
  Journal j(o, clock, log);
  j.attach(monitor);
  j.start();
  writeRecords(j, 150);
  const std::uint64_t segments = j.stats().segments;
  EventQuery q;
  q.kind.reset();
  q.member = "BANK01";
  q.since = clock.wall() - 140 * kSec;  // only the records from 10 on
  q.limit = 100;
  const Paged paged = pageAll(j, q);
  std::vector<std::uint64_t> expected;
  for (std::uint64_t id = 150; id >= 10; --id)
    if ((id - 1) % 3 == 0) expected.push_back(id);
  EXPECT_EQ(idsOf(paged.events), expected);
  // About one page per segment instead of one page for all.
  EXPECT_GE(paged.pages, segments - 1);
  EXPECT_LE(paged.pages, segments + 2);
}

TEST_F(JournalPaging, TheCursorSurvivesRotationAndRetentionWhileTheWriterGoesOn) {
  JournalOptions o = options();
  o.retentionSegments = 6;
  LinkMonitor monitor(threeLinks(), clock);
  Journal j(o, clock, log);
  j.attach(monitor);
  j.start();
  writeRecords(j, 150);
  EventQuery q;
  q.kind.reset();
  q.limit = 10;
  EventPage page = j.query(q);
  ASSERT_EQ(idsOf(page.events), descending(150, 141));
  // Rotation and retention go on between pages: the cursor keeps its meaning.
  std::vector<std::uint64_t> ids = idsOf(page.events);
  for (int round = 0; page.nextBefore && round < 100; ++round) {
    writeRecords(j, 10);
    q.beforeId = page.nextBefore;
    page = j.query(q);
    const auto more = idsOf(page.events);
    ids.insert(ids.end(), more.begin(), more.end());
    EXPECT_TRUE(page.problems.empty());
  }
  EXPECT_FALSE(page.nextBefore.has_value());
  // Newest first, each once, with no hole: what retention removed is simply the end.
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids, descending(150, ids.back()));
  EXPECT_GT(ids.back(), 1u);
  EXPECT_EQ(j.stats().corruptRecords, 0u);
}

TEST_F(JournalPaging, ASegmentDeletedBetweenPagesEndsThePagingThere) {
  LinkMonitor monitor(threeLinks(), clock);
  Journal j(options(), clock, log);
  j.attach(monitor);
  j.start();
  writeRecords(j, 100);
  EventQuery q;
  q.kind.reset();
  q.limit = 30;
  const EventPage first = j.query(q);
  ASSERT_TRUE(first.nextBefore.has_value());
  // As retention would: the oldest three segments go, the third while the others remain.
  const auto segments = listSegments(dir);
  ASSERT_GE(segments.size(), 6u);
  for (int i = 0; i < 3; ++i) fs::remove(segments[static_cast<std::size_t>(i)].path);
  q.beforeId = first.nextBefore;
  const Paged rest = pageAll(j, q);
  EXPECT_EQ(idsOf(rest.events), descending(*first.nextBefore - 1, segments[3].firstId));
  EXPECT_TRUE(rest.problems.empty());
  EXPECT_EQ(j.stats().corruptRecords, 0u);
}

TEST_F(JournalPaging, ADamagedRecordInAnOldSegmentIsSkippedReportedOnceAndPagingGoesOn) {
  LinkMonitor monitor(threeLinks(), clock);
  Journal j(options(), clock, log);
  j.attach(monitor);
  j.start();
  writeRecords(j, 100);
  // Damage the second record of the third segment, on disk, while the journal runs.
  const auto segments = listSegments(dir);
  ASSERT_GE(segments.size(), 5u);
  const SegmentFile& old = segments[2];
  std::string bytes;
  {
    std::ifstream in(old.path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const SegmentFraming framing = frameSegment(bytes);
  ASSERT_GE(framing.records.size(), 3u);
  const std::size_t at = framing.records[1].offset;
  for (std::size_t i = at + 4; i < at + 12; ++i) bytes[i] = static_cast<char>(~bytes[i]);
  {
    std::ofstream out(old.path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  const std::uint64_t lost = old.firstId + 1;
  EventQuery q;
  q.kind.reset();
  // Whatever the page size, and however often the client pages through, once per pass.
  for (const std::size_t limit : {std::size_t{9}, std::size_t{1}, std::size_t{4}}) {
    q.limit = limit;
    const Paged paged = pageAll(j, q);
    std::vector<std::uint64_t> expected = descending(100, 1);
    expected.erase(std::find(expected.begin(), expected.end(), lost));
    EXPECT_EQ(idsOf(paged.events), expected);
    ASSERT_EQ(paged.problems.size(), 1u) << testing::PrintToString(paged.problems);
    EXPECT_EQ(paged.problems[0].find(fs::path(old.path).filename().string() + ": bytes " +
                                     std::to_string(at) + ".."),
              0u)
        << paged.problems[0];
    EXPECT_EQ(paged.problems[0].find(dir), std::string::npos) << "the server's path is shown";
    // Counted and logged the first time only.
    EXPECT_EQ(j.stats().corruptRecords, 1u);
  }
  const std::string text = log.str();
  const auto first = text.find("damaged record skipped while reading older events");
  ASSERT_NE(first, std::string::npos) << text;
  EXPECT_EQ(text.find("damaged record skipped", first + 1), std::string::npos) << text;
}

TEST_F(JournalPaging, PagingWhileTheWriterAppendsAndRotates) {
  LinkMonitor monitor(threeLinks(), clock);
  Journal j(options(), clock, log);
  j.attach(monitor);
  j.start();
  writeRecords(j, 120);
  // A reader pages back from what it first saw while this thread, the core, goes on writing.
  std::atomic<bool> done{false};
  Paged paged;
  std::thread reader([&] {
    for (int pass = 0; pass < 3; ++pass) {
      EventQuery q;
      q.kind.reset();
      q.limit = 4;
      paged = pageAll(j, q);
      const auto ids = idsOf(paged.events);
      if (ids.empty() || ids != descending(ids.front(), 1) || !paged.problems.empty()) break;
    }
    done = true;
  });
  // Bounded, so that a slow reader (a sanitizer build) is not outrun for ever.
  while (!done && written < 600) writeRecords(j, 5);
  reader.join();
  const auto ids = idsOf(paged.events);
  ASSERT_FALSE(ids.empty());
  EXPECT_GE(ids.front(), 120u);
  EXPECT_EQ(ids, descending(ids.front(), 1));
  EXPECT_TRUE(paged.problems.empty()) << paged.problems.front();
  EXPECT_EQ(j.stats().corruptRecords, 0u);
}

}  // namespace
}  // namespace linkwatch::journal
