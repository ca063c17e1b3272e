// The durable journal against a crash: build/linkwatch runs real QuickFIX sessions under a
// fault storm from the simulator, is killed with SIGKILL, and restarts on the same JournalPath.
// Every transition /api/v1/events acknowledged before the kill must come back from the journal
// unchanged, restored links must show `unknown` (never a stale green), and every link must
// converge to its true state: up for the members that reconnect, down for the one that does
// not.
#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/loopback_support.hpp"
#include "sim/simulator.hpp"

namespace linkwatch::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::size_t collectBody(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// The body of a 200 answer, else nullopt.
std::optional<std::string> getText(const std::string& url) {
  std::string body;
  long status = 0;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (status != 200) return std::nullopt;
  return body;
}

// The parsed JSON body of a 200 answer, else a discarded value.
json getJson(const std::string& url) {
  const auto body = getText(url);
  if (!body) return json(json::value_t::discarded);
  return json::parse(*body, nullptr, false);
}

class Process {
 public:
  Process(std::vector<std::string> args, const std::string& logFile) {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::freopen(logFile.c_str(), "a", stdout);
      std::freopen(logFile.c_str(), "a", stderr);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      std::_Exit(127);
    }
  }
  ~Process() { kill(SIGKILL); }
  // Sends `signal` and reaps the process; returns its exit status (-1 if killed by a signal).
  int kill(int signal) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  // Waits for the process to exit by itself; -1 if it is still running after `timeout`.
  int waitExit(std::chrono::milliseconds timeout) {
    int status = 0;
    const bool exited = waitFor([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
    if (!exited) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

std::string readText(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every event the API serves, by id (pages through next_before).
std::map<std::uint64_t, json> allEvents(const std::string& base) {
  std::map<std::uint64_t, json> out;
  std::string url = base + "/api/v1/events?kind=all&limit=1000";
  for (int page = 0; page < 100; ++page) {
    const json body = getJson(url);
    if (!body.is_object()) break;
    for (const json& e : body["events"]) out[e["id"].get<std::uint64_t>()] = e;
    if (body["next_before"].is_null()) break;
    url = base + "/api/v1/events?kind=all&limit=1000&before=" +
          std::to_string(body["next_before"].get<std::uint64_t>());
  }
  return out;
}

TEST(JournalCrash, AcknowledgedTransitionsSurviveKillDashNineAndLinksConverge) {
  TempDir dir;
  const std::vector<std::string> members = {"BANK01", "BANK02", "BANK03",
                                            "BANK04", "BANK05", "BANK06"};
  const std::uint16_t httpPort = freePort();
  std::string settings = acceptorSettings(freePort(), members);
  settings.replace(settings.find("HttpListen=127.0.0.1:") + 21, 5, std::to_string(httpPort));
  const std::string journalDir = (dir.path() / "journal").string();
  settings.insert(
      settings.find("HttpListen="),
      "JournalPath=" + journalDir + "\nJournalSync=interval:50ms\nAlertStartupGrace=3s\n");
  const std::string cfg = dir.write("run.cfg", settings);
  const std::string base = "http://127.0.0.1:" + std::to_string(httpPort);
  const std::string log = (dir.path() / "log").string();

  // Run 1: a fault storm, the API read all along, then SIGKILL.
  std::map<std::uint64_t, json> acknowledged;
  {
    Process linkwatch({LINKWATCH_BINARY, "run", "--config", cfg}, log);
    ASSERT_TRUE(waitFor([&] { return getJson(base + "/healthz").is_object(); }, 20s))
        << readText(log);
    sim::SimulatorOptions options;
    sim::FaultScheduleConfig storm;
    storm.seed = 6;
    storm.meanInterval = 150ms;
    options.schedule = storm;
    sim::Simulator sim(sim::membersFromMonitorConfig(loadConfig(cfg)), options);
    sim.start();
    const auto stormEnd = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < stormEnd) {
      for (auto& [id, e] : allEvents(base)) acknowledged[id] = e;
      std::this_thread::sleep_for(100ms);  // pacing of the reader, not synchronisation
    }
    for (auto& [id, e] : allEvents(base)) acknowledged[id] = e;
    EXPECT_EQ(linkwatch.kill(SIGKILL), -1);
    sim.stop();
  }
  std::size_t transitions = 0;
  for (const auto& [id, e] : acknowledged)
    if (e["kind"] == "transition") ++transitions;
  // Six logons at least, and the storm's faults on top.
  ASSERT_GE(transitions, 10u) << readText(log);

  // Run 2 on the same journal; BANK06 does not come back.
  Process linkwatch({LINKWATCH_BINARY, "run", "--config", cfg}, log);
  ASSERT_TRUE(waitFor([&] { return getJson(base + "/healthz").is_object(); }, 20s))
      << readText(log);
  // Restored, not re-observed: unknown with what the journal said, never the old green.
  const json bank06 = getJson(base + "/api/v1/links/BANK06");
  ASSERT_TRUE(bank06.is_object());
  EXPECT_EQ(bank06["state"], "unknown") << bank06.dump();
  EXPECT_EQ(bank06["reason"], "restored") << bank06.dump();
  EXPECT_TRUE(bank06.contains("last_known_state")) << bank06.dump();

  // Every acknowledged event is back, unchanged, from the journal.
  const auto restored = allEvents(base);
  for (const auto& [id, e] : acknowledged) {
    const auto it = restored.find(id);
    ASSERT_NE(it, restored.end()) << "acknowledged event lost: " << e.dump();
    for (const char* field : {"kind", "member", "from", "to", "reason", "time"})
      EXPECT_EQ(it->second.value(field, json()), e.value(field, json()))
          << field << " of event " << id;
    EXPECT_TRUE(it->second["previous_run"].get<bool>());
  }

  // The reader found no damage (a kill -9 between writes tears nothing), and says so.
  const auto metrics = getText(base + "/metrics");
  ASSERT_TRUE(metrics.has_value());
  EXPECT_NE(metrics->find("\nlinkwatch_journal_corrupt_records_total 0\n"), std::string::npos)
      << *metrics;
  EXPECT_NE(metrics->find("\nlinkwatch_journal_dropped_records_total 0\n"), std::string::npos);

  // A second monitor on the same journal is refused while this one runs.
  {
    Process second({LINKWATCH_BINARY, "run", "--config", cfg}, log + ".second");
    EXPECT_NE(second.waitExit(20s), 0);
    EXPECT_NE(readText(log + ".second").find("in use by another linkwatch process"),
              std::string::npos)
        << readText(log + ".second");
  }

  // Converge to the truth: five members reconnect without faults, BANK06 stays away.
  sim::Simulator calm(sim::membersFromMonitorConfig(
      loadConfig(cfg), {"BANK01", "BANK02", "BANK03", "BANK04", "BANK05"}));
  calm.start();
  EXPECT_TRUE(waitFor(
      [&] {
        const json links = getJson(base + "/api/v1/links");
        if (!links.is_array() || links.size() != members.size()) return false;
        for (const json& l : links) {
          const std::string want = l["member"] == "BANK06" ? "down" : "up";
          if (l["state"] != want) return false;
        }
        return true;
      },
      20s))
      << getJson(base + "/api/v1/links").dump(1);
  const json down = getJson(base + "/api/v1/links/BANK06");
  EXPECT_EQ(down["reason"], "never_connected") << down.dump();
  EXPECT_FALSE(down.contains("last_known_state"));
  calm.stop();
  EXPECT_EQ(linkwatch.kill(SIGTERM), 0) << readText(log);
}

}  // namespace
}  // namespace linkwatch::testing
