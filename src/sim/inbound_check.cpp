#include "sim/inbound_check.hpp"

#include <optional>

namespace linkwatch::sim {
namespace {

using Action = InboundVerdict::Action;

InboundVerdict verdict(Action action, SessionRejectReason reason, int tag, std::string text) {
  InboundVerdict v;
  v.action = action;
  v.reason = reason;
  v.refTagId = tag;
  v.text = std::move(text);
  return v;
}

std::string quoted(std::string_view value) { return "'" + std::string(value) + "'"; }

const char* tagName(int tag) noexcept {
  switch (tag) {
    case 49:
      return "SenderCompID(49)";
    case 56:
      return "TargetCompID(56)";
    case 52:
      return "SendingTime(52)";
    default:
      return "tag";
  }
}

}  // namespace

InboundVerdict checkInboundHeader(const FixMessage& message, const InboundExpectations& expected,
                                  Nanos wallNow) {
  const std::string_view begin = message.get(8).value_or(std::string_view{});
  if (begin != expected.beginString) {
    return verdict(Action::kLogout, SessionRejectReason::kValueIncorrect, 8,
                   "Incorrect BeginString: expected " + quoted(expected.beginString) +
                       ", received " + quoted(begin));
  }
  if (!message.getInt(34) || *message.getInt(34) < 1) {
    return verdict(Action::kLogout, SessionRejectReason::kRequiredTagMissing, 34,
                   "MsgSeqNum(34) missing or not a positive integer");
  }
  for (int tag : {49, 56, 52}) {
    if (!message.get(tag) || message.get(tag)->empty()) {
      return verdict(Action::kReject, SessionRejectReason::kRequiredTagMissing, tag,
                     std::string("Required tag missing: ") + tagName(tag));
    }
  }
  const std::string_view sender = *message.get(49);
  const std::string_view target = *message.get(56);
  if (sender != expected.senderCompId) {
    return verdict(Action::kRejectAndLogout, SessionRejectReason::kCompIdProblem, 49,
                   "CompID problem: SenderCompID(49) " + quoted(sender) + ", expected " +
                       quoted(expected.senderCompId));
  }
  if (target != expected.targetCompId) {
    return verdict(Action::kRejectAndLogout, SessionRejectReason::kCompIdProblem, 56,
                   "CompID problem: TargetCompID(56) " + quoted(target) + ", expected " +
                       quoted(expected.targetCompId));
  }
  const std::optional<Nanos> sendingTime = parseSendingTime(*message.get(52));
  if (!sendingTime) {
    return verdict(Action::kReject, SessionRejectReason::kIncorrectDataFormat, 52,
                   "Incorrect data format for SendingTime(52): " + quoted(*message.get(52)));
  }
  if (expected.maxSendingTimeSkew > 0) {
    const Nanos skew = *sendingTime > wallNow ? *sendingTime - wallNow : wallNow - *sendingTime;
    if (skew > expected.maxSendingTimeSkew) {
      return verdict(Action::kRejectAndLogout, SessionRejectReason::kSendingTimeAccuracy, 52,
                     "SendingTime accuracy problem: " + quoted(*message.get(52)) + " is " +
                         std::to_string(skew / kNanosPerSecond) + " s away from now");
    }
  }
  if (message.get(43) == std::optional<std::string_view>("Y")) {
    const auto orig = message.get(122);
    if (!orig) {
      if (message.msgType() == "4") return {};  // a GapFill needs no OrigSendingTime
      return verdict(Action::kReject, SessionRejectReason::kRequiredTagMissing, 122,
                     "Required tag missing: OrigSendingTime(122) on PossDupFlag=Y");
    }
    const std::optional<Nanos> origTime = parseSendingTime(*orig);
    if (!origTime) {
      return verdict(Action::kReject, SessionRejectReason::kIncorrectDataFormat, 122,
                     "Incorrect data format for OrigSendingTime(122): " + quoted(*orig));
    }
    if (*origTime > *sendingTime) {
      return verdict(Action::kRejectAndLogout, SessionRejectReason::kSendingTimeAccuracy, 122,
                     "SendingTime accuracy problem: OrigSendingTime(122) " + quoted(*orig) +
                         " is after SendingTime(52) " + quoted(*message.get(52)));
    }
  }
  return {};
}

}  // namespace linkwatch::sim
