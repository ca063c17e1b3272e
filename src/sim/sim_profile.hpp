// Member profiles: a well-behaved FIX initiator, or one that breaks exactly one session-level
// rule, so that every certification case can be shown to fail for the right reason.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace linkwatch::sim {

enum class SimProfile : std::uint8_t {
  kWellBehaved,
  kNoTestRequestAnswer,  // TestRequests go unanswered; heartbeats continue
  kIgnoreGaps,           // a MsgSeqNum too high is accepted: no ResendRequest
  kEmptyResend,          // a ResendRequest is answered with nothing
  kWrongHeartbeatRate,   // heartbeats every 2 x HeartBtInt (the Logon still says HeartBtInt)
  kIgnoreInvalid,        // invalid messages are dropped silently: no Reject, no Logout
  kResetOnReconnect,     // every logon after the first: ResetSeqNumFlag=Y and MsgSeqNum 1
  kNoLogoutReply,        // the counterparty's Logout goes unanswered
  kTightLogonRetry,      // a refused logon is retried at once, without backoff
};
constexpr std::size_t kSimProfileCount = 9;

constexpr std::array<SimProfile, kSimProfileCount> kAllSimProfiles = {
    SimProfile::kWellBehaved,      SimProfile::kNoTestRequestAnswer, SimProfile::kIgnoreGaps,
    SimProfile::kEmptyResend,      SimProfile::kWrongHeartbeatRate,  SimProfile::kIgnoreInvalid,
    SimProfile::kResetOnReconnect, SimProfile::kNoLogoutReply,       SimProfile::kTightLogonRetry};

// "well-behaved", "no-test-request-answer", ...: the spelling of --profile and of records.
std::string_view toString(SimProfile profile) noexcept;
// The rule the profile breaks, in a few words ("answers TestRequests" for well-behaved).
std::string_view describe(SimProfile profile) noexcept;
std::optional<SimProfile> simProfileFromString(std::string_view name) noexcept;
// "well-behaved, no-test-request-answer, ...": for help texts and error messages.
std::string simProfileNames();

}  // namespace linkwatch::sim
