// A free loopback port and waiting on a condition with a deadline (never a fixed sleep). Plain
// C++14, so that the QuickFIX adapter's own tests (built as C++14) share it with the rest.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

namespace linkwatch {
namespace test_support {

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

// Whether some socket of this machine listens on TCP `port` (IPv4 or IPv6), from
// /proc/net/tcp{,6}: a readiness check that opens no connection. A connection opened and
// closed at once, just before the real one, can make QuickFIX 1.15.1's single-threaded
// acceptor drop the real one without a word: it closes the first descriptor at once but
// disconnects it only on its next pass, and by then the second connection has that number.
inline bool listeningOn(std::uint16_t port) {
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      const std::size_t colon = local.rfind(':');
      if (colon == std::string::npos || state != "0A") continue;  // 0A: LISTEN
      if (std::stoul(local.substr(colon + 1), nullptr, 16) == port) return true;
    }
  }
  return false;
}

// Polls `condition` every 2 ms until it holds or `timeout` passes; the last answer after the
// deadline.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return condition();
}

}  // namespace test_support
}  // namespace linkwatch
