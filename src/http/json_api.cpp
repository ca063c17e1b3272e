#include "http/json_api.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <initializer_list>
#include <limits>
#include <variant>

namespace linkwatch {
namespace {

using nlohmann::json;

double seconds(Nanos ns) noexcept {
  return static_cast<double>(ns) / static_cast<double>(kNanosPerSecond);
}

json timeOrNull(Nanos wall) { return wall == 0 ? json(nullptr) : json(formatRfc3339(wall)); }

bool isDigit(char c) noexcept { return c >= '0' && c <= '9'; }

int hexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string urlDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < in.size() && hexValue(in[i + 1]) >= 0 &&
               hexValue(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexValue(in[i + 1]) * 16 + hexValue(in[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Reads exactly `width` digits at `pos`.
std::optional<int> fixedDigits(std::string_view s, std::size_t pos, std::size_t width) {
  if (pos + width > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (!isDigit(s[i])) return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// Digits after a decimal point, as nanoseconds (digits beyond the ninth are ignored).
std::optional<Nanos> fractionNanos(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  Nanos ns = 0;
  Nanos scale = kNanosPerSecond;
  for (const char c : digits) {
    if (!isDigit(c)) return std::nullopt;
    scale /= 10;
    ns += (c - '0') * scale;
  }
  return ns;
}

std::optional<Nanos> parseUnixSeconds(std::string_view text) {
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  if (whole.empty() || !std::all_of(whole.begin(), whole.end(), isDigit)) return std::nullopt;
  std::int64_t secs = 0;
  const auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), secs);
  if (ec != std::errc() || end != whole.data() + whole.size()) return std::nullopt;
  if (secs > std::numeric_limits<Nanos>::max() / kNanosPerSecond - 1) return std::nullopt;
  Nanos ns = 0;
  if (dot != std::string_view::npos) {
    const auto frac = fractionNanos(text.substr(dot + 1));
    if (!frac) return std::nullopt;
    ns = *frac;
  }
  return secs * kNanosPerSecond + ns;
}

// YYYY-MM-DDTHH:MM:SS[.fff...](Z|+hh:mm|-hh:mm)
std::optional<Nanos> parseRfc3339(std::string_view s) {
  const auto year = fixedDigits(s, 0, 4);
  const auto month = fixedDigits(s, 5, 2);
  const auto day = fixedDigits(s, 8, 2);
  const auto hour = fixedDigits(s, 11, 2);
  const auto minute = fixedDigits(s, 14, 2);
  const auto second = fixedDigits(s, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':')
    return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{*year},
                           std::chrono::month{static_cast<unsigned>(*month)},
                           std::chrono::day{static_cast<unsigned>(*day)}};
  if (!ymd.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;

  std::size_t pos = 19;
  Nanos frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    std::size_t end = pos + 1;
    while (end < s.size() && isDigit(s[end])) ++end;
    const auto f = fractionNanos(s.substr(pos + 1, end - pos - 1));
    if (!f) return std::nullopt;
    frac = *f;
    pos = end;
  }
  if (pos >= s.size()) return std::nullopt;  // RFC 3339 requires an offset
  std::int64_t offsetSeconds = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    if (pos + 1 != s.size()) return std::nullopt;
  } else if (s[pos] == '+' || s[pos] == '-' || s[pos] == ' ') {
    // ' ' is a '+' that was not percent-encoded in a query string.
    const auto oh = fixedDigits(s, pos + 1, 2);
    const auto om = fixedDigits(s, pos + 4, 2);
    if (!oh || !om || s[pos + 3] != ':' || pos + 6 != s.size() || *oh > 23 || *om > 59)
      return std::nullopt;
    offsetSeconds = (*oh * 3600 + *om * 60) * (s[pos] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  const std::int64_t days = sys_days{ymd}.time_since_epoch().count();
  const std::int64_t secs = days * 86400 + *hour * 3600 + *minute * 60 + *second - offsetSeconds;
  // Nanos reach from 1677 to 2262 only: a year outside is no time we could compare with.
  constexpr std::int64_t kMaxSeconds = std::numeric_limits<Nanos>::max() / kNanosPerSecond - 1;
  if (secs < -kMaxSeconds || secs > kMaxSeconds) return std::nullopt;
  return secs * kNanosPerSecond + frac;
}

// Query parameters of one endpoint: unknown or repeated names are errors, so that a typo
// (?stat=down) never silently returns everything.
class QueryParams {
 public:
  static std::variant<QueryParams, JsonResponse> parse(
      std::string_view query, std::initializer_list<std::string_view> allowed) {
    QueryParams params;
    for (auto& [name, value] : parseQuery(query)) {
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        std::string expected;
        for (const auto a : allowed) {
          if (!expected.empty()) expected += ", ";
          expected += a;
        }
        return errorResponse(400, "unknown query parameter '" + name + "': expected " +
                                      (expected.empty() ? std::string("none") : expected));
      }
      if (params.get(name)) return errorResponse(400, "query parameter '" + name + "' given twice");
      params.values_.emplace_back(std::move(name), std::move(value));
    }
    return params;
  }

  const std::string* get(std::string_view name) const {
    for (const auto& [n, v] : values_)
      if (n == name) return &v;
    return nullptr;
  }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

// Resolves ?member= (a MemberId or a session key).
std::variant<LinkIndex, JsonResponse> memberFilter(const LinkMonitor& monitor,
                                                   const std::string& value) {
  const LinkIndex link = monitor.findLink(value);
  if (link == kNoLink)
    return errorResponse(400, "member: no link has MemberId or session '" + value +
                                  "': expected a configured MemberId or session key");
  return link;
}

json transitionJson(const LinkMonitor& monitor, const Transition& t) {
  json e = json::object();
  e["time"] = formatRfc3339(t.wall);
  e["time_unix"] = seconds(t.wall);
  if (t.link < monitor.linkCount()) {
    const LinkConfig& cfg = monitor.link(t.link);
    e["member"] = cfg.memberId;
    e["session"] = cfg.sessionKey;
  } else {
    e["member"] = nullptr;
    e["session"] = nullptr;
  }
  e["from"] = toString(t.from);
  e["to"] = toString(t.to);
  e["reason"] = toString(t.reason);
  // How long the monitor took: from the FIX thread's stamp of the session event that caused
  // the transition (the disconnect, the logon) to the transition itself. Absent when a
  // deadline or a command caused it.
  if (t.causeMonotonic != 0 && t.monotonic >= t.causeMonotonic)
    e["detection_ms"] =
        static_cast<double>(t.monotonic - t.causeMonotonic) / static_cast<double>(kNanosPerMilli);
  return e;
}

json historyEventJson(const LinkMonitor& monitor, const HistoryEvent& h) {
  json e = json::object();
  e["id"] = h.id;
  e["kind"] = toString(h.kind);
  e["time"] = formatRfc3339(h.wall);
  e["time_unix"] = seconds(h.wall);
  if (h.member.empty()) {
    e["member"] = nullptr;
    e["session"] = nullptr;
  } else {
    e["member"] = h.member;
    const LinkIndex link = monitor.findLink(h.member);
    e["session"] = link == kNoLink ? json(nullptr) : json(monitor.link(link).sessionKey);
  }
  switch (h.kind) {
    case HistoryEventKind::kTransition:
    case HistoryEventKind::kSnapshot:
      e["from"] = h.from;
      e["to"] = h.to;
      e["reason"] = h.reason;
      break;
    case HistoryEventKind::kMaintenance:
      e["maintenance_until"] = timeOrNull(h.maintenanceUntilWall);
      break;
    case HistoryEventKind::kCertification:
      e["case"] = h.caseId;
      e["verdict"] = h.verdict;
      e["reason"] = h.reason;
      e["run_id"] = h.runId;
      break;
    case HistoryEventKind::kGap:
      e["dropped_records"] = h.droppedRecords;
      break;
  }
  if (!h.detail.empty()) e["detail"] = h.detail;
  e["previous_run"] = h.previousRun;
  return e;
}

// /api/v1/events served from the journal.
JsonResponse journalEventsResponse(const LinkMonitor& monitor, std::string_view query,
                                   const EventHistory& history) {
  auto parsed = QueryParams::parse(query, {"limit", "member", "since", "before", "kind"});
  if (auto* err = std::get_if<JsonResponse>(&parsed)) return std::move(*err);
  const auto& params = std::get<QueryParams>(parsed);

  const auto positive = [](const std::string& text) -> std::optional<std::uint64_t> {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v == 0)
      return std::nullopt;
    return v;
  };
  EventQuery q;
  q.kind = HistoryEventKind::kTransition;
  const std::size_t capacity = std::max<std::size_t>(history.capacity(), 1);
  q.limit = std::min(kDefaultEventLimit, capacity);
  if (const std::string* text = params.get("limit")) {
    const auto v = positive(*text);
    if (!v) return errorResponse(400, "limit: got '" + *text + "': expected a positive integer");
    q.limit = *v > capacity ? capacity : static_cast<std::size_t>(*v);
  }
  if (const std::string* text = params.get("before")) {
    q.beforeId = positive(*text);
    if (!q.beforeId)
      return errorResponse(400, "before: got '" + *text +
                                    "': expected an event id (next_before of the previous page)");
  }
  if (const std::string* member = params.get("member")) {
    auto r = memberFilter(monitor, *member);
    if (auto* err = std::get_if<JsonResponse>(&r)) return std::move(*err);
    q.member = monitor.link(std::get<LinkIndex>(r)).memberId;
  }
  if (const std::string* text = params.get("since")) {
    q.since = parseTimestamp(*text);
    if (!q.since)
      return errorResponse(400, "since: got '" + *text +
                                    "': expected Unix seconds (1767225600.5) or an RFC 3339 "
                                    "time (2026-01-01T09:30:00Z)");
  }
  if (const std::string* text = params.get("kind")) {
    if (*text == "all") {
      q.kind.reset();
    } else {
      q.kind = parseHistoryEventKind(*text);
      if (!q.kind)
        return errorResponse(400, "kind: got '" + *text +
                                      "': expected transition, maintenance, certification, "
                                      "gap, snapshot or all");
    }
  }
  const EventPage page = history.query(q);
  json events = json::array();
  for (const HistoryEvent& h : page.events) events.push_back(historyEventJson(monitor, h));
  json body = json::object();
  body["events"] = std::move(events);
  body["next_before"] = page.nextBefore ? json(*page.nextBefore) : json(nullptr);
  // Damaged stretches of older segment files this page read past: the events around them are
  // served, and the client learns that something between them is missing.
  if (!page.problems.empty()) body["journal_damage"] = page.problems;
  return JsonResponse{200, std::move(body)};
}

}  // namespace

std::string formatRfc3339(Nanos wall) {
  Nanos secs = wall / kNanosPerSecond;
  Nanos rem = wall % kNanosPerSecond;
  if (rem < 0) {
    rem += kNanosPerSecond;
    --secs;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 64> buf{};
  const int len = std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                                tm.tm_sec, static_cast<int>(rem / kNanosPerMilli));
  return std::string(buf.data(), len > 0 ? static_cast<std::size_t>(len) : 0);
}

std::optional<Nanos> parseTimestamp(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (auto unix = parseUnixSeconds(text)) return unix;
  return parseRfc3339(text);
}

std::vector<std::pair<std::string, std::string>> parseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(urlDecode(part), std::string());
    } else {
      out.emplace_back(urlDecode(part.substr(0, eq)), urlDecode(part.substr(eq + 1)));
    }
  }
  return out;
}

json linkJson(const LinkMonitor& monitor, LinkIndex link) {
  const LinkConfig& cfg = monitor.link(link);
  const LinkStats& s = monitor.stats(link);
  const Nanos since = s.stateSinceWall.load(std::memory_order_relaxed);
  const Nanos rtt = s.lastRtt.load(std::memory_order_relaxed);

  json j = json::object();
  j["member"] = cfg.memberId;
  j["name"] = cfg.memberName;
  j["criticality"] = toString(cfg.criticality);
  j["session"] = cfg.sessionKey;
  j["connection_type"] = toString(cfg.connectionType);
  j["state"] = toString(s.state.load(std::memory_order_acquire));
  j["reason"] = toString(s.reason.load(std::memory_order_relaxed));
  j["since"] = formatRfc3339(since);
  j["since_unix"] = seconds(since);
  j["last_message_received"] = timeOrNull(s.lastInboundWall.load(std::memory_order_relaxed));
  j["last_logon"] = timeOrNull(s.lastLogonWall.load(std::memory_order_relaxed));
  j["heartbeat_interval_seconds"] = s.heartBtIntSeconds.load(std::memory_order_relaxed);
  j["last_rtt_seconds"] = rtt >= 0 ? json(seconds(rtt)) : json(nullptr);
  j["sending_time_skew_seconds"] =
      s.hasSendingTimeSkew.load(std::memory_order_relaxed)
          ? json(seconds(s.lastSendingTimeSkew.load(std::memory_order_relaxed)))
          : json(nullptr);
  j["flaps_in_window"] = s.flapsInWindow.load(std::memory_order_relaxed);
  j["maintenance_until"] = timeOrNull(s.maintenanceUntilWall.load(std::memory_order_relaxed));
  // Restored from the journal and not yet re-observed: what the previous run last saw, as
  // history next to the `unknown` state, never as the current light.
  if (const RestoredLink* r = monitor.restored(link);
      r != nullptr && s.state.load(std::memory_order_acquire) == LinkState::kUnknown) {
    j["last_known_state"] = toString(r->lastState);
    j["last_known_reason"] = toString(r->lastReason);
    j["last_known_since"] = timeOrNull(r->lastSinceWall);
  }
  return j;
}

JsonResponse linksResponse(const LinkMonitor& monitor, std::string_view query) {
  auto parsed = QueryParams::parse(query, {"member", "state"});
  if (auto* err = std::get_if<JsonResponse>(&parsed)) return std::move(*err);
  const auto& params = std::get<QueryParams>(parsed);

  std::optional<LinkIndex> onlyLink;
  if (const std::string* member = params.get("member")) {
    auto r = memberFilter(monitor, *member);
    if (auto* err = std::get_if<JsonResponse>(&r)) return std::move(*err);
    onlyLink = std::get<LinkIndex>(r);
  }
  std::optional<LinkState> onlyState;
  if (const std::string* state = params.get("state")) {
    for (int k = 0; k < kLinkStateCount; ++k)
      if (*state == toString(static_cast<LinkState>(k))) onlyState = static_cast<LinkState>(k);
    if (!onlyState)
      return errorResponse(
          400, "state: got '" + *state +
                   "': expected one of up, degraded, down, offhours, maintenance, unknown");
  }

  json links = json::array();
  const std::size_t n = monitor.linkCount();
  for (std::size_t i = 0; i < n; ++i) {
    const auto link = static_cast<LinkIndex>(i);
    if (onlyLink && *onlyLink != link) continue;
    if (onlyState && monitor.stats(link).state.load(std::memory_order_acquire) != *onlyState)
      continue;
    links.push_back(linkJson(monitor, link));
  }
  return JsonResponse{200, std::move(links)};
}

JsonResponse linkResponse(const LinkMonitor& monitor, std::string_view memberOrSession) {
  const std::string key(memberOrSession);
  const LinkIndex link = monitor.findLink(key);
  if (link == kNoLink) return errorResponse(404, "no link has MemberId or session '" + key + "'");
  return JsonResponse{200, linkJson(monitor, link)};
}

JsonResponse eventsResponse(const LinkMonitor& monitor, std::string_view query,
                            const EventHistory* history) {
  if (history != nullptr) return journalEventsResponse(monitor, query, *history);
  auto parsed = QueryParams::parse(query, {"limit", "member", "since"});
  if (auto* err = std::get_if<JsonResponse>(&parsed)) return std::move(*err);
  const auto& params = std::get<QueryParams>(parsed);

  const std::size_t historySize = monitor.config().historySize;
  std::size_t limit = kDefaultEventLimit;
  if (const std::string* text = params.get("limit")) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (text->empty() || ec != std::errc() || end != text->data() + text->size() || v == 0)
      return errorResponse(400, "limit: got '" + *text + "': expected a positive integer");
    limit = v > historySize ? historySize : static_cast<std::size_t>(v);
  }
  limit = std::min(limit, historySize);

  std::optional<LinkIndex> onlyLink;
  if (const std::string* member = params.get("member")) {
    auto r = memberFilter(monitor, *member);
    if (auto* err = std::get_if<JsonResponse>(&r)) return std::move(*err);
    onlyLink = std::get<LinkIndex>(r);
  }
  std::optional<Nanos> since;
  if (const std::string* text = params.get("since")) {
    since = parseTimestamp(*text);
    if (!since)
      return errorResponse(400, "since: got '" + *text +
                                    "': expected Unix seconds (1767225600.5) or an RFC 3339 "
                                    "time (2026-01-01T09:30:00Z)");
  }

  // Filters apply before the limit: read the whole history when there are any.
  const bool filtered = onlyLink || since;
  const std::vector<Transition> recent = monitor.recentTransitions(filtered ? historySize : limit);
  json events = json::array();
  for (const Transition& t : recent) {
    if (events.size() >= limit) break;
    // Not a break: wall time may have stepped back (NTP), so history is not sorted by it.
    if (since && t.wall < *since) continue;
    if (onlyLink && t.link != *onlyLink) continue;
    events.push_back(transitionJson(monitor, t));
  }
  json body = json::object();
  body["events"] = std::move(events);
  return JsonResponse{200, std::move(body)};
}

JsonResponse healthResponse(const LinkMonitor& monitor, Nanos nowWall) {
  const Nanos started = monitor.monitorStats().startedWall.load(std::memory_order_relaxed);
  const Nanos uptime = started == 0 ? 0 : std::max<Nanos>(0, nowWall - started);
  json body = json::object();
  body["status"] = "ok";
  body["links"] = monitor.linkCount();
  body["uptime_seconds"] = seconds(uptime);
  return JsonResponse{200, std::move(body)};
}

JsonResponse errorResponse(int status, std::string message) {
  json body = json::object();
  body["error"] = std::move(message);
  return JsonResponse{status, std::move(body)};
}

JsonResponse maintenanceResponse(LinkMonitor& monitor, std::string_view memberOrSession, bool end,
                                 std::string_view body, Nanos nowWall) {
  const LinkIndex link = monitor.findLink(std::string(memberOrSession));
  if (link == kNoLink)
    return errorResponse(
        404, "no link with MemberId or session \"" + std::string(memberOrSession) + "\"");
  Nanos until = 0;
  if (!end) {
    const nlohmann::json request = nlohmann::json::parse(body, nullptr, false);
    if (!request.is_object())
      return errorResponse(400,
                           "body: expected a JSON object with \"until\" (Unix seconds or "
                           "RFC 3339) or \"duration_seconds\"");
    if (request.contains("until")) {
      const auto& u = request["until"];
      std::optional<Nanos> parsed;
      if (u.is_number()) {
        // Past Nanos' range (year 2262) the cast would be undefined: no time we can wait for.
        constexpr double kMaxSeconds =
            static_cast<double>(std::numeric_limits<Nanos>::max() / kNanosPerSecond - 1);
        const double secs = u.get<double>();
        if (secs >= -kMaxSeconds && secs <= kMaxSeconds)
          parsed = static_cast<Nanos>(secs * static_cast<double>(kNanosPerSecond));
      } else if (u.is_string()) {
        parsed = parseTimestamp(u.get<std::string>());
      }
      if (!parsed) return errorResponse(400, "until: expected Unix seconds or RFC 3339 time");
      until = *parsed;
    } else if (request.contains("duration_seconds") && request["duration_seconds"].is_number()) {
      const double seconds = request["duration_seconds"].get<double>();
      if (!(seconds > 0 && seconds <= 31 * 24 * 3600.0))
        return errorResponse(400, "duration_seconds: expected more than 0 and at most 31 days");
      until = nowWall + static_cast<Nanos>(seconds * static_cast<double>(kNanosPerSecond));
    } else {
      return errorResponse(400, "body: expected \"until\" or \"duration_seconds\"");
    }
    if (until <= nowWall) return errorResponse(400, "until: must lie in the future");
  }
  monitor.setMaintenance(link, until);
  JsonResponse r;
  r.body = linkJson(monitor, link);
  // The core thread applies the change within its next loop; answer with what was asked.
  r.body["maintenance_until"] =
      end ? nlohmann::json(nullptr) : nlohmann::json(formatRfc3339(until));
  return r;
}

}  // namespace linkwatch
