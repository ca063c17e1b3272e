// Alert payloads from arbitrary member names, session keys and runbook patterns: the
// configuration keeps names printable, but not necessarily valid UTF-8, and a push must never
// fail or send invalid JSON over them. alertsToJson() must give valid JSON for any bytes (with
// nlohmann's error_handler replace), keep valid UTF-8 unchanged, and every time field must be
// the RFC 3339 text Alertmanager parses.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "alerts/alert_payload.hpp"
#include "fuzz_support.hpp"

namespace {

using linkwatch::fuzz::isValidUtf8;

// YYYY-MM-DDTHH:MM:SS.mmmZ, with a year of four digits for every time Nanos can hold.
bool isAlertTime(const std::string& s) {
  static const std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (s.size() != kShape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (kShape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != kShape[i]) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::size_t count = in.ConsumeIntegralInRange<std::size_t>(1, 3);
  const linkwatch::Nanos firingEndsAt = in.ConsumeIntegral<linkwatch::Nanos>();
  std::vector<linkwatch::Alert> alerts;
  std::vector<linkwatch::LinkConfig> links;
  for (std::size_t i = 0; i < count; ++i) {
    linkwatch::LinkConfig link;
    link.memberId = in.ConsumeRandomLengthString(64);
    link.memberName = in.ConsumeRandomLengthString(160);
    link.sessionKey = in.ConsumeRandomLengthString(96);
    link.criticality = static_cast<linkwatch::Criticality>(in.ConsumeIntegralInRange<int>(0, 2));
    const auto state = static_cast<linkwatch::LinkState>(
        in.ConsumeIntegralInRange(0, linkwatch::kLinkStateCount - 1));
    const auto reason = static_cast<linkwatch::LinkReason>(
        in.ConsumeIntegralInRange(0, linkwatch::kLinkReasonCount - 1));
    const std::string pattern = in.ConsumeRandomLengthString(128);
    const linkwatch::Nanos since = in.ConsumeIntegral<linkwatch::Nanos>();
    const auto name = linkwatch::alertNameFor(state, in.ConsumeBool());
    linkwatch::Alert a = linkwatch::makeLinkAlert(link, name.value_or(linkwatch::kLinkDownAlert),
                                                  state, reason, since, pattern);
    if (in.ConsumeBool()) a.endsAt = in.ConsumeIntegral<linkwatch::Nanos>();
    if (pattern.find('{') == std::string::npos) LW_FUZZ_CHECK(a.runbookUrl == pattern, pattern);
    (void)a.key();
    alerts.push_back(std::move(a));
    links.push_back(std::move(link));
  }

  const std::string text = linkwatch::alertsToJson(alerts, firingEndsAt);
  LW_FUZZ_CHECK(isValidUtf8(text), "payload is not UTF-8");
  const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  LW_FUZZ_CHECK(!parsed.is_discarded() && parsed.is_array(), "payload is not a JSON array");
  LW_FUZZ_CHECK(parsed.size() == alerts.size(), "one element per alert");
  for (std::size_t i = 0; i < alerts.size(); ++i) {
    const nlohmann::json& j = parsed[i];
    const linkwatch::Alert& a = alerts[i];
    for (const char* field : {"startsAt", "endsAt"}) {
      LW_FUZZ_CHECK(
          j.contains(field) && j[field].is_string() && isAlertTime(j[field].get<std::string>()),
          j.dump());
    }
    // What was valid UTF-8 arrives unchanged.
    if (isValidUtf8(a.member)) {
      LW_FUZZ_CHECK(j["labels"]["member"] == a.member, "member label changed");
    }
    if (isValidUtf8(a.description)) {
      LW_FUZZ_CHECK(j["annotations"]["description"] == a.description, "description changed");
    }
    if (isValidUtf8(a.runbookUrl)) {
      LW_FUZZ_CHECK(j["annotations"]["runbook_url"] == a.runbookUrl, "runbook_url changed");
    }
  }
  return 0;
}
