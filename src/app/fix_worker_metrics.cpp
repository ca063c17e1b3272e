#include "app/fix_worker_metrics.hpp"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace linkwatch {
namespace {

class FixWorkerMetrics : public prometheus::Collectable {
 public:
  explicit FixWorkerMetrics(const FixWorkerPool& pool) : pool_(pool) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily up{"linkwatch_fix_worker_up",
                                "1 when the FIX worker process runs its sessions, 0 while it "
                                "starts, after it died and until its restart is ready",
                                prometheus::MetricType::Gauge,
                                {}};
    prometheus::MetricFamily restarts{
        "linkwatch_fix_worker_restarts_total",
        "Unexpected exits of a FIX worker process, each followed by a restart (with backoff)",
        prometheus::MetricType::Counter,
        {}};
    prometheus::MetricFamily hangs{
        "linkwatch_fix_worker_hangs_total",
        "Times a FIX worker process was alive but made no progress for FixWorkerHangTimeout and "
        "was killed (each also counts as a restart)",
        prometheus::MetricType::Counter,
        {}};
    prometheus::MetricFamily forwarded{
        "linkwatch_fix_worker_events_forwarded_total",
        "Session events a FIX worker process handed to the core over shared memory (an up "
        "link's Heartbeats and application messages are counted in shared memory instead, "
        "except one inbound message a link every 100 ms)",
        prometheus::MetricType::Counter,
        {}};
    const auto shards = static_cast<std::uint32_t>(pool_.shards().size());
    for (std::uint32_t s = 0; s < shards; ++s) {
      const std::string worker = std::to_string(s);
      prometheus::ClientMetric u;
      u.label = {{"worker", worker}};
      u.gauge.value = pool_.workerUp(s) ? 1 : 0;
      up.metric.push_back(std::move(u));
      prometheus::ClientMetric r;
      r.label = {{"worker", worker}};
      r.counter.value = static_cast<double>(pool_.workerRestarts(s));
      restarts.metric.push_back(std::move(r));
      prometheus::ClientMetric h;
      h.label = {{"worker", worker}};
      h.counter.value = static_cast<double>(pool_.workerHangs(s));
      hangs.metric.push_back(std::move(h));
      prometheus::ClientMetric f;
      f.label = {{"worker", worker}};
      f.counter.value = static_cast<double>(pool_.workerEventsForwarded(s));
      forwarded.metric.push_back(std::move(f));
    }
    std::vector<prometheus::MetricFamily> out;
    out.push_back(std::move(up));
    out.push_back(std::move(restarts));
    out.push_back(std::move(hangs));
    out.push_back(std::move(forwarded));
    return out;
  }

 private:
  const FixWorkerPool& pool_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> fixWorkerMetrics(const FixWorkerPool& pool) {
  return std::make_shared<FixWorkerMetrics>(pool);
}

}  // namespace linkwatch
