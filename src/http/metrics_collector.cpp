#include "http/metrics_collector.hpp"

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <utility>

#include <prometheus/client_metric.h>
#include <prometheus/metric_type.h>

#include "http/text_format.hpp"

namespace linkwatch {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

double seconds(Nanos ns) noexcept {
  return static_cast<double>(ns) / static_cast<double>(kNanosPerSecond);
}

template <class T>
double number(const std::atomic<T>& a) noexcept {
  return static_cast<double>(a.load(std::memory_order_relaxed));
}

// MessageClass order; the label values of msg_type.
constexpr std::array<std::string_view, kMessageClassCount> kMessageClassLabels = {
    "heartbeat", "test_request", "resend_request", "reject",  "sequence_reset",
    "logout",    "logon",        "application",    "garbled",
};

// The reasons that end a session: always exported, zeros included, so that rate() and
// increase() see a series from the first scrape rather than from the first incident.
constexpr std::array<LinkReason, 6> kSessionEndReasons = {
    LinkReason::kDisconnected, LinkReason::kLogout,           LinkReason::kLogonRejected,
    LinkReason::kLogonTimeout, LinkReason::kHeartbeatTimeout, LinkReason::kSequenceTooLow,
};

// Every family is appended to one vector reserved up front, so references stay valid.
constexpr std::size_t kMaxFamilies = 64;

class Builder {
 public:
  explicit Builder(std::size_t links) : links_(links) { families_.reserve(kMaxFamilies); }

  MetricFamily& family(const char* name, const char* help, MetricType type,
                       std::size_t seriesPerLink = 1) {
    assert(families_.size() < kMaxFamilies);
    MetricFamily& f = families_.emplace_back();
    f.name = name;
    f.help = help;
    f.type = type;
    f.metric.reserve(links_ * seriesPerLink);
    return f;
  }

  std::vector<MetricFamily> take() && { return std::move(families_); }

 private:
  std::size_t links_;
  std::vector<MetricFamily> families_;
};

ClientMetric& series(MetricFamily& f, const Labels& base) {
  ClientMetric& m = f.metric.emplace_back();
  m.label.reserve(base.size() + 1);
  m.label.insert(m.label.end(), base.begin(), base.end());
  return m;
}

ClientMetric& series(MetricFamily& f, const Labels& base, const char* name,
                     std::string_view value) {
  ClientMetric& m = series(f, base);
  m.label.push_back(ClientMetric::Label{name, std::string(value)});
  return m;
}

void set(MetricFamily& f, ClientMetric& m, double value) noexcept {
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
}

void add(MetricFamily& f, const Labels& base, double value) { set(f, series(f, base), value); }

void add(MetricFamily& f, const Labels& base, const char* name, std::string_view labelValue,
         double value) {
  set(f, series(f, base, name, labelValue), value);
}

// AtomicHistogram keeps per-bucket counts; Prometheus wants cumulative ones. The count is the
// sum of the buckets rather than AtomicHistogram::count(): the fields are read one by one
// while the core writes, and +Inf must equal _count for the exposition to be consistent.
void fillHistogram(ClientMetric& m, const AtomicHistogram& h) {
  const auto& bounds = h.boundsNs();
  auto& out = m.histogram;
  out.bucket.reserve(bounds.size() + 1);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += h.bucketCount(i);
    out.bucket.push_back(ClientMetric::Bucket{cumulative, seconds(bounds[i])});
  }
  cumulative += h.bucketCount(bounds.size());
  out.bucket.push_back(ClientMetric::Bucket{cumulative, std::numeric_limits<double>::infinity()});
  out.sample_count = cumulative;
  out.sample_sum = seconds(h.sumNs());
}

}  // namespace

MetricsCollector::MetricsCollector(const LinkMonitor& monitor, std::string version)
    : monitor_(monitor), version_(std::move(version)) {}

std::vector<MetricFamily> MetricsCollector::Collect() const {
  const std::size_t n = monitor_.linkCount();
  Builder b(n);
  constexpr auto kGauge = MetricType::Gauge;
  constexpr auto kCounter = MetricType::Counter;

  // Per-link state.
  auto& up =
      b.family("linkwatch_link_up", "1 when the link is logged on (state up or degraded).", kGauge);
  auto& state = b.family("linkwatch_link_state",
                         "Current state of the link: one series per state, exactly one is 1.",
                         kGauge, kLinkStateCount);
  auto& reason = b.family("linkwatch_link_reason",
                          "Why the link is in its current state: one series, value 1.", kGauge);
  auto& since = b.family("linkwatch_link_state_since_timestamp_seconds",
                         "Unix time at which the link entered its current state.", kGauge);
  auto& lastIn = b.family("linkwatch_last_message_received_timestamp_seconds",
                          "Unix time of the last message received from the member (absent "
                          "until one arrives).",
                          kGauge);
  auto& lastLogon = b.family("linkwatch_last_logon_timestamp_seconds",
                             "Unix time of the last completed logon (absent until one).", kGauge);
  auto& hbSetting = b.family("linkwatch_heartbeat_interval_setting_seconds",
                             "HeartBtInt in force for the session, 0 when unknown.", kGauge);

  // Per-link counters.
  auto& msgIn = b.family("linkwatch_messages_received_total",
                         "FIX messages received from the member, by message type.", kCounter,
                         kMessageClassCount);
  auto& msgOut =
      b.family("linkwatch_messages_sent_total", "FIX messages sent to the member, by message type.",
               kCounter, kMessageClassCount);
  auto& hbIn = b.family("linkwatch_heartbeats_received_total",
                        "Heartbeats received from the member.", kCounter);
  auto& trOut =
      b.family("linkwatch_test_requests_sent_total", "TestRequests sent to the member.", kCounter);
  auto& trIn = b.family("linkwatch_test_requests_received_total",
                        "TestRequests received from the member.", kCounter);
  auto& disconnects =
      b.family("linkwatch_disconnects_total", "Sessions ended, by the reason they ended.", kCounter,
               kSessionEndReasons.size());
  auto& logons = b.family("linkwatch_logons_total", "Completed logons.", kCounter);
  auto& logonRejects =
      b.family("linkwatch_logon_rejects_total", "Logons refused or rejected.", kCounter);
  auto& gaps = b.family("linkwatch_sequence_gaps_total",
                        "Inbound MsgSeqNum gaps detected (MsgSeqNum too high).", kCounter);
  auto& resends = b.family("linkwatch_resend_requests_total",
                           "ResendRequests, by direction (sent or received).", kCounter, 2);
  auto& rejects =
      b.family("linkwatch_session_rejects_total",
               "Session-level Rejects (35=3), by direction (sent or received).", kCounter, 2);
  auto& flaps =
      b.family("linkwatch_link_flaps_total", "Changes of the link's state (flaps).", kCounter);

  // Per-link gauges and histograms.
  auto& flapsWindow = b.family("linkwatch_link_flaps_in_window",
                               "State changes within the last FlapWindow.", kGauge);
  auto& rttLast = b.family("linkwatch_rtt_last_seconds",
                           "Round-trip time of the last answered TestRequest probe.", kGauge);
  auto& skew = b.family("linkwatch_sending_time_skew_seconds",
                        "Receive time minus SendingTime (52) of the last inbound message.", kGauge);
  auto& rtt = b.family("linkwatch_rtt_seconds",
                       "Round-trip time of TestRequest probes answered by the member.",
                       MetricType::Histogram);
  auto& hbInterval = b.family("linkwatch_heartbeat_interval_seconds",
                              "Time between consecutive heartbeats received from the member.",
                              MetricType::Histogram);
  auto& info = b.family("linkwatch_member_info",
                        "Configuration of the link, as labels; value always 1.", kGauge);

  std::array<std::uint32_t, kLinkStateCount> perState{};

  for (std::size_t i = 0; i < n; ++i) {
    const auto idx = static_cast<LinkIndex>(i);
    const LinkConfig& cfg = monitor_.link(idx);
    const LinkStats& s = monitor_.stats(idx);
    const Labels base{{"member", cfg.memberId}, {"session", cfg.sessionKey}};

    const LinkState st = s.state.load(std::memory_order_acquire);
    ++perState[static_cast<std::size_t>(st)];
    add(up, base, st == LinkState::kUp || st == LinkState::kDegraded ? 1.0 : 0.0);
    for (int k = 0; k < kLinkStateCount; ++k) {
      const auto candidate = static_cast<LinkState>(k);
      add(state, base, "state", toString(candidate), candidate == st ? 1.0 : 0.0);
    }
    add(reason, base, "reason", toString(s.reason.load(std::memory_order_relaxed)), 1.0);
    add(since, base, seconds(s.stateSinceWall.load(std::memory_order_relaxed)));
    if (const Nanos t = s.lastInboundWall.load(std::memory_order_relaxed); t != 0)
      add(lastIn, base, seconds(t));
    if (const Nanos t = s.lastLogonWall.load(std::memory_order_relaxed); t != 0)
      add(lastLogon, base, seconds(t));
    add(hbSetting, base, number(s.heartBtIntSeconds));

    for (std::size_t k = 0; k < kMessageClassLabels.size(); ++k) {
      add(msgIn, base, "msg_type", kMessageClassLabels[k], number(s.messagesReceived[k]));
      add(msgOut, base, "msg_type", kMessageClassLabels[k], number(s.messagesSent[k]));
    }
    add(hbIn, base, number(s.heartbeatsReceived));
    add(trOut, base, number(s.testRequestsSent));
    add(trIn, base, number(s.testRequestsReceived));
    for (const LinkReason r : kSessionEndReasons)
      add(disconnects, base, "reason", toString(r),
          number(s.disconnects[static_cast<std::size_t>(r)]));
    add(logons, base, number(s.logons));
    add(logonRejects, base, number(s.logonRejects));
    add(gaps, base, number(s.sequenceGaps));
    add(resends, base, "direction", "sent", number(s.resendRequestsSent));
    add(resends, base, "direction", "received", number(s.resendRequestsReceived));
    add(rejects, base, "direction", "sent", number(s.rejectsSent));
    add(rejects, base, "direction", "received", number(s.rejectsReceived));
    add(flaps, base, number(s.flaps));

    add(flapsWindow, base, number(s.flapsInWindow));
    if (const Nanos r = s.lastRtt.load(std::memory_order_relaxed); r >= 0)
      add(rttLast, base, seconds(r));
    if (s.hasSendingTimeSkew.load(std::memory_order_relaxed))
      add(skew, base, seconds(s.lastSendingTimeSkew.load(std::memory_order_relaxed)));
    fillHistogram(series(rtt, base), s.rtt);
    fillHistogram(series(hbInterval, base), s.heartbeatInterval);

    ClientMetric& m = series(info, base);
    m.label.reserve(7);
    m.label.push_back({"name", cfg.memberName});
    m.label.push_back({"criticality", std::string(toString(cfg.criticality))});
    m.label.push_back({"connection_type", std::string(toString(cfg.connectionType))});
    m.label.push_back({"sender_comp_id", cfg.senderCompId});
    m.label.push_back({"target_comp_id", cfg.targetCompId});
    m.gauge.value = 1.0;
  }

  // Monitor-wide.
  const MonitorStats& ms = monitor_.monitorStats();
  const Labels none;
  auto& links = b.family("linkwatch_links", "Number of configured links in each state.", kGauge, 0);
  links.metric.reserve(kLinkStateCount);
  for (int k = 0; k < kLinkStateCount; ++k)
    add(links, none, "state", toString(static_cast<LinkState>(k)),
        perState[static_cast<std::size_t>(k)]);
  add(b.family("linkwatch_event_queue_depth", "Session events queued at the last drain.", kGauge,
               0),
      none, number(ms.queueDepth));
  add(b.family("linkwatch_events_applied_total", "Session events applied by the core.", kCounter,
               0),
      none, number(ms.eventsApplied));
  add(b.family("linkwatch_events_dropped_total",
               "Session events dropped because their queue was full.", kCounter, 0),
      none, number(ms.eventsDropped));
  add(b.family("linkwatch_events_deferred_total",
               "Connectivity events that found their queue full and were kept in the link's "
               "overflow slot instead.",
               kCounter, 0),
      none, number(ms.criticalEventsDeferred));
  add(b.family("linkwatch_unknown_session_logons_total",
               "Logon attempts for sessions no [SESSION] block declares.", kCounter, 0),
      none, number(ms.unknownSessionLogons));
  add(b.family("linkwatch_link_transitions_total", "Link state transitions, all links.", kCounter,
               0),
      none, number(ms.transitions));
  fillHistogram(series(b.family("linkwatch_event_apply_delay_seconds",
                                "Delay from publishing a session event on a FIX thread to "
                                "applying it on the core thread.",
                                MetricType::Histogram, 0),
                       none),
                ms.applyDelay);
  if (const Nanos started = ms.startedWall.load(std::memory_order_relaxed); started != 0)
    add(b.family("linkwatch_start_time_seconds", "Unix time at which the monitor started.", kGauge,
                 0),
        none, seconds(started));
  add(b.family("linkwatch_scrape_duration_seconds",
               "Time taken to collect and serialise the previous /metrics scrape.", kGauge, 0),
      none, seconds(lastScrapeDuration()));
  add(b.family("linkwatch_build_info", "linkwatch build information; value always 1.", kGauge, 0),
      none, "version", version_, 1.0);
  if (history_ != nullptr) {
    const EventHistoryStats js = history_->stats();
    const auto counter = [&](const char* name, const char* help, std::uint64_t value) {
      add(b.family(name, help, kCounter, 0), none, static_cast<double>(value));
    };
    counter("linkwatch_journal_records_written_total", "Records appended to the event journal.",
            js.recordsWritten);
    counter("linkwatch_journal_bytes_written_total", "Bytes appended to the event journal.",
            js.bytesWritten);
    counter("linkwatch_journal_dropped_records_total",
            "Records that found the journal writer's queue full; a gap record and a snapshot of "
            "every link follow them in the journal.",
            js.droppedRecords);
    counter("linkwatch_journal_corrupt_records_total",
            "Damaged journal records found and skipped when reading the journal at start.",
            js.corruptRecords);
    counter("linkwatch_journal_errors_total",
            "Failed journal file operations (create, write, fdatasync, remove).", js.writeErrors);
    add(b.family("linkwatch_journal_segments", "Journal segment files on disk.", kGauge, 0), none,
        static_cast<double>(js.segments));
    add(b.family("linkwatch_journal_queue_depth", "Records waiting for the journal writer.", kGauge,
                 0),
        none, static_cast<double>(js.queueDepth));
    fillHistogram(
        series(b.family("linkwatch_journal_fsync_duration_seconds",
                        "Time taken by one fdatasync of the journal.", MetricType::Histogram, 0),
               none),
        history_->syncLatency());
  }

  auto families = std::move(b).take();
  // A family with no series (e.g. no RTT probe answered anywhere yet) would still print
  // HELP and TYPE lines; drop it so the exposition lists only what exists.
  std::erase_if(families, [](const MetricFamily& f) { return f.metric.empty(); });
  return families;
}

std::string MetricsCollector::serialize() const {
  const std::vector<MetricFamily> families = Collect();
  std::string text;
  text.reserve(lastSize_.load(std::memory_order_relaxed) + 4096);
  appendTextFormat(families, text);
  lastSize_.store(text.size(), std::memory_order_relaxed);
  return text;
}

}  // namespace linkwatch
