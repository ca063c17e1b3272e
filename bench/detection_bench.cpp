// End-to-end detection latency of the monitor over loopback: real QuickFIX acceptor sessions
// (FixEngine + LinkMonitor, as `linkwatch run` assembles them minus HTTP), members played by
// the simulator, faults injected on the members' wires, transitions timed by a listener.
//
//   (a) TCP reset -> link `down`: from the simulator's `fault_injected` record (taken just
//       before close() sends the RST) to the `down` transition.
//   (b) heartbeat deadline -> link `degraded`: the deadline is the link's last inbound message
//       + HeartBtInt x (1 + grace); figure = `degraded` transition - deadline.
//   Baseline in the same run, on a separate batch of long silences: QuickFIX's own TestRequest
//   (as the member receives it) and its disconnect (`down`, heartbeat_timeout), both measured
//   from the last inbound message, against linkwatch's `degraded` on the same silences.
//
// Not Google Benchmark: one run injects thousands of faults into a live process and matches
// them with transitions afterwards. `--quick` for CI, the default (full) for bench/RESULTS.md.
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <linkwatch/clock.hpp>
#include <linkwatch/config.hpp>
#include <linkwatch/fix_engine.hpp>
#include <linkwatch/link_monitor.hpp>
#include <linkwatch/link_state.hpp>
#include <linkwatch/link_stats.hpp>
#include <linkwatch/thread_scheduling.hpp>

#include "sim/simulator.hpp"

#ifndef LINKWATCH_BUILD_TYPE
#define LINKWATCH_BUILD_TYPE "unknown"
#endif

namespace linkwatch::bench {
namespace {

using namespace std::chrono_literals;

constexpr int kHeartBtIntSeconds = 1;
constexpr Nanos kHeartBt = kHeartBtIntSeconds * kNanosPerSecond;
// Short silences end after linkwatch's deadline (1.2 s after the last message at the latest)
// and, mostly, before QuickFIX reacts; long ones outlast QuickFIX's 2.4 x HeartBtInt
// disconnect on its one-second tick (3 s after the last message, up to 4 s measured: a
// 4-second silence cut 0.4 % of them short).
constexpr std::int64_t kShortSilenceMs = 1500 * kHeartBtIntSeconds;
constexpr std::int64_t kLongSilenceMs = 5000 * kHeartBtIntSeconds;
constexpr auto kReconnectDelay = 200ms;
// After a link is back up, leave it alone this long before the next fault on it.
constexpr Nanos kSettle = 50 * kNanosPerMilli;
// A link not back up this long after its fault ended gets a reset, so that its member can take
// faults again: a link whose member ignored QuickFIX's TestRequest during a silence stays
// `degraded` (test_request_unanswered) after the heartbeats resume, until the next logon.
constexpr Nanos kStuckAfter = 3 * kNanosPerSecond;
// A member that does not come back at all is left out of the rest of the run.
constexpr Nanos kDeadAfter = 30 * kNanosPerSecond;

struct Options {
  bool quick = false;
  bool resetsOnly = false;  // just the reset batch (chasing rare misses with many faults)
  int timeSliceUs = -1;     // the core's and QuickFIX's ThreadTimeSlice; -1: the config's
  int members = 20;
  int faults = 0;  // per batch; 0: 50 with --quick, 1,000 otherwise
  std::string json;
  std::uint64_t seed = 1;
};

void usage(std::ostream& out) {
  out << "usage: detection_bench [--quick] [--members N] [--faults N] [--json FILE] [--seed N]\n"
         "  --quick      CI mode: 50 faults per batch (under a minute)\n"
         "  --members N  simulated members on one acceptor port (default 20)\n"
         "  --faults N   faults per batch: resets, short silences, long silences\n"
         "               (default 1,000; 50 with --quick)\n"
         "  --json FILE  also write the figures as JSON\n"
         "  --resets-only  only the reset batch (figure (a) and its split)\n"
         "  --time-slice-us N  ThreadTimeSlice of the core's and QuickFIX's threads in us\n"
         "               (0: the kernel's default; default: the config's, 100 us)\n"
         "Exit codes: 0 every figure produced, 1 a figure is missing or the run failed,\n"
         "2 bad usage.\n";
}

std::optional<Options> parseOptions(int argc, char** argv) {
  Options o;
  auto number = [](const char* text, int& out) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 1 || v > 100000) return false;
    out = static_cast<int>(v);
    return true;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool hasValue = i + 1 < argc;
    if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      std::exit(0);
    } else if (arg == "--quick") {
      o.quick = true;
    } else if (arg == "--resets-only") {
      o.resetsOnly = true;
    } else if (arg == "--time-slice-us" && hasValue) {
      if (std::string_view(argv[i + 1]) == "0") {
        o.timeSliceUs = 0;
        ++i;
      } else if (!number(argv[++i], o.timeSliceUs)) {
        return std::nullopt;
      }
    } else if (arg == "--members" && hasValue) {
      if (!number(argv[++i], o.members)) return std::nullopt;
    } else if (arg == "--faults" && hasValue) {
      if (!number(argv[++i], o.faults)) return std::nullopt;
    } else if (arg == "--json" && hasValue) {
      o.json = argv[++i];
    } else if (arg == "--seed" && hasValue) {
      int seed = 0;
      if (!number(argv[++i], seed)) return std::nullopt;
      o.seed = static_cast<std::uint64_t>(seed);
    } else {
      return std::nullopt;
    }
  }
  if (o.faults == 0) o.faults = o.quick ? 50 : 1000;
  return o;
}

// ---- machine ------------------------------------------------------------------------------

std::string readFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return "unknown";
  return line;
}

std::string loadAverage() {
  std::istringstream in(readFirstLine("/proc/loadavg"));
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

std::string kernelRelease() {
  utsname u{};
  if (::uname(&u) != 0) return "unknown";
  return u.release;
}

std::string utcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// Jiffies of all CPUs from /proc/stat: (steal, total). Steal is time the hypervisor gave this
// VM's vCPUs to someone else: on a shared VM it shows in every wake-up latency.
std::pair<std::uint64_t, std::uint64_t> cpuSteal() {
  std::istringstream in(readFirstLine("/proc/stat"));
  std::string label;
  in >> label;
  std::uint64_t total = 0, steal = 0, v = 0;
  for (int i = 0; i < 8 && in >> v; ++i) {
    total += v;
    if (i == 7) steal = v;
  }
  return {steal, total};
}

Nanos processCpu() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  const auto toNs = [](const timeval& tv) {
    return static_cast<Nanos>(tv.tv_sec) * kNanosPerSecond +
           static_cast<Nanos>(tv.tv_usec) * kNanosPerMicro;
  };
  return toNs(ru.ru_utime) + toNs(ru.ru_stime);
}

// A port that was free a moment ago.
std::uint16_t freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  // sockaddr_in is the documented way to pass an IPv4 address to bind().
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "linkwatch-detection-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string memberName(int i) {
  char text[16];
  std::snprintf(text, sizeof text, "M%03d", i + 1);
  return text;
}

// N acceptor sessions LINKWATCH->Mnnn on one port, HeartBtInt 1 s, default grace.
std::string settingsText(std::uint16_t port, int members) {
  std::string text =
      "[DEFAULT]\nConnectionType=acceptor\nBeginString=FIX.4.4\nSenderCompID=LINKWATCH\n"
      "SocketAcceptHost=127.0.0.1\nSocketAcceptPort=" +
      std::to_string(port) +
      "\nNonStopSession=Y\nUseDataDictionary=N\nHeartBtInt=" + std::to_string(kHeartBtIntSeconds) +
      "\n\n[LINKWATCH]\nHttpListen=127.0.0.1:" + std::to_string(freePort()) + "\n";
  for (int i = 0; i < members; ++i) {
    const std::string m = memberName(i);
    text += "\n[SESSION]\nTargetCompID=" + m + "\nMemberId=" + m + "\n";
  }
  return text;
}

// ---- transitions, recorded on the core thread -----------------------------------------------

struct Observed {
  Transition t;
  Nanos lastInboundMono = 0;  // the link's last inbound message, CLOCK_MONOTONIC; 0: none
  Nanos heartBtInt = 0;       // in force at the transition (the member's Logon)
};

// The listener: writes into a preallocated array and bumps per-link counters, nothing else
// (it runs on the core thread and must not block). One writer; readers synchronise on
// `count_` (release/acquire), so an entry below the count they load is complete.
class TransitionRecorder {
 public:
  TransitionRecorder(const LinkMonitor& monitor, std::size_t capacity)
      : monitor_(monitor),
        entries_(capacity),
        downs_(monitor.linkCount()),
        degradeds_(monitor.linkCount()) {}

  void onTransition(const Transition& t) noexcept {
    if (t.link >= downs_.size()) return;
    const LinkStats& s = monitor_.stats(t.link);
    Observed o;
    o.t = t;
    const Nanos lastWall = s.lastInboundWall.load(std::memory_order_relaxed);
    // lastInboundWall was stamped as monotonic + (wall - monotonic) on the FIX thread: undo it
    // with the transition's own pair (both read on the core thread, ~30 ns apart).
    o.lastInboundMono = lastWall == 0 ? 0 : lastWall - (t.wall - t.monotonic);
    o.heartBtInt =
        static_cast<Nanos>(s.heartBtIntSeconds.load(std::memory_order_relaxed)) * kNanosPerSecond;
    const std::size_t i = count_.load(std::memory_order_relaxed);
    if (i < entries_.size()) {
      entries_[i] = o;
      count_.store(i + 1, std::memory_order_release);
    } else {
      overflow_.fetch_add(1, std::memory_order_relaxed);
    }
    if (t.to == LinkState::kDown) downs_[t.link].fetch_add(1, std::memory_order_release);
    if (t.to == LinkState::kDegraded) degradeds_[t.link].fetch_add(1, std::memory_order_release);
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    coreCpu_.store(static_cast<Nanos>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec,
                   std::memory_order_relaxed);
  }

  std::uint32_t downs(LinkIndex link) const { return downs_[link].load(std::memory_order_acquire); }
  std::uint32_t degradeds(LinkIndex link) const {
    return degradeds_[link].load(std::memory_order_acquire);
  }
  // The core thread's CPU time as of its latest transition.
  Nanos coreCpu() const { return coreCpu_.load(std::memory_order_relaxed); }
  std::uint64_t overflow() const { return overflow_.load(std::memory_order_relaxed); }
  std::vector<Observed> entries() const {
    const std::size_t n = count_.load(std::memory_order_acquire);
    return {entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(n)};
  }

 private:
  const LinkMonitor& monitor_;
  std::vector<Observed> entries_;
  std::atomic<std::size_t> count_{0};
  std::atomic<std::uint64_t> overflow_{0};
  std::vector<std::atomic<std::uint32_t>> downs_;
  std::vector<std::atomic<std::uint32_t>> degradeds_;
  std::atomic<Nanos> coreCpu_{0};
};

// ---- statistics -----------------------------------------------------------------------------

struct Summary {
  double p50 = 0, p99 = 0, max = 0, mean = 0;
  std::size_t n = 0;
};

// Nearest-rank percentiles, in milliseconds.
Summary summarise(std::vector<Nanos> values) {
  Summary s;
  s.n = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const auto rank = [&](double q) {
    const auto r = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
    return static_cast<double>(values[std::max<std::size_t>(r, 1) - 1]) / 1e6;
  };
  s.p50 = rank(0.50);
  s.p99 = rank(0.99);
  s.max = static_cast<double>(values.back()) / 1e6;
  double sum = 0;
  for (const Nanos v : values) sum += static_cast<double>(v);
  s.mean = sum / static_cast<double>(values.size()) / 1e6;
  return s;
}

// ---- the run ---------------------------------------------------------------------------------

enum class Batch : std::uint8_t { kReset, kShortSilence, kLongSilence, kRecovery };

constexpr std::string_view toString(Batch b) {
  switch (b) {
    case Batch::kReset:
      return "reset";
    case Batch::kShortSilence:
      return "short silence";
    case Batch::kLongSilence:
      return "long silence";
    case Batch::kRecovery:
      return "recovery reset";
  }
  return "?";
}

struct Attempt {
  std::uint32_t member = 0;
  Batch batch = Batch::kReset;
  Nanos stamp = 0;  // CLOCK_MONOTONIC just before Simulator::inject()
};

struct PhaseCost {
  Nanos wall = 0;
  Nanos processCpu = 0;
  Nanos coreCpu = 0;
  std::size_t faults = 0;
};

class DetectionRun {
 public:
  explicit DetectionRun(const Options& options) : options_(options), rng_(options.seed) {}
  // The listener points into recorder_: stop the monitor before members go away.
  ~DetectionRun() { stop(); }
  DetectionRun(const DetectionRun&) = delete;
  DetectionRun& operator=(const DetectionRun&) = delete;

  int run();

 private:
  struct Slot {
    bool busy = false;
    bool dead = false;
    Batch batch = Batch::kReset;
    Nanos injectedAt = 0;
    Nanos faultEnds = 0;
    std::uint32_t downsBefore = 0;
    std::uint32_t degradedsBefore = 0;
    Nanos idleFrom = 0;
    Batch heldFor = Batch::kReset;  // the batch whose fault this is (not kRecovery)
  };

  void start();
  void stop();
  bool waitAllUp(Nanos timeout);
  PhaseCost runBatch(Batch batch);
  void inject(std::uint32_t member, Batch batch);
  void updateSlot(std::uint32_t member, Nanos now);
  bool linkUp(std::uint32_t member) const {
    return monitor_->stats(member).state.load(std::memory_order_relaxed) == LinkState::kUp;
  }
  void analyse();
  void report(const PhaseCost& idle, const std::map<Batch, PhaseCost>& costs,
              const std::string& loadBefore, const std::string& loadAfter,
              const std::string& started, Nanos elapsed);

  Options options_;
  std::mt19937_64 rng_;
  TempDir dir_;
  SystemClock clock_;
  MonitorConfig config_;
  std::unique_ptr<LinkMonitor> monitor_;
  std::unique_ptr<TransitionRecorder> recorder_;
  std::unique_ptr<FixEngine> engine_;
  std::unique_ptr<sim::Simulator> sim_;
  std::vector<std::string> names_;
  std::vector<Slot> slots_;
  std::vector<Attempt> attempts_;
  std::map<Batch, std::size_t> skipped_;
  std::size_t recoveries_ = 0;
  std::map<std::string, std::size_t> stuckReasons_;
  std::map<Batch, std::vector<Nanos>> holds_;  // fault injected -> member usable again
  std::map<std::string, std::size_t> simActions_;
  std::map<std::string, std::size_t> memberDisconnects_;  // the simulator's reasons
  Nanos measureEnd_ = 0;
  bool stopped_ = false;
  double stealPercent_ = 0;

  // Figures, filled by analyse().
  std::vector<Nanos> resetToDown_;
  // (a) split at the stamp of the event that caused `down` (Transition::causeMonotonic):
  // reset -> QuickFIX's event on its socket thread, and that event -> applied on the core thread.
  std::vector<Nanos> resetToQuickfixEvent_;
  std::vector<Nanos> quickfixEventToDown_;
  std::vector<std::string> missedResets_;  // what the member's transitions were instead
  // Transitions timed before the event that caused them (the core thread's clock read at the
  // start of a drain that then took long): 0 since Transition::monotonic is re-read.
  std::size_t transitionsBeforeCause_ = 0;
  Nanos worstBeforeCause_ = 0;
  std::vector<Nanos> deadlineToDegraded_;
  std::vector<Nanos> deadlineToDegradedLong_;
  std::vector<Nanos> lwDegradedAfterLast_;
  std::vector<Nanos> qfTestRequestAfterLast_;
  std::vector<Nanos> qfDisconnectAfterLast_;
  std::vector<Nanos> injectCommandDelay_;
  std::map<std::string, std::size_t> unmatched_;
  std::map<std::string, std::size_t> downReasonsAfterReset_;
  Nanos timeSlice_ = 0;  // what the core's and QuickFIX's threads run with; 0: the kernel's
};

void DetectionRun::start() {
  const std::uint16_t port = freePort();
  const std::string file = (dir_.path() / "linkwatch.cfg").string();
  std::ofstream(file) << settingsText(port, options_.members);
  config_ = loadConfig(file);
  monitor_ = std::make_unique<LinkMonitor>(config_, clock_);
  // Every fault makes two to four transitions; startup and stragglers come on top.
  const std::size_t capacity = static_cast<std::size_t>(options_.faults) * 3 * 8 +
                               static_cast<std::size_t>(options_.members) * 64 + 4096;
  recorder_ = std::make_unique<TransitionRecorder>(*monitor_, capacity);
  TransitionRecorder* recorder = recorder_.get();
  monitor_->addListener([recorder](const Transition& t) { recorder->onTransition(t); });
  FixEngineOptions engineOptions;
  engineOptions.settingsPath = file;
  for (const LinkConfig& link : config_.links)
    engineOptions.links.push_back({link.sessionKey, link.rttProbeInterval.count()});
  engine_ = FixEngine::create(engineOptions, monitor_->hub());
  // As `linkwatch run` starts them (MonitorService::start): the core's and QuickFIX's threads
  // get ThreadTimeSlice, the simulated members started after them the kernel's default.
  timeSlice_ =
      options_.timeSliceUs >= 0
          ? options_.timeSliceUs * kNanosPerMicro
          : std::chrono::duration_cast<std::chrono::nanoseconds>(config_.threadTimeSlice).count();
  if (timeSlice_ != 0) {
    if (const std::string why = setThreadTimeSlice(timeSlice_); !why.empty())
      throw std::runtime_error("ThreadTimeSlice: " + why);
  }
  monitor_->start();
  engine_->start();
  if (timeSlice_ != 0) setThreadTimeSlice(0);

  auto members = sim::membersFromMonitorConfig(config_);
  for (auto& m : members) {
    m.reconnectDelay = kReconnectDelay;
    m.maxReconnectDelay = 2s;
  }
  for (const auto& m : members) names_.push_back(m.memberId);
  // Link index i is member i: the settings list them in the same order.
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (monitor_->findLink(names_[i]) != i)
      throw std::runtime_error("member order differs from link order: " + names_[i]);
  }
  slots_.assign(names_.size(), Slot{});
  sim::SimulatorOptions simOptions;
  simOptions.seed = options_.seed;
  sim_ = std::make_unique<sim::Simulator>(std::move(members), simOptions);
  sim_->start();
}

void DetectionRun::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (sim_) sim_->stop();
  if (engine_) engine_->stop();
  if (monitor_) monitor_->stop();
}

bool DetectionRun::waitAllUp(Nanos timeout) {
  const Nanos deadline = monotonicNow() + timeout;
  while (monotonicNow() < deadline) {
    bool all = true;
    for (std::uint32_t i = 0; i < names_.size(); ++i) all = all && linkUp(i);
    if (all) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

void DetectionRun::inject(std::uint32_t member, Batch batch) {
  Slot& s = slots_[member];
  s.busy = true;
  s.batch = batch;
  if (batch != Batch::kRecovery) s.heldFor = batch;
  s.downsBefore = recorder_->downs(member);
  s.degradedsBefore = recorder_->degradeds(member);
  sim::Fault fault{sim::FaultKind::kReset, 0, 0};
  std::int64_t durationMs = 0;
  if (batch == Batch::kShortSilence) durationMs = kShortSilenceMs;
  if (batch == Batch::kLongSilence) durationMs = kLongSilenceMs;
  if (durationMs != 0) fault = sim::Fault{sim::FaultKind::kSilence, durationMs, 0};
  const Nanos stamp = monotonicNow();
  s.injectedAt = stamp;
  s.faultEnds = stamp + durationMs * kNanosPerMilli;
  attempts_.push_back({member, batch, stamp});
  sim_->inject(names_[member], fault);
}

// Done when the fault was seen, has ended, and the link is back up; a link that stays
// degraded is reset (counted as a recovery, not as a fault).
void DetectionRun::updateSlot(std::uint32_t member, Nanos now) {
  Slot& s = slots_[member];
  if (!s.busy || s.dead) return;
  bool seen = false;
  switch (s.batch) {
    case Batch::kReset:
    case Batch::kRecovery:
    case Batch::kLongSilence:
      seen = recorder_->downs(member) > s.downsBefore;
      break;
    case Batch::kShortSilence:
      seen = recorder_->degradeds(member) > s.degradedsBefore;
      break;
  }
  const bool up = linkUp(member);
  if (now >= s.faultEnds && up && (seen || now >= s.faultEnds + kStuckAfter)) {
    holds_[s.heldFor].push_back(now - s.injectedAt);
    s.busy = false;
    s.idleFrom = now + kSettle;
    return;
  }
  if (now >= s.injectedAt + kDeadAfter) {
    s.dead = true;
    std::cerr << "detection_bench: " << names_[member] << " did not come back; left out\n";
    return;
  }
  if (now >= s.faultEnds + kStuckAfter && s.batch != Batch::kRecovery &&
      monitor_->stats(member).state.load(std::memory_order_relaxed) == LinkState::kDegraded) {
    ++recoveries_;
    ++stuckReasons_[std::string(toString(s.batch)) + ", still degraded (" +
                    std::string(toString(monitor_->stats(member).reason.load())) + ")"];
    const Nanos injectedAt = s.injectedAt;
    inject(member, Batch::kRecovery);
    s.injectedAt = injectedAt;  // the dead-member clock keeps running
  }
}

PhaseCost DetectionRun::runBatch(Batch batch) {
  // How long a fault holds its member (fault, reconnect or recovery, settle), and the mean gap
  // between injections: several members are faulted at a time, never all at once.
  Nanos hold = 300 * kNanosPerMilli;
  Nanos meanGap = 25 * kNanosPerMilli;
  if (batch == Batch::kShortSilence) {
    hold = (kShortSilenceMs + 150) * kNanosPerMilli;
    meanGap = 40 * kNanosPerMilli;
  } else if (batch == Batch::kLongSilence) {
    hold = (kLongSilenceMs + 400) * kNanosPerMilli;
    meanGap = 80 * kNanosPerMilli;
  }
  const auto members = static_cast<Nanos>(std::max(options_.members, 1));
  const Nanos expected = std::max(hold * options_.faults / members, meanGap * options_.faults);
  // --quick must finish within a minute; a full run may take what it needs, within reason.
  const Nanos budget =
      options_.quick ? expected * 3 / 2 + 5 * kNanosPerSecond : expected * 2 + 60 * kNanosPerSecond;
  const Nanos started = monotonicNow();
  const Nanos cpuStart = processCpu();
  const Nanos coreStart = recorder_->coreCpu();
  std::exponential_distribution<double> gap(1.0 / static_cast<double>(meanGap));
  std::size_t injected = 0;
  Nanos nextAt = started;
  std::vector<std::uint32_t> idle;
  const auto target = static_cast<std::size_t>(options_.faults);
  while (true) {
    const Nanos now = monotonicNow();
    bool anyBusy = false;
    idle.clear();
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
      updateSlot(i, now);
      const Slot& s = slots_[i];
      if (s.dead) continue;
      anyBusy = anyBusy || s.busy;
      if (!s.busy && now >= s.idleFrom && linkUp(i)) idle.push_back(i);
    }
    const bool overBudget = now - started > budget;
    if ((injected >= target || overBudget) && !anyBusy) break;
    if (overBudget && now - started > budget + kDeadAfter) break;
    if (injected < target && !overBudget && now >= nextAt && !idle.empty()) {
      std::uniform_int_distribution<std::size_t> pick(0, idle.size() - 1);
      inject(idle[pick(rng_)], batch);
      ++injected;
      nextAt = now + static_cast<Nanos>(gap(rng_));
    }
    std::this_thread::sleep_for(2ms);
  }
  if (injected < target) {
    std::cerr << "detection_bench: " << toString(batch) << ": time budget spent after " << injected
              << " of " << target << " faults\n";
  }
  PhaseCost cost;
  cost.wall = monotonicNow() - started;
  cost.processCpu = processCpu() - cpuStart;
  cost.coreCpu = recorder_->coreCpu() - coreStart;
  cost.faults = injected;
  return cost;
}

std::string fixed(double v, int decimals);

void DetectionRun::analyse() {
  // Per member: the simulator's fault and TestRequest records, and the link's transitions,
  // both in time order.
  const std::size_t n = names_.size();
  std::map<std::string, std::uint32_t> index;
  for (std::uint32_t i = 0; i < n; ++i) index[names_[i]] = i;
  std::vector<std::vector<sim::SimRecordEntry>> faults(n), testRequests(n);
  for (sim::SimRecordEntry& e : sim_->record()) {
    ++simActions_[std::string(sim::toString(e.action))];
    if (e.action == sim::SimAction::kDisconnected) ++memberDisconnects_[e.detail];
    const auto it = index.find(e.memberId);
    if (it == index.end()) continue;
    if (e.action == sim::SimAction::kFaultInjected || e.action == sim::SimAction::kFaultSkipped) {
      faults[it->second].push_back(std::move(e));
    } else if (e.action == sim::SimAction::kTestRequestIgnored && e.detail == "TEST") {
      // QuickFIX's own TestRequests carry TestReqID TEST; a silent member ignores them.
      testRequests[it->second].push_back(std::move(e));
    }
  }
  if (sim_->recordDropped() != 0) unmatched_["simulator record entries dropped"] += 1;
  std::vector<std::vector<Observed>> transitions(n);
  for (const Observed& o : recorder_->entries()) {
    if (o.t.link < n) transitions[o.t.link].push_back(o);
    if (o.t.causeMonotonic > o.t.monotonic) {
      ++transitionsBeforeCause_;
      worstBeforeCause_ = std::max(worstBeforeCause_, o.t.causeMonotonic - o.t.monotonic);
    }
  }

  std::vector<std::vector<const Attempt*>> byMember(n);
  for (const Attempt& a : attempts_) byMember[a.member].push_back(&a);

  const double grace = config_.heartbeatGrace;
  for (std::uint32_t m = 0; m < n; ++m) {
    std::size_t cursor = 0;
    const auto& list = byMember[m];
    for (std::size_t k = 0; k < list.size(); ++k) {
      const Attempt& a = *list[k];
      const Nanos windowEnd = k + 1 < list.size() ? list[k + 1]->stamp : measureEnd_;
      while (cursor < faults[m].size() && faults[m][cursor].monotonic < a.stamp) ++cursor;
      if (cursor >= faults[m].size() || faults[m][cursor].monotonic >= windowEnd) {
        ++unmatched_[std::string(toString(a.batch)) + ": no fault_injected record"];
        continue;
      }
      const sim::SimRecordEntry& rec = faults[m][cursor++];
      if (a.batch == Batch::kRecovery) continue;
      if (rec.action == sim::SimAction::kFaultSkipped) {
        ++skipped_[a.batch];
        continue;
      }
      const Nanos injectedAt = rec.monotonic;
      injectCommandDelay_.push_back(injectedAt - a.stamp);
      const auto firstTransition = [&](auto&& accept) -> const Observed* {
        for (const Observed& o : transitions[m]) {
          if (o.t.monotonic >= injectedAt && o.t.monotonic < windowEnd && accept(o)) return &o;
        }
        return nullptr;
      };
      if (a.batch == Batch::kReset) {
        const Observed* down =
            firstTransition([](const Observed& o) { return o.t.to == LinkState::kDown; });
        if (down == nullptr) {
          ++unmatched_["reset: no down transition"];
          // What happened instead: the member's transitions from 1 s before the reset to the
          // end of its window, in ms from the reset (cause: the event's stamp).
          std::ostringstream what;
          what << names_[m] << " reset at " << fixed(static_cast<double>(injectedAt) / 1e6, 3)
               << " ms, window " << fixed(static_cast<double>(windowEnd - injectedAt) / 1e6, 1)
               << " ms:";
          for (const Observed& o : transitions[m]) {
            if (o.t.monotonic < injectedAt - kNanosPerSecond || o.t.monotonic >= windowEnd)
              continue;
            what << " [" << toString(o.t.to) << " " << toString(o.t.reason) << " at "
                 << fixed(static_cast<double>(o.t.monotonic - injectedAt) / 1e6, 3);
            if (o.t.causeMonotonic != 0)
              what << " cause "
                   << fixed(static_cast<double>(o.t.causeMonotonic - injectedAt) / 1e6, 3);
            what << "]";
          }
          missedResets_.push_back(what.str());
          continue;
        }
        resetToDown_.push_back(down->t.monotonic - injectedAt);
        if (down->t.causeMonotonic != 0) {
          resetToQuickfixEvent_.push_back(down->t.causeMonotonic - injectedAt);
          quickfixEventToDown_.push_back(down->t.monotonic - down->t.causeMonotonic);
        }
        ++downReasonsAfterReset_[std::string(toString(down->t.reason))];
        continue;
      }
      const Observed* degraded = firstTransition([](const Observed& o) {
        return o.t.to == LinkState::kDegraded && o.t.reason == LinkReason::kHeartbeatLate;
      });
      if (degraded == nullptr || degraded->lastInboundMono == 0) {
        ++unmatched_[std::string(toString(a.batch)) + ": no heartbeat_late transition"];
        continue;
      }
      const Nanos last = degraded->lastInboundMono;
      const Nanos hb = degraded->heartBtInt > 0 ? degraded->heartBtInt : kHeartBt;
      const Nanos deadline =
          last + static_cast<Nanos>(std::llround(static_cast<double>(hb) * (1.0 + grace)));
      if (a.batch == Batch::kShortSilence) {
        deadlineToDegraded_.push_back(degraded->t.monotonic - deadline);
        continue;
      }
      deadlineToDegradedLong_.push_back(degraded->t.monotonic - deadline);
      lwDegradedAfterLast_.push_back(degraded->t.monotonic - last);
      const Observed* down = firstTransition([&](const Observed& o) {
        return o.t.to == LinkState::kDown && o.t.monotonic >= degraded->t.monotonic;
      });
      if (down == nullptr) {
        ++unmatched_["long silence: QuickFIX did not disconnect before the silence ended"];
      } else if (down->t.reason != LinkReason::kHeartbeatTimeout) {
        ++unmatched_["long silence: down for " + std::string(toString(down->t.reason))];
      } else {
        qfDisconnectAfterLast_.push_back(down->t.monotonic - last);
      }
      const auto tr = std::find_if(testRequests[m].begin(), testRequests[m].end(),
                                   [&](const sim::SimRecordEntry& e) {
                                     return e.monotonic >= injectedAt && e.monotonic < windowEnd;
                                   });
      if (tr != testRequests[m].end() && (down == nullptr || tr->monotonic <= down->t.monotonic)) {
        qfTestRequestAfterLast_.push_back(tr->monotonic - last);
      } else if (down != nullptr) {
        // Session::next() checks the timeout before the TestRequest: a late tick disconnects.
        ++unmatched_["long silence: QuickFIX disconnected without a TestRequest first"];
      } else {
        ++unmatched_["long silence: no QuickFIX TestRequest"];
      }
    }
  }
}

// ---- output ------------------------------------------------------------------------------

std::string fixed(double v, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(c));
      out += esc;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string jsonSummary(const Summary& s) {
  return "{\"p50\": " + fixed(s.p50, 3) + ", \"p99\": " + fixed(s.p99, 3) +
         ", \"max\": " + fixed(s.max, 3) + ", \"mean\": " + fixed(s.mean, 3) +
         ", \"n\": " + std::to_string(s.n) + "}";
}

std::string row(const std::string& what, const Summary& s, const std::string& target,
                const std::string& met) {
  char text[256];
  std::snprintf(text, sizeof text, "%-52s %6zu %10s %10s %10s  %-16s %s", what.c_str(), s.n,
                fixed(s.p50, 3).c_str(), fixed(s.p99, 3).c_str(), fixed(s.max, 3).c_str(),
                target.c_str(), met.c_str());
  return text;
}

std::string ratio(double quickfix, double ours) {
  if (ours <= 0 || quickfix <= 0) return "—";
  return fixed(quickfix / ours, 2) + "x";
}

struct Bucketed {
  std::uint64_t count = 0;
  double meanUs = 0;
  std::string p50, p99, max;  // "<= 25 us": the bucket's upper bound
};

Bucketed bucketed(const AtomicHistogram& h) {
  Bucketed b;
  const auto& bounds = h.boundsNs();
  std::vector<std::uint64_t> counts(bounds.size() + 1);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    counts[i] = h.bucketCount(i);
    b.count += counts[i];
  }
  if (b.count == 0) return b;
  b.meanUs = static_cast<double>(h.sumNs()) / static_cast<double>(h.count()) / 1e3;
  const auto label = [&](std::size_t i) {
    if (i >= bounds.size())
      return "> " + fixed(static_cast<double>(bounds.back()) / 1e3, 0) + " us";
    return "<= " + fixed(static_cast<double>(bounds[i]) / 1e3, 0) + " us";
  };
  const auto quantile = [&](double q) {
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(b.count)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      seen += counts[i];
      if (seen >= std::max<std::uint64_t>(rank, 1)) return label(i);
    }
    return label(counts.size() - 1);
  };
  b.p50 = quantile(0.50);
  b.p99 = quantile(0.99);
  for (std::size_t i = counts.size(); i-- > 0;) {
    if (counts[i] != 0) {
      b.max = label(i);
      break;
    }
  }
  return b;
}

void DetectionRun::report(const PhaseCost& idle, const std::map<Batch, PhaseCost>& costs,
                          const std::string& loadBefore, const std::string& loadAfter,
                          const std::string& started, Nanos elapsed) {
  const Summary a = summarise(resetToDown_);
  const Summary aSeen = summarise(resetToQuickfixEvent_);
  const Summary aApplied = summarise(quickfixEventToDown_);
  const Summary b = summarise(deadlineToDegraded_);
  const Summary bLong = summarise(deadlineToDegradedLong_);
  const Summary lw = summarise(lwDegradedAfterLast_);
  const Summary qfTr = summarise(qfTestRequestAfterLast_);
  const Summary qfDown = summarise(qfDisconnectAfterLast_);
  const Summary cmd = summarise(injectCommandDelay_);
  const Bucketed apply = bucketed(monitor_->monitorStats().applyDelay);
  const double idleCpuPerSecond =
      idle.wall > 0 ? static_cast<double>(idle.processCpu) / static_cast<double>(idle.wall) : 0;
  const auto cpuPerFault = [&](const PhaseCost& c, bool net) {
    if (c.faults == 0) return 0.0;
    double cpu = static_cast<double>(c.processCpu);
    if (net) cpu = std::max(0.0, cpu - idleCpuPerSecond * static_cast<double>(c.wall));
    return cpu / static_cast<double>(c.faults) / 1e6;
  };
  const auto corePerFault = [](const PhaseCost& c) {
    return c.faults == 0 ? 0.0
                         : static_cast<double>(c.coreCpu) / static_cast<double>(c.faults) / 1e6;
  };
  const bool aMet = a.n > 0 && a.p99 <= 1.0;
  const bool bMet = b.n > 0 && b.p99 <= 5.0;

  std::ostringstream out;
  out << "\nlinkwatch detection bench: " << names_.size() << " members on one QuickFIX "
      << "SocketAcceptor, HeartBtInt " << kHeartBtIntSeconds << " s, grace "
      << fixed(config_.heartbeatGrace, 2) << ", member reconnect delay " << kReconnectDelay.count()
      << " ms, " << options_.faults << " faults per batch" << (options_.quick ? " (--quick)" : "")
      << "\n";
  out << "started " << started << ", took " << fixed(static_cast<double>(elapsed) / 1e9, 1)
      << " s; load average (1, 5, 15 min) " << loadBefore << " before, " << loadAfter
      << " after; CPU steal " << fixed(stealPercent_, 1) << " %; " << cpuModel() << ", "
      << std::thread::hardware_concurrency() << " vCPU\n\n";
  char head[256];
  std::snprintf(head, sizeof head, "%-52s %6s %10s %10s %10s  %-16s %s", "figure (ms)", "n", "p50",
                "p99", "max", "target", "met?");
  out << head << "\n";
  out << row("(a) TCP reset -> link down", a, "p99 <= 1 ms", aMet ? "met" : "MISSED") << "\n";
  out << row("    reset -> QuickFIX's event (its socket thread)", aSeen, "", "") << "\n";
  out << row("    QuickFIX's event -> down (core thread)", aApplied, "", "") << "\n";
  out << row("(b) heartbeat deadline -> link degraded", b, "p99 <= 5 ms", bMet ? "met" : "MISSED")
      << "\n";
  out << row("    same, on the long silences", bLong, "", "") << "\n";
  out << "long silences (" << kLongSilenceMs << " ms), measured from the member's last message:\n";
  out << row("  linkwatch: degraded (heartbeat_late)", lw, "", "") << "\n";
  out << row("  QuickFIX: TestRequest (as the member receives it)", qfTr, "", "") << "\n";
  out << row("  QuickFIX: disconnect (down, heartbeat_timeout)", qfDown, "", "") << "\n";
  out << "ratios, QuickFIX / linkwatch on the same silences (> 1: linkwatch first):\n"
      << "  TestRequest  p50 " << ratio(qfTr.p50, lw.p50) << "  p99 " << ratio(qfTr.p99, lw.p99)
      << "\n  disconnect   p50 " << ratio(qfDown.p50, lw.p50) << "  p99 "
      << ratio(qfDown.p99, lw.p99) << "\n";
  out << "  blackbox_exporter + Prometheus: bench/blackbox_compare.py (scripts/bench runs it)\n\n";
  out << "event apply delay (FIX thread push -> core thread apply, whole run): n " << apply.count
      << ", mean " << fixed(apply.meanUs, 1) << " us, p50 " << apply.p50 << ", p99 " << apply.p99
      << ", max " << apply.max << "\n";
  out << "fault injection command -> fault_injected record: p50 " << fixed(cmd.p50, 3)
      << " ms, p99 " << fixed(cmd.p99, 3) << " ms (not part of any figure)\n";
  out << "(a) is split at the stamp of the event that caused `down` (QuickFIX's onLogout or "
         "\"Disconnecting\" on its socket thread)\n";
  out << "process CPU (monitor + QuickFIX + simulator), idle: " << fixed(idleCpuPerSecond * 1e3, 1)
      << " ms per s\n";
  for (const auto& [batch, cost] : costs) {
    const Summary hold = summarise(holds_[batch]);
    out << "  " << toString(batch) << ": member held p50 " << fixed(hold.p50, 0) << " ms, p99 "
        << fixed(hold.p99, 0) << " ms; " << cost.faults << " faults in "
        << fixed(static_cast<double>(cost.wall) / 1e9, 1) << " s, "
        << fixed(cpuPerFault(cost, false), 2) << " ms CPU per fault ("
        << fixed(cpuPerFault(cost, true), 2) << " above idle), core thread "
        << fixed(corePerFault(cost), 3) << " ms per fault\n";
  }
  std::size_t skippedTotal = 0;
  for (const auto& [batch, count] : skipped_) skippedTotal += count;
  out << "skipped by the simulator (member not connected): " << skippedTotal
      << "; recovery resets (link stuck degraded after a silence): " << recoveries_
      << "; transitions not recorded (array full): " << recorder_->overflow() << "\n";
  for (const auto& [why, count] : unmatched_)
    out << "  unmatched: " << why << ": " << count << "\n";
  out << "simulator actions:";
  for (const auto& [action, count] : simActions_) out << " " << action << " " << count << ";";
  out << "\nmember-side disconnect reasons:";
  for (const auto& [why, count] : memberDisconnects_) out << " " << why << " " << count << ";";
  out << "\n";
  for (const auto& [reason, count] : downReasonsAfterReset_)
    out << "  down after reset, reason " << reason << ": " << count << "\n";
  for (const std::string& missed : missedResets_) out << "  reset without down: " << missed << "\n";
  out << "transitions timed before their cause: " << transitionsBeforeCause_ << " (worst by "
      << fixed(static_cast<double>(worstBeforeCause_) / 1e6, 3) << " ms)\n";
  std::cout << out.str() << std::flush;

  if (options_.json.empty()) return;
  std::ostringstream j;
  j << "{\n";
  j << "  \"reset_to_down_ms\": " << jsonSummary(a) << ",\n";
  j << "  \"reset_to_quickfix_event_ms\": " << jsonSummary(aSeen) << ",\n";
  j << "  \"quickfix_event_to_down_ms\": " << jsonSummary(aApplied) << ",\n";
  j << "  \"transitions_before_cause\": {\"n\": " << transitionsBeforeCause_
    << ", \"worst_ms\": " << fixed(static_cast<double>(worstBeforeCause_) / 1e6, 3) << "},\n";
  j << "  \"resets_without_down\": [";
  for (std::size_t i = 0; i < missedResets_.size(); ++i)
    j << (i == 0 ? "" : ", ") << jsonString(missedResets_[i]);
  j << "],\n";
  j << "  \"deadline_to_degraded_ms\": " << jsonSummary(b) << ",\n";
  j << "  \"deadline_to_degraded_long_silences_ms\": " << jsonSummary(bLong) << ",\n";
  j << "  \"quickfix_test_request_after_last_inbound_ms\": " << jsonSummary(qfTr) << ",\n";
  j << "  \"quickfix_disconnect_after_last_inbound_ms\": " << jsonSummary(qfDown) << ",\n";
  j << "  \"linkwatch_degraded_after_last_inbound_ms\": " << jsonSummary(lw) << ",\n";
  j << "  \"targets\": {\"reset_to_down_p99_ms\": 1.0, \"deadline_to_degraded_p99_ms\": 5.0, "
       "\"reset_to_down_met\": "
    << (aMet ? "true" : "false") << ", \"deadline_to_degraded_met\": " << (bMet ? "true" : "false")
    << "},\n";
  j << "  \"ratios\": {\"quickfix_test_request_over_linkwatch_degraded_p50\": "
    << (lw.p50 > 0 ? fixed(qfTr.p50 / lw.p50, 3) : "null")
    << ", \"quickfix_test_request_over_linkwatch_degraded_p99\": "
    << (lw.p99 > 0 ? fixed(qfTr.p99 / lw.p99, 3) : "null")
    << ", \"quickfix_disconnect_over_linkwatch_degraded_p50\": "
    << (lw.p50 > 0 ? fixed(qfDown.p50 / lw.p50, 3) : "null")
    << ", \"quickfix_disconnect_over_linkwatch_degraded_p99\": "
    << (lw.p99 > 0 ? fixed(qfDown.p99 / lw.p99, 3) : "null") << "},\n";
  j << "  \"apply_delay_us\": {\"n\": " << apply.count << ", \"mean\": " << fixed(apply.meanUs, 2)
    << ", \"p50_bucket\": " << jsonString(apply.p50)
    << ", \"p99_bucket\": " << jsonString(apply.p99)
    << ", \"max_bucket\": " << jsonString(apply.max) << "},\n";
  j << "  \"cpu\": {\"idle_ms_per_s\": " << fixed(idleCpuPerSecond * 1e3, 3);
  for (const auto& [batch, cost] : costs) {
    std::string key(toString(batch));
    std::replace(key.begin(), key.end(), ' ', '_');
    j << ", " << jsonString(key) << ": {\"faults\": " << cost.faults
      << ", \"seconds\": " << fixed(static_cast<double>(cost.wall) / 1e9, 3)
      << ", \"process_ms_per_fault\": " << fixed(cpuPerFault(cost, false), 3)
      << ", \"process_ms_per_fault_above_idle\": " << fixed(cpuPerFault(cost, true), 3)
      << ", \"core_thread_ms_per_fault\": " << fixed(corePerFault(cost), 4)
      << ", \"member_held_p50_ms\": " << fixed(summarise(holds_[batch]).p50, 1) << "}";
  }
  j << "},\n";
  j << "  \"counts\": {\"skipped\": " << skippedTotal << ", \"recoveries\": " << recoveries_
    << ", \"transitions_not_recorded\": " << recorder_->overflow() << ", \"unmatched\": {";
  bool first = true;
  for (const auto& [why, count] : unmatched_) {
    j << (first ? "" : ", ") << jsonString(why) << ": " << count;
    first = false;
  }
  j << "}, \"recoveries_by_cause\": {";
  first = true;
  for (const auto& [why, count] : stuckReasons_) {
    j << (first ? "" : ", ") << jsonString(why) << ": " << count;
    first = false;
  }
  j << "}},\n";
  j << "  \"config\": {\"members\": " << names_.size()
    << ", \"faults_per_batch\": " << options_.faults
    << ", \"quick\": " << (options_.quick ? "true" : "false")
    << ", \"heart_bt_int_s\": " << kHeartBtIntSeconds
    << ", \"heartbeat_grace\": " << fixed(config_.heartbeatGrace, 3)
    << ", \"short_silence_ms\": " << kShortSilenceMs << ", \"long_silence_ms\": " << kLongSilenceMs
    << ", \"reconnect_delay_ms\": " << kReconnectDelay.count()
    << ", \"thread_time_slice_us\": " << timeSlice_ / kNanosPerMicro
    << ", \"seed\": " << options_.seed << "},\n";
  j << "  \"machine\": {\"date\": " << jsonString(started)
    << ", \"seconds\": " << fixed(static_cast<double>(elapsed) / 1e9, 1)
    << ", \"cpu\": " << jsonString(cpuModel())
    << ", \"vcpus\": " << std::thread::hardware_concurrency()
    << ", \"kernel\": " << jsonString(kernelRelease()) << ", \"clocksource\": "
    << jsonString(readFirstLine("/sys/devices/system/clocksource/clocksource0/current_clocksource"))
    << ", \"build_type\": " << jsonString(LINKWATCH_BUILD_TYPE)
    << ", \"load_before\": " << jsonString(loadBefore)
    << ", \"load_after\": " << jsonString(loadAfter)
    << ", \"steal_percent\": " << fixed(stealPercent_, 2) << "}\n";
  j << "}\n";
  std::ofstream file(options_.json);
  file << j.str();
  if (!file) throw std::runtime_error("cannot write " + options_.json);
  std::cout << "detection_bench: wrote " << options_.json << "\n";
}

int DetectionRun::run() {
  const std::string started = utcNow();
  const std::string loadBefore = loadAverage();
  const auto stealBefore = cpuSteal();
  const Nanos t0 = monotonicNow();
  start();
  const Nanos upTimeout = (10 + options_.members / 50) * kNanosPerSecond;
  if (!waitAllUp(upTimeout)) {
    std::cerr << "detection_bench: not every link went up within " << upTimeout / kNanosPerSecond
              << " s\n";
    stop();
    return 1;
  }
  // Idle cost: heartbeats both ways, nothing injected.
  PhaseCost idle;
  {
    const Nanos cpu = processCpu();
    const Nanos from = monotonicNow();
    std::this_thread::sleep_for(options_.quick ? 1s : 3s);
    idle.wall = monotonicNow() - from;
    idle.processCpu = processCpu() - cpu;
  }
  std::map<Batch, PhaseCost> costs;
  for (const Batch batch : {Batch::kReset, Batch::kShortSilence, Batch::kLongSilence}) {
    if (options_.resetsOnly && batch != Batch::kReset) continue;
    std::cerr << "detection_bench: " << options_.faults << " x " << toString(batch) << "...\n";
    costs[batch] = runBatch(batch);
  }
  measureEnd_ = monotonicNow();
  analyse();
  stop();
  const std::string loadAfter = loadAverage();
  const auto stealAfter = cpuSteal();
  const std::uint64_t totalJiffies = stealAfter.second - stealBefore.second;
  stealPercent_ = totalJiffies == 0
                      ? 0.0
                      : 100.0 * static_cast<double>(stealAfter.first - stealBefore.first) /
                            static_cast<double>(totalJiffies);
  report(idle, costs, loadBefore, loadAfter, started, monotonicNow() - t0);

  bool complete = true;
  for (const auto* v : {&resetToDown_, &deadlineToDegraded_, &lwDegradedAfterLast_,
                        &qfTestRequestAfterLast_, &qfDisconnectAfterLast_}) {
    complete = complete && (!v->empty() || (options_.resetsOnly && v != &resetToDown_));
  }
  if (!complete) std::cerr << "detection_bench: a figure has no samples\n";
  return complete ? 0 : 1;
}

}  // namespace
}  // namespace linkwatch::bench

int main(int argc, char** argv) {
  const auto options = linkwatch::bench::parseOptions(argc, argv);
  if (!options) {
    linkwatch::bench::usage(std::cerr);
    return 2;
  }
  try {
    linkwatch::bench::DetectionRun run(*options);
    return run.run();
  } catch (const std::exception& e) {
    std::cerr << "detection_bench: " << e.what() << "\n";
    return 1;
  }
}
