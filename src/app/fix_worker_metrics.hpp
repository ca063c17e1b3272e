// /metrics of the QuickFIX worker processes (`run` in worker mode only): whether each one is
// up, how often it had to be restarted, and how often because it hung.
#pragma once

#include <memory>

#include "app/fix_worker.hpp"

namespace prometheus {
class Collectable;
}  // namespace prometheus

namespace linkwatch {

// linkwatch_fix_worker_up{worker} (1: its process runs its sessions; 0: starting, dead, or
// waiting to restart) and linkwatch_fix_worker_restarts_total{worker} (unexpected exits,
// each followed by a restart) and linkwatch_fix_worker_hangs_total{worker} (of those, the
// kills of a worker that made no progress for FixWorkerHangTimeout), `worker` being the shard
// number of `linkwatch fix-worker`.
// Reads `pool` at every scrape: it must outlive the HTTP server's scrapes.
std::shared_ptr<prometheus::Collectable> fixWorkerMetrics(const FixWorkerPool& pool);

}  // namespace linkwatch
