// Reads a journal directory at start: every segment in id order, every record validated.
// What fails validation is reported and skipped; everything before it is kept.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <linkwatch/event_history.hpp>

namespace linkwatch::journal {

struct SegmentFile {
  std::uint64_t firstId = 0;
  std::string path;
  std::uint64_t bytes = 0;
};

struct JournalScan {
  std::vector<SegmentFile> segments;  // oldest first
  std::uint64_t records = 0;          // valid records passed to the callback
  std::uint64_t corruptRecords = 0;
  std::vector<std::string> problems;  // "path: what", one per damaged segment
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

}  // namespace linkwatch::journal
