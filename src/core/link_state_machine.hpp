// One link's state, derived from the facts the monitor has seen (logged on or not and
// why, last inbound message, outstanding TestRequests, gap recovery, schedule) and the
// current time. The state is a function of facts and time; evaluate() says when it changes.
#pragma once

#include <cstdint>
#include <optional>

#include <linkwatch/clock.hpp>
#include <linkwatch/link_state.hpp>
#include <linkwatch/session_event.hpp>
#include <linkwatch/trading_schedule.hpp>

namespace linkwatch {

struct LinkTimings {
  Nanos heartBtInt = 0;  // configured; replaced by the Logon's HeartBtInt when one arrives
  double heartbeatGrace = 0.2;
  Nanos testRequestTimeout = kNanosPerSecond;
};

constexpr Nanos kNever = INT64_MAX;

// What the statistics need to know about an applied event.
struct AppliedEvent {
  bool countedDisconnect = false;
  LinkReason disconnectReason = LinkReason::kDisconnected;
  std::optional<Nanos> rtt;
  std::optional<Nanos> heartbeatInterval;
  bool gapDetected = false;
  bool loggedOn = false;
  bool logonRefused = false;
};

class LinkStateMachine {
 public:
  LinkStateMachine(LinkTimings timings, const TradingSchedule* schedule);

  // Folds an event into the facts. Connectivity events older than the newest one applied
  // are counted but do not change whether the link is logged on: events from different
  // FIX threads (or deferred from a full queue) may arrive out of order.
  AppliedEvent apply(const SessionEvent& event);

  // Maintenance until the given wall time (0 ends it). Takes precedence over every other
  // state: an operator said this link is expected to be off.
  void setMaintenance(Nanos untilWall) noexcept { maintenanceUntilWall_ = untilWall; }
  Nanos maintenanceUntil() const noexcept { return maintenanceUntilWall_; }

  // After a restart: the state is `unknown` (reason `restored`) until the link's first event,
  // or until `observeByMono` passes without one; then the facts decide (down, never_connected
  // for a link nobody connected). Maintenance and offhours still take precedence: they do
  // not depend on observing the link.
  void markUnknownUntil(Nanos observeByMono) noexcept { unknownUntilMono_ = observeByMono; }
  bool awaitingObservation() const noexcept { return unknownUntilMono_ != 0; }

  // Re-derives the state at the given time. Returns true if state or reason changed.
  bool evaluate(Nanos nowMono, Nanos nowWall);

  // The next monotonic instant at which evaluate() may give a different answer.
  Nanos nextDeadline(Nanos nowMono, Nanos nowWall) const;

  LinkState state() const noexcept { return state_; }
  LinkReason reason() const noexcept { return reason_; }
  LinkState previousState() const noexcept { return previousState_; }
  bool loggedOn() const noexcept { return loggedOn_; }
  // Whether routine messages may be tallied instead of published (EventHub::mayTally): the
  // link is up and awaits no answer to a TestRequest, so neither a Heartbeat's TestReqID nor
  // any message's order can change its state.
  bool routineMessagesMayBeTallied() const noexcept {
    return state_ == LinkState::kUp && probeId_ == 0 && quickfixTestSentAt_ == 0;
  }
  Nanos heartBtInt() const noexcept { return timings_.heartBtInt; }
  Nanos lastInbound() const noexcept { return lastInbound_; }

 private:
  Nanos lateAfter() const noexcept;
  void refreshSchedule(Nanos nowWall);
  void logOff(LinkReason reason, Nanos at);
  std::pair<LinkState, LinkReason> derive(Nanos nowMono, Nanos nowWall) const;

  LinkTimings timings_;
  const TradingSchedule* schedule_;  // not owned; null = always open

  bool loggedOn_ = false;
  Nanos connectivityAt_ = 0;  // newest connectivity event applied
  LinkReason downReason_ = LinkReason::kNeverConnected;
  // A cause reported before the disconnect it leads to (timeout, refused logon, Logout).
  std::optional<LinkReason> pendingCause_;

  Nanos lastInbound_ = 0;
  Nanos lastHeartbeat_ = 0;
  std::uint64_t probeId_ = 0;  // outstanding RTT probe (0: none)
  Nanos probeSentAt_ = 0;
  Nanos quickfixTestSentAt_ = 0;  // outstanding TestReqID=TEST (0: none)
  bool gapActive_ = false;
  std::uint32_t gapTarget_ = 0;  // the too-high MsgSeqNum that revealed the gap
  bool resendActive_ = false;    // the member asked us to resend
  Nanos resendLastActivity_ = 0;

  Nanos maintenanceUntilWall_ = 0;
  Nanos unknownUntilMono_ = 0;  // 0: observed (or never restored)

  bool scheduleOpen_ = true;
  Nanos scheduleNextChangeWall_ = kNever;
  Nanos scheduleCheckedWall_ = 0;

  LinkState state_ = LinkState::kDown;
  LinkReason reason_ = LinkReason::kNeverConnected;
  LinkState previousState_ = LinkState::kDown;
};

}  // namespace linkwatch
