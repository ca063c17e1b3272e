// Builds the /metrics exposition from the core's own atomics at scrape time.
//
// The core never touches prometheus-cpp: Family::Add locks and allocates, which has no place
// on the event path. Instead the collector reads LinkStats/MonitorStats (relaxed atomics) at
// scrape time and either streams text format 0.0.4 (write(): what /metrics serves, a chunk at
// a time, so a 5,000-link scrape never sits in memory whole) or builds prometheus-cpp's data
// model (Collect()). Both come from one description of the families, and a test holds the
// text to prometheus::TextSerializer's rendering of the model byte for byte.
//
// Per-link series that carry nothing yet are left out: message-type counters until the first
// message of that type, histograms until their first observation. The counters operations
// count incidents with (disconnects by reason, gaps, resends, rejects, logons) are always
// there, zeros included, so increase() sees the first incident.
//
// Thread-safety: Collect(), write() and serialize() may run on any number of threads at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <linkwatch/atomic_histogram.hpp>
#include <linkwatch/clock.hpp>
#include <linkwatch/event_history.hpp>
#include <linkwatch/link_monitor.hpp>
#include <linkwatch/version.hpp>

namespace linkwatch {

class MetricsCollector : public prometheus::Collectable {
 public:
  // Receives the exposition in order, a chunk at a time; returns false to stop the scrape
  // (the client has gone).
  using TextSink = std::function<bool(std::string_view chunk)>;
  // Big enough that a socket write per chunk costs nothing next to formatting it, small
  // enough to stay below glibc's mmap threshold and be reused from scrape to scrape.
  static constexpr std::size_t kChunkBytes = 64 * 1024;

  explicit MetricsCollector(const LinkMonitor& monitor, std::string version = kLinkwatchVersion);

  std::vector<prometheus::MetricFamily> Collect() const override;

  // The exposition as text format 0.0.4, in chunks of about `chunkBytes`. Returns false when
  // the sink stopped it.
  bool write(const TextSink& sink, std::size_t chunkBytes = kChunkBytes) const;

  // The same text in one string.
  std::string serialize() const;

  // Adds the journal's metrics (linkwatch_journal_*). Before the first scrape.
  void setEventHistory(const EventHistory* history) noexcept { history_ = history; }

  // How long the previous scrape took; exported as linkwatch_scrape_duration_seconds by the
  // next one (a scrape cannot time its own serialisation).
  void recordScrapeDuration(Nanos duration) noexcept {
    lastScrapeNs_.store(duration, std::memory_order_relaxed);
  }
  Nanos lastScrapeDuration() const noexcept {
    return lastScrapeNs_.load(std::memory_order_relaxed);
  }

  // The bucket bounds exported for a histogram: a subset of the core's (cumulative counts at
  // a subset of bounds are exact), chosen for what the dashboards' quantiles need.
  struct ExportedBuckets {
    std::vector<bool> keep;           // per core bound
    std::vector<double> seconds;      // the kept bounds
    std::vector<std::string> labels;  // the kept bounds as `le` values
  };
  // Every bound of `boundsNs` in `wantedNs`; all of them when `wantedNs` is empty or none
  // matches (so a change of the core's bounds never leaves a histogram without buckets).
  static ExportedBuckets exportedBuckets(const std::vector<std::int64_t>& boundsNs,
                                         const std::vector<std::int64_t>& wantedNs);
  // What /metrics publishes of linkwatch_rtt_seconds and linkwatch_heartbeat_interval_seconds.
  static std::vector<std::int64_t> exportedRttBoundsNs();
  static std::vector<std::int64_t> exportedHeartbeatIntervalBoundsNs();

 private:
  template <class Out>
  void emit(Out& out) const;

  const LinkMonitor& monitor_;
  const EventHistory* history_ = nullptr;
  std::string version_;
  std::atomic<Nanos> lastScrapeNs_{0};
  // Size of the last exposition: serialize() reserves it up front rather than reallocating
  // a multi-megabyte string ~20 times.
  mutable std::atomic<std::size_t> lastSize_{0};
  // Each link's labels as text, escaped once (links are fixed at start):
  // member="…",session="…" and ,name="…",criticality="…",… of linkwatch_member_info.
  std::vector<std::string> linkLabels_;
  std::vector<std::string> infoLabels_;
  ExportedBuckets rttBuckets_;
  ExportedBuckets heartbeatIntervalBuckets_;
};

}  // namespace linkwatch
