#include "app/fix_worker.hpp"

#include <linkwatch/thread_scheduling.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <system_error>

#include "app/process.hpp"
#include "app/security_setup.hpp"

namespace linkwatch {
namespace {

constexpr Nanos kForwarderIdleWait = 50 * kNanosPerMilli;  // commands are polled this often
constexpr Nanos kForwarderSpin = 20 * kNanosPerMicro;
constexpr Nanos kLoggedOnRefresh = 250 * kNanosPerMilli;
constexpr Nanos kStartupTimeout = 60 * kNanosPerSecond;
constexpr Nanos kFirstRestartDelay = 200 * kNanosPerMilli;
constexpr Nanos kMaxRestartDelay = 10 * kNanosPerSecond;
// A worker that ran this long before dying restarts after the first delay again.
constexpr Nanos kStableRun = 30 * kNanosPerSecond;
constexpr Nanos kStopGrace = 5 * kNanosPerSecond;
constexpr int kWorkerShmFd = 3;
constexpr std::size_t kWorkerLaneCapacity = 16384;

void setFailure(ShmShard& shard, const std::string& message) {
  const std::size_t n = std::min(message.size(), sizeof shard.failure - 1);
  std::memcpy(shard.failure, message.data(), n);
  shard.failure[n] = '\0';
  shard.state.store(static_cast<std::uint32_t>(ShmWorkerState::kFailed), std::memory_order_release);
}

// Pushes every event, waiting for the core to make room: the lane is the only way out, and
// the worker's own hub keeps (or counts) what arrives meanwhile. `progress` (the worker's
// liveness count; null for the core) advances while it waits: a stalled core is no hang of
// the worker's, and must not get it killed.
void pushAll(ShmRegionHeader& header, ShmShard& shard, const SessionEvent* events,
             std::size_t count, const std::atomic<bool>& giveUp,
             std::atomic<std::uint64_t>* progress = nullptr) {
  while (count != 0) {
    const std::size_t pushed = shmPushEvents(shard, events, count);
    events += pushed;
    count -= pushed;
    if (count == 0) break;
    shmWakeCore(header);
    if (giveUp.load(std::memory_order_relaxed)) return;
    if (progress != nullptr) progress->fetch_add(1, std::memory_order_relaxed);
    timespec pause{0, 100 * 1000};
    nanosleep(&pause, nullptr);
  }
}

// Moves events from a worker's own hub to its shared-memory lane. The forwarder thread does it
// on every pass; a FIX thread does it too, right after it published a connectivity event, when
// no one else is (EventHub's connectivity hook): a disconnect then reaches the core without
// first waiting for the forwarder to be woken. Whoever holds `busy_` is the hub's one consumer
// and the lane's one producer; a FIX thread never waits for it, nor for room in the lane.
class ShardForwarder {
 public:
  ShardForwarder(EventHub& hub, ShmRegionHeader& header, ShmShard& shard, std::uint32_t linkCount)
      : hub_(hub),
        header_(header),
        shard_(shard),
        linkCount_(linkCount),
        // One drain() delivers up to kDrainBatch queued events, then every deferred
        // connectivity event: at most kDeferredKinds a link.
        batch_(EventHub::kDrainBatch +
               static_cast<std::size_t>(EventHub::kDeferredKinds) * hub.linkCount()) {}

  // The hub's connectivity hook, on a FIX thread. True when the hub was left empty with
  // nothing held back; false when someone else was forwarding or the lane was short of room
  // (what was drained and did not fit waits here for the forwarder, ahead of anything newer).
  static bool forwardFromFixThread(void* self) noexcept {
    return static_cast<ShardForwarder*>(self)->forwardNow();
  }

  // On the forwarder thread: forwards everything, waiting for room in the lane. Returns how
  // many events it forwarded (0 also when a FIX thread was forwarding at the time).
  std::size_t forwardAll(const std::atomic<bool>& giveUp) noexcept {
    if (busy_.exchange(true, std::memory_order_acquire)) return 0;
    std::size_t total = 0;
    if (heldBegin_ != heldEnd_) {
      pushAll(header_, shard_, batch_.data() + heldBegin_, heldEnd_ - heldBegin_, giveUp,
              &shard_.counters.progress);
      total += heldEnd_ - heldBegin_;
      heldBegin_ = heldEnd_ = 0;
    }
    for (int round = 0; round < 16; ++round) {
      const std::size_t got = drainIntoBatch();
      pushAll(header_, shard_, batch_.data(), got, giveUp, &shard_.counters.progress);
      total += got;
      if (got < EventHub::kDrainBatch) break;
    }
    if (total != 0) {
      shard_.forwarded.fetch_add(total, std::memory_order_relaxed);
      shmWakeCore(header_);
    }
    busy_.store(false, std::memory_order_release);
    return total;
  }

  // Whether no drained event waits here for the lane; false also while a FIX thread is
  // forwarding (ask again).
  bool holdsNothing() noexcept {
    if (busy_.exchange(true, std::memory_order_acquire)) return false;
    const bool nothing = heldBegin_ == heldEnd_;
    busy_.store(false, std::memory_order_release);
    return nothing;
  }

 private:
  bool forwardNow() noexcept {
    if (busy_.exchange(true, std::memory_order_acquire)) return false;
    std::size_t pushedTotal = 0;
    bool everything = false;
    if (heldBegin_ == heldEnd_) {
      for (int round = 0; round < 4; ++round) {
        const std::size_t got = drainIntoBatch();
        const std::size_t pushed = shmPushEvents(shard_, batch_.data(), got);
        pushedTotal += pushed;
        if (pushed < got) {
          heldBegin_ = pushed;
          heldEnd_ = got;
          break;
        }
        if (got < EventHub::kDrainBatch) break;
      }
      everything = heldBegin_ == heldEnd_ && hub_.empty();
    }
    if (pushedTotal != 0) {
      shard_.forwarded.fetch_add(pushedTotal, std::memory_order_relaxed);
      shmWakeCore(header_);
    }
    busy_.store(false, std::memory_order_release);
    return everything;
  }

  std::size_t drainIntoBatch() noexcept {
    std::size_t filled = 0;
    hub_.drain(
        [&](const SessionEvent& e) {
          SessionEvent& out = batch_[filled++];
          out = e;
          out.link = e.link < linkCount_ ? shard_.links[e.link] : kNoLink;
        },
        EventHub::kDrainBatch);
    return filled;
  }

  EventHub& hub_;
  ShmRegionHeader& header_;
  ShmShard& shard_;
  const std::uint32_t linkCount_;
  std::atomic<bool> busy_{false};
  std::vector<SessionEvent> batch_;
  // Drained by a FIX thread but not yet in the lane: batch_[heldBegin_, heldEnd_).
  std::size_t heldBegin_ = 0;
  std::size_t heldEnd_ = 0;
};

static_assert(static_cast<std::size_t>(kLogonRefusalCount) <= ShmWorkerCounters::kReasons,
              "every refusal reason has a column in a worker's shared counters");

// The worker's LogonGuard counts into its shard's block too, as it counts: the core reads the
// block at scrape time, and nothing counted is lost if the worker dies the next instant.
class SharedCounterMirror final : public LogonCountObserver {
 public:
  SharedCounterMirror(ShmWorkerCounters& block, std::uint32_t linkCount) noexcept
      : block_(block), linkCount_(linkCount) {}
  void refusalCounted(LinkIndex link, LogonRefusal why) noexcept override {
    const std::size_t row = link < linkCount_ ? link : ShmWorkerCounters::kNoMemberRow;
    block_.refusals[row][static_cast<std::size_t>(why)].fetch_add(1, std::memory_order_relaxed);
  }
  void addressBlocked() noexcept override {
    block_.blockedAddresses.fetch_add(1, std::memory_order_relaxed);
  }
  void idleConnectionsClosed(std::uint64_t n) noexcept override {
    block_.idleConnectionsClosed.fetch_add(n, std::memory_order_relaxed);
  }

 private:
  ShmWorkerCounters& block_;
  std::uint32_t linkCount_;
};

// "1.0", "2.5": durations in log lines, without touching std::cerr's formatting state.
std::string secondsText(Nanos d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f",
                static_cast<double>(d) / static_cast<double>(kNanosPerSecond));
  return text;
}

int pidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

std::string exitText(const siginfo_t& info) {
  switch (info.si_code) {
    case CLD_EXITED:
      return "exited with status " + std::to_string(info.si_status);
    case CLD_KILLED:
    case CLD_DUMPED:
      return std::string("killed by signal ") + std::to_string(info.si_status) + " (" +
             strsignal(info.si_status) + ")";
    default:
      return "ended";
  }
}

}  // namespace

// ---- the worker process ----

int runFixWorker(const FixWorkerCommandOptions& options) {
  // Signals first, before any thread: SIGTERM (also the parent-death signal) stops us.
  StopSignals signals;
  // The kernel's own time slice whatever the parent's: at scale every worker's QuickFIX thread
  // is a busy select() loop, and short slices make them preempt one another (only the
  // forwarder below takes ThreadTimeSlice).
  static_cast<void>(setThreadTimeSlice(0));
  ShmRegion region = [&] {
    try {
      return ShmRegion::attach(options.shmFd);
    } catch (const std::exception& e) {
      std::cerr << "linkwatch fix-worker: " << e.what() << '\n';
      std::exit(kExitUsage);
    }
  }();
  if (options.shard >= region.shardCount()) {
    std::cerr << "linkwatch fix-worker: no shard " << options.shard << '\n';
    return kExitUsage;
  }
  ShmRegionHeader& header = region.header();
  ShmShard& shard = region.shard(options.shard);
  const std::string who = "linkwatch fix-worker " + std::to_string(options.shard) + ": ";
  auto fail = [&](const std::string& message) {
    setFailure(shard, message);
    std::cerr << who << message << '\n';
    return kExitRuntime;
  };

  MonitorConfig config;
  try {
    config = loadConfig(options.configPath);
  } catch (const ConfigError& e) {
    return fail(e.what());
  }
  const std::uint32_t linkCount = shard.linkCount;
  if (config.links.size() != header.linkTotal || linkCount > ShmShard::kMaxLinks)
    return fail(options.configPath + " changed since linkwatch started: it now has " +
                std::to_string(config.links.size()) + " sessions, not " +
                std::to_string(header.linkTotal) + "; restart linkwatch");

  // The shard as a configuration of its own, in local link order: the FIX options (TLS,
  // idle-connection timeout) and the logon checks are built from it exactly as in one process.
  MonitorConfig shardConfig = config;
  shardConfig.links.clear();
  for (std::uint32_t i = 0; i < linkCount; ++i) {
    const LinkIndex global = shard.links[i];
    if (global >= config.links.size()) return fail("link index out of range");
    shardConfig.links.push_back(config.links[global]);
  }
  SharedCounterMirror counterMirror(shard.counters, linkCount);  // outlives the guard
  std::unique_ptr<LogonGuard> logonGuard;
  FixEngineOptions fix;
  try {
    logonGuard = makeLogonGuard(shardConfig);
    logonGuard->setCountObserver(&counterMirror);
    fix = fixOptions(shardConfig, options.threaded, logonGuard.get());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  fix.onlyListedSessions = true;
  std::vector<std::uint32_t> localOf(config.links.size(), kNoLink);
  for (std::uint32_t i = 0; i < linkCount; ++i) localOf[shard.links[i]] = i;

  // The worker's own hub: FIX threads publish here exactly as in one process; the forwarder
  // moves events to the shared lane. Connectivity events never drop (per-link slots).
  // Its lanes only buffer until the forwarder's next pass: smaller than the core's, since
  // every lane a FIX thread cycles through stays resident.
  // Its tally slots are the shard's, which the core reads and grants: an up link's routine
  // messages are tallied there, on the FIX thread, and never forwarded (EventHub::mayTally).
  EventHub hub(linkCount == 0 ? 1 : linkCount,
               std::min<std::size_t>(config.eventQueueCapacity, kWorkerLaneCapacity),
               EventHub::kDefaultLanes, shard.tallies);
  refreshWallOffset();
  ShardForwarder forwarding(hub, header, shard, linkCount);
  hub.setConnectivityHook(&ShardForwarder::forwardFromFixThread, &forwarding);
  std::unique_ptr<FixEngine> engine;
  try {
    engine = FixEngine::create(fix, hub);
    engine->start();
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  shard.state.store(static_cast<std::uint32_t>(ShmWorkerState::kReady), std::memory_order_release);

  std::atomic<bool> running{true};
  std::atomic<bool> giveUp{false};
  std::atomic<bool> forwarderDone{false};
  std::thread forwarder([&] {
    // The hop every disconnect takes to the core: woken, it should run at once, not wait out
    // a busy QuickFIX thread's slice. QuickFIX's own threads here keep the kernel's default.
    if (const auto slice = std::chrono::nanoseconds(config.threadTimeSlice).count(); slice != 0)
      static_cast<void>(setThreadTimeSlice(slice));
    Nanos nextLoggedOnRefresh = 0;
    for (;;) {
      const bool last = !running.load(std::memory_order_acquire);
      // The wall clock offset is refreshed by the core thread in `run`; here, by us.
      refreshWallOffset();
      const Nanos now = monotonicNow();
      shard.heartbeat.store(now, std::memory_order_relaxed);
      const std::size_t total = forwarding.forwardAll(giveUp);
      shard.dropped.store(hub.dropped(), std::memory_order_relaxed);

      ShmCommand command;
      while (shard.commands.pop(command)) {
        if (command.kind == ShmCommand::kTestRequest && command.link < localOf.size() &&
            localOf[command.link] != kNoLink)
          engine->sendTestRequest(localOf[command.link], command.id);
      }
      if (now >= nextLoggedOnRefresh) {
        nextLoggedOnRefresh = now + kLoggedOnRefresh;
        for (std::uint32_t i = 0; i < linkCount; ++i)
          shard.loggedOn[i].store(engine->isLoggedOn(i) ? 1 : 0, std::memory_order_relaxed);
        // Liveness for the core (FixWorkerHangTimeout), after this pass asked QuickFIX about
        // every session (Session::lookupSession takes QuickFIX's session registry lock; a
        // TestRequest above takes the session's own). It stands still when the process is
        // stopped (SIGSTOP, a frozen cgroup) or deadlocked, when this thread is stuck, and
        // when a FIX thread holds one of those locks and never lets go. It can't see
        // QuickFIX's socket thread stuck while holding neither: that thread reaches code of
        // ours only for traffic (Application, Log), never on its idle once-a-second tick, so
        // an idle worker's FIX thread can't prove it runs without a hook inside QuickFIX. A
        // timer of our own would prove even less; this is the signal the worker honestly has.
        shard.counters.progress.fetch_add(1, std::memory_order_relaxed);
      }
      if (last && hub.empty() && forwarding.holdsNothing()) {
        forwarderDone.store(true, std::memory_order_release);
        return;
      }
      if (total == 0 && forwarding.holdsNothing())
        hub.waitForEvents(monotonicNow() + kForwarderIdleWait, kForwarderSpin);
    }
  });

  signals.wait();
  // QuickFIX first, so that its last events (logouts, disconnects) still reach the core.
  engine->stop();
  running.store(false, std::memory_order_release);
  hub.wakeConsumer();
  // Without a core draining the lane (the parent is gone) the forwarder would wait forever.
  const Nanos giveUpAt = monotonicNow() + 2 * kNanosPerSecond;
  while (!forwarderDone.load(std::memory_order_acquire) && monotonicNow() < giveUpAt) {
    timespec pause{0, 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
  giveUp.store(true);
  forwarder.join();
  return kExitOk;
}

// ---- the core's side ----

struct FixWorkerPool::Worker {
  std::uint32_t index = 0;
  pid_t pid = -1;
  int pidfd = -1;
  Nanos startedAt = 0;
  Nanos restartAt = 0;  // 0: not waiting to restart
  Nanos restartDelay = kFirstRestartDelay;
  bool ready = false;
  // Hang detection (checkProgress): the worker's last progress count and when it changed.
  bool watching = false;  // its count was seen since it was ready
  std::uint64_t progress = 0;
  Nanos progressSeenAt = 0;
  bool hung = false;                 // killed for making no progress: that is why it exits
  std::atomic<bool> running{false};  // a live process (for /metrics)
  std::atomic<std::uint64_t> restarts{0};
  std::atomic<std::uint64_t> hangs{0};
  std::uint64_t forwardedRetired = 0;  // by its dead predecessors; under countersMutex_
  std::string startupError;            // set when it failed before the first start completed
};

FixWorkerPool::FixWorkerPool(const MonitorConfig& config, bool threaded, EventHub& hub,
                             std::string executable)
    : configPath_(config.file),
      threaded_(threaded),
      executable_(std::move(executable)),
      hangTimeout_(static_cast<Nanos>(config.fixWorkerHangTimeout.count()) * kNanosPerMilli),
      shards_(planFixShards(config)),
      region_(ShmRegion::create(static_cast<std::uint32_t>(shards_.size()),
                                static_cast<std::uint32_t>(config.links.size()))),
      retiredCounters_(config.links.size()) {
  where_.assign(config.links.size(), {kNoLink, kNoLink});
  for (std::uint32_t s = 0; s < shards_.size(); ++s) {
    ShmShard& shard = region_.shard(s);
    const std::vector<LinkIndex>& links = shards_[s].links;
    if (links.size() > ShmShard::kMaxLinks)
      throw std::runtime_error("fix worker " + std::to_string(s) + ": " +
                               std::to_string(links.size()) + " sessions, more than " +
                               std::to_string(ShmShard::kMaxLinks) + " per worker");
    shard.linkCount = static_cast<std::uint32_t>(links.size());
    for (std::uint32_t i = 0; i < links.size(); ++i) {
      shard.links[i] = links[i];
      where_[links[i]] = {s, i};
      hub.shareTally(links[i], shard.tallies[i]);
    }
    sources_.push_back(std::make_unique<ShmEventSource>(shard));
    hub.addSource(*sources_.back());
    auto worker = std::make_unique<Worker>();
    worker->index = s;
    workers_.push_back(std::move(worker));
  }
  hub.shareWakeWord(region_.header().coreSleeping);
}

FixWorkerPool::~FixWorkerPool() { stop(); }

std::string FixWorkerPool::describe(const Worker& worker) const {
  const FixShard& shard = shards_[worker.index];
  std::string ports;
  for (int p : shard.acceptPorts) ports += (ports.empty() ? "" : ",") + std::to_string(p);
  return "fix worker " + std::to_string(worker.index) + " (pid " + std::to_string(worker.pid) +
         ", " + std::to_string(shard.links.size()) + " links" +
         (ports.empty() ? "" : ", port " + ports) + ")";
}

void FixWorkerPool::start() {
  if (started_) return;
  started_ = true;
  stopFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stopFd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  supervisor_ = std::thread([this] { supervise(); });

  // Every worker ready, or the first reason one of them could not start.
  const Nanos deadline = monotonicNow() + kStartupTimeout;
  std::string error;
  for (;;) {
    bool allReady = true;
    for (std::uint32_t s = 0; s < shards_.size() && error.empty(); ++s) {
      ShmShard& shard = region_.shard(s);
      const auto state = static_cast<ShmWorkerState>(shard.state.load(std::memory_order_acquire));
      if (state == ShmWorkerState::kFailed)
        error = "fix worker " + std::to_string(s) + ": " + shard.failure;
      else if (state != ShmWorkerState::kReady)
        allReady = false;
    }
    if (error.empty())
      for (const auto& w : workers_) {
        std::lock_guard<std::mutex> lock(stateMutex_);
        if (!w->startupError.empty()) error = w->startupError;
      }
    if (!error.empty() || allReady) break;
    if (monotonicNow() > deadline) {
      error = "fix workers not ready after 60 s";
      break;
    }
    timespec pause{0, 2 * 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
  if (!error.empty()) {
    stop();
    throw std::runtime_error(error);
  }
  startupDone_.store(true, std::memory_order_release);
}

void FixWorkerPool::supervise() {
  for (auto& w : workers_) {
    if (!spawn(*w)) {
      std::lock_guard<std::mutex> lock(stateMutex_);
      w->startupError = describe(*w) + ": could not be started";
    }
  }
  // Live workers' progress is looked at four times per FixWorkerHangTimeout, or once a second.
  const Nanos progressCheck =
      std::clamp<Nanos>(hangTimeout_ / 4, 50 * kNanosPerMilli, kNanosPerSecond);
  Nanos lastCheck = monotonicNow();
  for (;;) {
    std::vector<pollfd> fds{{stopFd_, POLLIN, 0}};
    std::vector<Worker*> polled;
    constexpr Nanos kNoWake = std::numeric_limits<Nanos>::max();
    Nanos nextWake = kNoWake;
    for (auto& w : workers_) {
      if (w->pidfd >= 0) {
        fds.push_back({w->pidfd, POLLIN, 0});
        polled.push_back(w.get());
        nextWake = std::min(nextWake, lastCheck + progressCheck);
      } else if (w->restartAt != 0) {
        nextWake = std::min(nextWake, w->restartAt);
      }
    }
    int timeoutMs = -1;
    if (nextWake != kNoWake)
      timeoutMs = static_cast<int>(
          std::max<Nanos>(0, (nextWake - monotonicNow() + kNanosPerMilli - 1) / kNanosPerMilli));
    const int ready = poll(fds.data(), fds.size(), timeoutMs);
    if (ready < 0 && errno != EINTR) {
      std::cerr << "linkwatch: fix worker supervisor: poll: " << std::strerror(errno) << '\n';
      timespec pause{0, 100 * 1000 * 1000};
      nanosleep(&pause, nullptr);
      continue;
    }
    if (fds[0].revents != 0) {
      stopWorkers();
      return;
    }
    for (std::size_t i = 0; i < polled.size(); ++i)
      if (fds[i + 1].revents != 0) onExit(*polled[i]);
    const Nanos now = monotonicNow();
    if (now - lastCheck >= progressCheck) {
      // A supervisor that itself did not run for half the timeout (a suspended VM, a
      // starved machine) has seen nothing: every worker's window starts again.
      const bool wasAway = now - lastCheck > hangTimeout_ / 2;
      lastCheck = now;
      for (auto& w : workers_) {
        if (w->pidfd < 0) continue;
        if (wasAway) w->watching = false;
        checkProgress(*w, now);
      }
    }
    for (auto& w : workers_) {
      if (w->pidfd >= 0 || w->restartAt == 0 || w->restartAt > now) continue;
      w->restartAt = 0;
      if (!spawn(*w)) {
        w->restartAt = now + w->restartDelay;
        w->restartDelay = std::min(w->restartDelay * 2, kMaxRestartDelay);
      }
    }
  }
}

bool FixWorkerPool::spawn(Worker& worker) {
  ShmShard& shard = region_.shard(worker.index);
  shard.failure[0] = '\0';
  shard.state.store(static_cast<std::uint32_t>(ShmWorkerState::kStarting),
                    std::memory_order_release);
  // Everything the child needs is prepared here: between fork and exec a multi-threaded
  // process may only make async-signal-safe calls.
  std::vector<std::string> args = {executable_, "fix-worker",
                                   "--config",  configPath_,
                                   "--shard",   std::to_string(worker.index),
                                   "--shm-fd",  std::to_string(kWorkerShmFd)};
  if (threaded_) args.push_back("--threaded");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const int shmFd = region_.fd();

  const pid_t pid = fork();
  if (pid < 0) {
    std::cerr << "linkwatch: fix worker " << worker.index << ": fork: " << std::strerror(errno)
              << '\n';
    return false;
  }
  if (pid == 0) {
    // The worker ends with us (this thread, the supervisor, lives as long as the pool).
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(kExitRuntime);
    if (shmFd == kWorkerShmFd) {
      fcntl(kWorkerShmFd, F_SETFD, 0);
    } else if (dup2(shmFd, kWorkerShmFd) < 0) {
      _exit(kExitRuntime);
    }
    // No inherited listening sockets or files: the worker holds its own descriptors only.
    syscall(SYS_close_range, kWorkerShmFd + 1, ~0U, 0);
    execv(argv[0], argv.data());
    _exit(127);
  }
  worker.pid = pid;
  worker.pidfd = pidfdOpen(pid);
  worker.startedAt = monotonicNow();
  worker.watching = false;
  worker.hung = false;
  if (worker.pidfd < 0) {
    std::cerr << "linkwatch: " << describe(worker) << ": pidfd_open: " << std::strerror(errno)
              << "; stopping it\n";
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    worker.pid = -1;
    return false;
  }
  worker.running.store(true, std::memory_order_relaxed);
  std::cerr << "linkwatch: " << describe(worker) << " started" << std::endl;
  return true;
}

void FixWorkerPool::onExit(Worker& worker) {
  siginfo_t info{};
  waitid(P_PID, static_cast<id_t>(worker.pid), &info, WEXITED);
  close(worker.pidfd);
  worker.pidfd = -1;
  retireCounters(worker);
  const std::string what = describe(worker) + " " + exitText(info);
  const bool hung = worker.hung;
  worker.hung = false;
  worker.watching = false;
  worker.pid = -1;
  ShmShard& shard = region_.shard(worker.index);
  if (!startupDone_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(stateMutex_);
    if (static_cast<ShmWorkerState>(shard.state.load()) != ShmWorkerState::kFailed)
      worker.startupError = what + " before it was ready";
    return;
  }
  markLinksDown(worker);
  restarts_.fetch_add(1, std::memory_order_relaxed);
  worker.restarts.fetch_add(1, std::memory_order_relaxed);
  if (hung) worker.hangs.fetch_add(1, std::memory_order_relaxed);
  const Nanos now = monotonicNow();
  if (now - worker.startedAt >= kStableRun) worker.restartDelay = kFirstRestartDelay;
  worker.restartAt = now + worker.restartDelay;
  std::cerr << "linkwatch: " << what << ": its " << shards_[worker.index].links.size()
            << " links are down (fix_worker_lost: fix worker " << (hung ? "hung" : "exited")
            << "); restarting in "
            << static_cast<double>(worker.restartDelay) / static_cast<double>(kNanosPerSecond)
            << " s";
  if (shard.failure[0] != '\0') std::cerr << "; it said: " << shard.failure;
  std::cerr << std::endl;
  worker.restartDelay = std::min(worker.restartDelay * 2, kMaxRestartDelay);
}

void FixWorkerPool::checkProgress(Worker& worker, Nanos now) {
  if (worker.hung) return;  // killed already: its exit comes through the pidfd
  const ShmShard& shard = region_.shard(worker.index);
  // Only a worker that said it runs its sessions and whose start the pool saw through: a
  // worker still starting (binding ports, reading a big file) has not begun counting.
  if (!startupDone_.load(std::memory_order_acquire) ||
      static_cast<ShmWorkerState>(shard.state.load(std::memory_order_acquire)) !=
          ShmWorkerState::kReady) {
    worker.watching = false;
    return;
  }
  const std::uint64_t progress = shard.counters.progress.load(std::memory_order_relaxed);
  if (!worker.watching || progress != worker.progress) {
    worker.watching = true;
    worker.progress = progress;
    worker.progressSeenAt = now;
    return;
  }
  const Nanos still = now - worker.progressSeenAt;
  if (still < hangTimeout_) return;
  // SIGKILL, not SIGTERM: a hung worker would not act on SIGTERM (a stopped one not even
  // receive it). Its exit then takes the ordinary path: links down, counters kept, restart.
  worker.hung = true;  // counted with its exit, so that no scrape sees more hangs than restarts
  std::cerr << "linkwatch: " << describe(worker) << " hung: no progress for " << secondsText(still)
            << " s (FixWorkerHangTimeout " << secondsText(hangTimeout_) << " s); killing it"
            << std::endl;
  kill(worker.pid, SIGKILL);
}

void FixWorkerPool::markLinksDown(Worker& worker) {
  // The dead worker no longer produces on its lane: we take its place there, so these
  // disconnects come after everything it published.
  ShmShard& shard = region_.shard(worker.index);
  const Nanos mono = monotonicNow();
  const Nanos wall = wallNow();
  std::vector<SessionEvent> events;
  for (std::uint32_t i = 0; i < shard.linkCount; ++i) {
    shard.loggedOn[i].store(0, std::memory_order_relaxed);
    SessionEvent e{};
    e.kind = EventKind::kDisconnect;
    e.flags = event_flag::kFixWorkerLost;
    e.messageClass = MessageClass::kApplication;
    e.link = shard.links[i];
    // How many events the worker published for the link in all, some perhaps lost with it:
    // the core's count of those applied starts again from here (EventHub::countApplied).
    e.testReqId = shard.tallies[i].published.load(std::memory_order_acquire);
    e.monotonic = mono;
    e.wall = wall;
    events.push_back(e);
  }
  pushAll(region_.header(), shard, events.data(), events.size(), stopping_);
  shmWakeCore(region_.header());
}

void FixWorkerPool::retireCounters(Worker& worker) {
  // The worker is dead (reaped): its block has no writer left. Moved under the lock that a
  // scrape takes, so that no scrape sees it counted twice or not at all.
  worker.running.store(false, std::memory_order_relaxed);
  ShmShard& shard = region_.shard(worker.index);
  std::lock_guard<std::mutex> lock(countersMutex_);
  retiredCounters_.add(shard.counters, shard.links, shard.linkCount);
  clearWorkerCounters(shard.counters);
  worker.forwardedRetired += shard.forwarded.exchange(0, std::memory_order_relaxed);
}

bool FixWorkerPool::workerUp(std::uint32_t shard) const noexcept {
  if (shard >= workers_.size()) return false;
  const auto state =
      static_cast<ShmWorkerState>(region_.shard(shard).state.load(std::memory_order_acquire));
  return workers_[shard]->running.load(std::memory_order_relaxed) &&
         state == ShmWorkerState::kReady;
}

std::uint64_t FixWorkerPool::workerRestarts(std::uint32_t shard) const noexcept {
  if (shard >= workers_.size()) return 0;
  return workers_[shard]->restarts.load(std::memory_order_relaxed);
}

std::uint64_t FixWorkerPool::workerHangs(std::uint32_t shard) const noexcept {
  if (shard >= workers_.size()) return 0;
  return workers_[shard]->hangs.load(std::memory_order_relaxed);
}

std::uint64_t FixWorkerPool::workerEventsForwarded(std::uint32_t shard) const {
  if (shard >= workers_.size()) return 0;
  std::lock_guard<std::mutex> lock(countersMutex_);
  return workers_[shard]->forwardedRetired +
         region_.shard(shard).forwarded.load(std::memory_order_relaxed);
}

WorkerCounterTotals FixWorkerPool::logonCounters() const {
  std::lock_guard<std::mutex> lock(countersMutex_);
  WorkerCounterTotals totals = retiredCounters_;
  for (std::uint32_t s = 0; s < shards_.size(); ++s) {
    const ShmShard& shard = region_.shard(s);
    totals.add(shard.counters, shard.links, shard.linkCount);
  }
  return totals;
}

void FixWorkerPool::stopWorkers() {
  for (auto& w : workers_)
    if (w->pidfd >= 0) kill(w->pid, SIGTERM);
  const Nanos deadline = monotonicNow() + kStopGrace;
  bool killed = false;
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<Worker*> polled;
    for (auto& w : workers_)
      if (w->pidfd >= 0) {
        fds.push_back({w->pidfd, POLLIN, 0});
        polled.push_back(w.get());
      }
    if (fds.empty()) return;
    const Nanos left = deadline - monotonicNow();
    if (left <= 0 && !killed) {
      for (Worker* w : polled) {
        std::cerr << "linkwatch: " << describe(*w) << " did not stop within 5 s; killing it\n";
        kill(w->pid, SIGKILL);
      }
      killed = true;
    }
    poll(fds.data(), fds.size(),
         killed ? 1000 : static_cast<int>(std::max<Nanos>(1, left / kNanosPerMilli)));
    for (std::size_t i = 0; i < polled.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Worker& w = *polled[i];
      waitpid(w.pid, nullptr, 0);
      close(w.pidfd);
      w.pidfd = -1;
      retireCounters(w);
      w.pid = -1;
    }
  }
}

void FixWorkerPool::stop() {
  if (!started_) return;
  started_ = false;
  stopping_.store(true);
  if (supervisor_.joinable()) {
    const std::uint64_t one = 1;
    if (write(stopFd_, &one, sizeof one) < 0) {
      // An eventfd write fails only on overflow: the supervisor is woken already.
    }
    supervisor_.join();
  }
  close(stopFd_);
  stopFd_ = -1;
}

bool FixWorkerPool::sendTestRequest(LinkIndex link, std::uint64_t id) {
  if (link >= where_.size()) return false;
  const auto [s, local] = where_[link];
  ShmShard& shard = region_.shard(s);
  {
    std::lock_guard<std::mutex> lock(commandsMutex_);
    if (!shard.commands.push(ShmCommand{ShmCommand::kTestRequest, link, id})) return false;
  }
  return shard.loggedOn[local].load(std::memory_order_relaxed) != 0;
}

bool FixWorkerPool::isLoggedOn(LinkIndex link) const {
  if (link >= where_.size()) return false;
  const auto [s, local] = where_[link];
  return region_.shard(s).loggedOn[local].load(std::memory_order_relaxed) != 0;
}

}  // namespace linkwatch
