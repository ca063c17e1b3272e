// What every C++20 test suite that runs real processes and sockets needs: a free loopback port,
// a temporary directory, a file's text, and waiting on a condition with a deadline (never a
// fixed sleep). Suites add their own helpers on top (cert_support.hpp, loopback_support.hpp,
// security_support.hpp).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include <linkwatch/clock.hpp>

namespace linkwatch::test_support {

// A port that was free a moment ago (bound to port 0 on 127.0.0.1, then released).
inline std::uint16_t freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A directory of its own under the system's temporary directory, removed with everything in
// it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "linkwatch-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `text` to `name` in the directory; returns the file's path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::string file = (path_ / name).string();
    std::ofstream(file) << text;
    return file;
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The whole text of a file; empty when it can't be read.
inline std::string readFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  return text.str();
}

// Polls `condition` every few milliseconds until it holds or `timeout` passes; the last
// answer after the deadline.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  const Nanos deadline = monotonicNow() + timeout.count() * kNanosPerMilli;
  while (monotonicNow() < deadline) {
    if (condition()) return true;
    ::poll(nullptr, 0, 2);
  }
  return condition();
}

}  // namespace linkwatch::test_support
