// `linkwatch run` with two QuickFIX worker processes, as the worker tests start it: members
// A1, A2 on one SocketAcceptPort (worker A) and B1, B2 on another (worker B), the binary's
// output in one log file, and what the tests read back (HTTP, the workers' start lines).
#pragma once

#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration/loopback_support.hpp"

namespace linkwatch::testing {

inline std::size_t collectHttpBody(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// The body of a GET, or "" when it fails.
inline std::string httpGet(const std::string& url) {
  std::string body;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collectHttpBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  const bool ok = curl_easy_perform(curl) == CURLE_OK;
  curl_easy_cleanup(curl);
  return ok ? body : std::string();
}

inline nlohmann::json getJson(const std::string& url) {
  return nlohmann::json::parse(httpGet(url), nullptr, false);
}

// member → state, from /api/v1/links.
inline std::map<std::string, std::string> linkStates(const std::string& base) {
  std::map<std::string, std::string> out;
  const nlohmann::json links = getJson(base + "/api/v1/links");
  if (!links.is_array()) return out;
  for (const auto& l : links) out[l["member"].get<std::string>()] = l["state"].get<std::string>();
  return out;
}

struct WorkerStart {
  int index = -1;
  pid_t pid = -1;
};

// "fix worker N (pid P, L links, port X) started", by port; the latest wins.
inline std::map<int, WorkerStart> workersByPort(const std::string& log) {
  std::map<int, WorkerStart> out;
  static const std::regex started(
      R"(fix worker (\d+) \(pid (\d+), \d+ links, port (\d+)\) started)");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), started);
       it != std::sregex_iterator(); ++it)
    out[std::stoi((*it)[3])] = {std::stoi((*it)[1]), static_cast<pid_t>(std::stoi((*it)[2]))};
  return out;
}

// The kernel time slice (se.slice, in ns) of each thread of `pid`, from /proc/PID/task/*/sched.
inline std::vector<long long> threadSlices(pid_t pid) {
  std::vector<long long> out;
  std::error_code ec;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream sched(task.path() / "sched");
    std::string line;
    while (std::getline(sched, line))
      if (line.rfind("se.slice", 0) == 0 && line.find(':') != std::string::npos) {
        out.push_back(std::atoll(line.c_str() + line.find(':') + 1));
        break;
      }
  }
  return out;
}

// The configuration (FixWorkers=2 plus `linkwatchExtra`, lines of [LINKWATCH]) and the paths.
struct TwoWorkerRun {
  TwoWorkerRun(test_support::TempDir& dir, int heartBtInt, const std::string& linkwatchExtra)
      : portA(freePort()), portB(freePort()), httpPort(freePort()) {
    std::string settings =
        "[DEFAULT]\nConnectionType=acceptor\nBeginString=FIX.4.4\nSenderCompID=LINKWATCH\n"
        "SocketAcceptHost=127.0.0.1\nNonStopSession=Y\nUseDataDictionary=N\nHeartBtInt=" +
        std::to_string(heartBtInt) +
        "\nResetOnLogon=Y\n[LINKWATCH]\nHttpListen=127.0.0.1:" + std::to_string(httpPort) +
        "\nFixWorkers=2\n" + linkwatchExtra;
    const std::vector<std::pair<std::string, std::uint16_t>> members = {
        {"A1", portA}, {"A2", portA}, {"B1", portB}, {"B2", portB}};
    for (const auto& [member, port] : members)
      settings += "[SESSION]\nTargetCompID=" + member + "\nMemberId=" + member +
                  "\nSocketAcceptPort=" + std::to_string(port) + "\n";
    cfg = dir.write("workers.cfg", settings);
    logFile = (dir.path() / "log").string();
    base = "http://127.0.0.1:" + std::to_string(httpPort);
  }

  // Starts `linkwatch run`; returns its pid.
  pid_t start() const {
    const pid_t pid = ::fork();
    if (pid == 0) {
      // One open file for both streams: two would overwrite each other's lines.
      std::freopen(logFile.c_str(), "w", stdout);
      ::dup2(STDOUT_FILENO, STDERR_FILENO);
      ::execl(LINKWATCH_BINARY, LINKWATCH_BINARY, "run", "--config", cfg.c_str(),
              static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    return pid;
  }

  std::uint16_t portA;
  std::uint16_t portB;
  std::uint16_t httpPort;
  std::string cfg;
  std::string logFile;
  std::string base;
};

}  // namespace linkwatch::testing
