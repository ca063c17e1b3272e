#include "alerts/alert_payload.hpp"

#include <time.h>

#include <cstdio>

#include <nlohmann/json.hpp>

namespace linkwatch {

std::string Alert::key() const {
  // '\x1f' (unit separator) cannot occur in any label: MemberId, session keys and reasons are
  // printable, and the config rejects control characters.
  std::string out;
  out.reserve(alertname.size() + member.size() + session.size() + severity.size() + reason.size() +
              4);
  for (const std::string* part : {&alertname, &member, &session, &severity, &reason}) {
    if (!out.empty()) out += '\x1f';
    out += *part;
  }
  return out;
}

std::optional<std::string_view> alertNameFor(LinkState state, bool alertOnDegraded) noexcept {
  switch (state) {
    case LinkState::kDown:
      return kLinkDownAlert;
    case LinkState::kDegraded:
      if (alertOnDegraded) return kLinkDegradedAlert;
      return std::nullopt;
    case LinkState::kUp:
    case LinkState::kOffhours:
    case LinkState::kMaintenance:
    case LinkState::kUnknown:  // not yet re-observed: its end (down or up) decides
      return std::nullopt;
  }
  return std::nullopt;
}

std::string_view severityFor(Criticality criticality) noexcept {
  switch (criticality) {
    case Criticality::kCritical:
      return "page";
    case Criticality::kStandard:
      return "ticket";
    case Criticality::kTest:
      return "info";
  }
  return "ticket";
}

std::string expandRunbookUrl(std::string_view pattern, std::string_view alertname,
                             std::string_view member) {
  constexpr std::string_view kAlertname = "{alertname}";
  constexpr std::string_view kMember = "{member}";
  std::string out;
  out.reserve(pattern.size() + 16);
  std::size_t i = 0;
  while (i < pattern.size()) {
    std::string_view rest = pattern.substr(i);
    if (rest.starts_with(kAlertname)) {
      out += alertname;
      i += kAlertname.size();
    } else if (rest.starts_with(kMember)) {
      out += member;
      i += kMember.size();
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

std::string formatAlertTime(Nanos wall) {
  Nanos seconds = wall / kNanosPerSecond;
  Nanos rest = wall % kNanosPerSecond;
  if (rest < 0) {  // before 1970: floor, so the fraction stays positive
    --seconds;
    rest += kNanosPerSecond;
  }
  const auto t = static_cast<time_t>(seconds);
  tm utc{};
  gmtime_r(&t, &utc);
  char buffer[80];  // room for any int the compiler can imagine in each field
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(rest / kNanosPerMilli));
  return buffer;
}

Alert makeLinkAlert(const LinkConfig& link, std::string_view alertname, LinkState state,
                    LinkReason reason, Nanos sinceWall, std::string_view runbookPattern) {
  Alert a;
  a.alertname = std::string(alertname);
  a.member = link.memberId;
  a.session = link.sessionKey;
  a.severity = std::string(severityFor(link.criticality));
  a.reason = std::string(toString(reason));
  a.summary = link.memberId + " link " + std::string(toString(state));
  a.description = link.memberName + " (" + link.memberId + "): FIX session " + link.sessionKey +
                  " is " + std::string(toString(state)) + ": " + a.reason + " since " +
                  formatAlertTime(sinceWall);
  a.runbookUrl = expandRunbookUrl(runbookPattern, alertname, link.memberId);
  a.startsAt = sinceWall;
  return a;
}

std::string alertsToJson(const std::vector<Alert>& alerts, Nanos firingEndsAt) {
  nlohmann::json array = nlohmann::json::array();
  for (const Alert& a : alerts) {
    array.push_back({
        {"labels",
         {{"alertname", a.alertname},
          {"member", a.member},
          {"session", a.session},
          {"severity", a.severity},
          {"reason", a.reason}}},
        {"annotations",
         {{"summary", a.summary}, {"description", a.description}, {"runbook_url", a.runbookUrl}}},
        {"startsAt", formatAlertTime(a.startsAt)},
        {"endsAt", formatAlertTime(a.firing() ? firingEndsAt : a.endsAt)},
    });
  }
  // Replace, not throw, on invalid UTF-8 in a member's name: a push must not fail over it.
  return array.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace linkwatch
