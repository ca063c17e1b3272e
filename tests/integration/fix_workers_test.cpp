// `linkwatch run` with its QuickFIX sessions in two worker processes (FixWorkers=2, one port
// each), members from the simulator: every link up through the shared-memory lanes; a worker
// killed with SIGKILL takes exactly its own links down (`fix_worker_lost`) and comes back.
#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/loopback_support.hpp"
#include "sim/simulator.hpp"

namespace linkwatch::testing {
namespace {

using namespace std::chrono_literals;

std::size_t collectBody(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

nlohmann::json getJson(const std::string& url) {
  std::string body;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  const bool ok = curl_easy_perform(curl) == CURLE_OK;
  curl_easy_cleanup(curl);
  return ok ? nlohmann::json::parse(body, nullptr, false) : nlohmann::json();
}

std::string readFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  return text.str();
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

// member → state, from /api/v1/links.
std::map<std::string, std::string> states(const std::string& base) {
  std::map<std::string, std::string> out;
  const nlohmann::json links = getJson(base + "/api/v1/links");
  if (!links.is_array()) return out;
  for (const auto& l : links) out[l["member"].get<std::string>()] = l["state"].get<std::string>();
  return out;
}

// The pid of each "fix worker N (pid P, ..., port X) started" line, by port; the latest wins.
std::map<int, pid_t> workerPids(const std::string& log) {
  std::map<int, pid_t> out;
  static const std::regex started(R"(fix worker \d+ \(pid (\d+), \d+ links, port (\d+)\) started)");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), started);
       it != std::sregex_iterator(); ++it)
    out[std::stoi((*it)[2])] = static_cast<pid_t>(std::stoi((*it)[1]));
  return out;
}

TEST(FixWorkers, RunSplitsSessionsOverWorkerProcessesAndRestartsAKilledOne) {
  TempDir dir;
  const std::uint16_t portA = freePort();
  const std::uint16_t portB = freePort();
  const std::uint16_t httpPort = freePort();
  std::string settings =
      "[DEFAULT]\nConnectionType=acceptor\nBeginString=FIX.4.4\nSenderCompID=LINKWATCH\n"
      "SocketAcceptHost=127.0.0.1\nNonStopSession=Y\nUseDataDictionary=N\nHeartBtInt="
      "1\nResetOnLogon=Y\n"
      "[LINKWATCH]\nHttpListen=127.0.0.1:" +
      std::to_string(httpPort) + "\nFixWorkers=2\n";
  const std::vector<std::pair<std::string, std::uint16_t>> members = {
      {"A1", portA}, {"A2", portA}, {"B1", portB}, {"B2", portB}};
  for (const auto& [member, port] : members)
    settings += "[SESSION]\nTargetCompID=" + member + "\nMemberId=" + member +
                "\nSocketAcceptPort=" + std::to_string(port) + "\n";
  const std::string cfg = dir.write("workers.cfg", settings);
  const std::string logFile = (dir.path() / "log").string();
  const std::string base = "http://127.0.0.1:" + std::to_string(httpPort);

  pid_t monitor = ::fork();
  if (monitor == 0) {
    // One open file for both streams: two would overwrite each other's lines.
    std::freopen(logFile.c_str(), "w", stdout);
    ::dup2(STDOUT_FILENO, STDERR_FILENO);
    ::execl(LINKWATCH_BINARY, LINKWATCH_BINARY, "run", "--config", cfg.c_str(),
            static_cast<char*>(nullptr));
    std::_Exit(127);
  }
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
    const auto s = states(base);
    return s.size() == 4 &&
           std::all_of(s.begin(), s.end(), [](const auto& kv) { return kv.second == "up"; });
  };
  ASSERT_TRUE(waitFor(allUp, 20s)) << readFile(logFile);

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
