#include "journal/journal_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace linkwatch::journal {
namespace {

// Reads from `fd` to its end into `out`; 0 on success, else the errno of the failed call.
int readAll(int fd, std::string& out) {
  out.clear();
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

// Reads the whole file into `out`; 0 on success, else the errno of the failed call.
int readWholeFile(const std::string& path, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int error = readAll(fd, out);
  ::close(fd);
  return error;
}

// Reads and frames the segment at `path` into `cache`, unless it already holds that file as it
// is now; 0 on success, else the errno of the failed call.
int loadSegment(const std::string& path, FramedSegmentCache& cache) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    return error;
  }
  FramedSegmentCache::Identity identity{
      path, static_cast<std::uint64_t>(st.st_ino), static_cast<std::uint64_t>(st.st_size),
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  if (identity == cache.identity) {
    ::close(fd);
    return 0;
  }
  cache.identity = FramedSegmentCache::Identity{};
  const int error = readAll(fd, cache.bytes);
  ::close(fd);
  if (error != 0) return error;
  // What was read may be longer than what fstat saw (the writer appends): then the next read
  // sees another size and reads again.
  cache.framing = frameSegment(cache.bytes);
  cache.ids.clear();
  cache.ids.reserve(cache.framing.records.size());
  for (const FramedRecord& r : cache.framing.records) {
    std::uint64_t id = 0;
    // The id follows the kind byte (segment_format.hpp); a payload too short has none.
    if (r.payload.size() >= 9)
      for (std::size_t i = 0; i < 8; ++i)
        id |= static_cast<std::uint64_t>(static_cast<unsigned char>(r.payload[1 + i])) << (8 * i);
    cache.ids.push_back(id);
  }
  cache.idsAscending = std::is_sorted(cache.ids.begin(), cache.ids.end()) &&
                       std::adjacent_find(cache.ids.begin(), cache.ids.end()) == cache.ids.end();
  cache.identity = std::move(identity);
  return 0;
}

JournalDamage unreadable(const std::string& path, std::size_t bytes, int error) {
  return JournalDamage{
      path, SegmentDamage{0, bytes, true, std::string("cannot be read: ") + std::strerror(error)}};
}

}  // namespace

std::string JournalDamage::describe() const { return path + ": " + damage.describe(); }

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
  const auto report = [&result](JournalDamage&& d) {
    result.problems.push_back(d.describe());
    result.damage.push_back(std::move(d));
  };
  std::string bytes;
  for (const SegmentFile& segment : result.segments) {
    if (const int error = readWholeFile(segment.path, bytes); error != 0) {
      report(unreadable(segment.path, segment.bytes, error));
      ++result.corruptRecords;
      continue;
    }
    SegmentScan scan = scanSegment(bytes);
    result.corruptRecords += scan.corruptRecords;
    for (SegmentDamage& d : scan.damage) report(JournalDamage{segment.path, std::move(d)});
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

BackwardRead readJournalBackwards(const std::string& directory, const BackwardReadOptions& options,
                                  const std::function<bool(HistoryEvent&&)>& onEvent,
                                  const std::function<void(const JournalDamage&)>& onDamage,
                                  FramedSegmentCache* cache) {
  BackwardRead out;
  const std::vector<SegmentFile> segments = listSegments(directory);
  std::uint64_t bound = options.beforeId;  // the next record visited has a smaller id
  std::uint64_t upper = UINT64_MAX;        // ids of the segment at hand lie below this
  FramedSegmentCache local;
  FramedSegmentCache& loaded = cache != nullptr ? *cache : local;
  for (auto it = segments.rbegin(); it != segments.rend(); upper = (it++)->firstId) {
    const SegmentFile& segment = *it;
    if (segment.firstId >= bound) continue;  // holds only newer records
    if (out.segmentsRead != 0 && out.bytesRead >= options.byteBudget) {
      // Every id from the last segment read up to `beforeId` has been visited.
      if (upper != 0) out.resumeBefore = upper;
      return out;
    }
    if (const int error = loadSegment(segment.path, loaded); error != 0) {
      // Retention removes the oldest segments first: a vanished one is the end.
      if (error == ENOENT) return out;
      onDamage(unreadable(segment.path, segment.bytes, error));
      continue;
    }
    ++out.segmentsRead;
    out.bytesRead += loaded.bytes.size();
    const SegmentFraming& framing = loaded.framing;
    // Where the records below `beforeId` start: found by binary search when the ids ascend
    // (as written), so that each page decodes what it returns, not the whole segment.
    std::size_t end = framing.records.size();
    if (loaded.idsAscending)
      end = static_cast<std::size_t>(
          std::lower_bound(loaded.ids.begin(), loaded.ids.end(), options.beforeId) -
          loaded.ids.begin());
    // Damage is reported by the read that passes the record just older than it, so that a
    // client paging through the journal hears of each damaged stretch on one page only.
    std::vector<SegmentDamage> pending;  // in file order: the newest at the back
    for (const SegmentDamage& d : framing.damage) {
      // The writer's own segment may end in the middle of the write it is doing right now.
      if (d.tail && segment.firstId == options.activeSegment) continue;
      // Behind a record newer than asked for: an earlier page's.
      if (end < framing.records.size() && d.offset > framing.records[end].offset) break;
      pending.push_back(d);
    }
    std::vector<SegmentDamage> held;  // newer than the record at hand, not yet reported
    const auto report = [&] {
      for (const SegmentDamage& d : held) onDamage(JournalDamage{segment.path, d});
      held.clear();
    };
    for (auto r =
             framing.records.rbegin() + static_cast<std::ptrdiff_t>(framing.records.size() - end);
         r != framing.records.rend(); ++r) {
      while (!pending.empty() && pending.back().offset > r->offset) {
        held.push_back(std::move(pending.back()));
        pending.pop_back();
      }
      auto event = decodePayload(r->payload);
      const auto damaged = [&](std::string what) {
        held.push_back(
            SegmentDamage{r->offset, kRecordFrameSize + r->payload.size(), false, std::move(what)});
      };
      if (!event) {
        damaged("checksum holds but the payload does not decode");
        continue;
      }
      if (event->id >= options.beforeId) {
        held.clear();  // newer than asked for: an earlier page's, damage and all
        continue;
      }
      if (event->id < segment.firstId || event->id >= upper) {
        damaged("record id " + std::to_string(event->id) + " outside the segment's range");
        continue;
      }
      if (event->id >= bound) {
        damaged("record id " + std::to_string(event->id) + " out of order");
        continue;
      }
      bound = event->id;
      if (!onEvent(std::move(*event))) {
        out.stopped = true;  // the next read passes this record again, and reports
        return out;
      }
      report();
    }
    while (!pending.empty()) {
      held.push_back(std::move(pending.back()));
      pending.pop_back();
    }
    report();
    bound = std::min(bound, segment.firstId);
  }
  return out;
}

}  // namespace linkwatch::journal
