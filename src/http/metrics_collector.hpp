// Builds the /metrics exposition from the core's own atomics at scrape time.
//
// The core never touches prometheus-cpp: Family::Add locks and allocates, which has no place
// on the event path. Instead this Collectable reads LinkStats/MonitorStats (relaxed atomics)
// and produces prometheus-cpp's plain data model, which TextSerializer turns into text 0.0.4.
//
// Thread-safety: Collect() and serialize() may run on any number of threads at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <linkwatch/clock.hpp>
#include <linkwatch/event_history.hpp>
#include <linkwatch/link_monitor.hpp>
#include <linkwatch/version.hpp>

namespace linkwatch {

class MetricsCollector : public prometheus::Collectable {
 public:
  explicit MetricsCollector(const LinkMonitor& monitor, std::string version = kLinkwatchVersion);

  std::vector<prometheus::MetricFamily> Collect() const override;

  // Collect() rendered as text format 0.0.4 (see text_format.hpp: the same bytes as
  // prometheus::TextSerializer, several times faster).
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

 private:
  const LinkMonitor& monitor_;
  const EventHistory* history_ = nullptr;
  std::string version_;
  std::atomic<Nanos> lastScrapeNs_{0};
  // Size of the last exposition: reserving it up front saves ~20 reallocations of a
  // multi-megabyte string per scrape.
  mutable std::atomic<std::size_t> lastSize_{0};
};

}  // namespace linkwatch
