// Counters a QuickFIX worker process keeps for the core, in its shard of the shared-memory
// region (ShmShard::counters).
//
// In one process the logon checks (LogonGuard) count into memory that /metrics reads. In a
// worker they count into this block as well, as they count: the worker's threads are its only
// writers (relaxed fetch_add: a counter orders nothing else), the core reads it at scrape time.
// When a worker dies the core adds its block to what it keeps of the shard's earlier workers
// (WorkerCounterTotals) and clears it before the next worker starts: no counter goes backwards
// across a restart, and nothing counted before a SIGKILL is lost.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <linkwatch/session_event.hpp>

namespace linkwatch {

struct ShmWorkerCounters {
  // Links per worker: the same bound as ShmShard::kMaxLinks (checked there).
  static constexpr std::size_t kMaxLinks = 1024;
  // Refusal reasons with room to grow: at least LogonRefusal's count (checked where the
  // worker's LogonGuard is wired to this block).
  static constexpr std::size_t kReasons = 8;
  // Row kMaxLinks: refusals before any session was known (a failed TLS handshake).
  static constexpr std::size_t kNoMemberRow = kMaxLinks;

  // By the worker's local link index, then reason.
  std::atomic<std::uint64_t> refusals[kMaxLinks + 1][kReasons] = {};
  std::atomic<std::uint64_t> blockedAddresses{0};
  std::atomic<std::uint64_t> idleConnectionsClosed{0};

  // Liveness, not a metric: advanced by the worker each time its forwarding thread has called
  // into QuickFIX (or waits for the core to make room); the core kills a ready worker whose
  // count stands still for FixWorkerHangTimeout (src/app/fix_worker.cpp says what this proves).
  std::atomic<std::uint64_t> progress{0};
};

// Only a dead worker's block may be cleared: the core calls this after the worker exited.
void clearWorkerCounters(ShmWorkerCounters& block) noexcept;

// The same counters in plain numbers, by global link index: what the core keeps of dead
// workers, and what it reports at a scrape (that plus every live block).
// Thread-safety: none; the owner serialises.
class WorkerCounterTotals {
 public:
  explicit WorkerCounterTotals(std::size_t linkTotal = 0)
      : linkTotal_(linkTotal), refusals_((linkTotal + 1) * ShmWorkerCounters::kReasons, 0) {}

  // Adds a worker's block: local row i is global link links[i] (i < linkCount), the block's
  // no-member row goes to ours. Global indexes outside linkTotal are ignored.
  void add(const ShmWorkerCounters& block, const LinkIndex* links, std::uint32_t linkCount);

  // link kNoLink: refusals before any session was known.
  std::uint64_t refusals(LinkIndex link, std::size_t reason) const noexcept;
  std::uint64_t blockedAddresses() const noexcept { return blockedAddresses_; }
  std::uint64_t idleConnectionsClosed() const noexcept { return idleConnectionsClosed_; }
  std::size_t linkTotal() const noexcept { return linkTotal_; }

 private:
  std::size_t linkTotal_;
  std::vector<std::uint64_t> refusals_;  // (link, reason); the last row: no member known
  std::uint64_t blockedAddresses_ = 0;
  std::uint64_t idleConnectionsClosed_ = 0;
};

}  // namespace linkwatch
