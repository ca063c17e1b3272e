// What the FIX session layer says about the standard header of one inbound message, before
// its sequence number is looked at: accept it, reject it (session-level Reject), or end the
// session (Logout, then disconnect). Pure: no socket, no state beyond what is passed in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <linkwatch/clock.hpp>

#include "sim/fix_wire.hpp"

namespace linkwatch::sim {

// SessionRejectReason(373) values the member sends.
enum class SessionRejectReason : int {
  kRequiredTagMissing = 1,
  kValueIncorrect = 5,
  kIncorrectDataFormat = 6,
  kCompIdProblem = 9,
  kSendingTimeAccuracy = 10,
};

struct InboundExpectations {
  std::string_view beginString;
  std::string_view senderCompId;  // the counterparty's: our TargetCompID
  std::string_view targetCompId;  // ours: our SenderCompID
  // |SendingTime - now| beyond this is an accuracy problem; 0 disables the check.
  Nanos maxSendingTimeSkew = 120 * kNanosPerSecond;
};

struct InboundVerdict {
  enum class Action : std::uint8_t {
    kAccept,
    kReject,           // Reject(3), then count the MsgSeqNum as received
    kRejectAndLogout,  // Reject(3), Logout(5) with the text, disconnect
    kLogout,           // Logout(5) with the text, disconnect: nothing to reference
  };
  Action action = Action::kAccept;
  SessionRejectReason reason = SessionRejectReason::kRequiredTagMissing;
  int refTagId = 0;  // RefTagID(371); 0 when none
  std::string text;  // Text(58) of the Reject and of the Logout
};

// The checks of the FIX session-level test cases 2e, 2f, 2i, 2k, 2o and 14a, in that order of
// severity: BeginString (2i: Logout), MsgSeqNum missing (Logout: the message cannot be
// sequenced), SenderCompID/TargetCompID/SendingTime missing (14a: Reject), CompID wrong
// (2k: Reject and Logout), SendingTime malformed (Reject) or inaccurate (2o: Reject and
// Logout), PossDupFlag=Y without OrigSendingTime (2e: Reject, except on SequenceReset) or
// with OrigSendingTime after SendingTime (2f: Reject and Logout).
InboundVerdict checkInboundHeader(const FixMessage& message, const InboundExpectations& expected,
                                  Nanos wallNow);

}  // namespace linkwatch::sim
