// Bad input refused: hostile peers on the FIX port (garbage, an oversized BodyLength, a slow
// drip of bytes, hundreds of idle connections, logon floods with valid and invalid CompIDs,
// and more idle connections than QuickFIX's select() can watch) must leave every other
// link's state, timing and metrics untouched and the monitor's memory bounded.
// The real linkwatch binary; well-behaved members from the simulator (HeartBtInt=1).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <optional>
#include <random>
#include <thread>

#include "security/security_support.hpp"
#include "sim/simulator.hpp"

namespace linkwatch::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kGoodMembers = {"BANK01", "BANK02"};

// How much the monitor's RSS may grow under attack. AddressSanitizer (scripts/test runs these
// tests in its build too) keeps freed memory in quarantine: a bound, but a looser one.
#if defined(__SANITIZE_ADDRESS__)
constexpr long kMaxGrowthKib = 512 * 1024;
#else
constexpr long kMaxGrowthKib = 48 * 1024;
#endif

// The value at the end of the first line starting with `prefix`, or -1.
double lineValue(const std::string& text, const std::string& prefix) {
  const std::size_t at = text.find("\n" + prefix);
  if (at == std::string::npos) return -1;
  const std::size_t end = text.find('\n', at + 1);
  const std::string line = text.substr(at + 1, end - at - 1);
  return std::stod(line.substr(line.rfind(' ') + 1));
}

// What must not change for a well-behaved link while others attack.
struct LinkSnapshot {
  std::string state;
  std::size_t transitions = 0;
  double flaps = 0;
  double heartbeats = 0;
};

LinkSnapshot snapshot(const SecuredMonitor& m, const std::string& member) {
  LinkSnapshot s;
  const auto link = nlohmann::json::parse(m.get("/api/v1/links/" + member).body, nullptr, false);
  if (link.is_object() && link.contains("state")) s.state = link["state"];
  const auto events = nlohmann::json::parse(
      m.get("/api/v1/events?limit=1000&member=" + member).body, nullptr, false);
  if (events.is_array()) {
    s.transitions = events.size();
  } else if (events.is_object() && events.contains("events")) {
    s.transitions = events["events"].size();
  }
  const std::string metrics = m.get("/metrics").body;
  s.flaps = lineValue(metrics, "linkwatch_link_flaps_total{member=\"" + member + "\"");
  s.heartbeats =
      lineValue(metrics, "linkwatch_heartbeats_received_total{member=\"" + member + "\"");
  return s;
}

class HostilePeers : public ::testing::Test {
 protected:
  void startMonitorWithGoodMembers(const std::string& linkwatchExtra = "", bool threaded = false) {
    // QuickFIX's single-threaded acceptor serves every connection from one thread, and a peer
    // dripping a message byte by byte holds that thread (it waits for the rest, up to about a
    // second): the good members' heartbeats are then read late, with or without linkwatch,
    // and more so on two shared vCPUs or in a sanitizer build. Keep the assertion (no
    // transition at all) and give the heartbeats a whole interval of grace; README's acceptor
    // section says why ports open to untrusted peers want the threaded acceptor.
    monitor = std::make_unique<SecuredMonitor>("HeartbeatGrace=1.0\n" + linkwatchExtra, threaded);
    ASSERT_TRUE(monitor->ready()) << monitor->log();
    sim = std::make_unique<sim::Simulator>(
        sim::membersFromMonitorConfig(loadConfig(monitor->config), kGoodMembers));
    sim->start();
    ASSERT_TRUE(waitFor(
        [&] {
          for (const std::string& m : kGoodMembers)
            if (snapshot(*monitor, m).state != "up") return false;
          return true;
        },
        20s));
    for (const std::string& m : kGoodMembers) before[m] = snapshot(*monitor, m);
    rssBefore = rssKib(monitor->pid);
  }

  void TearDown() override {
    if (sim) sim->stop();
  }

  // Every good link stayed up with no transition (so no missed heartbeat made it degraded),
  // no flap, and kept receiving heartbeats.
  void expectGoodLinksUntouched(double minHeartbeats) {
    for (const std::string& m : kGoodMembers) {
      const LinkSnapshot after = snapshot(*monitor, m);
      EXPECT_EQ(after.state, "up") << m;
      EXPECT_EQ(after.transitions, before[m].transitions) << m << ": a transition happened";
      EXPECT_EQ(after.flaps, before[m].flaps) << m;
      EXPECT_GE(after.heartbeats - before[m].heartbeats, minHeartbeats) << m;
    }
  }

  std::unique_ptr<SecuredMonitor> monitor;
  std::unique_ptr<sim::Simulator> sim;
  std::map<std::string, LinkSnapshot> before;
  long rssBefore = 0;
};

TEST_F(HostilePeers, LeaveOtherLinksStateTimingAndMetricsUntouched) {
  // The threaded acceptor, as README advises for ports open to untrusted peers: QuickFIX's
  // single-threaded one waits up to a second on each peer that sends part of a message
  // (the drip, the oversized BodyLength, the garbage below), and back to back those waits
  // starve every good session of its heartbeats for longer than any grace.
  startMonitorWithGoodMembers("", true);
  const std::uint16_t port = monitor->fixPort;
  const auto attackEnd = Clock::now() + 4s;
  std::atomic<int> unknownLogons{0};
  std::vector<std::thread> attackers;

  // An oversized BodyLength, then 1 MiB of junk that can never complete the message.
  attackers.emplace_back([&] {
    const int fd = connectFrom("127.0.0.11", port);
    sendAll(fd,
            "8=FIX.4.4\x01"
            "9=2000000000\x01"
            "35=A\x01");
    const std::string chunk(64 * 1024, 'x');
    for (int i = 0; i < 16 && Clock::now() < attackEnd; ++i) sendAll(fd, chunk);
    std::this_thread::sleep_until(attackEnd);
    ::close(fd);
  });
  // A slow drip: a valid Logon for BANK03, one byte every 20 ms.
  attackers.emplace_back([&] {
    const int fd = connectFrom("127.0.0.12", port);
    const std::string message = logon("BANK03");
    for (std::size_t i = 0; i < message.size() && Clock::now() < attackEnd; ++i) {
      sendAll(fd, message.substr(i, 1));
      std::this_thread::sleep_for(20ms);
    }
    std::this_thread::sleep_until(attackEnd);
    ::close(fd);
  });
  // Hundreds of idle (half-open) connections.
  attackers.emplace_back([&] {
    std::vector<int> fds;
    for (int i = 0; i < 300; ++i) fds.push_back(connectFrom("127.0.0.13", port));
    std::this_thread::sleep_until(attackEnd);
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  });
  // Garbage.
  attackers.emplace_back([&] {
    std::mt19937 random(42);
    while (Clock::now() < attackEnd) {
      const int fd = connectFrom("127.0.0.14", port);
      std::string junk(4096, '\0');
      for (char& c : junk) c = static_cast<char>(random());
      sendAll(fd, junk);
      readUntil(fd, "never", 50ms);
      ::close(fd);
    }
  });
  // Logon floods: CompIDs nobody declares, a logged-on member's CompIDs, wrong passwords.
  attackers.emplace_back([&] {
    for (int i = 0; Clock::now() < attackEnd; ++i) {
      logonReply("127.0.0.15", port, logon("EVIL" + std::to_string(i)));
      ++unknownLogons;
    }
  });
  attackers.emplace_back([&] {
    while (Clock::now() < attackEnd) logonReply("127.0.0.16", port, logon("BANK01"));
  });
  // Wrong passwords until the address is blocked and one more is refused for it. QuickFIX's
  // threaded acceptor holds a session until the thread of its last connection ends, and a
  // new connection for it retries once a second for up to 5 s (README, operations notes):
  // under this flood a few attempts take that long, so this attacker goes on after the others
  // until it has had its answers, within a bound.
  std::atomic<int> passwordRefusals{0};
  attackers.emplace_back([&] {
    const auto giveUp = attackEnd + 30s;
    while (Clock::now() < attackEnd ||
           (passwordRefusals.load() <= kLogonFailureLimit && Clock::now() < giveUp)) {
      const std::string reply =
          logonReply("127.0.0.17", port, logon("PASSWD", "passuser", "guess"));
      if (reply.find("\x01"
                     "35=5\x01") != std::string::npos)
        ++passwordRefusals;
    }
  });
  for (std::thread& t : attackers) t.join();

  ASSERT_TRUE(monitor->alive()) << monitor->log();
  expectGoodLinksUntouched(3);
  const std::string metrics = monitor->get("/metrics").body;
  // The floods were seen and counted, not ignored.
  EXPECT_GT(unknownLogons.load(), 0);
  EXPECT_GT(lineValue(metrics, "linkwatch_unknown_session_logons_total"), 0);
  EXPECT_GT(passwordRefusals.load(), kLogonFailureLimit);
  EXPECT_GT(lineValue(metrics, "linkwatch_logon_refusals_total{reason=\"rate_limited\"}"), 0);
  // Bounded memory: QuickFIX buffers what an oversized message sent (1 MiB), nothing more.
  const long growthKib = rssKib(monitor->pid) - rssBefore;
  EXPECT_LT(growthKib, kMaxGrowthKib) << "RSS " << rssBefore << " KiB -> +" << growthKib << " KiB";
  std::printf("RSS before %ld KiB, growth %ld KiB; %d unknown-CompID logons\n", rssBefore,
              growthKib, unknownLogons.load());
}

TEST_F(HostilePeers, MoreIdleConnectionsThanSelectCanWatchDoNotAbortTheMonitor) {
  raiseDescriptorLimit();
  startMonitorWithGoodMembers("FixIdleConnectionTimeout=1s");
  // QuickFIX 1.15.1 aborts on a descriptor >= FD_SETSIZE (1024): without the descriptor cap
  // this flood kills the process ("bit out of range 0 - FD_SETSIZE").
  std::vector<int> fds;
  for (int i = 0; i < 1100; ++i) {
    const int fd = connectFrom("127.0.0.21", monitor->fixPort);
    if (fd >= 0) fds.push_back(fd);
  }
  EXPECT_GE(fds.size(), 1024u);
  // Idle connections are shut down after FixIdleConnectionTimeout: the descriptors come back.
  EXPECT_TRUE(waitFor(
      [&] {
        return lineValue(monitor->get("/metrics").body,
                         "linkwatch_fix_idle_connections_closed_total") >= 500;
      },
      20s))
      << monitor->log();
  ASSERT_TRUE(monitor->alive()) << monitor->log();
  for (int fd : fds) ::close(fd);
  // A member can still log on afterwards, once QuickFIX's one thread has been through the
  // 1,100 closed connections (several seconds in a sanitizer build).
  EXPECT_TRUE(waitFor(
      [&] {
        return logonReply("127.0.0.1", monitor->fixPort, logon("BANK03"))
                   .find(
                       "\x01"
                       "35=A\x01") != std::string::npos;
      },
      30s));
  expectGoodLinksUntouched(1);
  const long growthKib = rssKib(monitor->pid) - rssBefore;
  EXPECT_LT(growthKib, kMaxGrowthKib);
  std::printf("RSS before %ld KiB, growth %ld KiB\n", rssBefore, growthKib);
}

// Sends `prefix`, then `drip` every `interval` (nothing when `drip` is empty; as much as the
// socket takes when `interval` is 0) until the monitor closes the connection or `giveUp`
// passes. Returns how long the monitor let it stay connected, or nullopt when it never did.
std::optional<std::chrono::milliseconds> dripUntilClosed(const char* source, std::uint16_t port,
                                                         const std::string& prefix,
                                                         const std::string& drip,
                                                         std::chrono::milliseconds interval,
                                                         Clock::time_point giveUp) {
  const auto start = Clock::now();
  const int fd = connectFrom(source, port);
  if (fd < 0) return std::nullopt;
  bool closed = !sendAll(fd, prefix);
  while (!closed && Clock::now() < giveUp) {
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, static_cast<int>(interval.count())) > 0) {
      char byte = 0;
      const ssize_t n = ::recv(fd, &byte, 1, MSG_DONTWAIT);
      closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    }
    if (closed || drip.empty()) continue;
    const ssize_t n = ::send(fd, drip.data(), drip.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    closed = n < 0 && errno != EAGAIN && errno != EWOULDBLOCK;
  }
  const auto held = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  ::close(fd);
  if (!closed) return std::nullopt;
  return held;
}

TEST_F(HostilePeers, PeersThatNeverLogOnAreCutOffAtTheLogonDeadline) {
  // QuickFIX's ThreadedSocketAcceptor (--threaded, and every TLS acceptor) waits for a first
  // message without limit; its single-threaded SocketAcceptor gives up after 1 s by itself.
  // FixIdleConnectionTimeout stays at its 10 s: the silent peer, too, goes at the deadline.
  startMonitorWithGoodMembers("FixLogonDeadline=1s", true);
  const std::uint16_t port = monitor->fixPort;
  // Far past the deadline (and its 0.5 s scans): a peer still connected then was not cut off.
  const auto giveUp = Clock::now() + 8s;
  const std::string hugeBody =
      "8=FIX.4.4\x01"
      "9=999999999\x01"
      "35=A\x01";
  struct Peer {
    const char* source;
    std::string prefix;
    std::string drip;
    std::chrono::milliseconds interval;
    std::optional<std::chrono::milliseconds> held;
  };
  std::vector<Peer> peers = {
      {"127.0.0.31", hugeBody, "x", 50ms, {}},  // BodyLength=999999999, trickle
      {"127.0.0.32",
       "8=FIX.4.4\x01"
       "9=",
       "1",
       100ms,
       {}},                              // a BodyLength with no end
      {"127.0.0.33", "", "", 50ms, {}},  // connected, silent
      // 6.4 MB/s: past the 256 KiB early cut within 40 ms. What a faster peer gets buffered
      // is what QuickFIX reads from it until the guard's next scan (0.5 s): 15-65 MB measured
      // at full loopback speed, which is the bound, not this test's figure.
      {"127.0.0.34", hugeBody, std::string(64 * 1024, 'y'), 10ms, {}},
  };
  std::vector<std::thread> attackers;
  for (Peer& p : peers)
    attackers.emplace_back([&p, port, giveUp] {
      p.held = dripUntilClosed(p.source, port, p.prefix, p.drip, p.interval, giveUp);
    });
  // The monitor's resident memory while it is attacked, not only after.
  std::atomic<bool> attacking{true};
  long peakKib = 0;
  std::thread sampler([&] {
    while (attacking.load()) {
      peakKib = std::max(peakKib, rssKib(monitor->pid));
      std::this_thread::sleep_for(20ms);
    }
  });
  for (std::thread& t : attackers) t.join();
  attacking = false;
  sampler.join();

  ASSERT_TRUE(monitor->alive()) << monitor->log();
  for (const Peer& p : peers) {
    ASSERT_TRUE(p.held.has_value()) << p.source << " was never disconnected";
    std::printf("%s disconnected after %lld ms\n", p.source,
                static_cast<long long>(p.held->count()));
  }
  // Counted with the reason, and logged with the address like a refused Logon.
  EXPECT_TRUE(waitFor(
      [&] {
        return lineValue(monitor->get("/metrics").body,
                         "linkwatch_logon_refusals_total{reason=\"logon_deadline\"}") >= 4;
      },
      5s))
      << monitor->get("/metrics").body;
  EXPECT_NE(monitor->log().find("from 127.0.0.31: logon_deadline"), std::string::npos)
      << monitor->log();
  // Logged-on sessions, connected far longer than the deadline, were never touched.
  expectGoodLinksUntouched(1);
  EXPECT_LT(peakKib - rssBefore, kMaxGrowthKib);
  std::printf("RSS before %ld KiB, peak growth during the attack %ld KiB\n", rssBefore,
              peakKib - rssBefore);
}

}  // namespace
}  // namespace linkwatch::testing
