// `linkwatch run` with two QuickFIX worker processes, members from the simulator: a worker that
// is alive but makes no progress (SIGSTOP) is named in the log and on /metrics within
// FixWorkerHangTimeout, killed, its links go down (`fix_worker_lost`, logged as "fix worker hung")
// and come back through a new worker; the other worker's links never leave `up`.
#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>
#include <regex>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/loopback_support.hpp"
#include "integration/worker_run_support.hpp"
#include "sim/simulator.hpp"

namespace linkwatch::testing {
namespace {

using namespace std::chrono_literals;
using test_support::readFile;

// A counter's value in a /metrics scrape; -1 when the series is missing.
double sample(const std::string& scrape, const std::string& series) {
  const std::size_t at = scrape.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(scrape.substr(at + series.size() + 2));
}

TEST(FixWorkerHang, AStoppedWorkerIsKilledAndRestartedWhileTheOtherStaysUp) {
  TempDir dir;
  // HeartBtInt 10 s: the links' own heartbeat deadlines lie well past the hang timeout, so
  // what takes B's links down is the hang, named as such, not their deadlines one by one.
  const TwoWorkerRun run(dir, 10, "FixWorkerHangTimeout=1s\n");
  const auto& [portA, portB, httpPort, cfg, logFile, base] = run;
  pid_t monitor = run.start();
  pid_t stopped = -1;
  struct Reaper {
    pid_t& monitor;
    pid_t& stopped;
    ~Reaper() {
      if (stopped > 0) ::kill(stopped, SIGKILL);  // should the monitor not have
      if (monitor > 0) {
        ::kill(monitor, SIGKILL);
        ::waitpid(monitor, nullptr, 0);
      }
    }
  } reaper{monitor, stopped};

  ASSERT_TRUE(waitFor([&] { return workersByPort(readFile(logFile)).size() == 2; }, 20s))
      << readFile(logFile);
  const std::map<int, WorkerStart> first = workersByPort(readFile(logFile));
  ASSERT_EQ(first.count(portA) + first.count(portB), 2u) << readFile(logFile);
  const WorkerStart hung = first.at(portB);
  const WorkerStart healthy = first.at(portA);
  const std::string hangsOf =
      "linkwatch_fix_worker_hangs_total{worker=\"" + std::to_string(hung.index) + "\"}";
  const std::string hangsOfHealthy =
      "linkwatch_fix_worker_hangs_total{worker=\"" + std::to_string(healthy.index) + "\"}";
  const std::string restartsOf =
      "linkwatch_fix_worker_restarts_total{worker=\"" + std::to_string(hung.index) + "\"}";

  sim::Simulator sim(sim::membersFromMonitorConfig(loadConfig(cfg)));
  sim.start();
  const auto allUp = [&] {
    const auto s = linkStates(base);
    return s.size() == 4 &&
           std::all_of(s.begin(), s.end(), [](const auto& kv) { return kv.second == "up"; });
  };
  ASSERT_TRUE(waitFor(allUp, 20s)) << readFile(logFile);
  ASSERT_EQ(sample(httpGet(base + "/metrics"), hangsOf), 0.0);

  // A's links, looked at on every poll from here on: they must never leave `up`.
  bool aLeftUp = false;
  const auto watchA = [&] {
    const auto s = linkStates(base);
    for (const char* m : {"A1", "A2"})
      if (s.count(m) == 0 || s.at(m) != "up") aLeftUp = true;
  };

  stopped = hung.pid;
  ASSERT_EQ(::kill(hung.pid, SIGSTOP), 0);
  const auto stoppedAt = std::chrono::steady_clock::now();
  const std::string hungLine = "fix worker " + std::to_string(hung.index) + " (pid " +
                               std::to_string(hung.pid) + ", 2 links, port " +
                               std::to_string(portB) + ") hung: no progress for ";
  ASSERT_TRUE(waitFor(
      [&] {
        watchA();
        return readFile(logFile).find(hungLine) != std::string::npos;
      },
      10s))
      << readFile(logFile);
  const double detectedAfter =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stoppedAt).count();
  std::printf("hang detected %.2f s after SIGSTOP (FixWorkerHangTimeout 1 s)\n", detectedAfter);

  // B's links go down as those of a dead worker do, the log says why.
  const auto downedB = [&] {
    const nlohmann::json events = getJson(base + "/api/v1/events?limit=100");
    std::set<std::string> down;
    if (!events.is_object()) return down;
    for (const auto& e : events["events"])
      if (e["to"] == "down" && e["reason"] == "fix_worker_lost")
        down.insert(e["member"].get<std::string>());
    return down;
  };
  ASSERT_TRUE(waitFor(
      [&] {
        watchA();
        return downedB() == std::set<std::string>{"B1", "B2"};
      },
      10s))
      << readFile(logFile);
  EXPECT_NE(readFile(logFile).find("killed by signal 9 (Killed): its 2 links are down "
                                   "(fix_worker_lost: fix worker hung)"),
            std::string::npos)
      << readFile(logFile);

  // The stopped process is gone (killed and reaped), a new one runs B's sessions.
  ASSERT_TRUE(waitFor(
      [&] {
        watchA();
        const auto now = workersByPort(readFile(logFile));
        return now.count(portB) != 0 && now.at(portB).pid != hung.pid;
      },
      10s))
      << readFile(logFile);
  EXPECT_TRUE(waitFor([&] { return ::kill(hung.pid, 0) != 0 && errno == ESRCH; }, 5s));
  stopped = -1;
  ASSERT_TRUE(waitFor(
      [&] {
        watchA();
        return allUp();
      },
      20s))
      << readFile(logFile);

  // Counted once, for that worker only, and kept across its restart (which counts as one).
  const std::string scrape = httpGet(base + "/metrics");
  EXPECT_EQ(sample(scrape, hangsOf), 1.0) << scrape;
  EXPECT_EQ(sample(scrape, restartsOf), 1.0) << scrape;
  EXPECT_EQ(sample(scrape, hangsOfHealthy), 0.0) << scrape;

  // The other shard never noticed: its links never left `up`, its worker is the same.
  EXPECT_FALSE(aLeftUp);
  const nlohmann::json events = getJson(base + "/api/v1/events?limit=100");
  for (const auto& e : events["events"])
    if (e["member"] == "A1" || e["member"] == "A2") {
      EXPECT_EQ(e["to"], "up") << e.dump();
    }
  EXPECT_EQ(::kill(healthy.pid, 0), 0);
  EXPECT_EQ(workersByPort(readFile(logFile)).at(portA).pid, healthy.pid);
  sim.stop();
}

TEST(FixWorkerHang, ATimeoutUnderOneSecondIsAConfigErrorNamingTheLine) {
  TempDir dir;
  const std::string cfg =
      dir.write("hang.cfg",
                "[DEFAULT]\nConnectionType=acceptor\nBeginString=FIX.4.4\nSenderCompID=LINKWATCH\n"
                "NonStopSession=Y\nSocketAcceptPort=9881\n[LINKWATCH]\nFixWorkers=1\n"
                "FixWorkerHangTimeout=500ms\n[SESSION]\nTargetCompID=M1\nMemberId=M1\n");
  const std::string out = (dir.path() / "out").string();
  const int status = std::system(
      (std::string(LINKWATCH_BINARY) + " check-config --config " + cfg + " > " + out + " 2>&1")
          .c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  const std::string text = readFile(out);
  EXPECT_NE(text.find("hang.cfg:9"), std::string::npos) << text;
  EXPECT_NE(text.find("FixWorkerHangTimeout: expected a duration from 1s to 1h"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace linkwatch::testing
