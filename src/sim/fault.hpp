// Faults a simulated member can inject into its own FIX link, and their text form
// ("silence:5000", "late_heartbeats:300:20000", "skip_seq:5", "close", ...).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace linkwatch::sim {

enum class FaultKind : std::uint8_t {
  kSilence,         // send nothing at all for durationMs: TCP stays open, and after a disconnect
                    // the member does not reconnect until the silence ends
  kClose,           // TCP FIN, reconnect after the reconnect delay
  kReset,           // TCP RST (SO_LINGER {1,0}), reconnect after the delay
  kLogout,          // Logout, wait for the answer (<= 2 s), close, reconnect
  kSkipSeq,         // the next MsgSeqNum jumps by amount
  kLateHeartbeats,  // each heartbeat amount ms late, for durationMs
  kGarbage,         // amount random non-FIX bytes on the open connection
  kReconnectStorm,  // amount quick connect/logon/close cycles
  kIgnoreTestRequests,  // heartbeats continue, TestRequests unanswered, for durationMs
};
constexpr std::size_t kFaultKindCount = 9;

constexpr std::array<FaultKind, kFaultKindCount> kAllFaultKinds = {
    FaultKind::kSilence, FaultKind::kClose,          FaultKind::kReset,
    FaultKind::kLogout,  FaultKind::kSkipSeq,        FaultKind::kLateHeartbeats,
    FaultKind::kGarbage, FaultKind::kReconnectStorm, FaultKind::kIgnoreTestRequests};

struct Fault {
  FaultKind kind = FaultKind::kClose;
  std::int64_t durationMs = 0;  // silence, late_heartbeats, ignore_test_requests
  std::int64_t amount = 0;      // skip_seq: jump; late_heartbeats: delay ms; garbage: bytes;
                                // reconnect_storm: cycles
};

// "silence", "late_heartbeats", ...: the spelling used in specs, records and logs.
std::string_view toString(FaultKind kind) noexcept;
std::optional<FaultKind> faultKindFromString(std::string_view name) noexcept;

// Parses "kind[:arg[:arg]]". On failure returns nullopt and, if `error` is given, says what
// was wrong and what was expected, e.g. "silence needs a duration: silence:DURATION_MS".
std::optional<Fault> parseFault(std::string_view spec, std::string* error = nullptr);
// The inverse of parseFault: parseFault(formatFault(f)) == f for every valid fault.
std::string formatFault(const Fault& fault);
// One line listing every kind with its arguments, for `help` and error messages.
std::string faultSyntaxHelp();

inline bool operator==(const Fault& a, const Fault& b) noexcept {
  return a.kind == b.kind && a.durationMs == b.durationMs && a.amount == b.amount;
}

}  // namespace linkwatch::sim
