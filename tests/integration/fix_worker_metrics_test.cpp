// `linkwatch run` with its QuickFIX sessions in a worker process (FixWorkerMode=processes):
// what the worker's logon checks count (refused logons by member, session and reason, blocked
// addresses, idle connections shut down) reaches the monitor's /metrics under the same series
// as in one process, and a worker killed with SIGKILL shows as down, then up again, with its
// restart counted and no counter going backwards.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

#include "security/security_support.hpp"

namespace linkwatch::testing {
namespace {

using namespace std::chrono_literals;

// Every sample of a text-format scrape: "name{labels}" → value.
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(at, end - at);
    at = end + 1;
    if (line.empty() || line[0] == '#') continue;
    const std::size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

// The worker process: the monitor's only child (the thread that forked it lists it). The
// log can't tell: SecuredMonitor's stdout overwrites the start of the file it shares.
pid_t workerPid(pid_t monitor) {
  std::vector<pid_t> children;
  const std::filesystem::path tasks = "/proc/" + std::to_string(monitor) + "/task";
  std::error_code error;
  for (const auto& task : std::filesystem::directory_iterator(tasks, error)) {
    std::istringstream list(readFile((task.path() / "children").string()));
    pid_t pid = 0;
    while (list >> pid) children.push_back(pid);
  }
  return children.size() == 1 ? children[0] : -1;
}

const std::string kGuardedAddress =
    "linkwatch_logons_refused_total{member=\"GUARDED\",reason=\"source_address\","
    "session=\"FIX.4.4:EXCH->GUARDED\"}";
const std::string kPasswdBad =
    "linkwatch_logons_refused_total{member=\"PASSWD\",reason=\"bad_credentials\","
    "session=\"FIX.4.4:EXCH->PASSWD\"}";
const std::string kAllAddress = "linkwatch_logon_refusals_total{reason=\"source_address\"}";
const std::string kAllBad = "linkwatch_logon_refusals_total{reason=\"bad_credentials\"}";
const std::string kIdleClosed = "linkwatch_fix_idle_connections_closed_total";
const std::string kBlocked = "linkwatch_logon_blocked_addresses_total";
const std::string kUp = "linkwatch_fix_worker_up{worker=\"0\"}";
const std::string kRestarts = "linkwatch_fix_worker_restarts_total{worker=\"0\"}";

// Scrapes /metrics and checks, at every scrape, that no counter went backwards.
class Scraper {
 public:
  explicit Scraper(const SecuredMonitor& m) : m_(m) {}

  std::map<std::string, double> scrape() {
    std::map<std::string, double> now = samples(m_.get("/metrics").body);
    for (const std::string& series :
         {kGuardedAddress, kPasswdBad, kAllAddress, kAllBad, kIdleClosed, kBlocked, kRestarts}) {
      const double value = now.count(series) != 0 ? now[series] : 0;
      EXPECT_GE(value, last_[series]) << series << " went backwards";
      last_[series] = value;
    }
    ++scrapes_;
    return now;
  }
  // Waits until every series in `want` has its value (absent counts as 0).
  bool waitUntil(const std::map<std::string, double>& want) {
    return waitFor(
        [&] {
          auto now = scrape();
          for (const auto& [series, value] : want)
            if ((now.count(series) != 0 ? now[series] : 0) != value) return false;
          return true;
        },
        20s);
  }
  std::string describe() {
    std::string text;
    for (const auto& [series, value] : scrape()) {
      if (series.find("logon") != std::string::npos || series.find("fix_") != std::string::npos)
        text += series + " " + std::to_string(value) + "\n";
    }
    return text;
  }
  int scrapes() const { return scrapes_; }

 private:
  const SecuredMonitor& m_;
  std::map<std::string, double> last_;
  int scrapes_ = 0;
};

bool refusedFor(const std::string& reply, const std::string& reason) {
  return reply.find(
             "\x01"
             "35=5\x01") != std::string::npos &&
         reply.find("Rejected Logon Attempt: " + reason) != std::string::npos;
}

TEST(FixWorkerMetrics, WorkerCountsReachMetricsAndSurviveAKilledWorker) {
  SecuredMonitor m("FixWorkerMode=processes\nFixIdleConnectionTimeout=200ms\n");
  ASSERT_TRUE(m.ready()) << m.log();
  Scraper metrics(m);
  ASSERT_TRUE(metrics.waitUntil({{kUp, 1}, {kRestarts, 0}})) << metrics.describe() << m.log();

  // A connection that never sends a byte (shut down by the worker's reaper, meanwhile), a
  // Logon from outside GUARDED's AllowedSourceAddresses, a wrong password for PASSWD, and
  // five more from another address, which block it (LogonFailureLimit=5).
  const int idle = connectFrom("127.0.0.1", m.fixPort);
  ASSERT_GE(idle, 0);
  EXPECT_TRUE(refusedFor(logonReply("127.0.0.2", m.fixPort, logon("GUARDED")), "source_address"));
  EXPECT_TRUE(refusedFor(logonReply("127.0.0.3", m.fixPort, logon("PASSWD", "passuser", "nope")),
                         "bad_credentials"));
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(refusedFor(logonReply("127.0.0.4", m.fixPort, logon("PASSWD", "passuser", "no")),
                           "bad_credentials"));
  EXPECT_TRUE(waitFor(
      [&] {
        char byte;
        return ::recv(idle, &byte, 1, MSG_DONTWAIT) == 0;  // end of file: shut down
      },
      10s));
  ::close(idle);
  ASSERT_TRUE(metrics.waitUntil({{kGuardedAddress, 1},
                                 {kPasswdBad, 6},
                                 {kAllAddress, 1},
                                 {kAllBad, 6},
                                 {kBlocked, 1},
                                 {kIdleClosed, 1}}))
      << metrics.describe() << m.log();

  // The worker dies while its configuration is unreadable: every restart fails, so it stays
  // down (and each failed attempt counts), and what it counted stays on /metrics.
  const pid_t first = workerPid(m.pid);
  ASSERT_GT(first, 0) << m.log();
  const std::string away = m.config + ".away";
  ASSERT_EQ(std::rename(m.config.c_str(), away.c_str()), 0);
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(waitFor(
      [&] {
        auto now = metrics.scrape();
        return now[kRestarts] >= 2 && now[kUp] == 0;
      },
      20s))
      << metrics.describe() << m.log();
  EXPECT_TRUE(metrics.waitUntil(
      {{kUp, 0}, {kGuardedAddress, 1}, {kAllBad, 6}, {kBlocked, 1}, {kIdleClosed, 1}}))
      << metrics.describe();

  // Readable again: the next attempt starts a worker that runs the sessions.
  ASSERT_EQ(std::rename(away.c_str(), m.config.c_str()), 0);
  ASSERT_TRUE(waitFor([&] { return metrics.scrape()[kUp] == 1; }, 20s))
      << metrics.describe() << m.log();
  EXPECT_NE(workerPid(m.pid), first);
  const double restarts = metrics.scrape()[kRestarts];

  // The new worker's counts add to the dead one's.
  EXPECT_TRUE(refusedFor(logonReply("127.0.0.2", m.fixPort, logon("GUARDED")), "source_address"));
  EXPECT_TRUE(refusedFor(logonReply("127.0.0.3", m.fixPort, logon("PASSWD", "passuser", "nope")),
                         "bad_credentials"));
  EXPECT_TRUE(metrics.waitUntil({{kGuardedAddress, 2},
                                 {kPasswdBad, 7},
                                 {kAllAddress, 2},
                                 {kAllBad, 7},
                                 {kBlocked, 1},
                                 {kIdleClosed, 1},
                                 {kRestarts, restarts},
                                 {kUp, 1}}))
      << metrics.describe() << m.log();
  EXPECT_GT(metrics.scrapes(), 5);
}

}  // namespace
}  // namespace linkwatch::testing
