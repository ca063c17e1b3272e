// The JSON API's request handling on any bytes: the bytes are the raw query string of
// /api/v1/links and /api/v1/events, the {member} of /api/v1/links/{member}, the body of a
// maintenance POST, and a timestamp. Every answer must be 200, 400 or 404 with a body that
// serialises (as HttpServer does) to valid JSON; nothing may throw or hit UB. Round trips:
//  - parseTimestamp(formatRfc3339(t)) == t at millisecond precision for every t it accepts;
//  - parseQuery of the percent-encoded pairs gives the same pairs back.
#include <linkwatch/clock.hpp>
#include <linkwatch/config.hpp>
#include <linkwatch/link_monitor.hpp>
#include <linkwatch/session_event.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_support.hpp"
#include "http/json_api.hpp"

namespace {

using linkwatch::Nanos;

linkwatch::LinkConfig makeLink(const std::string& memberId, linkwatch::Criticality criticality) {
  linkwatch::LinkConfig link;
  link.memberId = memberId;
  link.memberName = "Member " + memberId;
  link.criticality = criticality;
  link.beginString = "FIX.4.4";
  link.senderCompId = "EXCH";
  link.targetCompId = memberId;
  link.sessionKey = "FIX.4.4:EXCH->" + memberId;
  link.heartBtIntSeconds = 30;
  return link;
}

// Three links on a manual clock with some history: M1 up, M2 down after a disconnect, M3 never
// connected (as tests/http/http_test_support.hpp's scenario, shortened).
struct Fixture {
  static linkwatch::MonitorConfig config() {
    linkwatch::MonitorConfig c;
    c.file = "fuzz";
    c.historySize = 20;
    c.eventQueueCapacity = 64;
    c.links.push_back(makeLink("M1", linkwatch::Criticality::kCritical));
    c.links.push_back(makeLink("M2", linkwatch::Criticality::kStandard));
    c.links.push_back(makeLink("M3", linkwatch::Criticality::kTest));
    return c;
  }

  Fixture() : monitor(config(), clock) {
    publish(0, linkwatch::EventKind::kLogon);
    publish(1, linkwatch::EventKind::kLogon);
    monitor.runOnce();
    clock.advance(linkwatch::kNanosPerSecond);
    publish(1, linkwatch::EventKind::kDisconnect);
    monitor.runOnce();
  }

  void publish(linkwatch::LinkIndex link, linkwatch::EventKind kind) {
    linkwatch::SessionEvent e{};
    e.link = link;
    e.kind = kind;
    e.messageClass = linkwatch::MessageClass::kApplication;
    e.monotonic = clock.monotonic();
    e.wall = clock.wall();
    LW_FUZZ_CHECK(monitor.hub().publish(e), "fixture event did not fit");
  }

  linkwatch::ManualClock clock;
  linkwatch::LinkMonitor monitor;
};

void checkResponse(const linkwatch::JsonResponse& r) {
  LW_FUZZ_CHECK(r.status == 200 || r.status == 400 || r.status == 404, std::to_string(r.status));
  // As HttpServer writes it: invalid UTF-8 from the request is replaced, never thrown on.
  const std::string text = r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  LW_FUZZ_CHECK(nlohmann::json::accept(text), "response is not valid JSON: " + text);
  if (r.status != 200) LW_FUZZ_CHECK(r.body.contains("error"), "an error without a message");
}

void checkTimestamp(std::string_view text) {
  const auto t = linkwatch::parseTimestamp(text);
  if (!t) return;
  Nanos millis = *t / linkwatch::kNanosPerMilli;
  if (*t % linkwatch::kNanosPerMilli < 0) --millis;  // floor, as formatRfc3339 does
  const std::string formatted = linkwatch::formatRfc3339(*t);
  const auto again = linkwatch::parseTimestamp(formatted);
  LW_FUZZ_CHECK(again && *again == millis * linkwatch::kNanosPerMilli,
                std::string(text) + " -> " + formatted);
}

std::string percentEncode(const std::string& s) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[u >> 4];
    out += kHex[u & 0xF];
  }
  return out;
}

void checkQuery(std::string_view query) {
  const auto pairs = linkwatch::parseQuery(query);
  std::string encoded;
  for (const auto& [name, value] : pairs) {
    if (!encoded.empty()) encoded += '&';
    encoded += percentEncode(name) + "=" + percentEncode(value);
  }
  // An empty name and value is no pair at all ("&&"): the one thing that does not come back.
  bool emptyPair = false;
  for (const auto& [name, value] : pairs) emptyPair = emptyPair || (name.empty() && value.empty());
  if (!emptyPair) LW_FUZZ_CHECK(linkwatch::parseQuery(encoded) == pairs, "query round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = linkwatch::fuzz::asText(data, size);
  checkTimestamp(text);
  checkQuery(text);

  // A fresh monitor per input: maintenance changes it, and a crash must replay on its own.
  Fixture f;
  checkResponse(linkwatch::linksResponse(f.monitor, text));
  checkResponse(linkwatch::eventsResponse(f.monitor, text));
  checkResponse(linkwatch::linkResponse(f.monitor, text));

  const Nanos now = f.clock.wall();
  const linkwatch::JsonResponse started =
      linkwatch::maintenanceResponse(f.monitor, "M1", false, text, now);
  checkResponse(started);
  f.monitor.runOnce();  // the core applies the window
  if (started.status == 200) {
    const Nanos until = f.monitor.stats(0).maintenanceUntilWall.load();
    LW_FUZZ_CHECK(until > now, "an accepted window does not lie ahead");
    checkResponse(linkwatch::linksResponse(f.monitor, "state=maintenance"));
    // Let the window run out: the core ends it on its own.
    if (until < std::numeric_limits<Nanos>::max() - 2 * linkwatch::kNanosPerSecond) {
      f.clock.setWall(until + linkwatch::kNanosPerSecond);
      f.monitor.runOnce();
    }
    checkResponse(linkwatch::eventsResponse(f.monitor, "limit=5"));
  }
  checkResponse(linkwatch::maintenanceResponse(f.monitor, "M1", true, text, now));
  f.monitor.runOnce();
  return 0;
}
