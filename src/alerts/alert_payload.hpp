// The alert contract shared with the Prometheus rules: the same labels from a push and from a
// rule deduplicate in Alertmanager, so every label here is part of an interface.
//
//   labels       alertname (LinkDown | LinkDegraded), member, session, severity, reason
//   annotations  summary, description, runbook_url
//
// Thread-safety: free functions and plain values; call from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <linkwatch/clock.hpp>
#include <linkwatch/config.hpp>
#include <linkwatch/link_state.hpp>

namespace linkwatch {

inline constexpr std::string_view kLinkDownAlert = "LinkDown";
inline constexpr std::string_view kLinkDegradedAlert = "LinkDegraded";

// One alert as Alertmanager's API v2 sees it (POST /api/v2/alerts, an array of these).
struct Alert {
  // Labels: they identify the alert.
  std::string alertname;
  std::string member;
  std::string session;
  std::string severity;
  std::string reason;
  // Annotations.
  std::string summary;
  std::string description;
  std::string runbookUrl;
  Nanos startsAt = 0;  // wall time the link entered the alerting state
  // Wall time it was resolved; 0 while firing (a firing alert's endsAt is set when it is sent,
  // so that a re-send or a retry carries a fresh one).
  Nanos endsAt = 0;

  bool firing() const noexcept { return endsAt == 0; }
  // The label set in one string: alerts with equal keys are one alert to Alertmanager.
  std::string key() const;
};

// LinkDown for down, LinkDegraded for degraded when enabled; nullopt for states that raise
// nothing (up, offhours, maintenance).
std::optional<std::string_view> alertNameFor(LinkState state, bool alertOnDegraded) noexcept;

// critical -> page, standard -> ticket, test -> info.
std::string_view severityFor(Criticality criticality) noexcept;

// Substitutes every {alertname} and {member} in `pattern`.
std::string expandRunbookUrl(std::string_view pattern, std::string_view alertname,
                             std::string_view member);

// "2026-01-01T09:30:00.123Z": RFC 3339 in UTC, millisecond precision (startsAt, endsAt).
std::string formatAlertTime(Nanos wall);

// The firing alert for a link that entered `state` for `reason` at `sinceWall`.
Alert makeLinkAlert(const LinkConfig& link, std::string_view alertname, LinkState state,
                    LinkReason reason, Nanos sinceWall, std::string_view runbookPattern);

// The JSON array Alertmanager's POST /api/v2/alerts takes. Firing alerts get endsAt =
// `firingEndsAt`; resolved ones their own endsAt.
std::string alertsToJson(const std::vector<Alert>& alerts, Nanos firingEndsAt);

}  // namespace linkwatch
