// Shared by the certification tests: subprocesses of the real binary with their output in a
// file and a plain HTTP GET, over the common test support (ports, temp dirs, waiting).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <linkwatch/clock.hpp>

#include "common/test_support.hpp"

namespace linkwatch::cert::test {

using namespace std::chrono_literals;

using test_support::eventually;
using test_support::freePort;
using test_support::readFile;
using test_support::TempDir;

class Process {
 public:
  Process(std::vector<std::string> args, const std::string& logFile) : log_(logFile) {
    pid_ = ::fork();
    if (pid_ == 0) {
      // A group of its own: a wrapper script's children (jspurefix's node) end with it.
      ::setpgid(0, 0);
      if (std::freopen(logFile.c_str(), "w", stdout) == nullptr ||
          std::freopen(logFile.c_str(), "a", stderr) == nullptr) {
        std::_Exit(126);
      }
      std::setvbuf(stdout, nullptr, _IONBF, 0);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      std::_Exit(127);
    }
    if (pid_ > 0) ::setpgid(pid_, pid_);  // either side may run first
  }
  ~Process() {
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // The exit status once the process ends within `timeout`; nullopt (and killed) otherwise.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    int status = 0;
    const bool ended =
        eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
    if (!ended) return std::nullopt;
    ::kill(-pid_, SIGKILL);  // anything it left behind in its group
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  void terminate() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    ::kill(-pid_, SIGKILL);  // anything it left behind in its group
    pid_ = -1;
  }
  std::string output() const { return readFile(log_); }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

// GET on 127.0.0.1:port; the body, or empty on any failure.
inline std::string httpGet(std::uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request =
        "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[8192];
      for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) break;
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        response.append(buffer, static_cast<std::size_t>(n));
      }
    }
  }
  ::close(fd);
  const auto body = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.1 200", 0) != 0 && response.rfind("HTTP/1.0 200", 0) != 0) return "";
  return body == std::string::npos ? "" : response.substr(body + 4);
}

}  // namespace linkwatch::cert::test
