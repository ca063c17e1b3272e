// Reading the few fields the monitor needs straight from raw FIX text, and classifying
// QuickFIX's Log::onEvent lines. Runs on the FIX thread: noexcept, no allocation, one pass.
//
// This header is included by the C++14 QuickFIX adapter: keep it C++14-clean.
#pragma once

#include <cstddef>
#include <cstdint>

#include <linkwatch/session_event.hpp>

namespace linkwatch {

// TestReqIDs of our own RTT probes: kProbeTestReqIdPrefix followed by a decimal id.
constexpr char kProbeTestReqIdPrefix[] = "LW";

// Fills messageClass, msgType, seqNum, sendingTime, testReqId, aux/aux2 and flags of
// `event` from a raw FIX message (SOH-separated tag=value). Unparseable input gives
// MessageClass::kGarbled; never reads outside [data, data + size). An application message
// is read only up to the end of its standard header: its body holds nothing the monitor
// uses. An application message's SendingTime is parsed only when `readApplicationSendingTime`
// (it is the costliest field, and the monitor samples it); admin messages' always.
void scanFixMessage(const char* data, std::size_t size, SessionEvent& event,
                    bool readApplicationSendingTime = true) noexcept;

// For the tally of an up link's routine traffic (EventHub::mayTally): what the MsgType (the
// third field) says, reading no further. An application message or a Heartbeat, whatever
// else it carries: while a link may tally, no TestRequest awaits an answer and every other
// event of the link has been applied, so neither a TestReqID nor a resend changes anything
// but counters. kNotRoutine for admin messages and anything not shaped 8, 9, 35, which
// scanFixMessage() then reads in full.
enum class RoutineMessage : std::uint8_t { kNotRoutine, kApplication, kHeartbeat };
RoutineMessage classifyRoutineMessage(const char* data, std::size_t size) noexcept;

// Whether `tag` belongs to the FIX standard header (FIX 4.0 to 5.0 SP2, FIXT.1.1).
bool isStandardHeaderTag(std::uint32_t tag) noexcept;

// Parses a FIX UTCTimestamp (YYYYMMDD-HH:MM:SS[.fraction]) into Unix nanoseconds.
bool parseUtcTimestamp(const char* data, std::size_t size, Nanos& out) noexcept;

// Classifies one QuickFIX Log::onEvent text. Returns false when the text is of no interest
// to the monitor; otherwise sets kind (and seqNum/aux for sequence problems).
bool classifyQuickfixEvent(const char* text, std::size_t size, SessionEvent& event) noexcept;

}  // namespace linkwatch
