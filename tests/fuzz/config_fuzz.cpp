// The configuration loader: parseConfig() on any bytes either returns a configuration that
// honours the documented limits or throws ConfigError with at least one issue. Any other
// exception, a crash, a hang or UB is a bug. parseDuration() runs on the same bytes.
#include <linkwatch/config.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "fuzz_support.hpp"

namespace {

using linkwatch::fuzz::asText;

void checkDuration(std::string_view text) {
  const auto d = linkwatch::parseDuration(text);
  if (!d) return;
  LW_FUZZ_CHECK(d->count() >= 0 && *d <= std::chrono::hours{24}, "duration outside 0..24h");
  // Round trip: the value in milliseconds reads back as itself.
  const auto again = linkwatch::parseDuration(std::to_string(d->count()) + "ms");
  LW_FUZZ_CHECK(again && *again == *d, "duration does not survive a round trip through ms");
}

void checkAccepted(const linkwatch::MonitorConfig& config) {
  LW_FUZZ_CHECK(!config.links.empty(), "a configuration without links was accepted");
  LW_FUZZ_CHECK(config.heartbeatGrace >= 0.0 && config.heartbeatGrace <= 5.0, "HeartbeatGrace");
  LW_FUZZ_CHECK(config.eventQueueCapacity >= 1024, "EventQueueCapacity below 1024");
  LW_FUZZ_CHECK(config.historySize >= 10, "EventHistorySize below 10");
  LW_FUZZ_CHECK(config.testRequestTimeout.count() > 0, "TestRequestTimeout not positive");
  LW_FUZZ_CHECK(config.flapWindow.count() > 0, "FlapWindow not positive");
  LW_FUZZ_CHECK(config.alertmanagerUrls.size() <= 8, "more than 8 AlertmanagerUrls");
  LW_FUZZ_CHECK(linkwatch::descriptorBudget(config).withinLimit(), "over the descriptor budget");
  std::set<std::string> members;
  std::set<std::string> sessions;
  for (const linkwatch::LinkConfig& link : config.links) {
    LW_FUZZ_CHECK(!link.memberId.empty() && link.memberId.size() <= 32, "MemberId length");
    LW_FUZZ_CHECK(members.insert(link.memberId).second, "duplicate MemberId accepted");
    LW_FUZZ_CHECK(sessions.insert(link.sessionKey).second, "duplicate session accepted");
    LW_FUZZ_CHECK(!link.memberName.empty() && link.memberName.size() <= 128, "MemberName length");
    LW_FUZZ_CHECK(link.heartBtIntSeconds >= 0 && link.heartBtIntSeconds <= 86400, "HeartBtInt");
    LW_FUZZ_CHECK(link.socketPort >= 1 && link.socketPort <= 65535, "socket port");
    LW_FUZZ_CHECK(link.rttProbeInterval.count() == 0 ||
                      link.rttProbeInterval >= std::chrono::milliseconds{100},
                  "RttProbeInterval below 100ms");
    // The schedule the loader built is evaluated by the core on every tick: it must answer
    // for any wall time without UB, and the next change must lie ahead.
    for (const linkwatch::Nanos wall :
         {linkwatch::Nanos{0}, linkwatch::Nanos{1767225600LL * linkwatch::kNanosPerSecond}}) {
      (void)link.schedule.isOpen(wall);
      const auto next = link.schedule.nextChange(wall);
      LW_FUZZ_CHECK(!next || *next > wall, "TradingSchedule::nextChange not after now");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = asText(data, size);
  checkDuration(text);
  try {
    checkAccepted(linkwatch::parseConfig(std::string(text), "fuzz.cfg"));
  } catch (const linkwatch::ConfigError& e) {
    LW_FUZZ_CHECK(!e.issues().empty(), "ConfigError without issues");
    for (const linkwatch::ConfigIssue& issue : e.issues()) {
      // parseConfig turns a stray std::exception into an "internal error" issue so that the
      // CLI still exits 2; for the fuzzer it is the bug it hides.
      LW_FUZZ_CHECK(issue.message.rfind("internal error: ", 0) != 0, issue.message);
      LW_FUZZ_CHECK(!issue.message.empty(), "issue without a message");
      (void)issue.describe();
    }
  }
  // Any other exception escapes, and libFuzzer reports it as a crash (uncaught exception).
  return 0;
}
