// The durable event journal: every transition, maintenance change and certification verdict,
// appended to checksummed segment files by a writer thread of its own.
//
// The core thread only pushes a 48-byte record onto a bounded lock-free queue and, when the
// writer sleeps, bumps an eventfd: it never waits on the disk. When the queue is full the
// record is dropped and counted; the writer then writes a gap record with the count and a
// snapshot of every link's current state, so the journal never silently misses a change of
// state. An event appears in query() (and so in /api/v1/events) only once the writer has
// written it (and synced it, with JournalSync=every): what the API acknowledged is on disk.
//
// query() serves the newest historyCapacity records from memory and everything older from
// the segment files, newest first, one segment at a time, with no lock the writer or the core
// waits on held while it reads (see readJournalBackwards). The paging cursor is the record
// id, which a rotation or a restart never changes.
//
// Thread-safety: open(), restoreInto(), attach(), start() and stop() from one control thread;
// the listeners run on the core thread; appendCertificationVerdict() and the EventHistory
// functions from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <iosfwd>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/lockfree/spsc_queue.hpp>

#include <linkwatch/clock.hpp>
#include <linkwatch/config.hpp>
#include <linkwatch/event_history.hpp>
#include <linkwatch/link_monitor.hpp>

#include "journal/directory_lock.hpp"
#include "journal/journal_reader.hpp"

namespace linkwatch::journal {

struct JournalOptions {
  std::string directory;
  JournalSyncMode sync = JournalSyncMode::kInterval;
  Nanos syncInterval = 100 * kNanosPerMilli;
  std::uint64_t segmentBytes = 64ull * 1024 * 1024;
  std::uint32_t retentionSegments = 16;  // 0: no limit by count
  std::uint64_t retentionBytes = 0;      // 0: no limit by size
  std::size_t queueCapacity = 65536;     // records between the core and the writer
  std::size_t historyCapacity = 10000;   // newest events kept in memory; the most per page
  // Bytes of segment files one query() reads at most before it returns what it has, with a
  // cursor to continue (at least one whole segment is always read).
  std::uint64_t queryScanBytes = 256ull * 1024 * 1024;

  static JournalOptions fromConfig(const MonitorConfig& config);
};

// A certification verdict of `linkwatch certify`, as the journal keeps it.
struct CertificationVerdict {
  std::string member;
  std::string caseId;   // e.g. "1c_InvalidSenderCompID"
  std::string verdict;  // pass, fail, error, skipped
  std::string reason;
  std::string runId;
  std::string detail;
};

// What the journal says about each member's last state: the input of LinkMonitor::restore().
std::map<std::string, RestoredLink> lastKnownStates(const std::vector<HistoryEvent>& events);

class Journal final : public EventHistory {
 public:
  // Locks the directory (a second process gets a JournalError), reads every segment and
  // reports each damaged one on `log` (one line each). The writer will start a new segment:
  // it never appends behind what it did not write in this run.
  Journal(JournalOptions options, const Clock& clock, std::ostream& log);
  ~Journal() override;
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Before the monitor starts: every configured link with journal history shows `unknown`.
  // Returns how many links were restored.
  std::size_t restoreInto(LinkMonitor& monitor) const;
  // Registers the transition and maintenance listeners (before monitor.start()).
  void attach(LinkMonitor& monitor);

  void start();
  // Writes what is queued, syncs, and joins the writer. Idempotent.
  void stop();

  // From any thread (not the core's queue: a mutex-guarded one of its own).
  void appendCertificationVerdict(const CertificationVerdict& verdict);

  // Blocks until every record queued before the call is written (or `timeout` passes).
  // For tests and orderly shutdown; returns false on timeout.
  bool flush(Nanos timeout);

  // What the reader found at start.
  const JournalScan& scanAtStart() const noexcept { return scan_; }
  std::map<std::string, RestoredLink> lastKnown() const;

  // EventHistory.
  EventPage query(const EventQuery& query) const override;
  std::size_t capacity() const noexcept override { return options_.historyCapacity; }
  EventHistoryStats stats() const noexcept override;
  const AtomicHistogram& syncLatency() const noexcept override { return syncLatency_; }

  // The core-thread entry points the listeners call; public for tests that play the core.
  void onTransition(const Transition& t) noexcept;
  void onMaintenance(const MaintenanceChange& m) noexcept;

 private:
  // Trivially copyable: pushing it allocates nothing and takes no lock.
  struct CoreRecord {
    HistoryEventKind kind = HistoryEventKind::kTransition;
    LinkState from = LinkState::kDown;
    LinkState to = LinkState::kDown;
    LinkReason reason = LinkReason::kNeverConnected;
    LinkIndex link = kNoLink;
    Nanos wall = 0;
    Nanos monotonic = 0;
    Nanos untilWall = 0;
  };
  static_assert(std::is_trivially_copyable_v<CoreRecord>);

  void pushFromCore(const CoreRecord& record) noexcept;
  void wakeWriter() noexcept;
  void run();
  // One pass: drains the queues and writes; returns true if it wrote anything.
  bool writeBatch();
  HistoryEvent toEvent(const CoreRecord& r) const;
  void appendSnapshots(std::vector<HistoryEvent>& batch, std::uint64_t dropped);
  bool writeOut(std::vector<HistoryEvent>& batch);
  bool openSegment(std::uint64_t firstId);
  void closeSegment();
  void syncSegment();
  void applyRetention();
  void publish(std::vector<HistoryEvent>& batch);
  void indexEvent(HistoryEvent&& event);
  // Counts and logs a damaged stretch the first time any reader meets it.
  void reportDamage(const JournalDamage& damage) const;
  void logLine(const std::string& line) const;

  JournalOptions options_;
  const Clock& clock_;
  std::ostream& log_;
  DirectoryLock lock_;
  JournalScan scan_;
  const LinkMonitor* monitor_ = nullptr;

  boost::lockfree::spsc_queue<CoreRecord> coreQueue_;
  std::atomic<std::uint64_t> coreDropped_{0};  // written by the core thread only
  std::mutex controlMutex_;
  std::vector<HistoryEvent> controlQueue_;
  std::atomic<std::uint64_t> controlDropped_{0};  // written under controlMutex_

  int wakeFd_ = -1;  // eventfd
  std::atomic<bool> writerSleeping_{false};
  std::atomic<bool> running_{false};
  std::thread thread_;

  // Writer thread only.
  int segmentFd_ = -1;
  std::string segmentPath_;
  std::uint64_t segmentSize_ = 0;
  bool unsynced_ = false;
  Nanos lastSyncMono_ = 0;
  std::uint64_t nextId_ = 1;
  std::uint64_t droppedSeen_ = 0;
  std::vector<SegmentFile> segments_;

  // Flush handshake: ids of records pushed vs. written.
  std::atomic<std::uint64_t> pushed_{0};
  std::atomic<std::uint64_t> written_{0};

  mutable std::mutex indexMutex_;
  std::deque<HistoryEvent> index_;  // oldest first, at most historyCapacity
  bool evicted_ = false;            // index_ no longer holds every record: read older from disk
  std::uint64_t firstIdOfThisRun_ = 1;
  // The segment the writer appends to (its first id; 0: none): its tail may be mid-write.
  std::atomic<std::uint64_t> activeSegment_{0};
  // One disk read at a time, so that concurrent deep pages hold one segment in memory, not many.
  mutable std::mutex diskReadMutex_;
  mutable FramedSegmentCache diskCache_;  // under diskReadMutex_
  mutable std::mutex damageMutex_;
  mutable std::set<std::pair<std::string, std::size_t>> damageReported_;  // (path, offset)
  std::map<std::string, RestoredLink> lastKnownAtStart_;

  std::atomic<std::uint64_t> recordsWritten_{0};
  std::atomic<std::uint64_t> bytesWritten_{0};
  mutable std::atomic<std::uint64_t> corruptRecords_{0};
  std::atomic<std::uint64_t> writeErrors_{0};
  std::atomic<std::uint64_t> segmentCount_{0};
  AtomicHistogram syncLatency_;
};

}  // namespace linkwatch::journal
