// The core: drains session events, drives one LinkStateMachine per link with its own
// millisecond deadlines, and publishes states, transitions and statistics.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <linkwatch/clock.hpp>
#include <linkwatch/config.hpp>
#include <linkwatch/event_hub.hpp>
#include <linkwatch/link_state.hpp>
#include <linkwatch/link_stats.hpp>

namespace linkwatch {

struct Transition {
  LinkIndex link = kNoLink;
  LinkState from = LinkState::kDown;
  LinkState to = LinkState::kDown;
  LinkReason reason = LinkReason::kNeverConnected;
  Nanos wall = 0;
  Nanos monotonic = 0;  // when the core thread made it; never before causeMonotonic
  // The FIX thread's stamp of the event that caused it; 0 when a deadline or a command did.
  Nanos causeMonotonic = 0;
};

// Called on the core thread for every transition. Must not block: hand work to another
// thread (alert pushes, journal writes).
using TransitionListener = std::function<void(const Transition&)>;

// An operator started (untilWall > 0) or ended (0) a maintenance window; applied on the core
// thread at `wall`/`monotonic`.
struct MaintenanceChange {
  LinkIndex link = kNoLink;
  Nanos untilWall = 0;
  Nanos wall = 0;
  Nanos monotonic = 0;
};
// Called on the core thread; the same rules as TransitionListener.
using MaintenanceListener = std::function<void(const MaintenanceChange&)>;

// What a previous run left in the journal about one link.
struct RestoredLink {
  LinkState lastState = LinkState::kDown;
  LinkReason lastReason = LinkReason::kNeverConnected;
  Nanos lastSinceWall = 0;         // when the previous run saw it enter lastState
  Nanos maintenanceUntilWall = 0;  // a maintenance window still running, else 0
};

class LinkStateMachine;

// Thread-safety: start()/stop() and addListener() from one control thread; publish events
// through hub() from any thread; the read accessors from any thread.
class LinkMonitor {
 public:
  LinkMonitor(MonitorConfig config, const Clock& clock);
  ~LinkMonitor();
  LinkMonitor(const LinkMonitor&) = delete;
  LinkMonitor& operator=(const LinkMonitor&) = delete;

  EventHub& hub() noexcept { return *hub_; }
  void addListener(TransitionListener listener);
  void addMaintenanceListener(MaintenanceListener listener);

  // Before start(): the link was known to a previous run (the journal). It shows `unknown`
  // (reason `restored`) until its first session event, or until the observation window
  // (max(2 x HeartBtInt, AlertStartupGrace)) passes without one; a maintenance window that
  // has not ended is resumed. No transition is published for this.
  void restore(LinkIndex link, const RestoredLink& restored);
  // What restore() was given for the link; nullptr if nothing. Immutable once started.
  const RestoredLink* restored(LinkIndex link) const;

  // Runs the core thread until stop().
  void start();
  void stop();

  // Puts a link in maintenance until `untilWall` (Unix ns), or ends it (untilWall 0).
  // Thread-safe: queued for the core thread, which applies it within its next loop.
  void setMaintenance(LinkIndex link, Nanos untilWall);

  // Drains what is queued and fires due deadlines, on the caller's thread; for tests and
  // benchmarks that drive the monitor without its thread. Reads every link's tally when
  // 100 ms have passed since the last time, as the core thread does. Returns events applied.
  std::size_t runOnce();

  const MonitorConfig& config() const noexcept { return config_; }
  std::size_t linkCount() const noexcept { return config_.links.size(); }
  const LinkConfig& link(LinkIndex i) const { return config_.links.at(i); }
  const LinkStats& stats(LinkIndex i) const { return *stats_.at(i); }
  const MonitorStats& monitorStats() const noexcept { return monitorStats_; }
  // Newest first, at most `limit`.
  std::vector<Transition> recentTransitions(std::size_t limit) const;
  // Index by MemberId or session key; kNoLink if none.
  LinkIndex findLink(const std::string& memberIdOrSession) const;

 private:
  void runLoop();
  std::size_t drainAndApply();
  void fireDeadlines(Nanos nowMono, Nanos nowWall);
  // `count` messages alike (a tally's), the newest at event.monotonic.
  void apply(const SessionEvent& event, Nanos nowMono, Nanos nowWall, std::uint64_t count = 1);
  // Applies what the link's FIX thread tallied since the last look (EventHub::mayTally).
  void absorbTally(LinkIndex link, Nanos nowMono, Nanos nowWall);
  void absorbTallies(Nanos nowMono, Nanos nowWall);
  void reevaluate(LinkIndex link, Nanos nowMono, Nanos nowWall, Nanos causeMono = 0);
  void record(const Transition& t);
  void applyCommands(Nanos nowMono, Nanos nowWall);

  MonitorConfig config_;
  const Clock& clock_;
  std::unique_ptr<EventHub> hub_;
  std::vector<std::unique_ptr<LinkStateMachine>> machines_;
  std::vector<std::unique_ptr<LinkStats>> stats_;
  MonitorStats monitorStats_;
  struct DeadlineQueue;
  std::unique_ptr<DeadlineQueue> deadlines_;
  std::vector<TransitionListener> listeners_;
  std::vector<MaintenanceListener> maintenanceListeners_;
  std::vector<std::unique_ptr<RestoredLink>> restored_;
  std::vector<RoutineTally> tallySeen_;  // core thread only
  Nanos nextTallyRead_ = 0;

  mutable std::mutex historyMutex_;
  std::vector<Transition> history_;  // ring of config_.historySize
  std::size_t historyNext_ = 0;
  std::size_t historyCount_ = 0;

  // Control-plane commands from other threads (HTTP): rare, so a mutex is fine here.
  std::mutex commandsMutex_;
  std::vector<std::pair<LinkIndex, Nanos>> maintenanceCommands_;
  std::atomic<bool> commandsPending_{false};

  std::thread thread_;
  std::atomic<bool> running_{false};
};

}  // namespace linkwatch
