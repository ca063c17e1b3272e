// build/linkwatch as an operator runs it: a subprocess, members from the simulator, and
// its HTTP port read with curl and checked with promtool.
#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/loopback_support.hpp"
#include "sim/simulator.hpp"

namespace linkwatch::testing {
namespace {

using namespace std::chrono_literals;

struct HttpResponse {
  long status = 0;
  std::string body;
};

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

HttpResponse httpGet(const std::string& url) {
  HttpResponse r;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  if (curl_easy_perform(curl) == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_cleanup(curl);
  return r;
}

// Runs a command, feeding `input` on stdin; returns its exit status and its output.
std::pair<int, std::string> runCommand(const std::string& command, const std::string& input = "") {
  TempDir dir;
  const std::string in = dir.write("stdin", input);
  const std::string out = (dir.path() / "out").string();
  const int status = std::system((command + " < " + in + " > " + out + " 2>&1").c_str());
  std::ifstream f(out);
  std::stringstream text;
  text << f.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text.str()};
}

class Process {
 public:
  explicit Process(std::vector<std::string> args, const std::string& logFile) {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::freopen(logFile.c_str(), "w", stdout);
      std::freopen(logFile.c_str(), "a", stderr);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      std::_Exit(127);
    }
  }
  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // Sends SIGTERM and waits for the exit status.
  int terminate() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

TEST(LinkwatchBinary, RunServesLinksAndMetricsThatPassPromtoolAndStopsCleanly) {
  TempDir dir;
  const std::uint16_t fixPort = freePort();
  const std::uint16_t httpPort = freePort();
  std::string settings = acceptorSettings(fixPort, {"BANK01", "BANK02"});
  settings.replace(settings.find("HttpListen=127.0.0.1:") + 21, 5, std::to_string(httpPort));
  const std::string cfg = dir.write("run.cfg", settings);
  const std::string base = "http://127.0.0.1:" + std::to_string(httpPort);

  Process linkwatch({LINKWATCH_BINARY, "run", "--config", cfg}, (dir.path() / "log").string());
  ASSERT_TRUE(waitFor([&] { return httpGet(base + "/healthz").status == 200; }, 20s));

  sim::Simulator sim(sim::membersFromMonitorConfig(loadConfig(cfg)));
  sim.start();
  ASSERT_TRUE(waitFor(
      [&] {
        const auto links =
            nlohmann::json::parse(httpGet(base + "/api/v1/links").body, nullptr, false);
        if (!links.is_array() || links.size() != 2) return false;
        for (const auto& l : links)
          if (l["state"] != "up") return false;
        return true;
      },
      20s));

  const HttpResponse metrics = httpGet(base + "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("linkwatch_link_up{member=\"BANK01\""), std::string::npos);
  const auto [code, output] = runCommand("promtool check metrics", metrics.body);
  EXPECT_EQ(code, 0) << output;

  const auto events = nlohmann::json::parse(httpGet(base + "/api/v1/events").body);
  EXPECT_GE(events["events"].size(), 2u);
  sim.stop();
  EXPECT_EQ(linkwatch.terminate(), 0);
}

TEST(LinkwatchBinary, CheckConfigNamesFileLineSectionAndKeyAndExitsTwo) {
  TempDir dir;
  const std::string cfg =
      dir.write("bad.cfg",
                "[DEFAULT]\nConnectionType=acceptor\nBeginString=FIX.4.4\nSenderCompID=EX\n"
                "SocketAcceptPort=9999\nStartTime=00:00:00\nEndTime=00:00:00\n"
                "[SESSION]\nTargetCompID=A\nMemberId=A\nCriticality=urgent\n");
  const auto [code, output] =
      runCommand(std::string(LINKWATCH_BINARY) + " check-config --config " + cfg);
  EXPECT_EQ(code, 2);
  EXPECT_NE(output.find("bad.cfg:11"), std::string::npos) << output;
  EXPECT_NE(output.find("Criticality"), std::string::npos) << output;
  EXPECT_NE(output.find("critical, standard, test"), std::string::npos) << output;
}

TEST(LinkwatchBinary, BadUsageExitsTwoAndHelpExitsZero) {
  EXPECT_EQ(runCommand(std::string(LINKWATCH_BINARY) + " run").first, 2);
  EXPECT_EQ(runCommand(std::string(LINKWATCH_BINARY) + " frobnicate").first, 2);
  for (const char* sub : {"run", "check-config", "simulate", "demo"})
    EXPECT_EQ(runCommand(std::string(LINKWATCH_BINARY) + " " + sub + " --help").first, 0) << sub;
}

TEST(LinkwatchBinary, RunRefusesAMissingFileWithExitTwo) {
  const auto [code, output] =
      runCommand(std::string(LINKWATCH_BINARY) + " run --config /nonexistent/linkwatch.cfg");
  EXPECT_EQ(code, 2);
  EXPECT_NE(output.find("/nonexistent/linkwatch.cfg"), std::string::npos) << output;
}

}  // namespace
}  // namespace linkwatch::testing
