#include "fix/connection_guard.hpp"

#include <arpa/inet.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <linkwatch/cidr.hpp>

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
bool acceptedPeer(int fd, const std::set<int>& ports, std::string& peer, IpAddress& address) {
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
  if (!sockaddrText(remote, peer, remotePort)) return false;
  address = IpAddress{};
  if (remote.ss_family == AF_INET) {
    address.bytes[10] = 0xff;  // IPv4-mapped, as IpAddress keeps IPv4
    address.bytes[11] = 0xff;
    std::memcpy(address.bytes.data() + 12, &reinterpret_cast<const sockaddr_in*>(&remote)->sin_addr,
                4);
  } else {
    std::memcpy(address.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(&remote)->sin6_addr,
                16);
  }
  return true;
}

// What the kernel counted on an established connection: bytes from the peer, bytes to it.
struct TrafficSoFar {
  std::uint64_t received = 0;
  std::uint64_t sent = 0;
};

bool trafficSoFar(int fd, TrafficSoFar& out) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return false;
  // tcpi_bytes_sent: Linux 4.19. An older kernel: never guess.
  if (len < offsetof(tcp_info, tcpi_bytes_sent) + sizeof info.tcpi_bytes_sent) return false;
  if (info.tcpi_state != kTcpEstablished) return false;
  out.received = info.tcpi_bytes_received;
  out.sent = info.tcpi_bytes_sent;
  return true;
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

IdleConnectionReaper::IdleConnectionReaper(std::set<int> ports,
                                           std::chrono::milliseconds idleTimeout, LogonGuard* guard,
                                           std::chrono::milliseconds logonDeadline)
    : ports_(std::move(ports)),
      idleTimeout_(idleTimeout),
      logonDeadline_(logonDeadline),
      guard_(guard) {}

IdleConnectionReaper::~IdleConnectionReaper() { stop(); }

void IdleConnectionReaper::start() {
  if (ports_.empty() || (idleTimeout_.count() <= 0 && logonDeadline_.count() <= 0) ||
      thread_.joinable())
    return;
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
  std::map<int, Unanswered> stillUnanswered;
  int shut = 0;
  int idle = 0;
  for (int fd : fds) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    std::string peer;
    IpAddress address;
    TrafficSoFar traffic;
    if (!acceptedPeer(fd, ports_, peer, address) || !trafficSoFar(fd, traffic)) continue;
    if (traffic.sent > 0) continue;  // answered: a session, or QuickFIX refusing its Logon
    auto seen = unanswered_.find(fd);
    const auto since =
        (seen != unanswered_.end() && seen->second.peer == peer) ? seen->second.since : now;
    const bool silent = traffic.received == 0;
    const bool idleTooLong = silent && idleTimeout_.count() > 0 && now - since >= idleTimeout_;
    const bool noLogon = logonDeadline_.count() > 0 &&
                         (now - since >= logonDeadline_ || traffic.received > kMaxBytesBeforeLogon);
    if (!idleTooLong && !noLogon) {
      stillUnanswered.emplace(fd, Unanswered{peer, since});
      continue;
    }
    // Only shutdown(): QuickFIX owns the descriptor, reads end-of-file and closes it.
    if (::shutdown(fd, SHUT_RDWR) != 0) continue;
    ++shut;
    closed_.fetch_add(1, std::memory_order_relaxed);
    if (idleTooLong) {
      ++idle;
    } else {
      closedWithoutLogon_.fetch_add(1, std::memory_order_relaxed);
      // Counted and logged with the address like a refused Logon; repeated from one address,
      // it blocks that address's Logons as those do.
      if (guard_ != nullptr) guard_->recordRefusal(kNoLink, &address, LogonRefusal::kLogonDeadline);
    }
  }
  unanswered_.swap(stillUnanswered);
  if (idle > 0 && guard_ != nullptr) guard_->noteIdleConnectionsClosed(static_cast<unsigned>(idle));
  return shut;
}

}  // namespace linkwatch
