// Pushes link alerts straight to Alertmanager (POST {url}/api/v2/alerts), so that a member's
// disconnect pages within milliseconds instead of a scrape and an evaluation later.
//
//   core thread ── listener(): Transition ──► spsc_queue ──► worker thread
//                  (no lock, no allocation;     (wakes it)     active-alert table, one libcurl
//                   full queue: counted drop)                  handle per URL, retries, re-sends
//
// The worker raises LinkDown (and LinkDegraded when enabled) on entering the state, resolves it
// on leaving (a reason change while down resolves the old alert and raises a new one), re-sends
// firing alerts every resend interval with endsAt = now + 4 x interval so that they lapse if
// linkwatch dies, and retries failed pushes with exponential backoff per URL; a URL that is down
// or slow never delays the others (the requests run concurrently on one curl multi handle). A
// resolution is kept until every URL has taken it. After a dropped transition the worker
// rebuilds its table from the monitor's published link states, so no alert is left firing.
//
// Thread-safety: construct, start() and stop() from one control thread; the listener runs on
// the monitor's core thread; metrics() may be collected from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/collectable.h>

#include <linkwatch/clock.hpp>
#include <linkwatch/config.hpp>
#include <linkwatch/link_monitor.hpp>

namespace linkwatch {

struct AlertPusherOptions {
  std::vector<std::string> urls;  // Alertmanager base URLs, without /api/v2/alerts
  bool alertOnDegraded = false;
  std::chrono::milliseconds resendInterval{60000};
  std::string runbookUrl = "https://runbooks.invalid/linkwatch/{alertname}";
  std::chrono::milliseconds timeout{2000};  // per request
  // A link down when linkwatch started has no transition to push: after this grace, take
  // every link's state from the monitor, so a member that never came back still pages.
  std::chrono::milliseconds startupGrace{30000};
  std::chrono::milliseconds initialBackoff{100};
  std::chrono::milliseconds maxBackoff{10000};
  std::size_t queueCapacity = 4096;  // transitions between core thread and worker
  bool logWarnings = true;           // a URL failing or recovering, drops: to stderr

  // The [LINKWATCH] Alert* keys.
  static AlertPusherOptions fromConfig(const MonitorConfig& config);
};

class AlertPusher {
 public:
  // `monitor` gives the links' metadata and, after a dropped transition, their states; it must
  // outlive the pusher. `clock` stamps endsAt (wall time).
  AlertPusher(const LinkMonitor& monitor, AlertPusherOptions options, const Clock& clock);
  ~AlertPusher();
  AlertPusher(const AlertPusher&) = delete;
  AlertPusher& operator=(const AlertPusher&) = delete;

  // For monitor.addListener(). Never blocks: a push onto a lock-free queue and, when the worker
  // may be asleep, a non-blocking write that wakes it. Stays safe to call after stop() and
  // after the pusher is destroyed (the transition is then dropped and counted).
  TransitionListener listener();

  // linkwatch_alert_pushes_total{url,outcome}, linkwatch_alert_push_duration_seconds,
  // linkwatch_alerts_active, linkwatch_alert_transitions_dropped_total.
  std::shared_ptr<prometheus::Collectable> metrics() const;

  // Starts the worker. Transitions queued before start() are handled then.
  void start();
  // Abandons requests in flight and sends nothing new; returns within milliseconds. Firing
  // alerts lapse in Alertmanager at their endsAt. Idempotent.
  void stop();

  // Read from any thread (tests, diagnostics).
  std::uint64_t droppedTransitions() const noexcept;
  std::size_t activeAlerts() const noexcept;

 private:
  struct Shared;
  class Worker;

  std::shared_ptr<Shared> shared_;
  std::unique_ptr<Worker> worker_;
  std::thread thread_;
};

}  // namespace linkwatch
