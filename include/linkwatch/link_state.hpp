// The light on the wall: one state per link, always with the reason it was entered.
#pragma once

#include <cstdint>
#include <string_view>

namespace linkwatch {

enum class LinkState : std::uint8_t {
  kUp,           // logged on, traffic on time
  kDegraded,     // logged on, but late, unanswered, or recovering a gap
  kDown,         // inside trading hours and not logged on
  kOffhours,     // outside the session's schedule: not an incident
  kMaintenance,  // put in maintenance by an operator: shown as such, raises no alert
  // Restored from the journal after a restart, not yet re-observed: the last known state is
  // history, not a fact about now, so it is never shown as the current light.
  kUnknown,
};
constexpr int kLinkStateCount = 6;

enum class LinkReason : std::uint8_t {
  kNeverConnected,
  kLoggedOn,
  kHeartbeatLate,
  kTestRequestUnanswered,
  kResendInProgress,
  kSequenceGap,
  kDisconnected,
  kLogout,
  kLogonRejected,
  kLogonTimeout,
  kHeartbeatTimeout,
  kSequenceTooLow,
  kOutsideSchedule,
  kMaintenance,
  kRestored,  // state unknown: restored from the journal, waiting for the link's first event
  // The QuickFIX worker process that ran the session died or hung (FixWorkers): the member
  // may well still be there; the exchange's side of the link is what went.
  kFixWorkerLost,
};
constexpr int kLinkReasonCount = 16;

constexpr std::string_view toString(LinkState state) noexcept {
  switch (state) {
    case LinkState::kUp:
      return "up";
    case LinkState::kDegraded:
      return "degraded";
    case LinkState::kDown:
      return "down";
    case LinkState::kOffhours:
      return "offhours";
    case LinkState::kMaintenance:
      return "maintenance";
    case LinkState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

constexpr std::string_view toString(LinkReason reason) noexcept {
  switch (reason) {
    case LinkReason::kNeverConnected:
      return "never_connected";
    case LinkReason::kLoggedOn:
      return "logged_on";
    case LinkReason::kHeartbeatLate:
      return "heartbeat_late";
    case LinkReason::kTestRequestUnanswered:
      return "test_request_unanswered";
    case LinkReason::kResendInProgress:
      return "resend_in_progress";
    case LinkReason::kSequenceGap:
      return "sequence_gap";
    case LinkReason::kDisconnected:
      return "disconnected";
    case LinkReason::kLogout:
      return "logout";
    case LinkReason::kLogonRejected:
      return "logon_rejected";
    case LinkReason::kLogonTimeout:
      return "logon_timeout";
    case LinkReason::kHeartbeatTimeout:
      return "heartbeat_timeout";
    case LinkReason::kSequenceTooLow:
      return "sequence_too_low";
    case LinkReason::kOutsideSchedule:
      return "outside_schedule";
    case LinkReason::kMaintenance:
      return "maintenance";
    case LinkReason::kRestored:
      return "restored";
    case LinkReason::kFixWorkerLost:
      return "fix_worker_lost";
  }
  return "unknown";
}

}  // namespace linkwatch
