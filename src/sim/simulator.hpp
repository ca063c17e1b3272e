// Many simulated member banks on one epoll thread, faults on schedule or on command, and the
// `linkwatch simulate` command.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <linkwatch/clock.hpp>
#include <linkwatch/config.hpp>

#include "sim/fault.hpp"
#include "sim/sim_member.hpp"

namespace linkwatch::sim {

// Members for every monitor acceptor session of `config` (only those in `onlyMembers` when it
// is not empty). Monitor-side initiator sessions, and sessions without a port, cannot be
// played by a member: they are left out and described in `skipped` ("BANK07: ...").
// Throws std::invalid_argument when `onlyMembers` names a member the config does not have.
std::vector<SimMemberConfig> membersFromMonitorConfig(
    const MonitorConfig& config, const std::vector<std::string>& onlyMembers = {},
    std::vector<std::string>* skipped = nullptr);

// One line of the Simulator's ordered action log.
struct SimRecordEntry {
  std::uint64_t sequence = 0;  // position in the log, from 0, never reused
  Nanos monotonic = 0;
  Nanos wall = 0;
  std::string memberId;
  SimAction action = SimAction::kConnecting;
  std::string detail;
};

struct FaultScheduleConfig {
  std::uint64_t seed = 1;
  // Faults arrive as a Poisson process over all members together.
  std::chrono::milliseconds meanInterval{10000};
  std::vector<FaultKind> kinds;      // empty: every kind
  std::vector<std::string> members;  // empty: every member
};

// Rolling random faults: which member, which fault, when. Deterministic for a given seed and
// member list; durations and amounts scale with each member's HeartBtInt so that the monitor
// can see the fault (silence lasts long enough for QuickFIX to time the session out, ...).
// Thread-safety: none.
class FaultSchedule {
 public:
  struct Item {
    Nanos delay = 0;  // after the previous item
    std::string memberId;
    Fault fault;
  };

  // `members` are (memberId, HeartBtInt seconds). Throws std::invalid_argument when the
  // config names a member not in `members` or leaves nothing to choose from.
  FaultSchedule(FaultScheduleConfig config, std::vector<std::pair<std::string, int>> members);
  Item next();
  const FaultScheduleConfig& config() const noexcept { return config_; }

 private:
  FaultScheduleConfig config_;
  std::vector<std::pair<std::string, int>> members_;
  std::vector<FaultKind> kinds_;
  std::mt19937_64 rng_;
};

struct SimulatorOptions {
  // First connects are spread at this rate so that thousands of members do not hit the
  // acceptor in the same millisecond.
  int connectsPerSecond = 1000;
  // The action log keeps the newest this many entries.
  std::size_t recordCapacity = std::size_t{1} << 18;
  std::uint64_t seed = 1;  // garbage bytes
  std::optional<FaultScheduleConfig> schedule;
};

// Thread-safety: start(), stop(), startControl() and the destructor from the owning thread;
// inject(), loggedOnCount(), snapshot(), record() and handleControlLine() from any thread.
class Simulator final : private MemberHost {
 public:
  // Throws std::invalid_argument for duplicate member ids or an unresolvable host, and
  // std::system_error when epoll/eventfd cannot be created. `clock` gives SendingTime and
  // record times; it must move in real time (the loop waits in epoll_wait).
  explicit Simulator(std::vector<SimMemberConfig> members, SimulatorOptions options = {},
                     const Clock& clock = defaultClock());
  ~Simulator() override;
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Raises RLIMIT_NOFILE to its hard limit and starts the loop thread.
  void start();
  // Closes every connection and the control channel, and joins the loop thread.
  void stop();
  bool running() const noexcept { return running_.load(std::memory_order_acquire); }

  // Queues a fault for the loop. False (with a reason in `error`) for an unknown member.
  bool inject(std::string_view memberId, const Fault& fault, std::string* error = nullptr);
  // Queues the member's own Logout (answer awaited, then reconnect); recorded as skipped when
  // the member is not logged on. False for an unknown member.
  bool logout(std::string_view memberId, std::string text, std::string* error = nullptr);
  // Queues `count` application messages (News), kept for PossDupFlag=Y resends.
  bool sendApplication(std::string_view memberId, int count, std::string* error = nullptr);

  std::size_t memberCount() const noexcept { return members_.size(); }
  std::size_t loggedOnCount() const noexcept {
    return static_cast<std::size_t>(loggedOn_.load(std::memory_order_relaxed));
  }
  std::vector<SimMemberSnapshot> snapshot() const;
  // Oldest first; at most SimulatorOptions::recordCapacity entries.
  std::vector<SimRecordEntry> record() const;
  // The newest `count` entries of one action, oldest first, without copying the rest.
  std::vector<SimRecordEntry> lastRecords(SimAction action, std::size_t count) const;
  std::uint64_t recordDropped() const;

  // Listens on host:port (port 0: any) for the control line protocol; returns the port.
  // Throws std::system_error when the address cannot be bound. Call after start().
  std::uint16_t startControl(const std::string& host, std::uint16_t port);
  // Answers one control line: "fault MEMBER SPEC", "logout MEMBER [TEXT]",
  // "app MEMBER [COUNT]", "status", "help". The answer ends with a line "ok ..." or
  // "error ...", each line ending in '\n'.
  std::string handleControlLine(std::string_view line);

  static const Clock& defaultClock();

 private:
  struct ControlClient {
    std::string in;
    std::string out;
    bool closing = false;
  };
  struct TimerEntry {
    Nanos at;
    std::uint32_t member;
    bool operator>(const TimerEntry& o) const noexcept { return at > o.at; }
  };

  // MemberHost
  void watch(int fd, std::uint32_t member, bool wantWrite) override;
  void unwatch(int fd) override;
  void record(std::uint32_t member, SimAction action, std::string detail) override;
  void loggedOnChanged(int delta) override;
  std::uint64_t random() override;
  std::span<char> readBuffer() override;

  void run();
  void post(std::function<void()> command);
  void drainCommands();
  void reschedule(std::uint32_t member);
  void runTimers(Nanos now);
  void runSchedule(Nanos now);
  void acceptControl(int listenFd);
  void onControlEvent(int fd, std::uint32_t events);
  void closeControlClient(int fd);
  std::optional<std::uint32_t> findMember(std::string_view memberId, std::string* error) const;
  std::string statusText() const;  // members_ locked by the caller

  const Clock& clock_;
  SimulatorOptions options_;
  std::vector<std::unique_ptr<SimMember>> members_;
  std::unordered_map<std::string, std::uint32_t> index_;  // immutable after construction

  // Held by the loop while it touches members; snapshot() takes it too.
  mutable std::mutex membersMutex_;
  std::vector<Nanos> scheduledAt_;  // per member: the live heap entry, kNever if none
  std::vector<TimerEntry> heap_;    // min-heap by `at`, lazily invalidated via scheduledAt_
  std::optional<FaultSchedule> schedule_;
  Nanos nextScheduledFaultAt_ = SimMember::kNever;
  std::optional<FaultSchedule::Item> pendingFault_;
  std::mt19937_64 rng_;
  std::vector<char> readBuffer_;

  int epollFd_ = -1;
  int wakeFd_ = -1;
  int controlFd_ = -1;
  std::unordered_map<int, ControlClient> controlClients_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopRequested_{false};
  std::atomic<std::int64_t> loggedOn_{0};

  std::mutex commandsMutex_;
  std::vector<std::function<void()>> commands_;

  mutable std::mutex recordMutex_;
  std::deque<SimRecordEntry> record_;
  std::uint64_t recordSequence_ = 0;
};

// `linkwatch simulate`: everything the command line decided, the config already loaded.
struct SimulateOptions {
  MonitorConfig config;
  std::vector<std::string> members;  // empty: every acceptor session of the config
  bool faultSchedule = false;
  std::chrono::milliseconds meanFaultInterval{10000};
  std::vector<FaultKind> faultKinds;  // empty: every kind
  std::uint64_t seed = 1;
  std::string controlHost = "127.0.0.1";
  int controlPort = -1;                     // -1: no control channel; 0: any free port (printed)
  std::chrono::seconds duration{0};         // 0: until SIGINT/SIGTERM
  std::chrono::seconds statusInterval{10};  // 0: no periodic status line
  int connectsPerSecond = 1000;
  // Applied to every simulated member (those of `members` when given).
  SimProfile profile = SimProfile::kWellBehaved;
};

// Runs the simulator until the duration ends or SIGINT/SIGTERM arrives, printing progress
// to stdout and problems to stderr. Returns the process exit code (0 on a clean run,
// 2 when the options or the config leave nothing to simulate or a socket cannot be bound).
int runSimulateCommand(const SimulateOptions& options);

}  // namespace linkwatch::sim
