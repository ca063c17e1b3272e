// The bytes of a journal segment file, and nothing else: no files, no threads.
//
//   header  (36 bytes)  "LWJOURNL" | u16 version | u16 header size | u32 flags (0)
//                       | u64 id of the first record | i64 created (Unix ns) | u32 CRC-32C of
//                       the 32 bytes before it
//   record  (repeated)  u32 payload length | u32 CRC-32C of (length bytes + payload) | payload
//   payload             u8 kind | u64 id | i64 wall | i64 monotonic | str member | fields of
//                       the kind (str = u16 length + bytes); integers little-endian
//
// A reader trusts nothing: every length is bounded, every record's checksum is verified, and
// a record that fails stops the scan of that segment (after a torn write nothing behind it
// can be framed reliably). A record whose checksum holds but whose payload does not decode is
// skipped on its own: its framing is intact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <linkwatch/event_history.hpp>

namespace linkwatch::journal {

constexpr std::string_view kSegmentMagic = "LWJOURNL";
constexpr std::uint16_t kSegmentVersion = 1;
constexpr std::size_t kSegmentHeaderSize = 36;
constexpr std::size_t kRecordFrameSize = 8;  // length + CRC
// Strings are cut at this many bytes when written; a payload can never exceed the bound.
constexpr std::size_t kMaxFieldBytes = 1024;
constexpr std::size_t kMaxPayloadBytes = 16 * 1024;

struct SegmentHeader {
  std::uint16_t version = kSegmentVersion;
  std::uint64_t firstId = 0;
  Nanos createdWall = 0;
};

std::string encodeSegmentHeader(const SegmentHeader& header);

// The payload of one record (strings longer than kMaxFieldBytes are cut).
std::string encodePayload(const HistoryEvent& event);
// nullopt when the payload is not exactly one well-formed event of a known kind.
std::optional<HistoryEvent> decodePayload(std::string_view payload);

// Appends the framed record (length, CRC, payload) to `out`.
void appendRecord(std::string& out, std::string_view payload);

// "segment-00000000000000000042.lwj": the id of its first record, zero-padded so that the
// names sort in journal order.
std::string segmentFileName(std::uint64_t firstId);
// The first id of a segment file name; nullopt for any other name.
std::optional<std::uint64_t> parseSegmentFileName(std::string_view name);

struct SegmentScan {
  bool headerValid = false;
  SegmentHeader header;
  std::vector<HistoryEvent> events;  // every record that validated, in order
  // Records (or unframable tails) that failed validation and were skipped.
  std::uint64_t corruptRecords = 0;
  // Bytes from the first byte that could not be framed to the end (0: clean to the end).
  std::size_t unreadableBytes = 0;
  std::size_t validBytes = 0;  // header + every framed record before the first failure
  std::string problem;         // the first problem found, for the log; empty when clean
};

// Validates a whole segment file's bytes. Never throws on any input except std::bad_alloc.
SegmentScan scanSegment(std::string_view bytes);

}  // namespace linkwatch::journal
