// Reads a journal directory: at start every segment in id order, every record validated;
// for paging, backwards from an id, one segment at a time. What fails validation is reported
// (file, offset, bytes) and skipped; every valid record before and after it is kept.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <linkwatch/event_history.hpp>

#include "journal/segment_format.hpp"

namespace linkwatch::journal {

struct SegmentFile {
  std::uint64_t firstId = 0;
  std::string path;
  std::uint64_t bytes = 0;
};

// A damaged stretch of one segment file.
struct JournalDamage {
  std::string path;
  SegmentDamage damage;

  // "PATH: bytes 120..184 (65) skipped: record checksum mismatch; reading resumed at byte 185"
  std::string describe() const;
};

struct JournalScan {
  std::vector<SegmentFile> segments;  // oldest first
  std::uint64_t records = 0;          // valid records passed to the callback
  std::uint64_t corruptRecords = 0;
  std::vector<JournalDamage> damage;  // in journal order
  std::vector<std::string> problems;  // damage[i].describe(), for the log
  std::uint64_t lastId = 0;           // highest record id seen (ids start at 1)
  // The id the writer starts at: past every record and every segment name, so that a
  // segment a crash left without records is never created again.
  std::uint64_t nextId = 1;
};

// The segment files of `directory`, oldest first; other files are ignored.
std::vector<SegmentFile> listSegments(const std::string& directory);

// Scans every segment; `onEvent` sees each valid record in journal order.
JournalScan readJournal(const std::string& directory,
                        const std::function<void(HistoryEvent&&)>& onEvent);

struct BackwardRead {
  std::uint64_t segmentsRead = 0;
  std::uint64_t bytesRead = 0;
  // Set when the byte budget ran out before the oldest segment: every record with an id at or
  // above it (and below the starting id) has been visited; continue below it.
  std::optional<std::uint64_t> resumeBefore;
  bool stopped = false;  // onEvent returned false
};

struct BackwardReadOptions {
  std::uint64_t beforeId = UINT64_MAX;  // visit records with smaller ids only
  // Segments are read whole, so at least one is read whatever the budget; the next one only
  // while fewer than this many bytes have been read.
  std::uint64_t byteBudget = UINT64_MAX;
  // The segment the writer is appending to (its first id; 0: none). A cut-short last record
  // there is a write in progress, not damage.
  std::uint64_t activeSegment = 0;
};

// The last segment a backward read framed, kept for the next read: a client paging through a
// segment reads and checksums it once, not once per page. Valid while the file is the same
// (inode, size and modification time): the segment being written grows, so it is read again.
// Holds one segment's bytes at most.
struct FramedSegmentCache {
  struct Identity {
    std::string path;
    std::uint64_t inode = 0;
    std::uint64_t size = 0;
    std::int64_t modifiedNanos = 0;
    bool operator==(const Identity&) const = default;
  };
  Identity identity;
  std::string bytes;
  SegmentFraming framing;          // points into bytes
  std::vector<std::uint64_t> ids;  // of each framed record, read without decoding it
  bool idsAscending = false;       // as the writer leaves them: then binary search
};

// Visits the records below `beforeId`, newest first (strictly decreasing ids), reading one
// segment file at a time while the writer goes on: a segment that is gone (retention) ends the
// read, as if it were the oldest. `onEvent` returns false to stop. Each record's id lies in its
// segment's range (the file's first id up to the next segment's); a record outside it is not
// one the writer put there and is skipped. `onDamage` sees each damaged stretch once the record
// just older than it has been visited (and onEvent returned true), or the segment's start is
// reached: reads that continue one another (a client following next_before) report each
// stretch once.
BackwardRead readJournalBackwards(const std::string& directory, const BackwardReadOptions& options,
                                  const std::function<bool(HistoryEvent&&)>& onEvent,
                                  const std::function<void(const JournalDamage&)>& onDamage,
                                  FramedSegmentCache* cache = nullptr);

}  // namespace linkwatch::journal
