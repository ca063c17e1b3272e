// LinkMonitor against a model of itself: after every pass, each link's state must be what a
// fresh evaluation of the same facts gives at that moment. The monitor skips evaluations it
// can prove change nothing (a routine message on an up link before its next deadline,
// LinkMonitor::apply); a skip that was not safe leaves a link in a state the model does not
// give. Random traffic, out-of-order stamps, probes, gaps and trading-hours edges.
#include <linkwatch/link_monitor.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "core/link_state_machine.hpp"

namespace linkwatch {
namespace {

constexpr Nanos kMs = kNanosPerMilli;
constexpr std::size_t kLinks = 16;

MonitorConfig modelConfig() {
  MonitorConfig config;
  for (std::size_t i = 0; i < kLinks; ++i) {
    // Trading hours of 20 s, opening between 00:00:03 and 00:04:40 UTC (ManualClock starts
    // at midnight, and the test runs about five minutes of its time).
    ScheduleSpec window;
    window.startSecond = static_cast<int>(3 + 17 * i);
    window.endSecond = window.startSecond + 20;
    LinkConfig link;
    link.memberId = "M" + std::to_string(i);
    link.memberName = link.memberId;
    link.sessionKey = "FIX.4.4:EXCH->" + link.memberId;
    link.heartBtIntSeconds = 1;
    if (i % 4 == 1) link.schedule = TradingSchedule(window);
    config.links.push_back(link);
  }
  return config;
}

class Model {
 public:
  explicit Model(const MonitorConfig& config) {
    for (const LinkConfig& lc : config.links) {
      LinkTimings timings;
      timings.heartBtInt = static_cast<Nanos>(lc.heartBtIntSeconds) * kNanosPerSecond;
      timings.heartbeatGrace = config.heartbeatGrace;
      timings.testRequestTimeout = std::chrono::nanoseconds(config.testRequestTimeout).count();
      machines_.push_back(std::make_unique<LinkStateMachine>(timings, &lc.schedule));
    }
  }
  void apply(const SessionEvent& e) { machines_[e.link]->apply(e); }
  LinkStateMachine& at(LinkIndex link, Nanos nowMono, Nanos nowWall) {
    machines_[link]->evaluate(nowMono, nowWall);
    return *machines_[link];
  }

 private:
  std::vector<std::unique_ptr<LinkStateMachine>> machines_;
};

TEST(LinkMonitorModel, EveryPassEndsInTheStateAFreshEvaluationGives) {
  const MonitorConfig config = modelConfig();
  ManualClock clock;
  LinkMonitor monitor(config, clock);
  Model model(config);
  std::mt19937_64 rng(20261125);
  std::uniform_int_distribution<int> percent(0, 99);
  std::uniform_int_distribution<LinkIndex> pickLink(0, kLinks - 1);
  std::uniform_int_distribution<int> burst(0, 40);
  std::uniform_int_distribution<Nanos> step(0, 200 * kMs);
  std::uniform_int_distribution<Nanos> lag(0, 2000 * kMs);
  std::vector<std::uint32_t> seq(kLinks, 1);
  std::uint64_t probeId = 1;
  std::size_t upPasses = 0;
  std::size_t transitions = 0;
  monitor.addListener([&](const Transition&) { ++transitions; });

  for (int pass = 0; pass < 3000; ++pass) {
    const int events = burst(rng);
    for (int k = 0; k < events; ++k) {
      SessionEvent e;
      std::memset(&e, 0, sizeof e);
      e.link = pickLink(rng);
      e.monotonic = clock.monotonic();
      // Now and then a message stamped long ago: a FIX thread preempted before it published.
      if (percent(rng) < 3) e.monotonic -= lag(rng);
      e.wall = e.monotonic + (clock.wall() - clock.monotonic());
      e.seqNum = seq[e.link]++;
      e.kind = EventKind::kMessageIn;
      e.messageClass = MessageClass::kHeartbeat;
      const int r = percent(rng);
      if (r < 4) {
        e.kind = EventKind::kLogon;
        e.messageClass = MessageClass::kApplication;
      } else if (r < 5) {
        e.kind = percent(rng) < 50 ? EventKind::kLogout : EventKind::kDisconnect;
        e.messageClass = MessageClass::kApplication;
      } else if (r < 45) {
        e.flags = event_flag::kHasSendingTime;  // a Heartbeat
      } else if (r < 63) {
        e.messageClass = MessageClass::kApplication;
      } else if (r < 75) {
        e.kind = EventKind::kMessageOut;
        e.messageClass = MessageClass::kApplication;
      } else if (r < 80) {  // our RTT probe
        e.kind = EventKind::kMessageOut;
        e.messageClass = MessageClass::kTestRequest;
        e.flags = event_flag::kHasTestReqId | event_flag::kProbeTestReqId;
        e.testReqId = ++probeId;
      } else if (r < 84) {  // an answer to the latest probe, or to none
        e.flags = event_flag::kHasTestReqId | event_flag::kProbeTestReqId;
        e.testReqId = percent(rng) < 70 ? probeId : probeId + 1000;
      } else if (r < 87) {  // QuickFIX's own TestRequest
        e.kind = EventKind::kMessageOut;
        e.messageClass = MessageClass::kTestRequest;
        e.flags = event_flag::kHasTestReqId | event_flag::kQuickfixTestReqId;
      } else if (r < 89) {
        e.kind = EventKind::kSeqTooHigh;
        e.messageClass = MessageClass::kApplication;
        e.seqNum += 5;
      } else if (r < 91) {
        e.messageClass = MessageClass::kSequenceReset;
        e.aux = e.seqNum + 10;
      } else if (r < 93) {
        e.kind = EventKind::kMessageOut;
        e.messageClass = MessageClass::kResendRequest;
      } else if (r < 95) {  // the member asks us to resend
        e.messageClass = MessageClass::kResendRequest;
      } else if (r < 97) {
        e.messageClass = MessageClass::kApplication;
        e.flags = event_flag::kPossDup;
      } else {
        e.messageClass = MessageClass::kLogout;
      }
      ASSERT_TRUE(monitor.hub().publish(e));
      model.apply(e);
    }
    monitor.runOnce();
    const Nanos nowMono = clock.monotonic();
    const Nanos nowWall = clock.wall();
    for (LinkIndex link = 0; link < kLinks; ++link) {
      const LinkStateMachine& expected = model.at(link, nowMono, nowWall);
      const LinkStats& s = monitor.stats(link);
      ASSERT_EQ(s.state.load(), expected.state()) << "link " << link << ", pass " << pass;
      ASSERT_EQ(s.reason.load(), expected.reason()) << "link " << link << ", pass " << pass;
      if (expected.state() == LinkState::kUp) ++upPasses;
    }
    clock.advance(step(rng));
  }
  // The traffic kept links up much of the time, so the skip was taken, and they left it often.
  EXPECT_GT(upPasses, 3000u * kLinks / 3);
  EXPECT_GT(transitions, 500u);
}

// The skip is taken only while the link's next deadline is ahead. Here it has passed when a
// message stamped before it arrives (its FIX thread was preempted), followed by a fresh
// Heartbeat: the link was silent longer than HeartBtInt x 1.2 in between, and the history
// says so even though the pass ends with the link up.
TEST(LinkMonitorModel, AMessageAfterAMissedDeadlineStillShowsTheSilence) {
  MonitorConfig config = modelConfig();
  config.links.resize(1);
  config.links[0].schedule = TradingSchedule();
  ManualClock clock;
  LinkMonitor monitor(config, clock);
  std::vector<Transition> seen;
  monitor.addListener([&](const Transition& t) { seen.push_back(t); });
  const auto stamped = [&](EventKind kind, MessageClass cls, Nanos at) {
    SessionEvent e;
    std::memset(&e, 0, sizeof e);
    e.kind = kind;
    e.messageClass = cls;
    e.monotonic = at;
    e.wall = at + (clock.wall() - clock.monotonic());
    return e;
  };
  const Nanos logonAt = clock.monotonic();
  ASSERT_TRUE(
      monitor.hub().publish(stamped(EventKind::kLogon, MessageClass::kApplication, logonAt)));
  monitor.runOnce();
  ASSERT_EQ(monitor.stats(0).state.load(), LinkState::kUp);
  clock.advance(3000 * kMs);  // the deadline, 1.2 s after the Logon, passes unseen
  ASSERT_TRUE(monitor.hub().publish(
      stamped(EventKind::kMessageIn, MessageClass::kApplication, logonAt + 100 * kMs)));
  ASSERT_TRUE(monitor.hub().publish(
      stamped(EventKind::kMessageIn, MessageClass::kHeartbeat, clock.monotonic())));
  seen.clear();
  monitor.runOnce();
  EXPECT_EQ(monitor.stats(0).state.load(), LinkState::kUp);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].to, LinkState::kDegraded);
  EXPECT_EQ(seen[0].reason, LinkReason::kHeartbeatLate);
  EXPECT_EQ(seen[1].to, LinkState::kUp);
}

}  // namespace
}  // namespace linkwatch
