// The history /api/v1/events serves when a durable journal is configured: what the journal
// has written, including what previous runs wrote. The HTTP side depends on this interface
// only; src/journal implements it, so src/http never links the journal.
//
// Thread-safety: every member function may be called from any thread at any time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <linkwatch/atomic_histogram.hpp>
#include <linkwatch/clock.hpp>

namespace linkwatch {

enum class HistoryEventKind : std::uint8_t {
  kTransition,     // a link changed state
  kMaintenance,    // an operator started or ended a maintenance window
  kCertification,  // a certification verdict of `linkwatch certify`
  kGap,            // records that found the writer's queue full were dropped here
  kSnapshot,       // a link's state as read after a gap, so the last state stays right
};
constexpr int kHistoryEventKindCount = 5;

constexpr std::string_view toString(HistoryEventKind kind) noexcept {
  switch (kind) {
    case HistoryEventKind::kTransition:
      return "transition";
    case HistoryEventKind::kMaintenance:
      return "maintenance";
    case HistoryEventKind::kCertification:
      return "certification";
    case HistoryEventKind::kGap:
      return "gap";
    case HistoryEventKind::kSnapshot:
      return "snapshot";
  }
  return "unknown";
}

constexpr std::optional<HistoryEventKind> parseHistoryEventKind(std::string_view text) noexcept {
  for (int k = 0; k < kHistoryEventKindCount; ++k)
    if (toString(static_cast<HistoryEventKind>(k)) == text) return static_cast<HistoryEventKind>(k);
  return std::nullopt;
}

struct HistoryEvent {
  std::uint64_t id = 0;  // increasing over the whole journal, across restarts: the cursor
  HistoryEventKind kind = HistoryEventKind::kTransition;
  std::string member;  // MemberId; empty for a gap
  Nanos wall = 0;
  Nanos monotonic = 0;  // of the process that wrote it: compare only within one run
  // kTransition and kSnapshot (from == to). Names, not enum values: a journal outlives the
  // version that wrote it.
  std::string from;
  std::string to;
  std::string reason;  // also the certification verdict's reason
  std::string detail;
  Nanos maintenanceUntilWall = 0;    // kMaintenance: 0 ends the window
  std::string caseId;                // kCertification
  std::string verdict;               // kCertification: pass, fail, ...
  std::string runId;                 // kCertification
  std::uint64_t droppedRecords = 0;  // kGap
  bool previousRun = false;          // read from the journal at start, not seen by this run
};

struct EventQuery {
  std::optional<Nanos> since;         // wall time, inclusive
  std::optional<std::string> member;  // MemberId
  // Only events with id < beforeId (paging). Ids are the journal's record ids: they never
  // change once written, so a cursor stays valid across segment rotation and restarts (a
  // cursor older than what retention kept simply reaches the end sooner).
  std::optional<std::uint64_t> beforeId;
  std::optional<HistoryEventKind> kind;  // nullopt: every kind
  std::size_t limit = 100;
};

struct EventPage {
  std::vector<HistoryEvent> events;  // newest first
  // Pass as beforeId for the next page; none at the end. A page can be shorter than the limit
  // and still have one: reading older segment files stops after a byte budget, and the next
  // page continues where it stopped.
  std::optional<std::uint64_t> nextBefore;
  // Damaged stretches of segment files met while reading this page ("segment-….lwj: bytes
  // A..B (N) skipped: why"): skipped, every valid record around them served. Pages that
  // follow one another through next_before name each stretch once.
  std::vector<std::string> problems;
};

struct EventHistoryStats {
  std::uint64_t recordsWritten = 0;
  std::uint64_t bytesWritten = 0;
  std::uint64_t droppedRecords = 0;  // did not fit the writer's queue (a gap record says where)
  // Found by the reader at start, or first met while paging older records (each damaged
  // stretch counted once).
  std::uint64_t corruptRecords = 0;
  std::uint64_t writeErrors = 0;  // failed write/fsync/open calls
  std::uint64_t segments = 0;     // segment files on disk
  std::uint64_t queueDepth = 0;
};

class EventHistory {
 public:
  virtual ~EventHistory() = default;
  // Pages through the whole history: the newest records from memory, older ones from wherever
  // the implementation keeps them (the journal's segment files). May read files: call it from
  // a thread that can wait on the disk (an HTTP worker), never from the core thread.
  virtual EventPage query(const EventQuery& query) const = 0;
  // The most events one query() returns (the newest records kept in memory for queries).
  virtual std::size_t capacity() const noexcept = 0;
  virtual EventHistoryStats stats() const noexcept = 0;
  // fdatasync latency; observed by the writer thread only.
  virtual const AtomicHistogram& syncLatency() const noexcept = 0;
};

}  // namespace linkwatch
