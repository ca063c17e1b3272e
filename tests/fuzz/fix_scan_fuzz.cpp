// Raw FIX handling on the FIX thread: scanFixMessage, parseUtcTimestamp and
// classifyQuickfixEvent on any bytes. They are noexcept and must never read outside the
// buffer, so each gets an exact-size heap copy: one byte past the end is an ASan report.
//
// Differential checks against simple references:
//  - parseUtcTimestamp against std::chrono's calendar for every valid date it accepts;
//  - scanFixMessage against the simulator's FixMessage for messages both can split;
//  - classifyRoutineMessage (the tally's fast path) against scanFixMessage.
#include <linkwatch/fix_scan.hpp>
#include <linkwatch/session_event.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz_support.hpp"
#include "sim/fix_wire.hpp"

namespace {

using linkwatch::Nanos;
using linkwatch::SessionEvent;

// An exact-size heap copy: ASan's redzone starts at data + size.
std::unique_ptr<char[]> exactCopy(const std::uint8_t* data, std::size_t size) {
  std::unique_ptr<char[]> copy(new char[size]);
  if (size != 0) std::memcpy(copy.get(), data, size);
  return copy;
}

int twoDigits(const char* p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

// parseUtcTimestamp against std::chrono for a text it accepted.
void checkTimestamp(const char* text, std::size_t size, Nanos parsed) {
  using namespace std::chrono;
  const int y = twoDigits(text) * 100 + twoDigits(text + 2);
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(twoDigits(text + 4))},
                           day{static_cast<unsigned>(twoDigits(text + 6))}};
  // The scanner checks day <= 31 only, not the month's length; the reference covers real dates.
  if (!ymd.ok()) return;
  const std::int64_t secs = sys_days{ymd}.time_since_epoch().count() * 86400LL +
                            twoDigits(text + 9) * 3600LL + twoDigits(text + 12) * 60LL +
                            twoDigits(text + 15);
  Nanos fraction = 0;
  Nanos scale = linkwatch::kNanosPerSecond;
  for (std::size_t i = 18; i < size; ++i) {
    scale /= 10;
    fraction += (text[i] - '0') * scale;
  }
  LW_FUZZ_CHECK(secs * linkwatch::kNanosPerSecond + fraction == parsed, std::string(text, size));
}

void checkScanAgainstFixMessage(const char* text, std::size_t size, const SessionEvent& event) {
  linkwatch::sim::FixMessage message;
  if (!message.assign(std::string(text, size))) return;
  // Both read tags of at most 9 digits up to '=' and values up to SOH. scanFixMessage keeps the
  // first 35 and the last 34 it sees, FixMessage::get the first: compare messages that carry
  // each once.
  // An application message is read only up to the end of its standard header.
  int msgTypes = 0;
  int seqNums = 0;
  bool typeSeen = false;
  bool inBody = false;
  bool seqNumInBody = false;
  const bool application = event.messageClass == linkwatch::MessageClass::kApplication;
  for (const auto& f : message.fields()) {
    if (typeSeen && application &&
        !linkwatch::isStandardHeaderTag(static_cast<std::uint32_t>(f.tag)))
      inBody = true;
    typeSeen = typeSeen || f.tag == 35;
    msgTypes += f.tag == 35;
    seqNums += f.tag == 34;
    seqNumInBody = seqNumInBody || (f.tag == 34 && inBody);
  }
  if (msgTypes == 1) {
    const std::string_view type = *message.get(35);
    LW_FUZZ_CHECK(event.messageClass != linkwatch::MessageClass::kGarbled || type.empty(),
                  "scanFixMessage calls a message with a MsgType garbled");
    const std::size_t n = type.size() < sizeof event.msgType ? type.size() : sizeof event.msgType;
    LW_FUZZ_CHECK(std::memcmp(event.msgType, type.data(), n) == 0, "MsgType differs");
  } else if (msgTypes == 0) {
    LW_FUZZ_CHECK(event.messageClass == linkwatch::MessageClass::kGarbled,
                  "a message without MsgType is not garbled");
  }
  if (seqNums == 1 && !seqNumInBody) {
    const auto seq = message.getInt(34);
    const std::uint32_t expected =
        seq && *seq <= 0xFFFFFFFFLL ? static_cast<std::uint32_t>(*seq) : 0;
    LW_FUZZ_CHECK(event.seqNum == expected, "MsgSeqNum differs");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::unique_ptr<char[]> text = exactCopy(data, size);

  SessionEvent event{};
  linkwatch::scanFixMessage(text.get(), size, event);
  if ((event.flags & linkwatch::event_flag::kHasSendingTime) != 0) {
    // The core computes wall - sendingTime; a SendingTime before 1970 could overflow it.
    LW_FUZZ_CHECK(event.sendingTime >= 0, "SendingTime before 1970 accepted");
  }
  checkScanAgainstFixMessage(text.get(), size, event);

  // What the tally's fast classifier lets through, the full scan must read as the same class.
  switch (linkwatch::classifyRoutineMessage(text.get(), size)) {
    case linkwatch::RoutineMessage::kApplication:
      LW_FUZZ_CHECK(event.messageClass == linkwatch::MessageClass::kApplication,
                    "tallied as an application message, scanned as another class");
      break;
    case linkwatch::RoutineMessage::kHeartbeat:
      LW_FUZZ_CHECK(event.messageClass == linkwatch::MessageClass::kHeartbeat,
                    "tallied as a Heartbeat, scanned as another class");
      break;
    case linkwatch::RoutineMessage::kNotRoutine:
      break;
  }

  Nanos parsed = 0;
  if (linkwatch::parseUtcTimestamp(text.get(), size, parsed)) {
    LW_FUZZ_CHECK(parsed >= 0, "UTCTimestamp before 1970 accepted");
    checkTimestamp(text.get(), size, parsed);
  }

  // kProbeSent is ours, never a QuickFIX event: a classified text must replace it.
  SessionEvent classified{};
  classified.kind = linkwatch::EventKind::kProbeSent;
  if (linkwatch::classifyQuickfixEvent(text.get(), size, classified)) {
    LW_FUZZ_CHECK(classified.kind != linkwatch::EventKind::kProbeSent, "classified, no kind");
  } else {
    LW_FUZZ_CHECK(classified.kind == linkwatch::EventKind::kProbeSent, "unclassified, changed");
  }
  return 0;
}
