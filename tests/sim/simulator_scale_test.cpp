// Many members on the one loop thread, against an epoll responder that answers Logons and
// counts what arrives. The 5,000-member run is DISABLED_ by default (it takes ~20 s); run it
// with --gtest_also_run_disabled_tests to see the loop's CPU cost.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <unordered_map>

#include "sim/raw_acceptor.hpp"
#include "sim/simulator.hpp"

namespace linkwatch::sim {
namespace {

using namespace std::chrono_literals;

// Accepts any number of members; answers each Logon with a Logon (echoing the CompIDs).
class LogonResponder {
 public:
  LogonResponder() {
    listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listenFd_, 4096);
    socklen_t len = sizeof(addr);
    ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    epollFd_ = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listenFd_;
    ::epoll_ctl(epollFd_, EPOLL_CTL_ADD, listenFd_, &ev);
    thread_ = std::thread([this] { run(); });
  }
  ~LogonResponder() {
    stop_ = true;
    thread_.join();
    for (auto& [fd, parser] : parsers_) ::close(fd);
    ::close(listenFd_);
    ::close(epollFd_);
  }
  std::uint16_t port() const { return port_; }
  std::uint64_t heartbeats() const { return heartbeats_.load(); }
  std::uint64_t logons() const { return logons_.load(); }

 private:
  void run() {
    std::vector<epoll_event> events(1024);
    std::vector<char> buffer(65536);
    while (!stop_) {
      const int n = ::epoll_wait(epollFd_, events.data(), static_cast<int>(events.size()), 50);
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        if (fd == listenFd_) {
          for (int c; (c = ::accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.fd = c;
            ::epoll_ctl(epollFd_, EPOLL_CTL_ADD, c, &ev);
            parsers_[c];
          }
          continue;
        }
        const ssize_t r = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (r <= 0) {
          ::epoll_ctl(epollFd_, EPOLL_CTL_DEL, fd, nullptr);
          ::close(fd);
          parsers_.erase(fd);
          continue;
        }
        FixStreamParser& parser = parsers_[fd];
        parser.feed(buffer.data(), static_cast<std::size_t>(r));
        FixMessage m;
        while (parser.next(m)) {
          if (m.msgType() == "0") ++heartbeats_;
          if (m.msgType() != "A") continue;
          ++logons_;
          const std::string answer = encodeFixMessage("FIX.4.4", "A",
                                                      {{34, "1"},
                                                       {49, std::string(m.get(56).value_or(""))},
                                                       {52, formatSendingTime(wallNow())},
                                                       {56, std::string(m.get(49).value_or(""))},
                                                       {98, "0"},
                                                       {108, std::string(m.get(108).value_or("1"))},
                                                       {141, "Y"}});
          ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
        }
      }
    }
  }

  int listenFd_ = -1;
  int epollFd_ = -1;
  std::uint16_t port_ = 0;
  std::unordered_map<int, FixStreamParser> parsers_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> heartbeats_{0};
  std::atomic<std::uint64_t> logons_{0};
  std::thread thread_;
};

template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout) {
  const Nanos deadline = monotonicNow() + timeout.count() * kNanosPerMilli;
  for (;;) {
    if (condition()) return true;
    if (monotonicNow() >= deadline) return false;
    ::poll(nullptr, 0, 10);
  }
}

std::vector<SimMemberConfig> members(std::size_t count, std::uint16_t port) {
  std::vector<SimMemberConfig> out;
  for (std::size_t i = 0; i < count; ++i) {
    SimMemberConfig c;
    c.memberId = "M" + std::to_string(i);
    c.senderCompId = c.memberId;
    c.targetCompId = "EXCH";
    c.port = port;
    c.heartBtIntSeconds = 1;
    c.testRequestOnSilence = false;
    c.peerSilenceTimeoutFactor = 0;
    out.push_back(std::move(c));
  }
  return out;
}

Nanos processCpu() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return (static_cast<Nanos>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)) * kNanosPerSecond +
         static_cast<Nanos>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * kNanosPerMicro;
}

void runMembers(std::size_t count, std::chrono::milliseconds measure) {
  LogonResponder responder;
  SimulatorOptions options;
  options.connectsPerSecond = 2000;
  Simulator sim(members(count, responder.port()), options);
  sim.start();
  ASSERT_TRUE(eventually([&] { return sim.loggedOnCount() == count; },
                         std::chrono::milliseconds(5000 + count * 2)))
      << sim.loggedOnCount() << " of " << count << " logged on";
  const std::uint64_t heartbeatsBefore = responder.heartbeats();
  const Nanos cpuBefore = processCpu();
  const Nanos wallBefore = monotonicNow();
  ::poll(nullptr, 0, static_cast<int>(measure.count()));  // the measurement window itself
  const double seconds = static_cast<double>(monotonicNow() - wallBefore) / 1e9;
  const double rate = static_cast<double>(responder.heartbeats() - heartbeatsBefore) / seconds;
  const double cpu = static_cast<double>(processCpu() - cpuBefore) / 1e9 / seconds;
  std::printf(
      "%zu members, HeartBtInt 1 s: %.0f heartbeats/s, process CPU %.1f %% of a core "
      "(simulator + responder)\n",
      count, rate, cpu * 100);
  // Every member heartbeats once a second; allow for the window's edges.
  EXPECT_GT(rate, 0.85 * static_cast<double>(count));
  EXPECT_EQ(sim.loggedOnCount(), count);
  sim.stop();
  EXPECT_EQ(sim.loggedOnCount(), 0U);
}

TEST(SimulatorScale, ThreeHundredMembersLogOnAndHeartbeatOnOneThread) { runMembers(300, 3000ms); }

TEST(SimulatorScale, DISABLED_FiveThousandMembersLogOnAndHeartbeatOnOneThread) {
  runMembers(5000, 10000ms);
}

}  // namespace
}  // namespace linkwatch::sim
