#include "core/link_state_machine.hpp"

#include <algorithm>

namespace linkwatch {

LinkStateMachine::LinkStateMachine(LinkTimings timings, const TradingSchedule* schedule)
    : timings_(timings), schedule_(schedule) {}

Nanos LinkStateMachine::lateAfter() const noexcept {
  return timings_.heartBtInt +
         static_cast<Nanos>(static_cast<double>(timings_.heartBtInt) * timings_.heartbeatGrace);
}

void LinkStateMachine::logOff(LinkReason reason, Nanos at) {
  loggedOn_ = false;
  connectivityAt_ = at;
  downReason_ = reason;
  pendingCause_.reset();
  probeId_ = 0;
  quickfixTestSentAt_ = 0;
  gapActive_ = false;
  gapTarget_ = 0;
  resendActive_ = false;
  lastHeartbeat_ = 0;
}

AppliedEvent LinkStateMachine::apply(const SessionEvent& e) {
  AppliedEvent out;
  unknownUntilMono_ = 0;  // any event of the link is an observation of it
  const auto noteCause = [this](LinkReason cause) {
    // The first cause wins: a heartbeat timeout is followed by our own Logout, which the
    // member answers with a Logout; the link went down for the timeout.
    if (!pendingCause_) pendingCause_ = cause;
  };
  switch (e.kind) {
    case EventKind::kLogon:
      out.loggedOn = true;
      if (e.monotonic >= connectivityAt_) {
        loggedOn_ = true;
        connectivityAt_ = e.monotonic;
        pendingCause_.reset();
        lastInbound_ = std::max(lastInbound_, e.monotonic);
        lastHeartbeat_ = 0;
        probeId_ = 0;
        quickfixTestSentAt_ = 0;
        gapActive_ = false;
        resendActive_ = false;
      }
      break;
    case EventKind::kLogout:
    case EventKind::kDisconnect: {
      const LinkReason reason = (e.flags & event_flag::kFixWorkerLost) != 0
                                    ? LinkReason::kFixWorkerLost
                                    : pendingCause_.value_or(LinkReason::kDisconnected);
      if (e.monotonic < connectivityAt_) break;  // older than what we know
      if (loggedOn_) {
        out.countedDisconnect = true;
        out.disconnectReason = reason;
        logOff(reason, e.monotonic);
      } else if (pendingCause_) {
        // A connection that never logged on: a refused logon or a logon timeout.
        downReason_ = *pendingCause_;
        connectivityAt_ = e.monotonic;
        pendingCause_.reset();
      }
      break;
    }
    case EventKind::kSocketError:
      noteCause(LinkReason::kDisconnected);
      break;
    case EventKind::kHeartbeatTimeout:
      noteCause(LinkReason::kHeartbeatTimeout);
      break;
    case EventKind::kLogonTimeout:
      noteCause(LinkReason::kLogonTimeout);
      break;
    case EventKind::kLogonRefused:
      out.logonRefused = true;
      noteCause(LinkReason::kLogonRejected);
      break;
    case EventKind::kSeqTooLow:
      noteCause(LinkReason::kSequenceTooLow);
      break;
    case EventKind::kSeqTooHigh:
      if (!gapActive_) out.gapDetected = true;
      gapActive_ = true;
      gapTarget_ = std::max(gapTarget_, e.seqNum);
      break;
    case EventKind::kMessageIn:
      lastInbound_ = std::max(lastInbound_, e.monotonic);
      // QuickFIX's TestRequest (TEST) only asks "are you there?": like QuickFIX, take any
      // later inbound message as the answer. Our own probes stay strict (they time a round
      // trip, and an ignored TestRequest is a deviation worth showing).
      if (quickfixTestSentAt_ != 0 && e.monotonic >= quickfixTestSentAt_) quickfixTestSentAt_ = 0;
      switch (e.messageClass) {
        case MessageClass::kHeartbeat:
          if (loggedOn_ && lastHeartbeat_ != 0 && e.monotonic > lastHeartbeat_)
            out.heartbeatInterval = e.monotonic - lastHeartbeat_;
          lastHeartbeat_ = std::max(lastHeartbeat_, e.monotonic);
          if ((e.flags & event_flag::kProbeTestReqId) != 0 && probeId_ != 0 &&
              e.testReqId == probeId_) {
            out.rtt = e.monotonic - probeSentAt_;
            probeId_ = 0;
          }
          if ((e.flags & event_flag::kQuickfixTestReqId) != 0) quickfixTestSentAt_ = 0;
          break;
        case MessageClass::kLogon:
          // The member's HeartBtInt replaces ours, up to a day as in the configuration: beyond,
          // HeartBtInt x (1 + HeartbeatGrace) in nanoseconds would overflow.
          if (e.aux > 0 && e.aux <= 86400)
            timings_.heartBtInt = static_cast<Nanos>(e.aux) * kNanosPerSecond;
          break;
        case MessageClass::kLogout:
          if (loggedOn_) noteCause(LinkReason::kLogout);
          break;
        case MessageClass::kSequenceReset:
          // GapFill or Reset to NewSeqNo at or past the message that revealed the gap.
          if (gapActive_ && e.aux >= gapTarget_) gapActive_ = false;
          break;
        case MessageClass::kResendRequest:
          resendActive_ = true;
          resendLastActivity_ = e.monotonic;
          break;
        default:
          break;
      }
      // A resent message just below the one that revealed the gap closes it.
      if (gapActive_ && (e.flags & event_flag::kPossDup) != 0 && e.seqNum + 1 >= gapTarget_)
        gapActive_ = false;
      break;
    case EventKind::kMessageOut:
      switch (e.messageClass) {
        case MessageClass::kTestRequest:
          if ((e.flags & event_flag::kProbeTestReqId) != 0) {
            probeId_ = e.testReqId;
            probeSentAt_ = e.monotonic;
          } else if ((e.flags & event_flag::kQuickfixTestReqId) != 0 && quickfixTestSentAt_ == 0) {
            quickfixTestSentAt_ = e.monotonic;
          }
          break;
        case MessageClass::kResendRequest:
          if (!gapActive_) out.gapDetected = true;
          gapActive_ = true;
          if (e.aux != 0) gapTarget_ = std::max(gapTarget_, e.aux + 1);  // EndSeqNo given
          break;
        case MessageClass::kSequenceReset:
          if (resendActive_) resendLastActivity_ = e.monotonic;
          break;
        default:
          // QuickFIX serves a ResendRequest synchronously; the first message that is not
          // part of the resend means it is over.
          if ((e.flags & event_flag::kPossDup) != 0) {
            if (resendActive_) resendLastActivity_ = e.monotonic;
          } else if (e.monotonic >= resendLastActivity_) {
            // A tally of routine messages (EventHub::tally) may be applied after the resend
            // began; only a message sent since ends it.
            resendActive_ = false;
          }
          break;
      }
      break;
    case EventKind::kUnknownSession:
    case EventKind::kProbeSent:
      break;
  }
  return out;
}

void LinkStateMachine::refreshSchedule(Nanos nowWall) {
  if (schedule_ == nullptr) return;
  // Recompute at each edge, and whenever wall time stepped backwards.
  if (scheduleCheckedWall_ != 0 && nowWall < scheduleNextChangeWall_ &&
      nowWall >= scheduleCheckedWall_) {
    scheduleCheckedWall_ = nowWall;
    return;
  }
  scheduleOpen_ = schedule_->isOpen(nowWall);
  scheduleNextChangeWall_ = schedule_->nextChange(nowWall).value_or(kNever);
  scheduleCheckedWall_ = nowWall;
}

std::pair<LinkState, LinkReason> LinkStateMachine::derive(Nanos nowMono, Nanos nowWall) const {
  if (maintenanceUntilWall_ != 0 && nowWall < maintenanceUntilWall_)
    return {LinkState::kMaintenance, LinkReason::kMaintenance};
  if (!scheduleOpen_) return {LinkState::kOffhours, LinkReason::kOutsideSchedule};
  if (unknownUntilMono_ != 0 && nowMono < unknownUntilMono_)
    return {LinkState::kUnknown, LinkReason::kRestored};
  if (!loggedOn_) return {LinkState::kDown, downReason_};
  if (timings_.heartBtInt > 0 && nowMono - lastInbound_ >= lateAfter())
    return {LinkState::kDegraded, LinkReason::kHeartbeatLate};
  if ((probeId_ != 0 && nowMono - probeSentAt_ >= timings_.testRequestTimeout) ||
      (quickfixTestSentAt_ != 0 && nowMono - quickfixTestSentAt_ >= timings_.testRequestTimeout))
    return {LinkState::kDegraded, LinkReason::kTestRequestUnanswered};
  if (gapActive_) return {LinkState::kDegraded, LinkReason::kSequenceGap};
  if (resendActive_ && nowMono - resendLastActivity_ < timings_.testRequestTimeout)
    return {LinkState::kDegraded, LinkReason::kResendInProgress};
  return {LinkState::kUp, LinkReason::kLoggedOn};
}

bool LinkStateMachine::evaluate(Nanos nowMono, Nanos nowWall) {
  refreshSchedule(nowWall);
  if (unknownUntilMono_ != 0 && nowMono >= unknownUntilMono_) unknownUntilMono_ = 0;
  const auto [state, reason] = derive(nowMono, nowWall);
  if (state == state_ && reason == reason_) return false;
  previousState_ = state_;
  state_ = state;
  reason_ = reason;
  return true;
}

Nanos LinkStateMachine::nextDeadline(Nanos nowMono, Nanos nowWall) const {
  Nanos next = kNever;
  const auto consider = [&](Nanos at) {
    if (at > nowMono && at < next) next = at;
  };
  if (scheduleNextChangeWall_ != kNever) consider(scheduleNextChangeWall_ - nowWall + nowMono);
  if (maintenanceUntilWall_ > nowWall) consider(maintenanceUntilWall_ - nowWall + nowMono);
  if (unknownUntilMono_ != 0) consider(unknownUntilMono_);
  if (loggedOn_) {
    if (timings_.heartBtInt > 0) consider(lastInbound_ + lateAfter());
    if (probeId_ != 0) consider(probeSentAt_ + timings_.testRequestTimeout);
    if (quickfixTestSentAt_ != 0) consider(quickfixTestSentAt_ + timings_.testRequestTimeout);
    if (resendActive_) consider(resendLastActivity_ + timings_.testRequestTimeout);
  }
  return next;
}

}  // namespace linkwatch
