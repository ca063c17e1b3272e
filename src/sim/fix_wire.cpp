#include "sim/fix_wire.hpp"

#include <time.h>

#include <array>
#include <charconv>

namespace linkwatch::sim {
namespace {

// A BeginString longer than this is not one: resync instead of waiting for its SOH.
constexpr std::size_t kMaxBeginStringSize = 32;
// "10=ddd<SOH>"
constexpr std::size_t kTrailerSize = 7;
// Digits of BodyLength we are willing to read before calling it absurd.
constexpr std::size_t kMaxBodyLengthDigits = 8;

void appendInt(std::string& out, std::int64_t value) {
  std::array<char, 24> digits{};
  auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  (void)ec;  // 24 chars always hold an int64
  out.append(digits.data(), end);
}

bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }

}  // namespace

unsigned fixChecksum(std::string_view bytes) noexcept {
  unsigned sum = 0;
  for (char c : bytes) sum += static_cast<unsigned char>(c);
  return sum % 256U;
}

void appendFixMessage(std::string& out, std::string_view beginString, std::string_view msgType,
                      const std::vector<FixField>& fields) {
  // Body first, in place after a fixed-size reservation would need a second pass anyway:
  // build the body, then the header that measures it.
  std::string body;
  body.reserve(64 + fields.size() * 16);
  body.append("35=").append(msgType).push_back(kSoh);
  for (const FixField& f : fields) {
    appendInt(body, f.tag);
    body.push_back('=');
    body.append(f.value);
    body.push_back(kSoh);
  }
  const std::size_t messageStart = out.size();
  out.append("8=").append(beginString).push_back(kSoh);
  out.append("9=");
  appendInt(out, static_cast<std::int64_t>(body.size()));
  out.push_back(kSoh);
  out.append(body);
  const unsigned sum = fixChecksum(std::string_view(out).substr(messageStart));
  out.append("10=");
  out.push_back(static_cast<char>('0' + sum / 100));
  out.push_back(static_cast<char>('0' + (sum / 10) % 10));
  out.push_back(static_cast<char>('0' + sum % 10));
  out.push_back(kSoh);
}

std::string encodeFixMessage(std::string_view beginString, std::string_view msgType,
                             const std::vector<FixField>& fields) {
  std::string out;
  appendFixMessage(out, beginString, msgType, fields);
  return out;
}

std::string formatSendingTime(Nanos wallNanos) {
  if (wallNanos < 0) wallNanos = 0;
  const time_t seconds = static_cast<time_t>(wallNanos / kNanosPerSecond);
  const int millis = static_cast<int>((wallNanos % kNanosPerSecond) / kNanosPerMilli);
  tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 32> text{};
  const int n =
      snprintf(text.data(), text.size(), "%04d%02d%02d-%02d:%02d:%02d.%03d", utc.tm_year + 1900,
               utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
  return std::string(text.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
}

std::optional<Nanos> parseSendingTime(std::string_view text) noexcept {
  // YYYYMMDD-HH:MM:SS is 17 characters; a fraction adds '.' and 1..9 digits.
  if (text.size() < 17 || text[8] != '-' || text[11] != ':' || text[14] != ':') return std::nullopt;
  auto number = [&](std::size_t at, std::size_t digits) -> int {
    int value = 0;
    for (std::size_t i = at; i < at + digits; ++i) {
      if (!isDigit(text[i])) return -1;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const int year = number(0, 4), month = number(4, 2), day = number(6, 2);
  const int hour = number(9, 2), minute = number(12, 2), second = number(15, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  Nanos fraction = 0;
  if (text.size() > 17) {
    const std::size_t digits = text.size() - 18;
    if (text[17] != '.' || digits < 1 || digits > 9) return std::nullopt;
    Nanos scale = kNanosPerSecond;
    for (std::size_t i = 18; i < text.size(); ++i) {
      if (!isDigit(text[i])) return std::nullopt;
      scale /= 10;
      fraction += (text[i] - '0') * scale;
    }
  }
  tm utc{};
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  const time_t seconds = timegm(&utc);
  // timegm normalises 31 February into March: a date that moved was not a date.
  if (seconds < 0 || utc.tm_mday != day || utc.tm_mon != month - 1) return std::nullopt;
  return static_cast<Nanos>(seconds) * kNanosPerSecond + fraction;
}

bool FixMessage::assign(std::string raw) {
  raw_ = std::move(raw);
  fields_.clear();
  const std::string_view text = raw_;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t eq = text.find('=', pos);
    if (eq == std::string_view::npos || eq == pos || eq - pos > 9) break;
    int tag = 0;
    bool digits = true;
    for (std::size_t i = pos; i < eq; ++i) {
      if (!isDigit(text[i])) {
        digits = false;
        break;
      }
      tag = tag * 10 + (text[i] - '0');
    }
    if (!digits) break;
    const std::size_t soh = text.find(kSoh, eq + 1);
    if (soh == std::string_view::npos) break;
    fields_.push_back(
        Field{tag, static_cast<std::uint32_t>(eq + 1), static_cast<std::uint32_t>(soh - eq - 1)});
    pos = soh + 1;
  }
  if (pos != text.size() || fields_.empty()) {
    raw_.clear();
    fields_.clear();
    return false;
  }
  return true;
}

std::optional<std::string_view> FixMessage::get(int tag) const noexcept {
  for (const Field& f : fields_) {
    if (f.tag == tag) return std::string_view(raw_).substr(f.offset, f.size);
  }
  return std::nullopt;
}

std::optional<std::int64_t> FixMessage::getInt(int tag) const noexcept {
  const auto text = get(tag);
  if (!text || text->empty() || text->size() > 18) return std::nullopt;
  std::int64_t value = 0;
  for (char c : *text) {
    if (!isDigit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

void FixStreamParser::feed(const char* data, std::size_t size) {
  if (size == 0) return;
  buffer_.append(data, size);
}

void FixStreamParser::clear() noexcept {
  buffer_.clear();
  start_ = 0;
}

bool FixStreamParser::next(FixMessage& out) {
  for (;;) {
    switch (tryExtract(out)) {
      case Step::kMessage:
        compact();
        return true;
      case Step::kNeedMore:
        compact();
        return false;
      case Step::kBad:
        skipGarbage();
        break;
      case Step::kOverflow:
        // A peer claiming megabytes of body is broken or hostile: waiting for it would
        // let the buffer grow without bound.
        ++overflows_;
        garbageBytes_ += buffered();
        clear();
        return false;
    }
  }
}

FixStreamParser::Step FixStreamParser::tryExtract(FixMessage& out) {
  const std::string_view v = std::string_view(buffer_).substr(start_);
  if (v.empty()) return Step::kNeedMore;
  if (v[0] != '8') return Step::kBad;
  if (v.size() < 2) return Step::kNeedMore;
  if (v[1] != '=') return Step::kBad;

  const std::size_t beginEnd = v.find(kSoh, 2);
  if (beginEnd == std::string_view::npos) {
    return v.size() > 2 + kMaxBeginStringSize ? Step::kBad : Step::kNeedMore;
  }
  if (beginEnd == 2 || beginEnd - 2 > kMaxBeginStringSize) return Step::kBad;

  std::size_t p = beginEnd + 1;
  if (v.size() < p + 2) return Step::kNeedMore;
  if (v[p] != '9' || v[p + 1] != '=') return Step::kBad;
  p += 2;
  std::size_t bodyLength = 0;
  std::size_t digits = 0;
  for (;;) {
    if (p >= v.size()) return Step::kNeedMore;
    const char c = v[p];
    if (c == kSoh) break;
    if (!isDigit(c)) return Step::kBad;
    if (++digits > kMaxBodyLengthDigits) return Step::kOverflow;
    bodyLength = bodyLength * 10 + static_cast<std::size_t>(c - '0');
    ++p;
  }
  if (digits == 0) return Step::kBad;
  if (bodyLength > maxBodyLength_) return Step::kOverflow;
  // Smallest body: "35=0<SOH>".
  if (bodyLength < 5) return Step::kBad;

  const std::size_t bodyStart = p + 1;
  // Reject a wrong third field as soon as it is visible, not after BodyLength bytes arrive.
  const std::string_view msgTypeTag = "35=";
  const std::size_t visible = std::min(msgTypeTag.size(), v.size() - std::min(v.size(), bodyStart));
  if (v.substr(std::min(v.size(), bodyStart), visible) != msgTypeTag.substr(0, visible)) {
    ++badFraming_;
    return Step::kBad;
  }
  const std::size_t bodyEnd = bodyStart + bodyLength;
  const std::size_t total = bodyEnd + kTrailerSize;
  if (v.size() < total) return Step::kNeedMore;

  if (v[bodyEnd - 1] != kSoh || v.substr(bodyEnd, 3) != "10=" || !isDigit(v[bodyEnd + 3]) ||
      !isDigit(v[bodyEnd + 4]) || !isDigit(v[bodyEnd + 5]) || v[bodyEnd + 6] != kSoh) {
    ++badFraming_;
    return Step::kBad;
  }
  const unsigned claimed = static_cast<unsigned>(
      (v[bodyEnd + 3] - '0') * 100 + (v[bodyEnd + 4] - '0') * 10 + (v[bodyEnd + 5] - '0'));
  if (claimed != fixChecksum(v.substr(0, bodyEnd))) {
    ++badChecksums_;
    return Step::kBad;
  }
  if (!out.assign(std::string(v.substr(0, total)))) {
    ++badFraming_;
    return Step::kBad;
  }
  start_ += total;
  return Step::kMessage;
}

void FixStreamParser::skipGarbage() {
  const std::string_view v = std::string_view(buffer_).substr(start_);
  const std::size_t nextStart = v.find("8=", 1);
  std::size_t skip = 0;
  if (nextStart != std::string_view::npos) {
    skip = nextStart;
  } else {
    // Keep a trailing '8': it may be the first half of the next "8=".
    skip = (!v.empty() && v.back() == '8' && v.size() > 1) ? v.size() - 1 : v.size();
  }
  if (skip == 0) skip = 1;  // never loop on the same byte
  if (skip > v.size()) skip = v.size();
  garbageBytes_ += skip;
  start_ += skip;
}

void FixStreamParser::compact() {
  if (start_ == buffer_.size()) {
    clear();
  } else if (start_ > 4096 && start_ * 2 > buffer_.size()) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
}

}  // namespace linkwatch::sim
