// The simulator's own FIX wire layer: encoding, SendingTime, and an incremental stream parser.
// It speaks only the session level and trusts nothing it reads: bad bytes are counted and
// skipped (hffix's "bad data is state"), never an exception and never an out-of-bounds read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <linkwatch/clock.hpp>

namespace linkwatch::sim {

constexpr char kSoh = '\x01';

struct FixField {
  int tag = 0;
  std::string value;
};

// Appends one complete message to `out`: 8=beginString, 9=BodyLength, 35=msgType, then
// `fields` in order, then 10=CheckSum (three digits). Values must not contain SOH.
void appendFixMessage(std::string& out, std::string_view beginString, std::string_view msgType,
                      const std::vector<FixField>& fields);
std::string encodeFixMessage(std::string_view beginString, std::string_view msgType,
                             const std::vector<FixField>& fields);

// Sum of the bytes modulo 256, as FIX computes CheckSum(10).
unsigned fixChecksum(std::string_view bytes) noexcept;

// UTCTimestamp with milliseconds, "YYYYMMDD-HH:MM:SS.sss", from Unix nanoseconds.
std::string formatSendingTime(Nanos wallNanos);
// The inverse, lenient on precision: "YYYYMMDD-HH:MM:SS" with an optional fraction of 1 to 9
// digits, as Unix nanoseconds. nullopt when the text is not a valid UTCTimestamp.
std::optional<Nanos> parseSendingTime(std::string_view text) noexcept;

// One complete, validated message. Field values are views into raw(); copying the message
// copies the text and re-points the views.
class FixMessage {
 public:
  struct Field {
    int tag;
    std::uint32_t offset;  // of the value in raw()
    std::uint32_t size;
  };

  FixMessage() = default;
  FixMessage(const FixMessage&) = default;
  FixMessage& operator=(const FixMessage&) = default;
  FixMessage(FixMessage&&) noexcept = default;
  FixMessage& operator=(FixMessage&&) noexcept = default;

  // Splits `raw` into fields. Returns false (and leaves the message empty) unless every
  // field is `digits=value<SOH>`; checks no lengths or sums, which is the parser's job.
  bool assign(std::string raw);

  std::string_view raw() const noexcept { return raw_; }
  const std::vector<Field>& fields() const noexcept { return fields_; }
  // The first occurrence of `tag`, if any.
  std::optional<std::string_view> get(int tag) const noexcept;
  // The first occurrence of `tag` as a non-negative integer; nullopt if absent or not digits.
  std::optional<std::int64_t> getInt(int tag) const noexcept;
  std::string_view msgType() const noexcept { return get(35).value_or(std::string_view{}); }

 private:
  std::string raw_;
  std::vector<Field> fields_;
};

// Splits a byte stream into messages. Each message must start with 8=, then 9=BodyLength,
// then 35=; BodyLength must land exactly on "10=ddd<SOH>" and the CheckSum must match.
// Anything else is garbage: the parser skips to the next "8=" and counts what it dropped.
// Thread-safety: none; one parser per connection.
class FixStreamParser {
 public:
  static constexpr std::size_t kDefaultMaxBodyLength = std::size_t{1} << 20;

  explicit FixStreamParser(std::size_t maxBodyLength = kDefaultMaxBodyLength) noexcept
      : maxBodyLength_(maxBodyLength) {}

  void feed(const char* data, std::size_t size);
  void feed(std::string_view bytes) { feed(bytes.data(), bytes.size()); }
  // Extracts the next complete valid message; false when more bytes are needed.
  bool next(FixMessage& out);
  // Forgets buffered bytes (a new connection); counters are kept.
  void clear() noexcept;

  std::size_t buffered() const noexcept { return buffer_.size() - start_; }
  std::uint64_t garbageBytes() const noexcept { return garbageBytes_; }
  std::uint64_t badChecksums() const noexcept { return badChecksums_; }
  std::uint64_t badFraming() const noexcept { return badFraming_; }
  // Times the whole buffer was dropped because a BodyLength was absurd.
  std::uint64_t overflows() const noexcept { return overflows_; }

 private:
  enum class Step : std::uint8_t { kMessage, kNeedMore, kBad, kOverflow };
  Step tryExtract(FixMessage& out);
  void skipGarbage();
  void compact();

  std::size_t maxBodyLength_;
  std::string buffer_;
  std::size_t start_ = 0;  // first unconsumed byte of buffer_
  std::uint64_t garbageBytes_ = 0;
  std::uint64_t badChecksums_ = 0;
  std::uint64_t badFraming_ = 0;
  std::uint64_t overflows_ = 0;
};

}  // namespace linkwatch::sim
