#include "journal/journal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <ostream>

#include "journal/segment_format.hpp"

namespace linkwatch::journal {
namespace {

namespace fs = std::filesystem;

// Records written per pass before the writer looks at its sync deadline again.
constexpr std::size_t kBatchMax = 4096;
constexpr std::size_t kControlQueueMax = 65536;
constexpr Nanos kIdleWait = kNanosPerSecond;

std::optional<LinkState> parseLinkState(std::string_view name) {
  for (int k = 0; k < kLinkStateCount; ++k)
    if (toString(static_cast<LinkState>(k)) == name) return static_cast<LinkState>(k);
  return std::nullopt;
}

std::optional<LinkReason> parseLinkReason(std::string_view name) {
  for (int k = 0; k < kLinkReasonCount; ++k)
    if (toString(static_cast<LinkReason>(k)) == name) return static_cast<LinkReason>(k);
  return std::nullopt;
}

void foldLastKnown(std::map<std::string, RestoredLink>& out, const HistoryEvent& e) {
  if (e.member.empty()) return;
  switch (e.kind) {
    case HistoryEventKind::kTransition:
    case HistoryEventKind::kSnapshot: {
      const auto state = parseLinkState(e.to);
      // `unknown` is what a restart knew, not what the link did: keep the last real state.
      if (!state || *state == LinkState::kUnknown) return;
      RestoredLink& r = out[e.member];
      r.lastState = *state;
      r.lastReason = parseLinkReason(e.reason).value_or(LinkReason::kDisconnected);
      r.lastSinceWall = e.wall;
      // A window that ran out, or that an operator ended, shows as a transition out of it.
      if (*state != LinkState::kMaintenance && e.kind == HistoryEventKind::kTransition)
        r.maintenanceUntilWall = 0;
      break;
    }
    case HistoryEventKind::kMaintenance:
      out[e.member].maintenanceUntilWall = e.maintenanceUntilWall;
      break;
    case HistoryEventKind::kCertification:
    case HistoryEventKind::kGap:
      break;
  }
}

std::vector<std::int64_t> syncBuckets() {
  std::vector<std::int64_t> b;
  for (const double ms : {0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0})
    b.push_back(static_cast<std::int64_t>(ms * static_cast<double>(kNanosPerMilli)));
  return b;
}

bool writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

JournalOptions JournalOptions::fromConfig(const MonitorConfig& config) {
  JournalOptions o;
  o.directory = config.journalPath;
  o.sync = config.journalSync;
  o.syncInterval = std::chrono::nanoseconds(config.journalSyncInterval).count();
  o.segmentBytes = config.journalSegmentBytes;
  o.retentionSegments = config.journalRetentionSegments;
  o.retentionBytes = config.journalRetentionBytes;
  o.queueCapacity = config.eventQueueCapacity;
  o.historyCapacity = std::max<std::size_t>(config.historySize, 1);
  return o;
}

std::map<std::string, RestoredLink> lastKnownStates(const std::vector<HistoryEvent>& events) {
  std::map<std::string, RestoredLink> out;
  for (const HistoryEvent& e : events) foldLastKnown(out, e);
  return out;
}

Journal::Journal(JournalOptions options, const Clock& clock, std::ostream& log)
    : options_(std::move(options)),
      clock_(clock),
      log_(log),
      lock_(options_.directory),
      coreQueue_(std::max<std::size_t>(options_.queueCapacity, 2)),
      syncLatency_(syncBuckets()) {
  scan_ = readJournal(options_.directory, [this](HistoryEvent&& e) {
    foldLastKnown(lastKnownAtStart_, e);
    indexEvent(std::move(e));
  });
  for (const JournalDamage& d : scan_.damage) {
    logLine("journal: damaged record skipped, the records before and after it kept: " +
            d.describe());
    damageReported_.emplace(d.path, d.damage.offset);
  }
  firstIdOfThisRun_ = scan_.nextId;
  corruptRecords_.store(scan_.corruptRecords, std::memory_order_relaxed);
  nextId_ = scan_.nextId;
  segments_ = scan_.segments;
  segmentCount_.store(segments_.size(), std::memory_order_relaxed);
  wakeFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakeFd_ < 0)
    throw JournalError(std::string("journal: eventfd failed: ") + std::strerror(errno));
}

Journal::~Journal() {
  stop();
  closeSegment();
  if (wakeFd_ >= 0) ::close(wakeFd_);
}

std::size_t Journal::restoreInto(LinkMonitor& monitor) const {
  std::size_t restored = 0;
  for (const auto& [member, last] : lastKnownAtStart_) {
    const LinkIndex link = monitor.findLink(member);
    if (link == kNoLink) continue;
    monitor.restore(link, last);
    ++restored;
  }
  return restored;
}

std::map<std::string, RestoredLink> Journal::lastKnown() const { return lastKnownAtStart_; }

void Journal::attach(LinkMonitor& monitor) {
  monitor_ = &monitor;
  monitor.addListener([this](const Transition& t) { onTransition(t); });
  monitor.addMaintenanceListener([this](const MaintenanceChange& m) { onMaintenance(m); });
}

void Journal::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { run(); });
}

void Journal::stop() {
  if (!running_.exchange(false)) return;
  wakeWriter();
  if (thread_.joinable()) thread_.join();
}

void Journal::onTransition(const Transition& t) noexcept {
  CoreRecord r;
  r.kind = HistoryEventKind::kTransition;
  r.from = t.from;
  r.to = t.to;
  r.reason = t.reason;
  r.link = t.link;
  r.wall = t.wall;
  r.monotonic = t.monotonic;
  pushFromCore(r);
}

void Journal::onMaintenance(const MaintenanceChange& m) noexcept {
  CoreRecord r;
  r.kind = HistoryEventKind::kMaintenance;
  r.link = m.link;
  r.wall = m.wall;
  r.monotonic = m.monotonic;
  r.untilWall = m.untilWall;
  pushFromCore(r);
}

void Journal::pushFromCore(const CoreRecord& record) noexcept {
  // Sequentially consistent counter, then flag: the writer stores its flag, then reads the
  // counters, so one of the two sides sees the other and a record never waits for the idle
  // timeout. (No fences: GCC's ThreadSanitizer does not support them.)
  if (coreQueue_.push(record)) {
    pushed_.fetch_add(1, std::memory_order_seq_cst);
  } else {
    coreDropped_.fetch_add(1, std::memory_order_seq_cst);
  }
  if (writerSleeping_.load(std::memory_order_seq_cst)) wakeWriter();
}

void Journal::wakeWriter() noexcept {
  const std::uint64_t one = 1;
  // Non-blocking eventfd: a counter, so wake-ups are never lost and never wait.
  [[maybe_unused]] const ssize_t n = ::write(wakeFd_, &one, sizeof one);
}

void Journal::appendCertificationVerdict(const CertificationVerdict& v) {
  HistoryEvent e;
  e.kind = HistoryEventKind::kCertification;
  e.member = v.member;
  e.caseId = v.caseId;
  e.verdict = v.verdict;
  e.reason = v.reason;
  e.runId = v.runId;
  e.detail = v.detail;
  e.wall = clock_.wall();
  e.monotonic = clock_.monotonic();
  {
    std::lock_guard<std::mutex> lock(controlMutex_);
    if (controlQueue_.size() >= kControlQueueMax) {
      controlDropped_.fetch_add(1, std::memory_order_seq_cst);
      if (writerSleeping_.load(std::memory_order_seq_cst)) wakeWriter();
      return;
    }
    controlQueue_.push_back(std::move(e));
    pushed_.fetch_add(1, std::memory_order_seq_cst);
  }
  if (writerSleeping_.load(std::memory_order_seq_cst)) wakeWriter();
}

bool Journal::flush(Nanos timeout) {
  const std::uint64_t target = pushed_.load(std::memory_order_acquire);
  const Nanos deadline = monotonicNow() + timeout;
  wakeWriter();
  while (written_.load(std::memory_order_acquire) < target) {
    if (!running_.load(std::memory_order_acquire) || monotonicNow() >= deadline) return false;
    ::usleep(500);
  }
  return true;
}

HistoryEvent Journal::toEvent(const CoreRecord& r) const {
  HistoryEvent e;
  e.kind = r.kind;
  e.wall = r.wall;
  e.monotonic = r.monotonic;
  if (monitor_ != nullptr && r.link < monitor_->linkCount())
    e.member = monitor_->link(r.link).memberId;
  if (r.kind == HistoryEventKind::kTransition) {
    e.from = toString(r.from);
    e.to = toString(r.to);
    e.reason = toString(r.reason);
    if (r.from == LinkState::kUnknown) e.detail = "first observation after a restart";
  } else {
    e.maintenanceUntilWall = r.untilWall;
    e.detail = r.untilWall == 0 ? "maintenance ended by an operator" : "maintenance started";
  }
  return e;
}

void Journal::appendSnapshots(std::vector<HistoryEvent>& batch, std::uint64_t dropped) {
  HistoryEvent gap;
  gap.kind = HistoryEventKind::kGap;
  gap.wall = clock_.wall();
  gap.monotonic = clock_.monotonic();
  gap.droppedRecords = dropped;
  gap.detail = std::to_string(dropped) +
               " records did not fit the journal queue; the snapshots that follow give every "
               "link's state as read afterwards";
  logLine("journal: " + gap.detail);
  batch.push_back(std::move(gap));
  if (monitor_ == nullptr) return;
  for (std::size_t i = 0; i < monitor_->linkCount(); ++i) {
    const auto link = static_cast<LinkIndex>(i);
    const LinkStats& s = monitor_->stats(link);
    HistoryEvent e;
    e.kind = HistoryEventKind::kSnapshot;
    e.member = monitor_->link(link).memberId;
    const LinkState state = s.state.load(std::memory_order_acquire);
    e.from = e.to = toString(state);
    e.reason = toString(s.reason.load(std::memory_order_relaxed));
    e.wall = s.stateSinceWall.load(std::memory_order_relaxed);
    e.monotonic = clock_.monotonic();
    e.detail = "state after dropped records";
    batch.push_back(std::move(e));
  }
}

void Journal::run() {
  for (;;) {
    const bool wrote = writeBatch();
    const Nanos now = clock_.monotonic();
    if (options_.sync == JournalSyncMode::kInterval && unsynced_ &&
        now - lastSyncMono_ >= options_.syncInterval)
      syncSegment();
    if (wrote) continue;
    if (!running_.load(std::memory_order_acquire)) break;

    Nanos wait = kIdleWait;
    if (options_.sync == JournalSyncMode::kInterval && unsynced_)
      wait = std::max<Nanos>(lastSyncMono_ + options_.syncInterval - now, 0);
    writerSleeping_.store(true, std::memory_order_seq_cst);
    // Everything pushed has been consumed (written_ is this thread's own count), and no drop
    // is waiting for its gap record.
    const bool idle =
        pushed_.load(std::memory_order_seq_cst) == written_.load(std::memory_order_relaxed) &&
        coreDropped_.load(std::memory_order_seq_cst) +
                controlDropped_.load(std::memory_order_seq_cst) ==
            droppedSeen_ &&
        running_.load(std::memory_order_acquire);
    if (idle && wait > 0) {
      pollfd p{wakeFd_, POLLIN, 0};
      const int ms = static_cast<int>(std::min<Nanos>((wait + kNanosPerMilli - 1) / kNanosPerMilli,
                                                      kIdleWait / kNanosPerMilli));
      ::poll(&p, 1, ms);
    }
    std::uint64_t drained = 0;
    [[maybe_unused]] const ssize_t n = ::read(wakeFd_, &drained, sizeof drained);
    writerSleeping_.store(false, std::memory_order_seq_cst);
  }
  // Stopped: what was queued before stop() is still written, then synced.
  while (writeBatch()) {
  }
  if (unsynced_) syncSegment();
}

bool Journal::writeBatch() {
  std::vector<HistoryEvent> batch;
  std::uint64_t consumed = 0;
  CoreRecord r;
  while (consumed < kBatchMax && coreQueue_.pop(r)) {
    batch.push_back(toEvent(r));
    ++consumed;
  }
  {
    std::lock_guard<std::mutex> lock(controlMutex_);
    consumed += controlQueue_.size();
    for (HistoryEvent& e : controlQueue_) batch.push_back(std::move(e));
    controlQueue_.clear();
  }
  const std::uint64_t dropped = coreDropped_.load(std::memory_order_relaxed) +
                                controlDropped_.load(std::memory_order_relaxed);
  if (dropped != droppedSeen_) {
    appendSnapshots(batch, dropped - droppedSeen_);
    droppedSeen_ = dropped;
  }
  if (batch.empty()) return false;
  writeOut(batch);
  written_.fetch_add(consumed, std::memory_order_release);
  return true;
}

bool Journal::writeOut(std::vector<HistoryEvent>& batch) {
  std::string buffer;
  std::vector<HistoryEvent> pending;
  bool ok = true;
  const auto flushChunk = [&]() {
    if (buffer.empty()) return;
    if (writeAll(segmentFd_, buffer)) {
      segmentSize_ += buffer.size();
      if (!segments_.empty()) segments_.back().bytes = segmentSize_;
      if (options_.retentionBytes != 0) applyRetention();
      bytesWritten_.fetch_add(buffer.size(), std::memory_order_relaxed);
      recordsWritten_.fetch_add(pending.size(), std::memory_order_relaxed);
      unsynced_ = true;
      if (options_.sync == JournalSyncMode::kEvery) syncSegment();
      publish(pending);
    } else {
      writeErrors_.fetch_add(1, std::memory_order_relaxed);
      logLine("journal: write to " + segmentPath_ + " failed: " + std::strerror(errno) + "; " +
              std::to_string(pending.size()) + " records lost, continuing in a new segment");
      ok = false;
      // Never append behind a partial write: the next record starts a new segment.
      closeSegment();
    }
    buffer.clear();
    pending.clear();
  };
  for (HistoryEvent& e : batch) {
    e.id = nextId_++;
    const std::string payload = encodePayload(e);
    const std::uint64_t recordSize = kRecordFrameSize + payload.size();
    const std::uint64_t used = segmentSize_ + buffer.size();
    if (segmentFd_ >= 0 && used > kSegmentHeaderSize && used + recordSize > options_.segmentBytes) {
      flushChunk();
      closeSegment();
    }
    if (segmentFd_ < 0 && !openSegment(e.id)) {
      ok = false;
      continue;  // counted and logged by openSegment; the next record tries again
    }
    appendRecord(buffer, payload);
    pending.push_back(std::move(e));
  }
  flushChunk();
  return ok;
}

bool Journal::openSegment(std::uint64_t firstId) {
  const std::string path = options_.directory + "/" + segmentFileName(firstId);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    writeErrors_.fetch_add(1, std::memory_order_relaxed);
    logLine("journal: cannot create " + path + ": " + std::strerror(errno));
    return false;
  }
  SegmentHeader header;
  header.firstId = firstId;
  header.createdWall = clock_.wall();
  if (!writeAll(fd, encodeSegmentHeader(header))) {
    writeErrors_.fetch_add(1, std::memory_order_relaxed);
    logLine("journal: cannot write the header of " + path + ": " + std::strerror(errno));
    ::close(fd);
    ::unlink(path.c_str());
    return false;
  }
  segmentFd_ = fd;
  activeSegment_.store(firstId, std::memory_order_release);
  segmentPath_ = path;
  segmentSize_ = kSegmentHeaderSize;
  segments_.push_back(SegmentFile{firstId, path, segmentSize_});
  segmentCount_.store(segments_.size(), std::memory_order_relaxed);
  if (options_.sync != JournalSyncMode::kNone) {
    // The new file's directory entry must be durable too, or a synced record can vanish.
    const int dirFd = ::open(options_.directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirFd >= 0) {
      ::fsync(dirFd);
      ::close(dirFd);
    }
  }
  applyRetention();
  return true;
}

void Journal::closeSegment() {
  if (segmentFd_ < 0) return;
  if (unsynced_ && options_.sync != JournalSyncMode::kNone) syncSegment();
  ::close(segmentFd_);
  segmentFd_ = -1;
  activeSegment_.store(0, std::memory_order_release);
  unsynced_ = false;
}

void Journal::syncSegment() {
  lastSyncMono_ = clock_.monotonic();
  if (segmentFd_ < 0) {
    unsynced_ = false;
    return;
  }
  const Nanos begin = monotonicNow();
  if (::fdatasync(segmentFd_) != 0) {
    writeErrors_.fetch_add(1, std::memory_order_relaxed);
    logLine("journal: fdatasync of " + segmentPath_ + " failed: " + std::strerror(errno));
  }
  syncLatency_.observe(monotonicNow() - begin);
  unsynced_ = false;
}

void Journal::applyRetention() {
  const auto totalBytes = [this] {
    std::uint64_t sum = 0;
    for (const SegmentFile& s : segments_) sum += s.bytes;
    return sum;
  };
  // The segment being written is never removed.
  while (segments_.size() > 1 &&
         ((options_.retentionSegments != 0 && segments_.size() > options_.retentionSegments) ||
          (options_.retentionBytes != 0 && totalBytes() > options_.retentionBytes))) {
    if (::unlink(segments_.front().path.c_str()) != 0 && errno != ENOENT) {
      writeErrors_.fetch_add(1, std::memory_order_relaxed);
      logLine("journal: cannot remove " + segments_.front().path + ": " + std::strerror(errno));
    }
    segments_.erase(segments_.begin());
  }
  segmentCount_.store(segments_.size(), std::memory_order_relaxed);
}

void Journal::publish(std::vector<HistoryEvent>& batch) {
  std::lock_guard<std::mutex> lock(indexMutex_);
  for (HistoryEvent& e : batch) {
    index_.push_back(std::move(e));
    if (index_.size() > options_.historyCapacity) {
      index_.pop_front();
      evicted_ = true;
    }
  }
}

void Journal::indexEvent(HistoryEvent&& event) {
  std::lock_guard<std::mutex> lock(indexMutex_);
  index_.push_back(std::move(event));
  if (index_.size() > options_.historyCapacity) {
    index_.pop_front();
    evicted_ = true;
  }
}

EventPage Journal::query(const EventQuery& q) const {
  EventPage page;
  const auto matches = [&q](const HistoryEvent& e) {
    if (q.kind && e.kind != *q.kind) return false;
    if (q.member && e.member != *q.member) return false;
    // Never a stop condition: wall time may have stepped back, so the journal is not sorted
    // by it.
    return !(q.since && e.wall < *q.since);
  };
  // Adds a matching event; false once the page is full, with the cursor set.
  const auto take = [&page, &q](HistoryEvent&& e) {
    if (page.events.size() >= q.limit) {
      page.nextBefore = page.events.empty() ? e.id + 1 : page.events.back().id;
      return false;
    }
    page.events.push_back(std::move(e));
    return true;
  };

  BackwardReadOptions older;
  {
    std::lock_guard<std::mutex> lock(indexMutex_);
    for (auto it = index_.rbegin(); it != index_.rend(); ++it) {
      if (q.beforeId && it->id >= *q.beforeId) continue;
      if (matches(*it) && !take(HistoryEvent(*it))) return page;
    }
    // Short (or exactly full): what memory no longer holds may still be on disk.
    if (!evicted_ || index_.empty()) return page;
    older.beforeId = std::min(q.beforeId.value_or(UINT64_MAX), index_.front().id);
  }
  // Not under indexMutex_: the writer publishes while this reads.
  std::lock_guard<std::mutex> diskLock(diskReadMutex_);
  older.byteBudget = options_.queryScanBytes;
  older.activeSegment = activeSegment_.load(std::memory_order_acquire);
  const BackwardRead read = readJournalBackwards(
      options_.directory, older,
      [&](HistoryEvent&& e) {
        if (!matches(e)) return true;
        e.previousRun = e.id < firstIdOfThisRun_;
        return take(std::move(e));
      },
      [&](const JournalDamage& d) {
        // The file's name, not its path: the API need not show the server's directories.
        page.problems.push_back(fs::path(d.path).filename().string() + ": " + d.damage.describe());
        reportDamage(d);
      },
      &diskCache_);
  if (read.resumeBefore && !page.nextBefore) page.nextBefore = read.resumeBefore;
  return page;
}

void Journal::reportDamage(const JournalDamage& d) const {
  // Bounded: a journal damaged in more places than this is reported by its first ones.
  constexpr std::size_t kMaxRemembered = 4096;
  {
    std::lock_guard<std::mutex> lock(damageMutex_);
    if (damageReported_.size() >= kMaxRemembered ||
        !damageReported_.emplace(d.path, d.damage.offset).second)
      return;
  }
  corruptRecords_.fetch_add(1, std::memory_order_relaxed);
  logLine(
      "journal: damaged record skipped while reading older events, the records around it "
      "kept: " +
      d.describe());
}

EventHistoryStats Journal::stats() const noexcept {
  EventHistoryStats s;
  s.recordsWritten = recordsWritten_.load(std::memory_order_relaxed);
  s.bytesWritten = bytesWritten_.load(std::memory_order_relaxed);
  s.droppedRecords = coreDropped_.load(std::memory_order_relaxed) +
                     controlDropped_.load(std::memory_order_relaxed);
  s.corruptRecords = corruptRecords_.load(std::memory_order_relaxed);
  s.writeErrors = writeErrors_.load(std::memory_order_relaxed);
  s.segments = segmentCount_.load(std::memory_order_relaxed);
  // The spsc queue's own size is the consumer's to read; this is the same figure.
  const std::uint64_t pushed = pushed_.load(std::memory_order_relaxed);
  const std::uint64_t written = written_.load(std::memory_order_relaxed);
  s.queueDepth = pushed > written ? pushed - written : 0;
  return s;
}

void Journal::logLine(const std::string& line) const {
  static std::mutex logMutex;
  std::lock_guard<std::mutex> lock(logMutex);
  log_ << line << std::endl;
}

}  // namespace linkwatch::journal
