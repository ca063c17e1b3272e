#include "journal/segment_format.hpp"

#include <algorithm>
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

// Why the record at `pos` does not frame (its bytes, not its meaning); empty when it does.
std::string frameFailure(std::string_view bytes, std::size_t pos) {
  const std::size_t left = bytes.size() - pos;
  if (left < kRecordFrameSize) return "torn record frame (" + std::to_string(left) + " bytes)";
  const std::uint32_t length = readU32(bytes, pos);
  if (length == 0 || length > kMaxPayloadBytes)
    return "record length " + std::to_string(length) + " out of range";
  if (left - kRecordFrameSize < length)
    return "torn record (" + std::to_string(left - kRecordFrameSize) + " of " +
           std::to_string(length) + " payload bytes)";
  const std::string_view payload = bytes.substr(pos + kRecordFrameSize, length);
  if (crc32c(payload, crc32c(bytes.substr(pos, 4))) != readU32(bytes, pos + 4))
    return "record checksum mismatch";
  return {};
}

// The first offset at or after `from` where a whole record frames, its checksum holds and its
// payload decodes: a stricter test than the one the main loop applies, because a candidate
// here has no framing before it to vouch for it. Checksums at most `work` payload bytes in
// all; when that runs out, sets `gaveUp` and returns nullopt.
std::optional<std::size_t> resync(std::string_view bytes, std::size_t from, std::size_t& work,
                                  bool& gaveUp) {
  for (std::size_t p = from;
       p < bytes.size() && bytes.size() - p >= kRecordFrameSize + kMinPayloadBytes; ++p) {
    const std::uint32_t length = readU32(bytes, p);
    if (length < kMinPayloadBytes || length > kMaxPayloadBytes ||
        bytes.size() - p - kRecordFrameSize < length)
      continue;
    if (static_cast<unsigned char>(bytes[p + kRecordFrameSize]) >= kHistoryEventKindCount) continue;
    if (work < length) {
      gaveUp = true;
      return std::nullopt;
    }
    work -= length;
    const std::string_view payload = bytes.substr(p + kRecordFrameSize, length);
    if (crc32c(payload, crc32c(bytes.substr(p, 4))) != readU32(bytes, p + 4)) continue;
    if (!decodePayload(payload)) continue;
    return p;
  }
  return std::nullopt;
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

std::string SegmentDamage::describe() const {
  if (tail)
    return "byte " + std::to_string(offset) + ": " + what + "; skipped the last " +
           std::to_string(bytes) + " bytes";
  return "bytes " + std::to_string(offset) + ".." + std::to_string(offset + bytes - 1) + " (" +
         std::to_string(bytes) + ") skipped: " + what + "; reading resumed at byte " +
         std::to_string(offset + bytes);
}

SegmentFraming frameSegment(std::string_view bytes) {
  SegmentFraming framing;
  // An empty file is a segment the writer created but had not yet written to: nothing lost.
  if (bytes.empty()) return framing;
  if (bytes.size() < kSegmentHeaderSize) {
    framing.damage.push_back(SegmentDamage{0, bytes.size(), true,
                                           "segment header: " + std::to_string(bytes.size()) +
                                               " bytes, expected " +
                                               std::to_string(kSegmentHeaderSize)});
    framing.unreadableBytes = bytes.size();
    return framing;
  }
  std::size_t work = kResyncWorkFactor * bytes.size() + kResyncWorkSlack;
  bool gaveUp = false;
  // Records after damage at `from`: the next offset where one frames, or the end.
  const auto skipDamage = [&](std::size_t from, std::size_t searchFrom, std::string what) {
    const auto next = resync(bytes, searchFrom, work, gaveUp);
    if (next) {
      framing.damage.push_back(SegmentDamage{from, *next - from, false, std::move(what)});
      return *next;
    }
    if (gaveUp) what += " (gave up looking for the next valid record: too many candidates)";
    framing.damage.push_back(SegmentDamage{from, bytes.size() - from, true, std::move(what)});
    framing.unreadableBytes = bytes.size() - from;
    return bytes.size();
  };

  const std::string_view head = bytes.substr(0, kSegmentHeaderSize);
  Cursor h(head.substr(kSegmentMagic.size()));
  const auto version = h.get<std::uint16_t>();
  const auto headerSize = h.get<std::uint16_t>();
  h.get<std::uint32_t>();  // flags: none defined in version 1
  framing.header.firstId = h.get<std::uint64_t>();
  framing.header.createdWall = h.get<std::int64_t>();
  framing.header.version = version;
  std::size_t pos = kSegmentHeaderSize;
  if (head.substr(0, kSegmentMagic.size()) != kSegmentMagic ||
      readU32(head, kSegmentHeaderSize - 4) != crc32c(head.substr(0, kSegmentHeaderSize - 4))) {
    // Every record carries its own checksum: what follows a damaged header is still readable.
    pos = skipDamage(0, kSegmentHeaderSize, "segment header: bad magic or checksum");
  } else if (version != kSegmentVersion || headerSize != kSegmentHeaderSize) {
    // A format this reader does not know: reading it as version 1 would be guessing.
    framing.damage.push_back(SegmentDamage{0, bytes.size(), true,
                                           "segment header: version " + std::to_string(version) +
                                               ", expected " + std::to_string(kSegmentVersion)});
    framing.unreadableBytes = bytes.size();
    return framing;
  } else {
    framing.headerValid = true;
    framing.validBytes = kSegmentHeaderSize;
  }

  while (pos < bytes.size()) {
    std::string failure = frameFailure(bytes, pos);
    if (failure.empty()) {
      const std::uint32_t length = readU32(bytes, pos);
      framing.records.push_back(FramedRecord{pos, bytes.substr(pos + kRecordFrameSize, length)});
      pos += kRecordFrameSize + length;
      framing.validBytes = pos;
      continue;
    }
    pos = skipDamage(pos, pos + 1, std::move(failure));
  }
  return framing;
}

SegmentScan scanSegment(std::string_view bytes) {
  SegmentFraming framing = frameSegment(bytes);
  SegmentScan scan;
  scan.headerValid = framing.headerValid;
  scan.header = framing.header;
  scan.unreadableBytes = framing.unreadableBytes;
  scan.validBytes = framing.validBytes;
  scan.damage = std::move(framing.damage);
  bool undecodable = false;
  for (const FramedRecord& record : framing.records) {
    if (auto event = decodePayload(record.payload)) {
      scan.events.push_back(std::move(*event));
    } else {
      undecodable = true;
      scan.damage.push_back(SegmentDamage{record.offset, kRecordFrameSize + record.payload.size(),
                                          false, "checksum holds but the payload does not decode"});
    }
  }
  if (undecodable)
    std::stable_sort(
        scan.damage.begin(), scan.damage.end(),
        [](const SegmentDamage& a, const SegmentDamage& b) { return a.offset < b.offset; });
  scan.corruptRecords = scan.damage.size();
  for (const SegmentDamage& d : scan.damage) scan.skippedBytes += d.bytes;
  if (!scan.damage.empty()) scan.problem = scan.damage.front().describe();
  return scan;
}

}  // namespace linkwatch::journal
