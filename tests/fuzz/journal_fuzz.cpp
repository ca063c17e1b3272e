// The journal reader: scanSegment() on any bytes validates what it can frame, resynchronises
// past damage, skips and reports the rest; decodePayload() accepts exactly what
// encodePayload() produces. Half of the inputs get a valid segment header in front so that the
// fuzzer spends its time on records. Every input also damages a valid segment (zeroes, flips
// or inserts a stretch the input chooses) and checks that resynchronisation keeps every record
// around the damage.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "journal/segment_format.hpp"

namespace {

using linkwatch::fuzz::asText;
namespace journal = linkwatch::journal;

void checkScan(std::string_view bytes) {
  const journal::SegmentScan scan = journal::scanSegment(bytes);
  LW_FUZZ_CHECK(scan.validBytes <= bytes.size(), "validBytes past the end");
  LW_FUZZ_CHECK(scan.unreadableBytes <= bytes.size(), "unreadableBytes past the end");
  LW_FUZZ_CHECK(scan.problem.empty() == (scan.corruptRecords == 0),
                "a problem without a corrupt record, or the other way round");
  LW_FUZZ_CHECK(scan.damage.size() == scan.corruptRecords, "damage not counted one by one");
  if (scan.unreadableBytes != 0)
    LW_FUZZ_CHECK(scan.validBytes + scan.unreadableBytes == bytes.size(),
                  "valid and unreadable bytes do not add up to the segment");
  std::size_t end = 0;
  std::size_t skipped = 0;
  for (std::size_t i = 0; i < scan.damage.size(); ++i) {
    const journal::SegmentDamage& d = scan.damage[i];
    LW_FUZZ_CHECK(d.bytes != 0 || bytes.empty(), "empty damage");
    LW_FUZZ_CHECK(d.offset >= end && d.offset + d.bytes <= bytes.size(),
                  "damage out of order, overlapping or past the end");
    LW_FUZZ_CHECK(!d.tail || (i + 1 == scan.damage.size() && d.offset + d.bytes == bytes.size() &&
                              d.bytes == scan.unreadableBytes),
                  "a tail that is not the end of the segment");
    LW_FUZZ_CHECK(!d.describe().empty(), "damage without a description");
    end = d.offset + d.bytes;
    skipped += d.bytes;
  }
  LW_FUZZ_CHECK(skipped == scan.skippedBytes, "skipped bytes do not add up");
  for (const linkwatch::HistoryEvent& e : scan.events) {
    // What the reader returns is what a writer would have written.
    const std::string payload = journal::encodePayload(e);
    LW_FUZZ_CHECK(payload.size() <= journal::kMaxPayloadBytes, "record over the payload bound");
    const auto again = journal::decodePayload(payload);
    LW_FUZZ_CHECK(again && journal::encodePayload(*again) == payload, "record does not round trip");
  }
}

// A valid segment of records built from the input, damaged where the input says.
void checkResync(std::string_view text) {
  std::uint64_t seed = 1469598103934665603ULL;
  for (const char c : text) seed = (seed ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  linkwatch::fuzz::SplitMix pick(seed);
  const auto below = [&pick](std::size_t n) { return static_cast<std::size_t>(pick.next() % n); };

  journal::SegmentHeader header;
  header.firstId = 1;
  std::string bytes = journal::encodeSegmentHeader(header);
  std::vector<std::size_t> starts;
  std::vector<std::string> payloads;
  const std::size_t records = 2 + below(12);
  for (std::size_t i = 0; i < records; ++i) {
    linkwatch::HistoryEvent e;
    e.id = i + 1;
    e.kind = static_cast<linkwatch::HistoryEventKind>(below(linkwatch::kHistoryEventKindCount));
    e.member = std::string(text.substr(below(text.size() + 1), below(40)));
    e.detail = std::to_string(pick.next());
    e.wall = static_cast<linkwatch::Nanos>(pick.next() >> 2);
    starts.push_back(bytes.size());
    payloads.push_back(journal::encodePayload(e));
    journal::appendRecord(bytes, payloads.back());
  }
  starts.push_back(bytes.size());

  const std::size_t from = below(bytes.size());
  const std::size_t length = 1 + below(std::min<std::size_t>(bytes.size() - from, 300));
  std::size_t damagedEnd = from + length;  // in the original's offsets: records after it survive
  switch (below(3)) {
    case 0:
      std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(from),
                bytes.begin() + static_cast<std::ptrdiff_t>(from + length), '\0');
      break;
    case 1:
      for (std::size_t i = 0; i < length; ++i)
        bytes[from + i] = static_cast<char>(bytes[from + i] ^
                                            (text.empty() ? 0x5A : (text[i % text.size()] | 1)));
      break;
    default:
      bytes.insert(from, text.empty() ? std::string(length, '\x7F')
                                      : std::string(text.substr(0, std::min(length, text.size()))));
      damagedEnd = from;
      break;
  }
  checkScan(bytes);
  const journal::SegmentScan scan = journal::scanSegment(bytes);
  // Every record wholly before the damage is read back as it was written.
  std::size_t before = 0;
  while (before < records && starts[before + 1] <= from) ++before;
  LW_FUZZ_CHECK(scan.events.size() >= before, "a record before the damage was lost");
  for (std::size_t i = 0; i < before; ++i)
    LW_FUZZ_CHECK(
        scan.events[i].id == i + 1 && journal::encodePayload(scan.events[i]) == payloads[i],
        "a record before the damage changed");
  // Unless a stretch of the damage itself happened to frame as a record (its checksum and
  // all), every record wholly after the damage is found again.
  bool genuine = true;
  for (const linkwatch::HistoryEvent& e : scan.events)
    genuine =
        genuine && e.id >= 1 && e.id <= records && journal::encodePayload(e) == payloads[e.id - 1];
  if (!genuine) return;
  for (std::size_t i = 0; i < records; ++i) {
    if (starts[i] < damagedEnd) continue;
    const bool found = std::any_of(scan.events.begin(), scan.events.end(),
                                   [i](const linkwatch::HistoryEvent& e) { return e.id == i + 1; });
    LW_FUZZ_CHECK(found, "a record after the damage was not found again");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = asText(data, size);
  checkScan(text);
  if (size > 0 && (data[0] & 1u) != 0) {
    journal::SegmentHeader header;
    header.firstId = 1;
    checkScan(journal::encodeSegmentHeader(header) + std::string(text.substr(1)));
  }
  if (const auto decoded = journal::decodePayload(text))
    LW_FUZZ_CHECK(journal::encodePayload(*decoded) == text,
                  "a decoded payload does not encode back to the same bytes");
  checkResync(text);
  return 0;
}
