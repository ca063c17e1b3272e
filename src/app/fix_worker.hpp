// QuickFIX in worker processes: `linkwatch run` past one process's descriptor budget.
//
// The core stays in the `run` process; each worker is the same executable started as the
// hidden `linkwatch fix-worker` subcommand, runs the FixEngine for its shard of the sessions
// (a FixShard: whole SocketAcceptPort groups) and forwards every SessionEvent, with its link
// index made global, into its shard of a shared-memory region (ShmRegion) that the core's
// EventHub drains beside its own lanes. A worker that dies has its links marked down
// (`disconnected`: "fix worker exited") and is started again; one that is alive but makes no
// progress for FixWorkerHangTimeout is killed first (`disconnected`: "fix worker hung").
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <linkwatch/config.hpp>
#include <linkwatch/event_hub.hpp>
#include <linkwatch/fix_engine.hpp>
#include <linkwatch/fix_worker_plan.hpp>
#include <linkwatch/shm_event_channel.hpp>
#include <linkwatch/shm_worker_counters.hpp>

namespace linkwatch {

struct FixWorkerCommandOptions {
  std::string configPath;
  std::uint32_t shard = 0;
  int shmFd = -1;  // the inherited ShmRegion descriptor
  bool threaded = false;
};

// The `fix-worker` subcommand: runs one shard until SIGTERM (or the parent's death).
// Exit 0 after SIGTERM, 1 when it could not start (the reason is in the shard's `failure`).
int runFixWorker(const FixWorkerCommandOptions& options);

// The core's side: a FixEngine whose sessions run in worker processes.
// Thread-safety: start()/stop() from one control thread; sendTestRequest/isLoggedOn from any.
class FixWorkerPool final : public FixEngine {
 public:
  // Plans the shards and attaches their lanes and the shared futex word to `hub`, whose
  // consumer must not have started yet. `executable`: what to start as the worker
  // (default: this program).
  FixWorkerPool(const MonitorConfig& config, bool threaded, EventHub& hub,
                std::string executable = "/proc/self/exe");
  ~FixWorkerPool() override;

  // Starts every worker and waits until each runs its sessions; throws std::runtime_error
  // with a worker's reason (a port that can't be bound, ...) after stopping the others.
  void start() override;
  // SIGTERM to every worker, SIGKILL after 5 s; idempotent.
  void stop() override;
  bool sendTestRequest(LinkIndex link, std::uint64_t id) override;
  bool isLoggedOn(LinkIndex link) const override;

  const std::vector<FixShard>& shards() const noexcept { return shards_; }
  // Worker restarts after an unexpected exit, over all shards.
  std::uint64_t restarts() const noexcept { return restarts_.load(std::memory_order_relaxed); }

  // For /metrics, from any thread. Shard `shard`'s worker runs its sessions: its process is
  // alive and said it was ready (false while it starts, after it died, before a restart).
  bool workerUp(std::uint32_t shard) const noexcept;
  // Unexpected exits of shard `shard`'s worker (each followed by a restart attempt).
  std::uint64_t workerRestarts(std::uint32_t shard) const noexcept;
  // Times shard `shard`'s worker made no progress for FixWorkerHangTimeout and was killed
  // (each also counts as a restart).
  std::uint64_t workerHangs(std::uint32_t shard) const noexcept;
  // Events shard `shard`'s workers handed to the core over shared memory, over every restart.
  std::uint64_t workerEventsForwarded(std::uint32_t shard) const;
  // What the workers' logon checks counted, by global link index: every live worker's
  // shared-memory block plus what the pool kept of dead ones. Never decreases.
  WorkerCounterTotals logonCounters() const;

 private:
  struct Worker;
  void supervise();
  bool spawn(Worker& worker);
  void onExit(Worker& worker);
  void checkProgress(Worker& worker, Nanos now);
  void markLinksDown(Worker& worker);
  void retireCounters(Worker& worker);
  void stopWorkers();
  std::string describe(const Worker& worker) const;

  std::string configPath_;
  bool threaded_;
  std::string executable_;
  Nanos hangTimeout_;
  std::vector<FixShard> shards_;
  ShmRegion region_;
  std::vector<std::unique_ptr<ShmEventSource>> sources_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> where_;  // global link → (shard, local)
  std::mutex commandsMutex_;  // one producer at a time on the command lanes
  std::mutex stateMutex_;     // Worker::startupError, between the supervisor and start()
  // Dead workers' counters: moved here from their blocks, atomically for a scrape.
  mutable std::mutex countersMutex_;
  WorkerCounterTotals retiredCounters_;

  std::thread supervisor_;
  int stopFd_ = -1;  // eventfd: wakes the supervisor for stop()
  std::atomic<bool> startupDone_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> restarts_{0};
  bool started_ = false;
};

}  // namespace linkwatch
