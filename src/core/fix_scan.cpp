#include <linkwatch/fix_scan.hpp>

#include <array>
#include <bit>
#include <cstring>
#include <string_view>

namespace linkwatch {
namespace {

constexpr char kSoh = '\x01';

bool parseUint(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = v;
  return true;
}

std::uint32_t toU32(std::string_view s) noexcept {
  std::uint64_t v = 0;
  if (!parseUint(s, v) || v > 0xFFFFFFFFu) return 0;
  return static_cast<std::uint32_t>(v);
}

MessageClass classify(std::string_view type) noexcept {
  if (type.size() == 1) {
    switch (type[0]) {
      case '0':
        return MessageClass::kHeartbeat;
      case '1':
        return MessageClass::kTestRequest;
      case '2':
        return MessageClass::kResendRequest;
      case '3':
        return MessageClass::kReject;
      case '4':
        return MessageClass::kSequenceReset;
      case '5':
        return MessageClass::kLogout;
      case 'A':
        return MessageClass::kLogon;
      default:
        break;
    }
  }
  return type.empty() ? MessageClass::kGarbled : MessageClass::kApplication;
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar.
constexpr std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(const char* p, int n, int& out) noexcept {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (p[i] < '0' || p[i] > '9') return false;
    v = v * 10 + (p[i] - '0');
  }
  out = v;
  return true;
}

bool startsWith(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

// "... expecting X but received Y"
void parseExpectingReceived(std::string_view text, SessionEvent& event) noexcept {
  const auto e = text.find("expecting ");
  const auto r = text.find(" but received ");
  if (e == std::string_view::npos || r == std::string_view::npos || r < e) return;
  const auto x = text.substr(e + 10, r - (e + 10));
  auto y = text.substr(r + 14);
  std::size_t n = 0;
  while (n < y.size() && y[n] >= '0' && y[n] <= '9') ++n;
  event.aux = toU32(x);
  event.seqNum = toU32(y.substr(0, n));
}

}  // namespace

bool parseUtcTimestamp(const char* data, std::size_t size, Nanos& out) noexcept {
  // YYYYMMDD-HH:MM:SS is 17 characters; a fraction of 1-9 digits may follow a '.'.
  if (size < 17 || data[8] != '-' || data[11] != ':' || data[14] != ':') return false;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(data, 4, year) || !digits(data + 4, 2, month) || !digits(data + 6, 2, day) ||
      !digits(data + 9, 2, hour) || !digits(data + 12, 2, minute) || !digits(data + 15, 2, second))
    return false;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return false;
  // Nanos since 1970 overflow after 2262-04-11, and the core computes wall - sendingTime: keep
  // to years that fit both (a peer's SendingTime outside them is garbage, not a time).
  if (year < 1970 || year > 2261) return false;
  Nanos fraction = 0;
  if (size > 17) {
    if (data[17] != '.' || size == 18 || size > 27) return false;
    static constexpr Nanos kScale[10] = {1,     100000000, 10000000, 1000000, 100000,
                                         10000, 1000,      100,      10,      1};
    for (std::size_t i = 18; i < size; ++i) {
      if (data[i] < '0' || data[i] > '9') return false;
      fraction = fraction * 10 + (data[i] - '0');
    }
    fraction *= kScale[size - 18];
  }
  const std::int64_t days =
      daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  out = ((days * 24 + hour) * 60 + minute) * 60 * kNanosPerSecond + second * kNanosPerSecond +
        fraction;
  return true;
}

bool isStandardHeaderTag(std::uint32_t tag) noexcept {
  switch (tag) {
    case 8:
    case 9:
    case 34:
    case 35:
    case 43:
    case 49:
    case 50:
    case 52:
    case 56:
    case 57:
    case 90:
    case 91:
    case 97:
    case 115:
    case 116:
    case 122:
    case 128:
    case 129:
    case 142:
    case 143:
    case 144:
    case 145:
    case 212:
    case 213:
    case 347:
    case 369:
    case 627:
    case 1128:
    case 1129:
    case 1156:
      return true;
    default:
      return false;
  }
}

namespace {

// The first SOH in [p, end), or end: eight bytes at a time, since header values are short and
// a call to memchr per field costs more than the search itself.
inline const char* findSoh(const char* p, const char* end) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHighs = 0x8080808080808080ull;
  while (end - p >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);
    const std::uint64_t x = word ^ kOnes;  // SOH bytes become zero
    // The lowest flagged byte is the first zero byte (borrows only flag bytes above it).
    const std::uint64_t zero = (x - kOnes) & ~x & kHighs;
    if (zero != 0) {
      if constexpr (std::endian::native == std::endian::little)
        return p + (__builtin_ctzll(zero) >> 3);
      else
        return static_cast<const char*>(std::memchr(p, kSoh, 8));
    }
    p += 8;
  }
  while (p < end && *p != kSoh) ++p;
  return p;
}

// sizeof(Word) bytes at `p` as one word, to compare a fixed run of characters at once.
template <typename Word>
inline Word loadWord(const char* p) noexcept {
  Word w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// The word loadWord reads from `text` (its terminating NUL left out).
template <typename Word, std::size_t N>
constexpr Word wordOf(const char (&text)[N]) noexcept {
  static_assert(N - 1 == sizeof(Word));
  std::array<char, sizeof(Word)> bytes{};
  for (std::size_t i = 0; i < sizeof(Word); ++i) bytes[i] = text[i];
  return std::bit_cast<Word>(bytes);
}

// SOH, then MsgType's tag: what follows BodyLength's digits.
constexpr std::uint32_t kSohMsgTypeTag = wordOf<std::uint32_t>(
    "\x01"
    "35=");

// How many of the eight characters at `p` (all readable) are digits before the first that is
// not, or 8. Little-endian only. Without a branch per digit: BodyLength's two or three digits
// would otherwise end in a mispredicted loop exit.
inline std::size_t leadingDigitsOfWord(const char* p) noexcept {
  constexpr std::uint64_t kHighNibbles = 0xF0F0F0F0F0F0F0F0ull;
  // '0'-'9' are 0x30-0x39: high nibble 3, and still 3 once six is added.
  constexpr std::uint64_t kDigitHigh = 0x3030303030303030ull;
  constexpr std::uint64_t kSixes = 0x0606060606060606ull;
  const std::uint64_t w = loadWord<std::uint64_t>(p);
  // A byte is flagged when it is no digit. Adding six carries into the next byte only from a
  // byte 0xFA or above, which is flagged itself: the lowest flagged byte is exact.
  const std::uint64_t notDigit =
      ((w & kHighNibbles) ^ kDigitHigh) | (((w + kSixes) & kHighNibbles) ^ kDigitHigh);
  return notDigit != 0 ? static_cast<std::size_t>(__builtin_ctzll(notDigit) >> 3) : 8;
}

// How many of the characters at `p` are digits, up to `end`; eight at a time.
inline std::size_t leadingDigits(const char* p, const char* end) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    if (end - p >= 8) {
      const std::size_t n = leadingDigitsOfWord(p);
      if (n < 8) return n;
    }
  }
  const char* q = p;
  while (q < end && *q >= '0' && *q <= '9') ++q;
  return static_cast<std::size_t>(q - p);
}

// A single-character MsgType: the session-level types are 0-5 and A (classify()).
inline RoutineMessage routineMessageOfType(char t) noexcept {
  if (t == '0') return RoutineMessage::kHeartbeat;
  return (t >= '1' && t <= '5') || t == 'A' ? RoutineMessage::kNotRoutine
                                            : RoutineMessage::kApplication;
}

// Whatever the message looks like. Cold and out of line: classifyRoutineMessage() comes here
// only for what its fast path does not cover (see there).
[[gnu::cold, gnu::noinline]] RoutineMessage classifyAnyRoutineMessage(const char* data,
                                                                      std::size_t size) noexcept {
  // 8=BeginString|9=BodyLength|35=MsgType|, the three fields every message starts with. Only
  // BeginString's length is unknown; BodyLength is digits and a routine MsgType is short, so
  // the rest is compared in place.
  const char* const end = data + size;
  if (size < 2 || data[0] != '8' || data[1] != '=') return RoutineMessage::kNotRoutine;
  const char* p = findSoh(data + 2, end);
  if (end - p < 9 || loadWord<std::uint16_t>(p + 1) != wordOf<std::uint16_t>("9="))
    return RoutineMessage::kNotRoutine;
  p += 3;
  const char* const digits = p;
  p += leadingDigits(p, end);
  // SOH 3 5 = T SOH: six bytes at least.
  if (p == digits || end - p < 6 || loadWord<std::uint32_t>(p) != kSohMsgTypeTag)
    return RoutineMessage::kNotRoutine;
  const char* const type = p + 4;
  if (type[0] == kSoh) return RoutineMessage::kNotRoutine;  // no MsgType
  if (type[1] == kSoh) return routineMessageOfType(type[0]);
  // Longer types are all application messages, once the field ends.
  return findSoh(type + 2, end) == end ? RoutineMessage::kNotRoutine : RoutineMessage::kApplication;
}

}  // namespace

// Hot: kept with the decorators' callbacks that call it (src/fix/monitoring_log.cpp). A quiet
// link's FIX thread meets this code from cold caches, a miss for every cache line it runs
// through: the fast path below is a few lines of straight code for the shape of nearly every
// message (FIX.4.x or FIXT.1.1, a BodyLength of one to seven digits, a MsgType of one or two
// characters, at least 32 bytes in all), and answers exactly as classifyAnyRoutineMessage(),
// to which it leaves everything else.
[[gnu::hot]] RoutineMessage classifyRoutineMessage(const char* data, std::size_t size) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    if (size < 32) return classifyAnyRoutineMessage(data, size);
    // Where BodyLength's tag starts: after 8=FIX.4.x SOH or 8=FIXT.1.1 SOH.
    std::size_t at = 0;
    const std::uint64_t begin = loadWord<std::uint64_t>(data);
    if (begin == wordOf<std::uint64_t>("8=FIX.4.") && data[8] != kSoh && data[9] == kSoh)
      at = 10;
    else if (begin == wordOf<std::uint64_t>("8=FIXT.1") &&
             loadWord<std::uint16_t>(data + 8) == wordOf<std::uint16_t>(".1") && data[10] == kSoh)
      at = 11;
    if (at != 0 && loadWord<std::uint16_t>(data + at) == wordOf<std::uint16_t>("9=")) {
      const std::size_t digits = leadingDigitsOfWord(data + at + 2);
      // One to seven digits: p is at most data + 20, and what is read from it ends within the
      // first 27 bytes.
      const char* const p = data + at + 2 + digits;
      if (digits != 0 && digits < 8 && loadWord<std::uint32_t>(p) == kSohMsgTypeTag &&
          p[4] != kSoh) {
        if (p[5] == kSoh) return routineMessageOfType(p[4]);
        // Every MsgType of two characters is an application message's.
        if (p[6] == kSoh) return RoutineMessage::kApplication;
      }
    }
  }
  return classifyAnyRoutineMessage(data, size);
}

void scanFixMessage(const char* data, std::size_t size, SessionEvent& event,
                    bool readApplicationSendingTime) noexcept {
  event.messageClass = MessageClass::kGarbled;
  std::memset(event.msgType, 0, sizeof event.msgType);
  bool sawType = false;
  const char* p = data;
  const char* const end = data + size;
  // One pass: the tag's digits up to '=', then one memchr for the value's SOH.
  while (p < end) {
    std::uint32_t tag = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 9) {
      tag = tag * 10 + static_cast<std::uint32_t>(*p - '0');
      ++p;
      ++digits;
    }
    if (digits == 0 || p >= end || *p != '=') break;
    const char* valueBegin = ++p;
    const void* soh = std::memchr(valueBegin, kSoh, static_cast<std::size_t>(end - valueBegin));
    const char* valueEnd = soh != nullptr ? static_cast<const char*>(soh) : end;
    const std::string_view value(valueBegin, static_cast<std::size_t>(valueEnd - valueBegin));
    p = soh != nullptr ? valueEnd + 1 : end;  // never form a pointer past the end
    // An application message's body holds nothing the monitor reads.
    if (event.messageClass == MessageClass::kApplication && !isStandardHeaderTag(tag)) break;
    switch (tag) {
      case 35: {
        if (sawType) break;  // MsgType is the third field; a second one is not
        sawType = true;
        event.messageClass = classify(value);
        const std::size_t n =
            value.size() < sizeof event.msgType ? value.size() : sizeof event.msgType;
        std::memcpy(event.msgType, value.data(), n);
        break;
      }
      case 34:
        event.seqNum = toU32(value);
        break;
      case 52:
        if ((readApplicationSendingTime || event.messageClass != MessageClass::kApplication) &&
            parseUtcTimestamp(value.data(), value.size(), event.sendingTime))
          event.flags |= event_flag::kHasSendingTime;
        break;
      case 112: {
        event.flags |= event_flag::kHasTestReqId;
        const std::string_view prefix(kProbeTestReqIdPrefix);
        std::uint64_t id = 0;
        if (value == "TEST") {
          event.flags |= event_flag::kQuickfixTestReqId;
        } else if (startsWith(value, prefix) && parseUint(value.substr(prefix.size()), id)) {
          event.flags |= event_flag::kProbeTestReqId;
          event.testReqId = id;
        }
        break;
      }
      case 43:
        if (value == "Y") event.flags |= event_flag::kPossDup;
        break;
      case 123:
        if (value == "Y") event.flags |= event_flag::kGapFill;
        break;
      case 141:
        if (value == "Y") event.flags |= event_flag::kResetSeqNum;
        break;
      case 36:   // NewSeqNo
      case 16:   // EndSeqNo
      case 108:  // HeartBtInt
        event.aux = toU32(value);
        break;
      case 7:  // BeginSeqNo
        event.aux2 = toU32(value);
        break;
      default:
        break;
    }
  }
  if (!sawType) event.messageClass = MessageClass::kGarbled;
}

bool classifyQuickfixEvent(const char* text, std::size_t size, SessionEvent& event) noexcept {
  const std::string_view t(text, size);
  if (t == "Disconnecting") {
    event.kind = EventKind::kDisconnect;
  } else if (startsWith(t, "Timed out waiting for heartbeat")) {
    event.kind = EventKind::kHeartbeatTimeout;
  } else if (startsWith(t, "Timed out waiting for logon response")) {
    event.kind = EventKind::kLogonTimeout;
  } else if (startsWith(t, "MsgSeqNum too high")) {
    event.kind = EventKind::kSeqTooHigh;
    parseExpectingReceived(t, event);
  } else if (startsWith(t, "MsgSeqNum too low")) {
    event.kind = EventKind::kSeqTooLow;
    parseExpectingReceived(t, event);
  } else if (startsWith(t, "Received logon outside of valid logon time") ||
             startsWith(t, "Session is not enabled for logon") ||
             startsWith(t, "Rejected Logon Attempt") ||
             startsWith(t, "Received logon response before sending request")) {
    event.kind = EventKind::kLogonRefused;
  } else if (startsWith(t, "Session not found for incoming message")) {
    event.kind = EventKind::kUnknownSession;
    event.link = kNoLink;
  } else if (startsWith(t, "Connection reset by peer") || startsWith(t, "Socket Error") ||
             startsWith(t, "Broken pipe") || startsWith(t, "Connection failed")) {
    event.kind = EventKind::kSocketError;
  } else {
    return false;
  }
  return true;
}

}  // namespace linkwatch
