// The journal reader: scanSegment() on any bytes validates what it can frame, skips the rest,
// and reports it; decodePayload() accepts exactly what encodePayload() produces. Half of the
// inputs get a valid segment header in front so that the fuzzer spends its time on records.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "journal/segment_format.hpp"

namespace {

using linkwatch::fuzz::asText;
namespace journal = linkwatch::journal;

void checkScan(std::string_view bytes) {
  const journal::SegmentScan scan = journal::scanSegment(bytes);
  LW_FUZZ_CHECK(scan.validBytes <= bytes.size() || !scan.headerValid, "validBytes past the end");
  LW_FUZZ_CHECK(scan.unreadableBytes <= bytes.size(), "unreadableBytes past the end");
  LW_FUZZ_CHECK(scan.problem.empty() == (scan.corruptRecords == 0),
                "a problem without a corrupt record, or the other way round");
  if (!scan.headerValid) LW_FUZZ_CHECK(scan.events.empty(), "records read behind a bad header");
  if (scan.headerValid && scan.unreadableBytes != 0)
    LW_FUZZ_CHECK(scan.validBytes + scan.unreadableBytes == bytes.size(),
                  "valid and unreadable bytes do not add up to the segment");
  for (const linkwatch::HistoryEvent& e : scan.events) {
    // What the reader returns is what a writer would have written.
    const std::string payload = journal::encodePayload(e);
    LW_FUZZ_CHECK(payload.size() <= journal::kMaxPayloadBytes, "record over the payload bound");
    const auto again = journal::decodePayload(payload);
    LW_FUZZ_CHECK(again && journal::encodePayload(*again) == payload, "record does not round trip");
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
  return 0;
}
