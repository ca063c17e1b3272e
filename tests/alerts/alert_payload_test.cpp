#include "alerts/alert_payload.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace linkwatch {
namespace {

LinkConfig bank01() {
  LinkConfig link;
  link.memberId = "BANK01";
  link.memberName = "Northbridge Capital";
  link.criticality = Criticality::kCritical;
  link.sessionKey = "FIX.4.4:LINKWATCH->BANK01";
  return link;
}

constexpr Nanos k2026 = 1767225600LL * kNanosPerSecond;  // 2026-01-01T00:00:00Z

TEST(AlertPayload, OnlyDownAndOptionallyDegradedRaiseAnAlert) {
  EXPECT_EQ(alertNameFor(LinkState::kDown, false), kLinkDownAlert);
  EXPECT_EQ(alertNameFor(LinkState::kDown, true), kLinkDownAlert);
  EXPECT_EQ(alertNameFor(LinkState::kDegraded, true), kLinkDegradedAlert);
  EXPECT_FALSE(alertNameFor(LinkState::kDegraded, false));
  for (LinkState s : {LinkState::kUp, LinkState::kOffhours, LinkState::kMaintenance}) {
    EXPECT_FALSE(alertNameFor(s, true)) << toString(s);
  }
}

TEST(AlertPayload, SeverityFollowsCriticality) {
  EXPECT_EQ(severityFor(Criticality::kCritical), "page");
  EXPECT_EQ(severityFor(Criticality::kStandard), "ticket");
  EXPECT_EQ(severityFor(Criticality::kTest), "info");
}

TEST(AlertPayload, RunbookUrlSubstitutesEveryPlaceholder) {
  EXPECT_EQ(expandRunbookUrl("https://runbooks.invalid/linkwatch/{alertname}", "LinkDown", "B1"),
            "https://runbooks.invalid/linkwatch/LinkDown");
  EXPECT_EQ(expandRunbookUrl("https://w/{member}/{alertname}?m={member}", "LinkDegraded", "B1"),
            "https://w/B1/LinkDegraded?m=B1");
  EXPECT_EQ(expandRunbookUrl("https://w/{other}", "LinkDown", "B1"), "https://w/{other}");
}

TEST(AlertPayload, TimesAreRfc3339UtcWithMilliseconds) {
  EXPECT_EQ(formatAlertTime(k2026), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(formatAlertTime(k2026 + 3723 * kNanosPerSecond + 45 * kNanosPerMilli + 999),
            "2026-01-01T01:02:03.045Z");
  EXPECT_EQ(formatAlertTime(-kNanosPerMilli), "1969-12-31T23:59:59.999Z");
}

TEST(AlertPayload, LinkAlertCarriesTheContractsLabelsAndAnnotations) {
  const Alert a = makeLinkAlert(bank01(), kLinkDownAlert, LinkState::kDown,
                                LinkReason::kDisconnected, k2026 + 1500 * kNanosPerMilli,
                                "https://runbooks.invalid/linkwatch/{alertname}");
  EXPECT_EQ(a.alertname, "LinkDown");
  EXPECT_EQ(a.member, "BANK01");
  EXPECT_EQ(a.session, "FIX.4.4:LINKWATCH->BANK01");
  EXPECT_EQ(a.severity, "page");
  EXPECT_EQ(a.reason, "disconnected");
  EXPECT_EQ(a.summary, "BANK01 link down");
  EXPECT_EQ(a.description,
            "Northbridge Capital (BANK01): FIX session FIX.4.4:LINKWATCH->BANK01 is down: "
            "disconnected since 2026-01-01T00:00:01.500Z");
  EXPECT_EQ(a.runbookUrl, "https://runbooks.invalid/linkwatch/LinkDown");
  EXPECT_EQ(a.startsAt, k2026 + 1500 * kNanosPerMilli);
  EXPECT_TRUE(a.firing());
}

TEST(AlertPayload, KeyDiffersWhenAnyLabelDiffers) {
  Alert a = makeLinkAlert(bank01(), kLinkDownAlert, LinkState::kDown, LinkReason::kDisconnected,
                          k2026, "https://r/{alertname}");
  Alert b = a;
  b.summary = "annotations are not identity";
  b.startsAt += kNanosPerSecond;
  EXPECT_EQ(a.key(), b.key());
  b.reason = "logout";
  EXPECT_NE(a.key(), b.key());
}

TEST(AlertPayload, JsonIsTheApiV2ArrayWithFiringAndResolvedEndsAt) {
  LinkConfig link = bank01();
  link.memberName = "Bank \"Best\" <x> \\ Ltd";  // escaped, not broken
  Alert firing = makeLinkAlert(link, kLinkDownAlert, LinkState::kDown, LinkReason::kLogout, k2026,
                               "https://r/{member}");
  Alert resolved = firing;
  resolved.reason = "disconnected";
  resolved.endsAt = k2026 + 2 * kNanosPerSecond;

  const auto json =
      nlohmann::json::parse(alertsToJson({firing, resolved}, k2026 + 240 * kNanosPerSecond));
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 2u);
  const auto& f = json[0];
  EXPECT_EQ(f.size(), 4u);  // labels, annotations, startsAt, endsAt: nothing else
  EXPECT_EQ(f["labels"], (nlohmann::json{{"alertname", "LinkDown"},
                                         {"member", "BANK01"},
                                         {"session", "FIX.4.4:LINKWATCH->BANK01"},
                                         {"severity", "page"},
                                         {"reason", "logout"}}));
  EXPECT_EQ(f["annotations"]["runbook_url"], "https://r/BANK01");
  EXPECT_EQ(f["annotations"]["description"].get<std::string>().rfind(link.memberName, 0), 0u);
  EXPECT_EQ(f["startsAt"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(f["endsAt"], "2026-01-01T00:04:00.000Z");
  EXPECT_EQ(json[1]["endsAt"], "2026-01-01T00:00:02.000Z");
  EXPECT_EQ(json[1]["labels"]["reason"], "disconnected");
}

TEST(AlertPayload, InvalidUtf8InANameIsReplacedNotThrown) {
  LinkConfig link = bank01();
  link.memberName = "Caf\xe9";
  const Alert a = makeLinkAlert(link, kLinkDownAlert, LinkState::kDown, LinkReason::kLogout, k2026,
                                "https://r/");
  std::string body;
  ASSERT_NO_THROW(body = alertsToJson({a}, k2026));
  EXPECT_TRUE(nlohmann::json::accept(body));
}

}  // namespace
}  // namespace linkwatch
