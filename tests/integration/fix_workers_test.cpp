// `linkwatch run` with its QuickFIX sessions in two worker processes (FixWorkers=2, one port
// each), members from the simulator: every link up through the shared-memory lanes; a worker
// killed with SIGKILL takes exactly its own links down (`fix_worker_lost`) and comes back.
#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <linkwatch/thread_scheduling.hpp>

#include "integration/loopback_support.hpp"
#include "integration/worker_run_support.hpp"
#include "sim/simulator.hpp"

namespace linkwatch::testing {
namespace {

using namespace std::chrono_literals;

std::string readFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  return text.str();
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

// The value of the first /metrics sample of `name` whose labels contain every one of
// `labels` (`member="A1"`, ...), or 0 when there is none.
double metricValue(const std::string& base, const std::string& name,
                   const std::vector<std::string>& labels) {
  std::istringstream text(httpGet(base + "/metrics"));
  std::string line;
  while (std::getline(text, line)) {
    if (line.rfind(name + "{", 0) != 0) continue;
    const std::size_t close = line.find('}');
    if (close == std::string::npos) continue;
    const std::string set = line.substr(name.size(), close - name.size() + 1);
    if (std::all_of(labels.begin(), labels.end(),
                    [&](const std::string& l) { return set.find(l) != std::string::npos; }))
      return std::stod(line.substr(close + 1));
  }
  return 0;
}

// `count` application messages from `member`, whose sessions worker `worker` runs: every one is
// counted on /metrics, and almost none of them crossed to the core as an event: the worker's
// FIX thread tallied them in shared memory (EventHub::mayTally), except one inbound message
// every 100 ms, read in full.
void expectTalliedByWorker(sim::Simulator& sim, const std::string& base, const std::string& member,
                           int worker, int count, const std::string& log) {
  const std::string forwardedSeries = "linkwatch_fix_worker_events_forwarded_total";
  const std::vector<std::string> workerLabel = {"worker=\"" + std::to_string(worker) + "\""};
  const std::vector<std::string> memberLabels = {"member=\"" + member + "\"",
                                                 "msg_type=\"application\""};
  const double received = metricValue(base, "linkwatch_messages_received_total", memberLabels);
  const double forwarded = metricValue(base, forwardedSeries, workerLabel);
  for (int sent = 0; sent < count; sent += 500) ASSERT_TRUE(sim.sendApplication(member, 500));
  ASSERT_TRUE(waitFor(
      [&] {
        return metricValue(base, "linkwatch_messages_received_total", memberLabels) ==
               received + count;
      },
      20s))
      << log;
  // The messages themselves took a few ms; Heartbeats of both links, one a second each way,
  // and any probes of the monitor's are forwarded meanwhile.
  EXPECT_LT(metricValue(base, forwardedSeries, workerLabel) - forwarded, count / 4)
      << "forwarded before: " << forwarded;
}

// The pid of each worker's latest start line, by port.
std::map<int, pid_t> workerPids(const std::string& log) {
  std::map<int, pid_t> out;
  for (const auto& [port, start] : workersByPort(log)) out[port] = start.pid;
  return out;
}

TEST(FixWorkers, RunSplitsSessionsOverWorkerProcessesAndRestartsAKilledOne) {
  TempDir dir;
  const TwoWorkerRun run(dir, 1, "");
  const auto& [portA, portB, httpPort, cfg, logFile, base] = run;
  pid_t monitor = run.start();
  struct Reaper {
    pid_t& pid;
    ~Reaper() {
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  } reaper{monitor};

  // HTTP answers before the workers run: wait for both to report.
  ASSERT_TRUE(waitFor([&] { return workerPids(readFile(logFile)).size() == 2; }, 20s))
      << readFile(logFile);
  std::map<int, pid_t> workers = workerPids(readFile(logFile));
  ASSERT_EQ(workers.size(), 2u) << readFile(logFile);
  ASSERT_EQ(workers.count(portA) + workers.count(portB), 2u) << readFile(logFile);
  const pid_t killed = workers.at(portB);
  const pid_t untouched = workers.at(portA);

  sim::Simulator sim(sim::membersFromMonitorConfig(loadConfig(cfg)));
  sim.start();
  const auto allUp = [&] {
    const auto s = linkStates(base);
    return s.size() == 4 &&
           std::all_of(s.begin(), s.end(), [](const auto& kv) { return kv.second == "up"; });
  };
  ASSERT_TRUE(waitFor(allUp, 20s)) << readFile(logFile);

  // Worker processes run QuickFIX's threaded acceptor unless `run --single-threaded` says
  // otherwise (README, "Acceptor").
  for (const pid_t pid : {untouched, killed})
    EXPECT_NE(readFile("/proc/" + std::to_string(pid) + "/cmdline").find("--threaded"),
              std::string::npos)
        << "pid " << pid;

  // ThreadTimeSlice (100us by default) goes to the threads that carry a disconnect to the core
  // and do little else: each worker's forwarder and the monitor's core thread. QuickFIX's
  // select() loops, HTTP and the supervisor keep the kernel's slice.
  bool slicesKept = false;
  std::thread([&] {
    slicesKept = setThreadTimeSlice(100 * kNanosPerMicro).empty() &&
                 threadTimeSlice() == 100 * kNanosPerMicro;
  }).join();
  if (slicesKept) {
    for (const pid_t pid : {untouched, killed, monitor}) {
      const std::vector<long long> slices = threadSlices(pid);
      EXPECT_EQ(std::count(slices.begin(), slices.end(), 100'000LL), 1) << "pid " << pid;
      EXPECT_GE(slices.size(), 2u) << "pid " << pid;
    }
  }

  const std::map<int, WorkerStart> started = workersByPort(readFile(logFile));
  expectTalliedByWorker(sim, base, "A1", started.at(portA).index, 2000, readFile(logFile));

  ASSERT_EQ(::kill(killed, SIGKILL), 0);
  // The killed shard's links go down with `fix_worker_lost`, then come back through a new worker.
  const auto downedB = [&] {
    const nlohmann::json events = getJson(base + "/api/v1/events?limit=100");
    if (!events.is_object()) return std::set<std::string>{};
    std::set<std::string> down;
    for (const auto& e : events["events"])
      if (e["to"] == "down" && e["reason"] == "fix_worker_lost")
        down.insert(e["member"].get<std::string>());
    return down;
  };
  ASSERT_TRUE(waitFor(
      [&] {
        return downedB() == std::set<std::string>{"B1", "B2"};
      },
      10s))
      << readFile(logFile);
  ASSERT_TRUE(waitFor([&] { return workerPids(readFile(logFile)).at(portB) != killed; }, 10s))
      << readFile(logFile);
  ASSERT_TRUE(waitFor(allUp, 20s)) << readFile(logFile);

  // The other shard never noticed: its links never left `up`, its worker is the same.
  const nlohmann::json events = getJson(base + "/api/v1/events?limit=100");
  for (const auto& e : events["events"])
    if (e["member"] == "A1" || e["member"] == "A2") {
      EXPECT_EQ(e["to"], "up") << e.dump();
    }
  EXPECT_TRUE(alive(untouched));
  // The restarted worker tallies again: the core's count of what it applied from the shard
  // started over from the dead worker's count (markLinksDown).
  expectTalliedByWorker(sim, base, "B1", started.at(portB).index, 2000, readFile(logFile));
  const std::string log = readFile(logFile);
  EXPECT_NE(log.find("killed by signal 9"), std::string::npos) << log;
  EXPECT_NE(log.find("fix worker exited"), std::string::npos) << log;

  // SIGTERM stops the monitor and, with it, every worker.
  const pid_t restarted = workerPids(log).at(portB);
  sim.stop();
  ::kill(monitor, SIGTERM);
  int status = 0;
  ::waitpid(monitor, &status, 0);
  monitor = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << readFile(logFile);
  EXPECT_TRUE(waitFor([&] { return !alive(untouched) && !alive(restarted); }, 10s));
}

TEST(FixWorkers, APortGroupTooBigForOneProcessIsAConfigErrorNamingThePort) {
  TempDir dir;
  std::string settings =
      "[DEFAULT]\nConnectionType=acceptor\nBeginString=FIX.4.4\nSenderCompID=LINKWATCH\n"
      "NonStopSession=Y\nSocketAcceptPort=9881\n[LINKWATCH]\nFixWorkers=2\n";
  for (int i = 0; i < 1000; ++i)
    settings +=
        "[SESSION]\nTargetCompID=M" + std::to_string(i) + "\nMemberId=M" + std::to_string(i) + "\n";
  const std::string cfg = dir.write("big.cfg", settings);
  const std::string out = (dir.path() / "out").string();
  const int status = std::system(
      (std::string(LINKWATCH_BINARY) + " check-config --config " + cfg + " > " + out + " 2>&1")
          .c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  const std::string text = readFile(out);
  EXPECT_NE(text.find("1000 sessions on SocketAcceptPort 9881"), std::string::npos) << text;
  EXPECT_NE(text.find("big.cfg:9"), std::string::npos) << text;
}

}  // namespace
}  // namespace linkwatch::testing
