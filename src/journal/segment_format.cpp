#include "journal/segment_format.hpp"

#include <array>
#include <cstdio>
#include <cstring>

#include "journal/crc32c.hpp"

namespace linkwatch::journal {
namespace {

template <typename T>
void putLe(std::string& out, T value) {
  const auto v = static_cast<std::uint64_t>(value);
  for (std::size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}

void putString(std::string& out, std::string_view s) {
  if (s.size() > kMaxFieldBytes) s = s.substr(0, kMaxFieldBytes);
  putLe(out, static_cast<std::uint16_t>(s.size()));
  out.append(s);
}

// Reads little-endian fields from a bounded buffer; any read past the end makes it fail
// for good, so a decoder checks ok() once at the end.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : bytes_(bytes) {}

  template <typename T>
  T get() {
    if (!ok_ || bytes_.size() - pos_ < sizeof(T)) {
      ok_ = false;
      return T{};
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[pos_ + i])) << (8 * i);
    pos_ += sizeof(T);
    return static_cast<T>(v);
  }

  std::string getString() {
    const auto n = get<std::uint16_t>();
    if (!ok_ || n > kMaxFieldBytes || bytes_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    std::string s(bytes_.substr(pos_, n));
    pos_ += n;
    return s;
  }

  bool ok() const noexcept { return ok_; }
  bool atEnd() const noexcept { return pos_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

std::uint32_t readU32(std::string_view bytes, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return v;
}

}  // namespace

std::string encodeSegmentHeader(const SegmentHeader& header) {
  std::string out(kSegmentMagic);
  putLe(out, header.version);
  putLe(out, static_cast<std::uint16_t>(kSegmentHeaderSize));
  putLe(out, std::uint32_t{0});
  putLe(out, header.firstId);
  putLe(out, header.createdWall);
  putLe(out, crc32c(out));
  return out;
}

std::string encodePayload(const HistoryEvent& e) {
  std::string out;
  out.reserve(64 + e.member.size() + e.detail.size() + e.reason.size());
  putLe(out, static_cast<std::uint8_t>(e.kind));
  putLe(out, e.id);
  putLe(out, e.wall);
  putLe(out, e.monotonic);
  putString(out, e.member);
  switch (e.kind) {
    case HistoryEventKind::kTransition:
    case HistoryEventKind::kSnapshot:
      putString(out, e.from);
      putString(out, e.to);
      putString(out, e.reason);
      putString(out, e.detail);
      break;
    case HistoryEventKind::kMaintenance:
      putLe(out, e.maintenanceUntilWall);
      putString(out, e.detail);
      break;
    case HistoryEventKind::kCertification:
      putString(out, e.caseId);
      putString(out, e.verdict);
      putString(out, e.reason);
      putString(out, e.runId);
      putString(out, e.detail);
      break;
    case HistoryEventKind::kGap:
      putLe(out, e.droppedRecords);
      putString(out, e.detail);
      break;
  }
  return out;
}

std::optional<HistoryEvent> decodePayload(std::string_view payload) {
  Cursor in(payload);
  HistoryEvent e;
  const auto kind = in.get<std::uint8_t>();
  if (kind >= kHistoryEventKindCount) return std::nullopt;
  e.kind = static_cast<HistoryEventKind>(kind);
  e.id = in.get<std::uint64_t>();
  e.wall = in.get<std::int64_t>();
  e.monotonic = in.get<std::int64_t>();
  e.member = in.getString();
  switch (e.kind) {
    case HistoryEventKind::kTransition:
    case HistoryEventKind::kSnapshot:
      e.from = in.getString();
      e.to = in.getString();
      e.reason = in.getString();
      e.detail = in.getString();
      break;
    case HistoryEventKind::kMaintenance:
      e.maintenanceUntilWall = in.get<std::int64_t>();
      e.detail = in.getString();
      break;
    case HistoryEventKind::kCertification:
      e.caseId = in.getString();
      e.verdict = in.getString();
      e.reason = in.getString();
      e.runId = in.getString();
      e.detail = in.getString();
      break;
    case HistoryEventKind::kGap:
      e.droppedRecords = in.get<std::uint64_t>();
      e.detail = in.getString();
      break;
  }
  if (!in.ok() || !in.atEnd()) return std::nullopt;
  return e;
}

void appendRecord(std::string& out, std::string_view payload) {
  std::string length;
  putLe(length, static_cast<std::uint32_t>(payload.size()));
  const std::uint32_t crc = crc32c(payload, crc32c(length));
  out.append(length);
  putLe(out, crc);
  out.append(payload);
}

std::string segmentFileName(std::uint64_t firstId) {
  std::array<char, 64> buf{};
  const int n = std::snprintf(buf.data(), buf.size(), "segment-%020llu.lwj",
                              static_cast<unsigned long long>(firstId));
  return std::string(buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
}

std::optional<std::uint64_t> parseSegmentFileName(std::string_view name) {
  constexpr std::string_view kPrefix = "segment-";
  constexpr std::string_view kSuffix = ".lwj";
  if (name.size() != kPrefix.size() + 20 + kSuffix.size() || !name.starts_with(kPrefix) ||
      !name.ends_with(kSuffix))
    return std::nullopt;
  std::uint64_t id = 0;
  for (const char c : name.substr(kPrefix.size(), 20)) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (id > (UINT64_MAX - digit) / 10) return std::nullopt;
    id = id * 10 + digit;
  }
  return id;
}

SegmentScan scanSegment(std::string_view bytes) {
  SegmentScan scan;
  // An empty file is a segment the writer created but had not yet written to: nothing lost.
  if (bytes.empty()) return scan;
  if (bytes.size() < kSegmentHeaderSize) {
    scan.problem = "segment header: " + std::to_string(bytes.size()) + " bytes, expected " +
                   std::to_string(kSegmentHeaderSize);
    scan.unreadableBytes = bytes.size();
    scan.corruptRecords = 1;
    return scan;
  }
  const std::string_view head = bytes.substr(0, kSegmentHeaderSize);
  Cursor h(head.substr(kSegmentMagic.size()));
  const auto version = h.get<std::uint16_t>();
  const auto headerSize = h.get<std::uint16_t>();
  h.get<std::uint32_t>();  // flags: none defined in version 1
  scan.header.firstId = h.get<std::uint64_t>();
  scan.header.createdWall = h.get<std::int64_t>();
  scan.header.version = version;
  if (head.substr(0, kSegmentMagic.size()) != kSegmentMagic ||
      readU32(head, kSegmentHeaderSize - 4) != crc32c(head.substr(0, kSegmentHeaderSize - 4))) {
    scan.problem = "segment header: bad magic or checksum";
  } else if (version != kSegmentVersion || headerSize != kSegmentHeaderSize) {
    scan.problem = "segment header: version " + std::to_string(version) + ", expected " +
                   std::to_string(kSegmentVersion);
  }
  if (!scan.problem.empty()) {
    scan.unreadableBytes = bytes.size();
    scan.corruptRecords = 1;
    return scan;
  }
  scan.headerValid = true;

  std::size_t pos = kSegmentHeaderSize;
  while (pos < bytes.size()) {
    const std::size_t left = bytes.size() - pos;
    std::string failure;
    if (left < kRecordFrameSize) {
      failure = "torn record frame (" + std::to_string(left) + " bytes)";
    } else {
      const std::uint32_t length = readU32(bytes, pos);
      const std::uint32_t crc = readU32(bytes, pos + 4);
      if (length == 0 || length > kMaxPayloadBytes) {
        failure = "record length " + std::to_string(length) + " out of range";
      } else if (left - kRecordFrameSize < length) {
        failure = "torn record (" + std::to_string(left - kRecordFrameSize) + " of " +
                  std::to_string(length) + " payload bytes)";
      } else {
        const std::string_view payload = bytes.substr(pos + kRecordFrameSize, length);
        if (crc32c(payload, crc32c(bytes.substr(pos, 4))) != crc) {
          failure = "record checksum mismatch";
        } else {
          pos += kRecordFrameSize + length;
          scan.validBytes = pos;
          if (auto event = decodePayload(payload)) {
            scan.events.push_back(std::move(*event));
          } else {
            ++scan.corruptRecords;
            if (scan.problem.empty())
              scan.problem = "record at byte " + std::to_string(pos - length - kRecordFrameSize) +
                             ": checksum holds but the payload does not decode";
          }
          continue;
        }
      }
    }
    ++scan.corruptRecords;
    if (scan.problem.empty()) scan.problem = "byte " + std::to_string(pos) + ": " + failure;
    scan.unreadableBytes = bytes.size() - pos;
    break;
  }
  if (scan.validBytes == 0) scan.validBytes = kSegmentHeaderSize;
  return scan;
}

}  // namespace linkwatch::journal
