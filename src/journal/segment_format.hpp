// The bytes of a journal segment file, and nothing else: no files, no threads.
//
//   header  (36 bytes)  "LWJOURNL" | u16 version | u16 header size | u32 flags (0)
//                       | u64 id of the first record | i64 created (Unix ns) | u32 CRC-32C of
//                       the 32 bytes before it
//   record  (repeated)  u32 payload length | u32 CRC-32C of (length bytes + payload) | payload
//   payload             u8 kind | u64 id | i64 wall | i64 monotonic | str member | fields of
//                       the kind (str = u16 length + bytes); integers little-endian
//
// A reader trusts nothing: every length is bounded and every record's checksum is verified.
// When a record fails (bad length, bad checksum, cut short) the reader resynchronises: it
// scans forward byte by byte for the next offset where a whole record frames, its checksum
// holds and its payload decodes, reports the bytes it skipped (offset and count), and keeps
// everything from there on. Only when no such offset is left is the rest of the segment a
// torn tail (the usual crash in the middle of the last write). A record whose checksum holds
// but whose payload does not decode is skipped on its own: its framing is intact. A damaged
// header is skipped the same way (the file name carries the first id); a header of another
// format version stops the scan.
//
// The forward scan checksums at most kResyncWorkFactor times the segment's size (plus
// kResyncWorkSlack), so a hostile file of plausible lengths cannot make it quadratic; past
// that the rest of the segment is reported unreadable.
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
// kind + id + wall + monotonic + the member's length: no payload of any kind is shorter.
constexpr std::size_t kMinPayloadBytes = 1 + 8 + 8 + 8 + 2;
constexpr std::size_t kResyncWorkFactor = 8;
constexpr std::size_t kResyncWorkSlack = 1024 * 1024;

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

// One stretch of a segment the reader could not use.
struct SegmentDamage {
  std::size_t offset = 0;  // of the first byte skipped, in the segment file
  std::size_t bytes = 0;   // how many were skipped
  bool tail = false;       // nothing valid after it: the end of the segment was torn
  std::string what;        // what failed there, for the log ("record checksum mismatch")

  // "bytes 120..184 (65) skipped: record checksum mismatch; reading resumed at byte 185"
  std::string describe() const;
};

// A record whose length and checksum hold (its payload still has to decode).
struct FramedRecord {
  std::size_t offset = 0;    // of its length field, in the segment file
  std::string_view payload;  // into the bytes that were framed
};

struct SegmentFraming {
  bool headerValid = false;
  SegmentHeader header;
  std::vector<FramedRecord> records;  // in file order
  std::vector<SegmentDamage> damage;  // in file order; at most the last one is a tail
  // Bytes of the torn tail (the last damage when it is one; 0: clean to the end).
  std::size_t unreadableBytes = 0;
  std::size_t validBytes = 0;  // up to the end of the last framed record (at least the header)
};

// Frames a whole segment file's bytes without decoding what it does not have to. The records
// point into `bytes`. Never throws on any input except std::bad_alloc.
SegmentFraming frameSegment(std::string_view bytes);

struct SegmentScan {
  bool headerValid = false;
  SegmentHeader header;
  std::vector<HistoryEvent> events;  // every record that validated, in order
  // Damaged stretches (each may have held several records), undecodable records and torn
  // tails that were skipped.
  std::uint64_t corruptRecords = 0;
  std::vector<SegmentDamage> damage;  // every one of them, in file order
  // Bytes from the first byte of a torn tail to the end (0: clean to the end).
  std::size_t unreadableBytes = 0;
  std::size_t validBytes = 0;    // up to the end of the last framed record (at least the header)
  std::size_t skippedBytes = 0;  // every damaged byte, the tail included
  std::string problem;           // the first damage described, for the log; empty when clean
};

// Validates and decodes a whole segment file's bytes. Never throws on any input except
// std::bad_alloc.
SegmentScan scanSegment(std::string_view bytes);

}  // namespace linkwatch::journal
