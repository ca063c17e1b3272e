#include "journal/journal_reader.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "journal/segment_format.hpp"

namespace linkwatch::journal {

std::vector<SegmentFile> listSegments(const std::string& directory) {
  std::vector<SegmentFile> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
    const auto id = parseSegmentFileName(entry.path().filename().string());
    if (!id || !entry.is_regular_file(ec)) continue;
    const auto size = entry.file_size(ec);
    out.push_back(SegmentFile{*id, entry.path().string(), ec ? 0 : size});
  }
  std::sort(out.begin(), out.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.firstId < b.firstId; });
  return out;
}

JournalScan readJournal(const std::string& directory,
                        const std::function<void(HistoryEvent&&)>& onEvent) {
  JournalScan result;
  result.segments = listSegments(directory);
  for (const SegmentFile& segment : result.segments) {
    std::ifstream in(segment.path, std::ios::binary);
    if (!in) {
      result.problems.push_back(segment.path + ": cannot be read");
      ++result.corruptRecords;
      continue;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SegmentScan scan = scanSegment(bytes);
    result.corruptRecords += scan.corruptRecords;
    if (!scan.problem.empty()) {
      std::string what = segment.path + ": " + scan.problem;
      if (scan.unreadableBytes != 0)
        what += "; skipped the last " + std::to_string(scan.unreadableBytes) + " bytes";
      result.problems.push_back(std::move(what));
    }
    if (segment.firstId != UINT64_MAX) result.nextId = std::max(result.nextId, segment.firstId + 1);
    for (HistoryEvent& e : scan.events) {
      // Ids only grow; a record that goes back is not one we wrote in this order.
      if (e.id == 0 || e.id == UINT64_MAX || (result.records != 0 && e.id <= result.lastId)) {
        ++result.corruptRecords;
        continue;
      }
      result.lastId = e.id;
      result.nextId = std::max(result.nextId, e.id + 1);
      ++result.records;
      e.previousRun = true;
      onEvent(std::move(e));
    }
  }
  return result;
}

}  // namespace linkwatch::journal
