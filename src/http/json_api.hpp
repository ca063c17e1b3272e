// The JSON API as pure functions of the monitor's published state, so that every response
// can be tested without a socket. HttpServer only routes and writes what these return.
//
// Thread-safety: the functions read LinkMonitor through its thread-safe accessors; call them
// from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <linkwatch/clock.hpp>
#include <linkwatch/event_history.hpp>
#include <linkwatch/link_monitor.hpp>

namespace linkwatch {

struct JsonResponse {
  int status = 200;
  nlohmann::json body;
};

// Default and upper bound of /api/v1/events?limit=N (the bound is also capped at the
// configured history size).
constexpr std::size_t kDefaultEventLimit = 100;

// "2026-01-01T09:30:00.123Z": RFC 3339, UTC, milliseconds.
std::string formatRfc3339(Nanos wall);
// Accepts RFC 3339 ("2026-01-01T09:30:00Z", fractional seconds and +hh:mm offsets allowed)
// or Unix seconds ("1767225600", "1767225600.5"). nullopt when it is neither.
std::optional<Nanos> parseTimestamp(std::string_view text);

// Splits a raw query string ("a=1&b=x%20y") into decoded name/value pairs, in order.
std::vector<std::pair<std::string, std::string>> parseQuery(std::string_view query);

// One link as /api/v1/links shows it.
nlohmann::json linkJson(const LinkMonitor& monitor, LinkIndex link);

// GET /api/v1/links?member=ID&state=down (raw, still URL-encoded query string).
JsonResponse linksResponse(const LinkMonitor& monitor, std::string_view query);
// GET /api/v1/links/{member}: by MemberId or session key; 404 when there is none.
JsonResponse linkResponse(const LinkMonitor& monitor, std::string_view memberOrSession);
// GET /api/v1/events?limit=N&member=ID&since=T, newest first. With a journal (`history`), the
// events come from it (previous runs included) and two more parameters page and filter them:
// before=ID (the `next_before` of the previous page) and kind=transition|maintenance|
// certification|gap|snapshot|all (default transition).
JsonResponse eventsResponse(const LinkMonitor& monitor, std::string_view query,
                            const EventHistory* history = nullptr);
// GET /healthz. `nowWall` is Unix ns, for the uptime.
JsonResponse healthResponse(const LinkMonitor& monitor, Nanos nowWall);

// POST /api/v1/links/{member}/maintenance with a JSON body {"until": T} (T: Unix seconds or
// RFC 3339) or {"duration_seconds": N}; DELETE ends it (`end`). Applied by the core thread
// within its next loop; the answer shows the window as requested.
JsonResponse maintenanceResponse(LinkMonitor& monitor, std::string_view memberOrSession, bool end,
                                 std::string_view body, Nanos nowWall);

// {"error": message} with the given status.
JsonResponse errorResponse(int status, std::string message);

}  // namespace linkwatch
