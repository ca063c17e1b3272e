#include "fix/connection_guard.hpp"

#include <arpa/inet.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "fix/logon_guard.hpp"

namespace linkwatch {
namespace {

constexpr std::chrono::milliseconds kScanInterval{500};
constexpr std::uint8_t kTcpEstablished = 1;  // TCP_ESTABLISHED of <netinet/tcp.h>, which clashes
                                             // with <linux/tcp.h>'s tcp_info

bool sockaddrText(const sockaddr_storage& ss, std::string& text, int& port) {
  char host[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
  } else {
    return false;
  }
  text = std::string(host) + ":" + std::to_string(port);
  return true;
}

// The peer of an accepted TCP connection on one of `ports`, or false.
bool acceptedPeer(int fd, const std::set<int>& ports, std::string& peer) {
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) return false;
  std::string localText;
  int localPort = 0;
  if (!sockaddrText(local, localText, localPort) || ports.count(localPort) == 0) return false;
  sockaddr_storage remote{};
  len = sizeof remote;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &len) != 0) return false;  // listener
  int remotePort = 0;
  return sockaddrText(remote, peer, remotePort);
}

bool neverSentAByte(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return false;
  if (len < offsetof(tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received)
    return false;  // an old kernel: never guess
  return info.tcpi_state == kTcpEstablished && info.tcpi_bytes_received == 0;
}

}  // namespace

long capDescriptorsForSelect() noexcept {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  if (limit.rlim_cur > static_cast<rlim_t>(FD_SETSIZE)) {
    limit.rlim_cur = FD_SETSIZE;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  }
  return static_cast<long>(limit.rlim_cur);
}

IdleConnectionReaper::IdleConnectionReaper(std::set<int> ports, std::chrono::milliseconds timeout,
                                           LogonGuard* guard)
    : ports_(std::move(ports)), timeout_(timeout), guard_(guard) {}

IdleConnectionReaper::~IdleConnectionReaper() { stop(); }

void IdleConnectionReaper::start() {
  if (ports_.empty() || timeout_.count() <= 0 || thread_.joinable()) return;
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void IdleConnectionReaper::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    running_ = false;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void IdleConnectionReaper::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (running_) {
    lock.unlock();
    scanOnce();
    lock.lock();
    wake_.wait_for(lock, kScanInterval, [this] { return !running_; });
  }
}

int IdleConnectionReaper::scanOnce() {
  const auto now = std::chrono::steady_clock::now();
  // Every descriptor number below the limit, not /proc/self/fd: opening that directory needs
  // a descriptor, and a flood is exactly when none is left.
  rlimit limit{};
  int highest = FD_SETSIZE;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    highest = static_cast<int>(limit.rlim_cur < 65536 ? limit.rlim_cur : 65536);
  std::vector<int> fds;
  for (int fd = 0; fd < highest; ++fd) fds.push_back(fd);
  std::map<int, std::pair<std::string, std::chrono::steady_clock::time_point>> stillIdle;
  int shut = 0;
  for (int fd : fds) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    std::string peer;
    if (!acceptedPeer(fd, ports_, peer) || !neverSentAByte(fd)) continue;
    auto seen = idle_.find(fd);
    const auto since =
        (seen != idle_.end() && seen->second.first == peer) ? seen->second.second : now;
    if (now - since >= timeout_) {
      // Only shutdown(): QuickFIX owns the descriptor, reads end-of-file and closes it.
      if (::shutdown(fd, SHUT_RDWR) == 0) {
        ++shut;
        closed_.fetch_add(1, std::memory_order_relaxed);
      }
      continue;
    }
    stillIdle.emplace(fd, std::make_pair(peer, since));
  }
  idle_.swap(stillIdle);
  if (shut > 0 && guard_ != nullptr) guard_->noteIdleConnectionsClosed(static_cast<unsigned>(shut));
  return shut;
}

}  // namespace linkwatch
