#include "alerts/alert_pusher.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/metric_family.h>
#include <nlohmann/json.hpp>

#include <linkwatch/clock.hpp>
#include <linkwatch/link_monitor.hpp>
#include <linkwatch/session_event.hpp>

#include "alerts/alert_payload.hpp"
#include "alerts/fake_alertmanager.hpp"
#include "http/text_format.hpp"

namespace linkwatch {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::FakeAlertmanager;
using testing::ReceivedPush;
using Json = nlohmann::json;

constexpr LinkIndex kBank01 = 0;  // critical
constexpr LinkIndex kBank02 = 1;  // standard
constexpr LinkIndex kBank03 = 2;  // test

LinkConfig makeLink(const std::string& memberId, const std::string& name, Criticality c) {
  LinkConfig link;
  link.memberId = memberId;
  link.memberName = name;
  link.criticality = c;
  link.beginString = "FIX.4.4";
  link.senderCompId = "LINKWATCH";
  link.targetCompId = memberId;
  link.sessionKey = "FIX.4.4:LINKWATCH->" + memberId;
  link.heartBtIntSeconds = 30;
  return link;
}

MonitorConfig makeConfig() {
  MonitorConfig config;
  config.file = "programmatic";
  config.historySize = 50;
  config.eventQueueCapacity = 1024;
  config.links.push_back(makeLink("BANK01", "Northbridge Capital", Criticality::kCritical));
  config.links.push_back(makeLink("BANK02", "Harbour Markets", Criticality::kStandard));
  config.links.push_back(makeLink("BANK03", "Sandbox Test Member", Criticality::kTest));
  return config;
}

// Label set of one pushed alert, for comparisons: "LinkDown/BANK01/disconnected".
std::string id(const Json& alert) {
  const Json& l = alert.at("labels");
  return l.at("alertname").get<std::string>() + "/" + l.at("member").get<std::string>() + "/" +
         l.at("reason").get<std::string>();
}

bool firing(const Json& alert, const ManualClock& clock) {
  // Resolved alerts carry endsAt = the wall time of the resolution, never later than now.
  return alert.at("endsAt").get<std::string>() > formatAlertTime(clock.wall());
}

// Every alert in every answered push, in arrival order.
std::vector<Json> alertsOf(const std::vector<ReceivedPush>& pushes) {
  std::vector<Json> out;
  for (const ReceivedPush& p : pushes) {
    for (const Json& a : p.alerts()) out.push_back(a);
  }
  return out;
}

std::optional<double> sample(const std::vector<prometheus::MetricFamily>& families,
                             const std::string& name,
                             const std::map<std::string, std::string>& labels = {}) {
  for (const auto& f : families) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      std::map<std::string, std::string> have;
      for (const auto& l : m.label) have[l.name] = l.value;
      if (have != labels) continue;
      switch (f.type) {
        case prometheus::MetricType::Counter:
          return m.counter.value;
        case prometheus::MetricType::Gauge:
          return m.gauge.value;
        case prometheus::MetricType::Histogram:
          return static_cast<double>(m.histogram.sample_count);
        default:
          return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

template <class Predicate>
bool eventually(Predicate predicate, milliseconds within = milliseconds(5000)) {
  const auto deadline = steady_clock::now() + within;
  while (!predicate()) {
    if (steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

class AlertPusherTest : public ::testing::Test {
 protected:
  AlertPusherOptions optionsFor(std::vector<std::string> urls) const {
    AlertPusherOptions o;
    o.urls = std::move(urls);
    o.resendInterval = std::chrono::hours(1);  // no re-sends unless a test asks for them
    o.initialBackoff = milliseconds(20);
    o.maxBackoff = milliseconds(1000);
    o.logWarnings = false;
    return o;
  }

  Transition transition(LinkIndex link, LinkState from, LinkState to, LinkReason reason) const {
    Transition t;
    t.link = link;
    t.from = from;
    t.to = to;
    t.reason = reason;
    t.wall = clock.wall();
    t.monotonic = clock.monotonic();
    return t;
  }

  ManualClock clock;
  LinkMonitor monitor{makeConfig(), clock};
  FakeAlertmanager am1;
  FakeAlertmanager am2;
};

TEST_F(AlertPusherTest, DownSendsOnePostPerUrlWithExactlyTheContractLabelsAndAnnotations) {
  AlertPusher pusher(monitor, optionsFor({am1.url(), am2.url()}), clock);
  pusher.start();
  const Transition t =
      transition(kBank01, LinkState::kUp, LinkState::kDown, LinkReason::kDisconnected);
  pusher.listener()(t);

  for (FakeAlertmanager* am : {&am1, &am2}) {
    ASSERT_TRUE(am->waitForAnswered(1));
    const ReceivedPush push = am->answered().at(0);
    EXPECT_EQ(push.method, "POST");
    EXPECT_EQ(push.uri, "/api/v2/alerts");
    EXPECT_EQ(push.contentType, "application/json");
    const Json alerts = push.alerts();
    ASSERT_EQ(alerts.size(), 1u) << push.body;
    const Json& a = alerts[0];
    EXPECT_EQ(a.size(), 4u) << a.dump();
    EXPECT_EQ(a.at("labels"), (Json{{"alertname", "LinkDown"},
                                    {"member", "BANK01"},
                                    {"session", "FIX.4.4:LINKWATCH->BANK01"},
                                    {"severity", "page"},
                                    {"reason", "disconnected"}}));
    EXPECT_EQ(a.at("annotations"),
              (Json{{"summary", "BANK01 link down"},
                    {"description",
                     "Northbridge Capital (BANK01): FIX session FIX.4.4:LINKWATCH->BANK01 is "
                     "down: disconnected since 2026-01-01T00:00:00.000Z"},
                    {"runbook_url", "https://runbooks.invalid/linkwatch/LinkDown"}}));
    EXPECT_EQ(a.at("startsAt"), "2026-01-01T00:00:00.000Z");
    EXPECT_EQ(a.at("endsAt"), "2026-01-01T04:00:00.000Z");  // now + 4 x the 1 h resend interval
  }
  EXPECT_EQ(pusher.activeAlerts(), 1u);

  // The fake records a push once it answered; the pusher counts it once it read the answer.
  ASSERT_TRUE(eventually([&] {
    return sample(pusher.metrics()->Collect(), "linkwatch_alert_push_duration_seconds") == 2.0;
  }));
  const auto families = pusher.metrics()->Collect();
  for (FakeAlertmanager* am : {&am1, &am2}) {
    EXPECT_EQ(sample(families, "linkwatch_alert_pushes_total",
                     {{"url", am->url()}, {"outcome", "success"}}),
              1.0);
    EXPECT_EQ(sample(families, "linkwatch_alert_pushes_total",
                     {{"url", am->url()}, {"outcome", "failure"}}),
              0.0);
  }
  EXPECT_EQ(sample(families, "linkwatch_alert_push_duration_seconds"), 2.0);
  EXPECT_EQ(sample(families, "linkwatch_alerts_active"), 1.0);
  EXPECT_EQ(sample(families, "linkwatch_alert_transitions_dropped_total"), 0.0);
}

TEST_F(AlertPusherTest, LinksStillDownAfterTheStartupGraceAreAlertedWithoutATransition) {
  // The morning a member never came back: linkwatch (re)started while its link was down.
  monitor.setMaintenance(kBank02, clock.wall() + 3600 * kNanosPerSecond);
  monitor.runOnce();
  AlertPusherOptions options = optionsFor({am1.url()});
  options.startupGrace = milliseconds(50);
  AlertPusher pusher(monitor, options, clock);
  pusher.start();
  ASSERT_TRUE(am1.waitForAnswered(1));
  ASSERT_TRUE(eventually([&] { return pusher.activeAlerts() == 2u; }));
  std::vector<std::string> ids;
  for (const Json& a : alertsOf(am1.answered())) ids.push_back(id(a));
  std::sort(ids.begin(), ids.end());
  // BANK02 is in maintenance: nothing for it.
  EXPECT_EQ(ids, (std::vector<std::string>{"LinkDown/BANK01/never_connected",
                                           "LinkDown/BANK03/never_connected"}));
}

TEST_F(AlertPusherTest, SeverityFollowsTheMembersCriticality) {
  AlertPusher pusher(monitor, optionsFor({am1.url()}), clock);
  pusher.start();
  pusher.listener()(transition(kBank02, LinkState::kUp, LinkState::kDown, LinkReason::kLogout));
  ASSERT_TRUE(am1.waitForAnswered(1));
  pusher.listener()(transition(kBank03, LinkState::kUp, LinkState::kDown, LinkReason::kLogout));
  ASSERT_TRUE(am1.waitForAnswered(2));
  const auto alerts = alertsOf(am1.answered());
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0]["labels"]["severity"], "ticket");
  EXPECT_EQ(alerts[1]["labels"]["severity"], "info");
}

TEST_F(AlertPusherTest, FirstPushLeavesWithinMillisecondsOfTheTransition) {
  AlertPusher pusher(monitor, optionsFor({am1.url()}), clock);
  pusher.start();
  // Wake the worker once so the measurement below is not its first wake-up.
  pusher.listener()(transition(kBank02, LinkState::kUp, LinkState::kDown, LinkReason::kLogout));
  ASSERT_TRUE(am1.waitForAnswered(1));

  const auto before = steady_clock::now();
  pusher.listener()(
      transition(kBank01, LinkState::kUp, LinkState::kDown, LinkReason::kDisconnected));
  ASSERT_TRUE(am1.waitForAnswered(2));
  const auto latency = am1.answered().at(1).at - before;
  // No batching delay: a wake-up, one JSON body and a loopback POST. Generous for sanitizers.
  EXPECT_LT(latency, milliseconds(100));
}

TEST_F(AlertPusherTest, RecoverySendsTheSameAlertWithEndsAtNow) {
  AlertPusher pusher(monitor, optionsFor({am1.url()}), clock);
  pusher.start();
  pusher.listener()(
      transition(kBank01, LinkState::kUp, LinkState::kDown, LinkReason::kDisconnected));
  ASSERT_TRUE(am1.waitForAnswered(1));

  clock.advance(7 * kNanosPerSecond);
  pusher.listener()(transition(kBank01, LinkState::kDown, LinkState::kUp, LinkReason::kLoggedOn));
  ASSERT_TRUE(am1.waitForAnswered(2));
  const Json resolved = am1.answered().at(1).alerts();
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0]["labels"], am1.answered().at(0).alerts()[0]["labels"]);
  EXPECT_EQ(resolved[0]["startsAt"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(resolved[0]["endsAt"], "2026-01-01T00:00:07.000Z");
  EXPECT_TRUE(eventually([&] { return pusher.activeAlerts() == 0; }));
}

TEST_F(AlertPusherTest, ReasonChangeWhileDownResolvesTheOldAlertAndRaisesANewOne) {
  AlertPusher pusher(monitor, optionsFor({am1.url()}), clock);
  pusher.start();
  pusher.listener()(
      transition(kBank01, LinkState::kUp, LinkState::kDown, LinkReason::kDisconnected));
  ASSERT_TRUE(am1.waitForAnswered(1));

  clock.advance(2 * kNanosPerSecond);
  pusher.listener()(
      transition(kBank01, LinkState::kDown, LinkState::kDown, LinkReason::kLogonRejected));
  ASSERT_TRUE(am1.waitForAnswered(2));
  std::map<std::string, Json> byId;
  for (const Json& a : am1.answered().at(1).alerts()) byId[id(a)] = a;
  ASSERT_EQ(byId.size(), 2u) << am1.answered().at(1).body;
  const Json& old = byId.at("LinkDown/BANK01/disconnected");
  EXPECT_EQ(old["endsAt"], "2026-01-01T00:00:02.000Z");
  const Json& fresh = byId.at("LinkDown/BANK01/logon_rejected");
  EXPECT_EQ(fresh["startsAt"], "2026-01-01T00:00:02.000Z");
  EXPECT_TRUE(firing(fresh, clock));
  EXPECT_EQ(pusher.activeAlerts(), 1u);
}

// "Nothing was sent" is shown without waiting out a timer: a later alert for another link
// goes through the same queue and the same POSTs, so anything raised before it would arrive
// with it or before it.
TEST_F(AlertPusherTest, OffhoursAndMaintenanceRaiseNothingAndResolveWhatWasFiring) {
  AlertPusher pusher(monitor, optionsFor({am1.url()}), clock);
  pusher.start();
  auto post = pusher.listener();
  post(transition(kBank01, LinkState::kUp, LinkState::kOffhours, LinkReason::kOutsideSchedule));
  post(transition(kBank02, LinkState::kUp, LinkState::kMaintenance, LinkReason::kMaintenance));
  post(transition(kBank03, LinkState::kUp, LinkState::kDown, LinkReason::kLogout));  // marker
  ASSERT_TRUE(am1.waitForAnswered(1));
  EXPECT_EQ(alertsOf(am1.answered()).size(), 1u);
  EXPECT_EQ(id(alertsOf(am1.answered()).at(0)), "LinkDown/BANK03/logout");

  // Down, then maintenance: resolved. Down, then offhours: resolved.
  post(transition(kBank01, LinkState::kOffhours, LinkState::kDown, LinkReason::kNeverConnected));
  post(transition(kBank02, LinkState::kMaintenance, LinkState::kDown, LinkReason::kDisconnected));
  ASSERT_TRUE(eventually([&] { return alertsOf(am1.answered()).size() >= 3; }));
  clock.advance(kNanosPerSecond);
  post(transition(kBank01, LinkState::kDown, LinkState::kMaintenance, LinkReason::kMaintenance));
  post(transition(kBank02, LinkState::kDown, LinkState::kOffhours, LinkReason::kOutsideSchedule));
  post(transition(kBank03, LinkState::kDown, LinkState::kOffhours, LinkReason::kOutsideSchedule));
  ASSERT_TRUE(eventually([&] { return alertsOf(am1.answered()).size() >= 6; }));
  const auto alerts = alertsOf(am1.answered());
  ASSERT_EQ(alerts.size(), 6u);
  std::set<std::string> resolved;
  for (std::size_t i = 3; i < alerts.size(); ++i) {
    EXPECT_EQ(alerts[i]["endsAt"], "2026-01-01T00:00:01.000Z") << alerts[i].dump();
    resolved.insert(id(alerts[i]));
  }
  EXPECT_EQ(resolved,
            (std::set<std::string>{"LinkDown/BANK01/never_connected",
                                   "LinkDown/BANK02/disconnected", "LinkDown/BANK03/logout"}));
  EXPECT_TRUE(eventually([&] { return pusher.activeAlerts() == 0; }));
}

TEST_F(AlertPusherTest, DegradedRaisesNothingUnlessEnabled) {
  AlertPusher pusher(monitor, optionsFor({am1.url()}), clock);
  pusher.start();
  pusher.listener()(
      transition(kBank01, LinkState::kUp, LinkState::kDegraded, LinkReason::kHeartbeatLate));
  pusher.listener()(transition(kBank03, LinkState::kUp, LinkState::kDown, LinkReason::kLogout));
  ASSERT_TRUE(am1.waitForAnswered(1));
  const auto alerts = alertsOf(am1.answered());
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(id(alerts[0]), "LinkDown/BANK03/logout");
}

TEST_F(AlertPusherTest, DegradedRaisesLinkDegradedWhenEnabledAndGoingDownReplacesIt) {
  AlertPusherOptions options = optionsFor({am1.url()});
  options.alertOnDegraded = true;
  AlertPusher pusher(monitor, options, clock);
  pusher.start();
  pusher.listener()(
      transition(kBank01, LinkState::kUp, LinkState::kDegraded, LinkReason::kHeartbeatLate));
  ASSERT_TRUE(am1.waitForAnswered(1));
  const Json degraded = am1.answered().at(0).alerts().at(0);
  EXPECT_EQ(degraded["labels"]["alertname"], "LinkDegraded");
  EXPECT_EQ(degraded["labels"]["reason"], "heartbeat_late");
  EXPECT_EQ(degraded["labels"]["severity"], "page");
  EXPECT_EQ(degraded["annotations"]["summary"], "BANK01 link degraded");
  EXPECT_EQ(degraded["annotations"]["runbook_url"],
            "https://runbooks.invalid/linkwatch/LinkDegraded");

  clock.advance(kNanosPerSecond);
  pusher.listener()(
      transition(kBank01, LinkState::kDegraded, LinkState::kDown, LinkReason::kHeartbeatTimeout));
  ASSERT_TRUE(am1.waitForAnswered(2));
  std::map<std::string, Json> byId;
  for (const Json& a : am1.answered().at(1).alerts()) byId[id(a)] = a;
  ASSERT_EQ(byId.size(), 2u);
  EXPECT_FALSE(firing(byId.at("LinkDegraded/BANK01/heartbeat_late"), clock));
  EXPECT_TRUE(firing(byId.at("LinkDown/BANK01/heartbeat_timeout"), clock));
}

TEST_F(AlertPusherTest, FailedPushesAreRetriedWithBackoffAndCountedWithoutDelayingTheOtherUrl) {
  am1.failNext(3);
  AlertPusher pusher(monitor, optionsFor({am1.url(), am2.url()}), clock);
  pusher.start();
  pusher.listener()(
      transition(kBank01, LinkState::kUp, LinkState::kDown, LinkReason::kDisconnected));

  ASSERT_TRUE(am1.waitForAnswered(4));
  ASSERT_TRUE(am2.waitForAnswered(1));
  const auto pushes = am1.answered();
  EXPECT_EQ(pushes[0].status, 500);
  EXPECT_EQ(pushes[2].status, 500);
  EXPECT_EQ(pushes[3].status, 200);
  for (const ReceivedPush& p : pushes) {
    ASSERT_EQ(p.alerts().size(), 1u);
    EXPECT_EQ(id(p.alerts()[0]), "LinkDown/BANK01/disconnected");
  }
  // 20 ms doubling: each wait at least the backoff (a little slack for timer rounding).
  EXPECT_GE(pushes[1].at - pushes[0].at, milliseconds(18));
  EXPECT_GE(pushes[2].at - pushes[1].at, milliseconds(38));
  EXPECT_GE(pushes[3].at - pushes[2].at, milliseconds(78));
  // The healthy URL got its alert while the failing one was still backing off.
  EXPECT_LT(am2.answered().at(0).at, pushes[1].at);
  EXPECT_EQ(am2.answered().size(), 1u);

  ASSERT_TRUE(eventually([&] {
    return sample(pusher.metrics()->Collect(), "linkwatch_alert_push_duration_seconds") == 5.0;
  }));
  const auto families = pusher.metrics()->Collect();
  EXPECT_EQ(sample(families, "linkwatch_alert_pushes_total",
                   {{"url", am1.url()}, {"outcome", "failure"}}),
            3.0);
  EXPECT_EQ(sample(families, "linkwatch_alert_pushes_total",
                   {{"url", am1.url()}, {"outcome", "success"}}),
            1.0);
  EXPECT_EQ(sample(families, "linkwatch_alert_pushes_total",
                   {{"url", am2.url()}, {"outcome", "success"}}),
            1.0);
}

TEST_F(AlertPusherTest, ResolutionIsNeverLostWhileAlertmanagerFails) {
  am1.failNext(1000);
  AlertPusher pusher(monitor, optionsFor({am1.url()}), clock);
  pusher.start();
  pusher.listener()(
      transition(kBank01, LinkState::kUp, LinkState::kDown, LinkReason::kDisconnected));
  ASSERT_TRUE(am1.waitForAnswered(2));
  clock.advance(3 * kNanosPerSecond);
  pusher.listener()(transition(kBank01, LinkState::kDown, LinkState::kUp, LinkReason::kLoggedOn));
  ASSERT_TRUE(am1.waitForAnswered(3));
  am1.failNext(0);
  ASSERT_TRUE(eventually([&] {
    const auto pushes = am1.answered();
    return pushes.back().status == 200;
  }));
  const auto pushes = am1.answered();
  const Json last = pushes.back().alerts();
  ASSERT_EQ(last.size(), 1u);  // the resolution replaced the firing state it was queued behind
  EXPECT_EQ(id(last[0]), "LinkDown/BANK01/disconnected");
  EXPECT_EQ(last[0]["endsAt"], "2026-01-01T00:00:03.000Z");
}

TEST_F(AlertPusherTest, ActiveAlertsAreResentEveryIntervalWithAFreshEndsAt) {
  AlertPusherOptions options = optionsFor({am1.url()});
  options.resendInterval = milliseconds(150);
  AlertPusher pusher(monitor, options, clock);
  pusher.start();
  pusher.listener()(
      transition(kBank01, LinkState::kUp, LinkState::kDown, LinkReason::kDisconnected));
  ASSERT_TRUE(am1.waitForAnswered(1));
  clock.advance(10 * kNanosPerSecond);
  ASSERT_TRUE(am1.waitForAnswered(3));

  const auto pushes = am1.answered();
  for (std::size_t i = 1; i < 3; ++i) {
    const Json alerts = pushes[i].alerts();
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(id(alerts[0]), "LinkDown/BANK01/disconnected");
    EXPECT_EQ(alerts[0]["startsAt"], "2026-01-01T00:00:00.000Z");  // the same alert
    EXPECT_EQ(alerts[0]["endsAt"], "2026-01-01T00:00:10.600Z");    // now + 4 x 150 ms
    EXPECT_GE(pushes[i].at - pushes[i - 1].at, milliseconds(120));
  }
}

TEST_F(AlertPusherTest, AHungAlertmanagerDelaysNeitherTheOtherUrlNorStop) {
  am1.hold();
  AlertPusherOptions options = optionsFor({am1.url(), am2.url()});
  options.timeout = std::chrono::seconds(30);
  AlertPusher pusher(monitor, options, clock);
  pusher.start();
  pusher.listener()(
      transition(kBank01, LinkState::kUp, LinkState::kDown, LinkReason::kDisconnected));
  ASSERT_TRUE(am1.waitForArrived(1));
  ASSERT_TRUE(am2.waitForAnswered(1, milliseconds(1000)));

  const auto before = steady_clock::now();
  pusher.stop();
  EXPECT_LT(steady_clock::now() - before, milliseconds(200));
  am1.release();
}

TEST_F(AlertPusherTest, StopIsPromptWhileBackingOff) {
  am1.failNext(1000);
  AlertPusherOptions options = optionsFor({am1.url()});
  options.initialBackoff = milliseconds(10000);
  options.maxBackoff = milliseconds(10000);
  AlertPusher pusher(monitor, options, clock);
  pusher.start();
  pusher.listener()(
      transition(kBank01, LinkState::kUp, LinkState::kDown, LinkReason::kDisconnected));
  ASSERT_TRUE(am1.waitForAnswered(1));
  const auto before = steady_clock::now();
  pusher.stop();
  EXPECT_LT(steady_clock::now() - before, milliseconds(200));
  // Stopped means silent.
  pusher.listener()(transition(kBank02, LinkState::kUp, LinkState::kDown, LinkReason::kLogout));
  EXPECT_FALSE(am1.waitForAnswered(2, milliseconds(100)));
}

TEST_F(AlertPusherTest, ListenerNeverBlocksAndCountsDropsWhenTheQueueIsFull) {
  AlertPusherOptions options = optionsFor({am1.url()});
  options.queueCapacity = 16;
  AlertPusher pusher(monitor, options, clock);
  // Not started: nothing drains the queue.
  auto post = pusher.listener();
  const auto before = steady_clock::now();
  for (int i = 0; i < 1000; ++i) {
    post(transition(kBank01, i % 2 == 0 ? LinkState::kUp : LinkState::kDown,
                    i % 2 == 0 ? LinkState::kDown : LinkState::kUp,
                    i % 2 == 0 ? LinkReason::kDisconnected : LinkReason::kLoggedOn));
  }
  EXPECT_LT(steady_clock::now() - before, milliseconds(500));
  EXPECT_GE(pusher.droppedTransitions(), 1000u - 16u);
  EXPECT_LT(pusher.droppedTransitions(), 1000u);
  EXPECT_EQ(sample(pusher.metrics()->Collect(), "linkwatch_alert_transitions_dropped_total"),
            static_cast<double>(pusher.droppedTransitions()));

  // What was dropped is repaired from the monitor's published states: every link of this
  // (never connected) monitor is down.
  pusher.start();
  ASSERT_TRUE(eventually([&] {
    std::map<std::string, bool> latest;  // label set -> firing
    for (const Json& a : alertsOf(am1.answered())) latest[id(a)] = firing(a, clock);
    std::set<std::string> firingNow;
    for (const auto& [key, isFiring] : latest) {
      if (isFiring) firingNow.insert(key);
    }
    return firingNow == std::set<std::string>{"LinkDown/BANK01/never_connected",
                                              "LinkDown/BANK02/never_connected",
                                              "LinkDown/BANK03/never_connected"};
  }));
  EXPECT_EQ(pusher.activeAlerts(), 3u);
}

TEST_F(AlertPusherTest, ListenerOutlivingThePusherIsHarmless) {
  TransitionListener post;
  {
    AlertPusher pusher(monitor, optionsFor({am1.url()}), clock);
    post = pusher.listener();
    pusher.start();
  }
  post(transition(kBank01, LinkState::kUp, LinkState::kDown, LinkReason::kDisconnected));
  EXPECT_FALSE(am1.waitForAnswered(1, milliseconds(50)));
}

TEST_F(AlertPusherTest, MetricsAppearInTheExpositionBeforeAnyPush) {
  AlertPusher pusher(monitor, optionsFor({am1.url()}), clock);
  const std::string text = toTextFormat(pusher.metrics()->Collect());
  const std::vector<std::string> expected = {
      "# TYPE linkwatch_alert_pushes_total counter",
      "linkwatch_alert_pushes_total{outcome=\"failure\",url=\"" + am1.url() + "\"} 0",
      "linkwatch_alert_pushes_total{outcome=\"success\",url=\"" + am1.url() + "\"} 0",
      "# TYPE linkwatch_alert_push_duration_seconds histogram",
      "linkwatch_alert_push_duration_seconds_count 0",
      "# TYPE linkwatch_alerts_active gauge",
      "linkwatch_alerts_active 0",
      "# TYPE linkwatch_alert_transitions_dropped_total counter",
      "linkwatch_alert_transitions_dropped_total 0"};
  for (const std::string& line : expected) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin:\n" << text;
  }
}

// The pusher on a real monitor: events in, the monitor's own transitions out.
TEST_F(AlertPusherTest, FollowsTheMonitorsTransitions) {
  AlertPusher pusher(monitor, optionsFor({am1.url()}), clock);
  monitor.addListener(pusher.listener());
  pusher.start();
  auto event = [&](EventKind kind) {
    SessionEvent e{};
    e.link = kBank01;
    e.kind = kind;
    e.messageClass = MessageClass::kApplication;
    e.monotonic = clock.monotonic();
    e.wall = clock.wall();
    ASSERT_TRUE(monitor.hub().publish(e));
    monitor.runOnce();
  };
  event(EventKind::kLogon);
  clock.advance(kNanosPerSecond);
  event(EventKind::kDisconnect);
  ASSERT_TRUE(am1.waitForAnswered(1));
  const Json alerts = am1.answered().at(0).alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(id(alerts[0]), "LinkDown/BANK01/disconnected");
  EXPECT_EQ(alerts[0]["startsAt"], "2026-01-01T00:00:01.000Z");

  clock.advance(kNanosPerSecond);
  event(EventKind::kLogon);
  ASSERT_TRUE(am1.waitForAnswered(2));
  EXPECT_EQ(am1.answered().at(1).alerts().at(0)["endsAt"], "2026-01-01T00:00:02.000Z");
}

}  // namespace
}  // namespace linkwatch
