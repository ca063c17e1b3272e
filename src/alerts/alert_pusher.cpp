#include "alerts/alert_pusher.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <boost/lockfree/spsc_queue.hpp>

#include <linkwatch/event_hub.hpp>
#include <linkwatch/version.hpp>

#include "alerts/alert_payload.hpp"

namespace linkwatch {

namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The queue copies transitions by value between threads.
static_assert(std::is_trivially_copyable_v<Transition>);

// A firing alert lapses in Alertmanager after this many resend intervals without a re-send:
// it survives a few lost pushes but not a dead linkwatch.
constexpr int kEndsAtIntervals = 4;
// Upper bound of one poll, so that a bug in deadline arithmetic costs a second, not forever.
constexpr int kMaxPollMs = 1000;
constexpr std::size_t kDrainBatch = 64;

bool initCurlOnce() {
  static const bool ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return ok;
}

// Keeps the start of an answer: Alertmanager says in it why it refused a push.
std::size_t keepAnswerStart(char* data, std::size_t size, std::size_t count, void* out) {
  constexpr std::size_t kKeep = 300;
  auto* answer = static_cast<std::string*>(out);
  const std::size_t n = size * count;
  if (answer->size() < kKeep) answer->append(data, std::min(n, kKeep - answer->size()));
  return n;
}

}  // namespace

AlertPusherOptions AlertPusherOptions::fromConfig(const MonitorConfig& config) {
  AlertPusherOptions o;
  o.urls = config.alertmanagerUrls;
  o.alertOnDegraded = config.alertOnDegraded;
  o.resendInterval = config.alertResendInterval;
  o.runbookUrl = config.alertRunbookUrl;
  o.timeout = config.alertTimeout;
  o.startupGrace = config.alertStartupGrace;
  return o;
}

// What the core thread and the worker share. Owned jointly by the pusher and every listener
// copy, so that a listener outliving the pusher (a monitor stopped after it) stays safe.
struct AlertPusher::Shared {
  Shared(std::size_t capacity, std::shared_ptr<prometheus::Registry> reg)
      : queue(capacity), multi(curl_multi_init()), registry(std::move(reg)) {
    if (multi == nullptr) throw std::runtime_error("alert pusher: curl_multi_init failed");
    droppedCounter = &prometheus::BuildCounter()
                          .Name("linkwatch_alert_transitions_dropped_total")
                          .Help("Transitions the alert pusher's queue had no room for")
                          .Register(*registry)
                          .Add({});
  }
  ~Shared() { curl_multi_cleanup(multi); }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;

  // Core thread. The wake-up is curl_multi_wakeup, a non-blocking write() to curl's socketpair
  // that interrupts curl_multi_poll: the worker sleeps there, whether requests are in flight
  // or not. The flag keeps it to one write per worker sleep.
  void post(const Transition& t) noexcept {
    if (!queue.push(t)) {
      dropped.fetch_add(1, std::memory_order_relaxed);
      droppedCounter->Increment();
    }
    // acq_rel pairs with the worker's exchange: if it took `true` from us it sees the push;
    // otherwise our exchange comes later, reads its `false` and we wake it.
    if (!wakePending.exchange(true, std::memory_order_acq_rel)) curl_multi_wakeup(multi);
  }

  // Boost 1.74's spsc_queue starts its indexes on the line of whatever precedes it: keep the
  // queue on lines of its own, away from the flags the worker writes.
  char pad0[kCacheLineSize];
  boost::lockfree::spsc_queue<Transition> queue;
  char pad1[kCacheLineSize];
  alignas(kCacheLineSize) std::atomic<bool> wakePending{false};
  alignas(kCacheLineSize) std::atomic<std::uint64_t> dropped{0};
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> active{0};
  CURLM* const multi;  // wake-ups from any thread; everything else on the worker
  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Counter* droppedCounter = nullptr;
};

class AlertPusher::Worker {
 public:
  Worker(const LinkMonitor& monitor, AlertPusherOptions options, const Clock& clock, Shared& shared)
      : monitor_(monitor),
        options_(std::move(options)),
        clock_(clock),
        shared_(shared),
        active_(monitor.linkCount()) {
    prometheus::Registry& registry = *shared_.registry;
    auto& pushes = prometheus::BuildCounter()
                       .Name("linkwatch_alert_pushes_total")
                       .Help("Alert pushes to Alertmanager (POST /api/v2/alerts), by outcome")
                       .Register(registry);
    duration_ =
        &prometheus::BuildHistogram()
             .Name("linkwatch_alert_push_duration_seconds")
             .Help("Time of one alert push to one Alertmanager, success or not")
             .Register(registry)
             .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025,
                                                              0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
    activeGauge_ = &prometheus::BuildGauge()
                        .Name("linkwatch_alerts_active")
                        .Help("Alerts linkwatch currently holds firing")
                        .Register(registry)
                        .Add({});
    endpoints_.reserve(options_.urls.size());
    for (const std::string& url : options_.urls) {
      auto e = std::make_unique<Endpoint>();
      e->url = url;
      e->pushUrl = url + "/api/v2/alerts";
      e->backoff = options_.initialBackoff;
      e->success = &pushes.Add({{"url", url}, {"outcome", "success"}});
      e->failure = &pushes.Add({{"url", url}, {"outcome", "failure"}});
      e->easy = curl_easy_init();
      if (e->easy == nullptr) throw std::runtime_error("alert pusher: curl_easy_init failed");
      e->headers = curl_slist_append(nullptr, "Content-Type: application/json");
      // No "Expect: 100-continue" round trip for larger bodies.
      e->headers = curl_slist_append(e->headers, "Expect:");
      const long timeoutMs = static_cast<long>(options_.timeout.count());
      curl_easy_setopt(e->easy, CURLOPT_URL, e->pushUrl.c_str());
      curl_easy_setopt(e->easy, CURLOPT_HTTPHEADER, e->headers);
      curl_easy_setopt(e->easy, CURLOPT_TIMEOUT_MS, timeoutMs);
      curl_easy_setopt(e->easy, CURLOPT_CONNECTTIMEOUT_MS, timeoutMs);
      curl_easy_setopt(e->easy, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(e->easy, CURLOPT_WRITEFUNCTION, &keepAnswerStart);
      curl_easy_setopt(e->easy, CURLOPT_WRITEDATA, &e->answer);
      curl_easy_setopt(e->easy, CURLOPT_PRIVATE, e.get());
      curl_easy_setopt(e->easy, CURLOPT_USERAGENT,
                       (std::string("linkwatch/") + kLinkwatchVersion).c_str());
      endpoints_.push_back(std::move(e));
    }
  }

  ~Worker() {
    for (auto& e : endpoints_) {
      if (e->busy) curl_multi_remove_handle(shared_.multi, e->easy);
      curl_easy_cleanup(e->easy);
      curl_slist_free_all(e->headers);
    }
  }

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void run() {
    startupReconcileAt_ = SteadyClock::now() + options_.startupGrace;
    while (!shared_.stopping.load(std::memory_order_acquire)) {
      shared_.wakePending.exchange(false, std::memory_order_acq_rel);
      drain();
      const auto now = SteadyClock::now();
      if (!startupReconciled_ && now >= startupReconcileAt_) {
        startupReconciled_ = true;
        reconcile();
      }
      if (activeCount_ > 0 && now >= nextResend_) {
        resendActive();
        nextResend_ = now + options_.resendInterval;
      }
      startPushes(now);
      int running = 0;
      curl_multi_perform(shared_.multi, &running);
      collectResults();
      if (shared_.stopping.load(std::memory_order_acquire)) break;
      curl_multi_poll(shared_.multi, nullptr, 0, pollTimeoutMs(SteadyClock::now()), nullptr);
      curl_multi_perform(shared_.multi, &running);
      collectResults();
    }
  }

 private:
  struct Endpoint {
    std::string url;
    std::string pushUrl;
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    // Waiting to be sent, one entry per label set: a newer state of an alert replaces an older
    // one, so a long outage of this URL costs memory per alert, not per transition.
    std::map<std::string, Alert> pending;
    std::vector<Alert> inFlight;
    std::string body;    // libcurl reads it in place while the request runs
    std::string answer;  // the start of the response, for the warning when it is an error
    bool busy = false;
    SteadyClock::time_point started;
    SteadyClock::time_point retryAt;
    milliseconds backoff{0};
    bool failing = false;
    prometheus::Counter* success = nullptr;
    prometheus::Counter* failure = nullptr;
  };

  void drain() {
    Transition batch[kDrainBatch];
    for (;;) {
      const std::size_t n = shared_.queue.pop(batch, kDrainBatch);
      for (std::size_t i = 0; i < n; ++i) apply(batch[i]);
      if (n < kDrainBatch) break;
    }
    const std::uint64_t dropped = shared_.dropped.load(std::memory_order_relaxed);
    if (dropped != droppedSeen_) {
      if (options_.logWarnings) {
        std::cerr << "linkwatch: alert pusher dropped " << (dropped - droppedSeen_)
                  << " transitions (queue full); re-reading link states" << std::endl;
      }
      droppedSeen_ = dropped;
      reconcile();
    }
  }

  // A dropped transition could have been a resolution: take each link's state as the monitor
  // published it and act on any difference with the table.
  void reconcile() {
    for (std::size_t i = 0; i < monitor_.linkCount(); ++i) {
      const LinkStats& s = monitor_.stats(static_cast<LinkIndex>(i));
      Transition t;
      t.link = static_cast<LinkIndex>(i);
      t.to = s.state.load(std::memory_order_acquire);
      t.from = t.to;
      t.reason = s.reason.load(std::memory_order_relaxed);
      t.wall = s.stateSinceWall.load(std::memory_order_relaxed);
      apply(t);
    }
  }

  void apply(const Transition& t) {
    if (t.link >= active_.size()) return;
    const std::optional<std::string_view> name = alertNameFor(t.to, options_.alertOnDegraded);
    std::optional<Alert>& current = active_[t.link];
    if (current && name && current->alertname == *name && current->reason == toString(t.reason)) {
      return;
    }
    if (current) {
      Alert resolved = std::move(*current);
      current.reset();
      // Never before startsAt: Alertmanager rejects such an alert (a wall clock stepped back).
      resolved.endsAt = std::max(clock_.wall(), resolved.startsAt);
      enqueue(resolved);
      --activeCount_;
    }
    if (name) {
      current =
          makeLinkAlert(monitor_.link(t.link), *name, t.to, t.reason, t.wall, options_.runbookUrl);
      enqueue(*current);
      if (activeCount_++ == 0) nextResend_ = SteadyClock::now() + options_.resendInterval;
    }
    activeGauge_->Set(static_cast<double>(activeCount_));
    shared_.active.store(activeCount_, std::memory_order_relaxed);
  }

  void enqueue(const Alert& alert) {
    const std::string key = alert.key();
    for (auto& e : endpoints_) e->pending.insert_or_assign(key, alert);
  }

  void resendActive() {
    for (const std::optional<Alert>& a : active_) {
      if (a) enqueue(*a);
    }
  }

  void startPushes(SteadyClock::time_point now) {
    const Nanos endsAt =
        clock_.wall() +
        kEndsAtIntervals *
            std::chrono::duration_cast<std::chrono::nanoseconds>(options_.resendInterval).count();
    for (auto& e : endpoints_) {
      if (e->busy || e->pending.empty() || now < e->retryAt) continue;
      e->inFlight.clear();
      e->inFlight.reserve(e->pending.size());
      for (auto& [key, alert] : e->pending) e->inFlight.push_back(std::move(alert));
      e->pending.clear();
      e->body = alertsToJson(e->inFlight, endsAt);
      e->answer.clear();
      curl_easy_setopt(e->easy, CURLOPT_POSTFIELDS, e->body.data());
      curl_easy_setopt(e->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(e->body.size()));
      if (curl_multi_add_handle(shared_.multi, e->easy) != CURLM_OK) {
        finish(*e, false, "curl_multi_add_handle failed");
        continue;
      }
      e->busy = true;
      e->started = now;
    }
  }

  void collectResults() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(shared_.multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      const CURLcode result = msg->data.result;
      char* priv = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
      auto* e = reinterpret_cast<Endpoint*>(priv);
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      curl_multi_remove_handle(shared_.multi, easy);
      e->busy = false;
      duration_->Observe(std::chrono::duration<double>(SteadyClock::now() - e->started).count());
      if (result != CURLE_OK) {
        finish(*e, false, curl_easy_strerror(result));
      } else if (status < 200 || status > 299) {
        finish(*e, false, "HTTP " + std::to_string(status) + ": " + e->answer);
      } else {
        finish(*e, true, "");
      }
    }
  }

  void finish(Endpoint& e, bool ok, const std::string& why) {
    const auto now = SteadyClock::now();
    if (ok) {
      e.success->Increment();
      e.inFlight.clear();
      e.backoff = options_.initialBackoff;
      e.retryAt = now;
      if (e.failing && options_.logWarnings) {
        std::cerr << "linkwatch: alert pushes to " << e.url << " succeed again" << std::endl;
      }
      e.failing = false;
      return;
    }
    e.failure->Increment();
    // Back into the queue unless a newer state of the same alert arrived meanwhile.
    for (Alert& a : e.inFlight) e.pending.try_emplace(a.key(), std::move(a));
    e.inFlight.clear();
    if (!e.failing && options_.logWarnings) {
      std::cerr << "linkwatch: alert push to " << e.pushUrl << " failed (" << why
                << "); retrying with backoff up to " << options_.maxBackoff.count() << " ms"
                << std::endl;
    }
    e.failing = true;
    e.retryAt = now + e.backoff;
    e.backoff = std::min(e.backoff * 2, options_.maxBackoff);
  }

  int pollTimeoutMs(SteadyClock::time_point now) const {
    auto next = now + milliseconds{kMaxPollMs};
    if (activeCount_ > 0) next = std::min(next, nextResend_);
    if (!startupReconciled_) next = std::min(next, startupReconcileAt_);
    for (const auto& e : endpoints_) {
      if (!e->busy && !e->pending.empty()) next = std::min(next, e->retryAt);
    }
    if (next <= now) return 0;
    // Round up: waking a little late is harmless, waking early just loops once more.
    const auto wait = std::chrono::ceil<milliseconds>(next - now);
    return static_cast<int>(std::min<milliseconds::rep>(wait.count(), kMaxPollMs));
  }

  const LinkMonitor& monitor_;
  const AlertPusherOptions options_;
  const Clock& clock_;
  Shared& shared_;
  std::vector<std::optional<Alert>> active_;  // per link: at most one alert at a time
  std::size_t activeCount_ = 0;
  SteadyClock::time_point nextResend_;
  SteadyClock::time_point startupReconcileAt_;
  bool startupReconciled_ = false;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  std::uint64_t droppedSeen_ = 0;
  prometheus::Histogram* duration_ = nullptr;
  prometheus::Gauge* activeGauge_ = nullptr;
};

AlertPusher::AlertPusher(const LinkMonitor& monitor, AlertPusherOptions options,
                         const Clock& clock) {
  if (!initCurlOnce()) throw std::runtime_error("alert pusher: curl_global_init failed");
  if (options.urls.empty()) throw std::invalid_argument("alert pusher: no Alertmanager URL");
  if (options.queueCapacity < 2) throw std::invalid_argument("alert pusher: queue too small");
  if (options.initialBackoff.count() <= 0 || options.maxBackoff < options.initialBackoff) {
    throw std::invalid_argument("alert pusher: backoff must be positive and bounded");
  }
  shared_ =
      std::make_shared<Shared>(options.queueCapacity, std::make_shared<prometheus::Registry>());
  worker_ = std::make_unique<Worker>(monitor, std::move(options), clock, *shared_);
}

AlertPusher::~AlertPusher() { stop(); }

TransitionListener AlertPusher::listener() {
  return [shared = shared_](const Transition& t) { shared->post(t); };
}

std::shared_ptr<prometheus::Collectable> AlertPusher::metrics() const { return shared_->registry; }

void AlertPusher::start() {
  if (thread_.joinable() || shared_->stopping.load()) return;
  thread_ = std::thread([this] { worker_->run(); });
}

void AlertPusher::stop() {
  shared_->stopping.store(true, std::memory_order_release);
  curl_multi_wakeup(shared_->multi);
  if (thread_.joinable()) thread_.join();
}

std::uint64_t AlertPusher::droppedTransitions() const noexcept {
  return shared_->dropped.load(std::memory_order_relaxed);
}

std::size_t AlertPusher::activeAlerts() const noexcept {
  return shared_->active.load(std::memory_order_relaxed);
}

}  // namespace linkwatch
