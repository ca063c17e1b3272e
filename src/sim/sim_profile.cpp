#include "sim/sim_profile.hpp"

namespace linkwatch::sim {

std::string_view toString(SimProfile profile) noexcept {
  switch (profile) {
    case SimProfile::kWellBehaved:
      return "well-behaved";
    case SimProfile::kNoTestRequestAnswer:
      return "no-test-request-answer";
    case SimProfile::kIgnoreGaps:
      return "ignore-gaps";
    case SimProfile::kEmptyResend:
      return "empty-resend";
    case SimProfile::kWrongHeartbeatRate:
      return "wrong-heartbeat-rate";
    case SimProfile::kIgnoreInvalid:
      return "ignore-invalid";
    case SimProfile::kResetOnReconnect:
      return "reset-on-reconnect";
    case SimProfile::kNoLogoutReply:
      return "no-logout-reply";
    case SimProfile::kTightLogonRetry:
      return "tight-logon-retry";
  }
  return "unknown";
}

std::string_view describe(SimProfile profile) noexcept {
  switch (profile) {
    case SimProfile::kWellBehaved:
      return "follows every session-level rule";
    case SimProfile::kNoTestRequestAnswer:
      return "never answers a TestRequest";
    case SimProfile::kIgnoreGaps:
      return "accepts a MsgSeqNum too high without a ResendRequest";
    case SimProfile::kEmptyResend:
      return "answers a ResendRequest with nothing";
    case SimProfile::kWrongHeartbeatRate:
      return "heartbeats every 2 x HeartBtInt";
    case SimProfile::kIgnoreInvalid:
      return "drops invalid messages without a Reject or Logout";
    case SimProfile::kResetOnReconnect:
      return "resets sequence numbers (ResetSeqNumFlag=Y) on every reconnect";
    case SimProfile::kNoLogoutReply:
      return "never answers a Logout";
    case SimProfile::kTightLogonRetry:
      return "retries a refused logon at once";
  }
  return "unknown";
}

std::optional<SimProfile> simProfileFromString(std::string_view name) noexcept {
  for (SimProfile p : kAllSimProfiles) {
    if (toString(p) == name) return p;
  }
  return std::nullopt;
}

std::string simProfileNames() {
  std::string names;
  for (SimProfile p : kAllSimProfiles) {
    if (!names.empty()) names += ", ";
    names += toString(p);
  }
  return names;
}

}  // namespace linkwatch::sim
