// Shared by the HTTP tests: a monitor driven through a fixed scenario on a manual clock,
// a blocking libcurl client, the exposition parsed into samples, and promtool.
#pragma once

#include <curl/curl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <linkwatch/clock.hpp>
#include <linkwatch/config.hpp>
#include <linkwatch/link_monitor.hpp>
#include <linkwatch/session_event.hpp>

namespace linkwatch::testing {

// 2026-01-01T00:00:00Z, ManualClock's default wall start.
constexpr double kStartUnix = 1767225600.0;
constexpr std::string_view kHostileName = "Bank \"Best\" <script>alert('x')</script> \\ Ltd";

inline LinkConfig makeLink(std::string memberId, std::string name, Criticality criticality) {
  LinkConfig link;
  link.memberId = memberId;
  link.memberName = std::move(name);
  link.criticality = criticality;
  link.connectionType = ConnectionType::kAcceptor;
  link.beginString = "FIX.4.4";
  link.senderCompId = "EXCH";
  link.targetCompId = memberId;
  link.sessionKey = "FIX.4.4:EXCH->" + memberId;
  link.heartBtIntSeconds = 30;
  return link;
}

inline MonitorConfig makeConfig() {
  MonitorConfig config;
  config.file = "programmatic";
  config.historySize = 50;
  config.eventQueueCapacity = 1024;
  config.links.push_back(makeLink("M1", "Alpha Securities", Criticality::kCritical));
  config.links.push_back(makeLink("M2", std::string(kHostileName), Criticality::kStandard));
  config.links.push_back(makeLink("M3", "Gamma Test Member", Criticality::kTest));
  return config;
}

// Three links after 70 s of a scripted session:
//   M1 logged on at t0, heartbeats at t0+10, +40, +70 (one sent at +40): up / logged_on.
//   M2 logged on at t0, disconnected at t0+1 (stamped 3 ms before the core applied it): down /
//   disconnected.
//   M3 never connected: down / never_connected.
// Transitions, oldest first: M1 down->up (t0), M2 down->up (t0), M2 up->down (t0+1).
class Scenario {
 public:
  static constexpr LinkIndex kM1 = 0;
  static constexpr LinkIndex kM2 = 1;
  static constexpr LinkIndex kM3 = 2;
  static constexpr Nanos kDisconnectDetectionMs = 3;

  Scenario() : monitor(makeConfig(), clock) {
    SessionEvent logonIn = event(kM1, EventKind::kMessageIn, MessageClass::kLogon);
    logonIn.aux = 30;  // HeartBtInt
    publish(logonIn);
    publish(event(kM1, EventKind::kLogon));
    publish(event(kM2, EventKind::kLogon));
    apply();

    clock.advance(1 * kNanosPerSecond);
    // Stamped on the FIX thread 3 ms before the core applies it.
    SessionEvent disconnect = event(kM2, EventKind::kDisconnect);
    disconnect.monotonic -= kDisconnectDetectionMs * kNanosPerMilli;
    disconnect.wall -= kDisconnectDetectionMs * kNanosPerMilli;
    publish(disconnect);
    apply();

    clock.advance(9 * kNanosPerSecond);
    SessionEvent hb = event(kM1, EventKind::kMessageIn, MessageClass::kHeartbeat);
    hb.flags = event_flag::kHasSendingTime;
    hb.sendingTime = hb.wall - 5 * kNanosPerMilli;
    publish(hb);
    apply();

    clock.advance(30 * kNanosPerSecond);
    publish(event(kM1, EventKind::kMessageIn, MessageClass::kHeartbeat));
    publish(event(kM1, EventKind::kMessageOut, MessageClass::kHeartbeat));
    apply();

    clock.advance(30 * kNanosPerSecond);
    publish(event(kM1, EventKind::kMessageIn, MessageClass::kHeartbeat));
    apply();
  }

  SessionEvent event(LinkIndex link, EventKind kind,
                     MessageClass cls = MessageClass::kApplication) const {
    SessionEvent e{};
    e.link = link;
    e.kind = kind;
    e.messageClass = cls;
    e.monotonic = clock.monotonic();
    e.wall = clock.wall();
    return e;
  }

  void publish(const SessionEvent& e) { ASSERT_TRUE(monitor.hub().publish(e)); }
  // Applies what was published, on this thread: no core thread, no waiting.
  void apply() { monitor.runOnce(); }

  ManualClock clock;
  LinkMonitor monitor;
};

// ---- HTTP client -------------------------------------------------------------------------

struct HttpResult {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased

  std::string header(const std::string& lowerName) const {
    const auto it = headers.find(lowerName);
    return it == headers.end() ? std::string() : it->second;
  }
};

inline std::size_t appendBody(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

inline std::size_t appendHeader(char* data, std::size_t size, std::size_t count, void* out) {
  std::string line(data, size * count);
  const std::size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    const std::size_t first = value.find_first_not_of(" \t");
    const std::size_t last = value.find_last_not_of(" \t\r\n");
    value = first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * count;
}

// Blocking request; fails the test (and returns status 0) when the transfer itself fails.
inline HttpResult httpRequest(const std::string& url, const std::string& method = "GET",
                              const std::string& body = "") {
  HttpResult result;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    ADD_FAILURE() << "curl_easy_init failed";
    return result;
  }
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &appendBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, &appendHeader);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &result.headers);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  if (method == "HEAD") {
    curl_easy_setopt(curl.get(), CURLOPT_NOBODY, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  if (!body.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  const CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) {
    ADD_FAILURE() << method << " " << url << ": " << curl_easy_strerror(rc);
    return result;
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &result.status);
  return result;
}

// ---- Exposition ----------------------------------------------------------------------------

// Every sample line of a text-format exposition: "name{labels}" -> value.
inline std::map<std::string, double> parseSamples(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    const std::string value = line.substr(space + 1);
    samples[line.substr(0, space)] =
        value == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(value);
  }
  return samples;
}

// `name{member="M1",session="FIX.4.4:EXCH->M1"<,extra>}`: the label order the exporter uses.
inline std::string linkSeries(std::string_view name, std::string_view member,
                              std::string_view extra = {}) {
  std::string s(name);
  s += "{member=\"";
  s += member;
  s += "\",session=\"FIX.4.4:EXCH->";
  s += member;
  s += "\"";
  if (!extra.empty()) {
    s += ",";
    s += extra;
  }
  s += "}";
  return s;
}

// ---- promtool -------------------------------------------------------------------------------

inline std::optional<std::string> findOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

struct CommandResult {
  int exitCode = -1;
  std::string output;  // stdout and stderr
};

// Runs `command` with `input` on its standard input.
inline CommandResult runWithInput(const std::string& command, const std::string& input,
                                  const std::string& inputFile) {
  {
    std::ofstream out(inputFile, std::ios::binary);
    out << input;
  }
  CommandResult result;
  const std::string full = command + " < '" + inputFile + "' 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) result.output.append(buf, n);
  const int status = ::pclose(pipe);
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace linkwatch::testing
