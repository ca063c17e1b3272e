#include "http/metrics_collector.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/metric_type.h>

#include "http/text_format.hpp"

namespace linkwatch {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Series without member/session: the monitor-wide ones.
constexpr std::size_t kMonitorWide = std::numeric_limits<std::size_t>::max();
// AtomicHistogram bounds are few; a fixed array keeps the scrape free of allocations.
constexpr std::size_t kMaxBuckets = 64;

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

// Message types exported before the first one arrives: a garbled message has no counter of
// its own, and increase() misses the first increment of a series that starts at 1. The
// other types appear with their first message (rejects and resends are also counted, zeros
// included, by linkwatch_session_rejects_total and linkwatch_resend_requests_total).
constexpr bool alwaysExportedReceived(std::size_t messageClass) noexcept {
  return messageClass == static_cast<std::size_t>(MessageClass::kGarbled);
}

// The reasons that end a session: always exported, zeros included, so that rate() and
// increase() see a series from the first scrape rather than from the first incident.
constexpr std::array<LinkReason, 6> kSessionEndReasons = {
    LinkReason::kDisconnected, LinkReason::kLogout,           LinkReason::kLogonRejected,
    LinkReason::kLogonTimeout, LinkReason::kHeartbeatTimeout, LinkReason::kSequenceTooLow,
};

std::string leLabel(double upperBound) {
  std::string s;
  appendSampleValue(s, upperBound);
  return s;
}

// A histogram read once: cumulative counts at the exported bounds, then +Inf (= count).
struct HistogramRead {
  std::array<std::uint64_t, kMaxBuckets + 1> cumulative{};
  std::size_t buckets = 0;  // exported bounds, +Inf not included
  std::uint64_t count = 0;
  double sum = 0;
};

// The count is the sum of the buckets rather than AtomicHistogram::count(): the fields are
// read one by one while the core writes, and +Inf must equal _count for the exposition to
// be consistent.
HistogramRead readHistogram(const AtomicHistogram& h,
                            const MetricsCollector::ExportedBuckets& exported) {
  HistogramRead r;
  const std::size_t bounds = h.boundsNs().size();
  assert(exported.keep.size() == bounds);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds; ++i) {
    cumulative += h.bucketCount(i);
    if (exported.keep[i] && r.buckets < kMaxBuckets) r.cumulative[r.buckets++] = cumulative;
  }
  cumulative += h.bucketCount(bounds);
  r.cumulative[r.buckets] = cumulative;
  r.count = cumulative;
  r.sum = seconds(h.sumNs());
  return r;
}

// Collect(): prometheus-cpp's data model.
class ModelOut {
 public:
  explicit ModelOut(const LinkMonitor& monitor) : monitor_(monitor) { families_.reserve(64); }

  bool family(std::string_view name, std::string_view help, MetricType type) {
    MetricFamily& f = families_.emplace_back();
    f.name = name;
    f.help = help;
    f.type = type;
    return true;
  }

  void sample(std::size_t link, double value) { set(series(link), value); }

  void sample(std::size_t link, std::string_view labelName, std::string_view labelValue,
              double value) {
    ClientMetric& m = series(link);
    m.label.push_back({std::string(labelName), std::string(labelValue)});
    set(m, value);
  }

  void info(std::size_t link) {
    const LinkConfig& cfg = monitor_.link(static_cast<LinkIndex>(link));
    ClientMetric& m = series(link);
    m.label.push_back({"name", cfg.memberName});
    m.label.push_back({"criticality", std::string(toString(cfg.criticality))});
    m.label.push_back({"connection_type", std::string(toString(cfg.connectionType))});
    m.label.push_back({"sender_comp_id", cfg.senderCompId});
    m.label.push_back({"target_comp_id", cfg.targetCompId});
    m.gauge.value = 1.0;
  }

  void histogram(std::size_t link, const HistogramRead& r,
                 const MetricsCollector::ExportedBuckets& exported) {
    auto& h = series(link).histogram;
    h.bucket.reserve(r.buckets + 1);
    for (std::size_t i = 0; i < r.buckets; ++i)
      h.bucket.push_back(ClientMetric::Bucket{r.cumulative[i], exported.seconds[i]});
    h.bucket.push_back(
        ClientMetric::Bucket{r.cumulative[r.buckets], std::numeric_limits<double>::infinity()});
    h.sample_count = r.count;
    h.sample_sum = r.sum;
  }

  // A family with no series (e.g. no RTT probe answered anywhere yet) would still print
  // HELP and TYPE lines; drop it so the exposition lists only what exists.
  std::vector<MetricFamily> take() && {
    std::erase_if(families_, [](const MetricFamily& f) { return f.metric.empty(); });
    return std::move(families_);
  }

 private:
  ClientMetric& series(std::size_t link) {
    ClientMetric& m = families_.back().metric.emplace_back();
    if (link != kMonitorWide) {
      const LinkConfig& cfg = monitor_.link(static_cast<LinkIndex>(link));
      m.label.reserve(3);  // member_info's five more reallocate once: one series a link
      m.label.push_back({"member", cfg.memberId});
      m.label.push_back({"session", cfg.sessionKey});
    }
    return m;
  }

  void set(ClientMetric& m, double value) const noexcept {
    if (families_.back().type == MetricType::Counter) {
      m.counter.value = value;
    } else {
      m.gauge.value = value;
    }
  }

  const LinkMonitor& monitor_;
  std::vector<MetricFamily> families_;
};

// write() and serialize(): text format 0.0.4 as TextSerializer writes the model above, line
// by line into a buffer handed to the sink whenever it holds a chunk.
class TextOut {
 public:
  TextOut(const std::vector<std::string>& linkLabels, const std::vector<std::string>& infoLabels,
          const MetricsCollector::TextSink* sink, std::size_t chunkBytes)
      : linkLabels_(linkLabels), infoLabels_(infoLabels), sink_(sink), chunkBytes_(chunkBytes) {}

  std::string& buffer() noexcept { return buf_; }

  // HELP and TYPE wait for the family's first series: a family without any is left out.
  bool family(std::string_view name, std::string_view help, MetricType type) {
    name_ = name;
    help_ = help;
    type_ = type;
    headerPending_ = true;
    return !stopped_;
  }

  void sample(std::size_t link, double value) {
    head(link, {});
    close(link);
    endWithValue(value);
  }

  void sample(std::size_t link, std::string_view labelName, std::string_view labelValue,
              double value) {
    head(link, {});
    extraLabel(link, labelName, labelValue);
    endWithValue(value);
  }

  void info(std::size_t link) {
    head(link, {});
    buf_ += infoLabels_[link];
    buf_ += '}';
    endWithValue(1.0);
  }

  // TextSerializer's order: _count, _sum, then the buckets ending in +Inf.
  void histogram(std::size_t link, const HistogramRead& r,
                 const MetricsCollector::ExportedBuckets& exported) {
    head(link, "_count");
    close(link);
    buf_ += ' ';
    appendSampleValue(buf_, r.count);
    buf_ += '\n';
    head(link, "_sum");
    close(link);
    endWithValue(r.sum);
    for (std::size_t i = 0; i <= r.buckets; ++i) {
      head(link, "_bucket");
      extraLabel(link, "le", i < r.buckets ? std::string_view(exported.labels[i]) : "+Inf");
      buf_ += ' ';
      appendSampleValue(buf_, r.cumulative[i]);
      buf_ += '\n';
    }
    maybeFlush();
  }

  // Hands over what is left. False if the sink stopped the scrape.
  bool finish() {
    if (sink_ != nullptr && !buf_.empty()) flush();
    return !stopped_;
  }

 private:
  void head(std::size_t link, std::string_view suffix) {
    if (headerPending_) {
      headerPending_ = false;
      if (!help_.empty()) {
        buf_ += "# HELP ";
        buf_ += name_;
        buf_ += ' ';
        buf_ += help_;
        buf_ += '\n';
      }
      buf_ += "# TYPE ";
      buf_ += name_;
      buf_ += ' ';
      buf_ += typeName(type_);
      buf_ += '\n';
    }
    buf_ += name_;
    buf_ += suffix;
    if (link != kMonitorWide) {
      buf_ += '{';
      buf_ += linkLabels_[link];
    }
  }

  void close(std::size_t link) {
    if (link != kMonitorWide) buf_ += '}';
  }

  void extraLabel(std::size_t link, std::string_view name, std::string_view value) {
    buf_ += link != kMonitorWide ? ',' : '{';
    buf_ += name;
    buf_ += "=\"";
    appendLabelValue(buf_, value);
    buf_ += "\"}";
  }

  void endWithValue(double value) {
    buf_ += ' ';
    appendSampleValue(buf_, value);
    buf_ += '\n';
    maybeFlush();
  }

  void maybeFlush() {
    if (sink_ != nullptr && buf_.size() >= chunkBytes_) flush();
  }

  void flush() {
    if (!stopped_ && !(*sink_)(buf_)) stopped_ = true;
    buf_.clear();
  }

  const std::vector<std::string>& linkLabels_;
  const std::vector<std::string>& infoLabels_;
  const MetricsCollector::TextSink* sink_;
  std::size_t chunkBytes_;
  std::string buf_;
  std::string_view name_;
  std::string_view help_;
  MetricType type_ = MetricType::Untyped;
  bool headerPending_ = false;
  bool stopped_ = false;
};

std::string escapedLabels(std::initializer_list<std::pair<std::string_view, std::string_view>> l,
                          bool leadingComma) {
  std::string out;
  for (const auto& [name, value] : l) {
    if (leadingComma || !out.empty()) out += ',';
    out += name;
    out += "=\"";
    appendLabelValue(out, value);
    out += '"';
  }
  return out;
}

}  // namespace

MetricsCollector::ExportedBuckets MetricsCollector::exportedBuckets(
    const std::vector<std::int64_t>& boundsNs, const std::vector<std::int64_t>& wantedNs) {
  ExportedBuckets b;
  b.keep.resize(boundsNs.size());
  for (std::size_t i = 0; i < boundsNs.size(); ++i)
    b.keep[i] = std::find(wantedNs.begin(), wantedNs.end(), boundsNs[i]) != wantedNs.end();
  if (std::none_of(b.keep.begin(), b.keep.end(), [](bool k) { return k; }))
    b.keep.assign(boundsNs.size(), true);
  for (std::size_t i = 0; i < boundsNs.size(); ++i) {
    if (!b.keep[i]) continue;
    b.seconds.push_back(seconds(boundsNs[i]));
    b.labels.push_back(leLabel(b.seconds.back()));
  }
  return b;
}

// TestRequest round trips of ms-scale member links: sub-ms (co-location, loopback) up to the
// HighRtt alert's 50 ms and beyond. 8 of the core's 14 bounds.
std::vector<std::int64_t> MetricsCollector::exportedRttBoundsNs() {
  constexpr std::int64_t us = kNanosPerMicro;
  constexpr std::int64_t ms = kNanosPerMilli;
  return {250 * us, 1 * ms, 5 * ms, 10 * ms, 25 * ms, 50 * ms, 100 * ms, 500 * ms};
}

// Around the common HeartBtInts (1, 30 and 60 s, with 5 and 10 s between): just under and
// over 1 s, late 1 s heartbeats (HeartbeatGrace 1.2 falls in 1.1-1.5), and the tens of
// seconds. 11 of the core's 18 bounds.
std::vector<std::int64_t> MetricsCollector::exportedHeartbeatIntervalBoundsNs() {
  constexpr std::int64_t ms = kNanosPerMilli;
  constexpr std::int64_t s = kNanosPerSecond;
  return {900 * ms, 1100 * ms, 1500 * ms, 2 * s,  5 * s, 10 * s,
          20 * s,   30 * s,    35 * s,    60 * s, 90 * s};
}

MetricsCollector::MetricsCollector(const LinkMonitor& monitor, std::string version)
    : monitor_(monitor),
      version_(std::move(version)),
      rttBuckets_(exportedBuckets(buckets::rtt(), exportedRttBoundsNs())),
      heartbeatIntervalBuckets_(
          exportedBuckets(buckets::heartbeatInterval(), exportedHeartbeatIntervalBoundsNs())) {
  const std::size_t n = monitor_.linkCount();
  linkLabels_.reserve(n);
  infoLabels_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const LinkConfig& cfg = monitor_.link(static_cast<LinkIndex>(i));
    linkLabels_.push_back(
        escapedLabels({{"member", cfg.memberId}, {"session", cfg.sessionKey}}, false));
    infoLabels_.push_back(escapedLabels({{"name", cfg.memberName},
                                         {"criticality", toString(cfg.criticality)},
                                         {"connection_type", toString(cfg.connectionType)},
                                         {"sender_comp_id", cfg.senderCompId},
                                         {"target_comp_id", cfg.targetCompId}},
                                        true));
  }
}

template <class Out>
void MetricsCollector::emit(Out& out) const {
  const std::size_t n = monitor_.linkCount();
  constexpr auto kGauge = MetricType::Gauge;
  constexpr auto kCounter = MetricType::Counter;
  constexpr auto kHistogram = MetricType::Histogram;
  const auto stats = [this](std::size_t i) -> const LinkStats& {
    return monitor_.stats(static_cast<LinkIndex>(i));
  };
  // One family, one pass over the links.
  const auto perLink = [&](std::string_view name, std::string_view help, MetricType type,
                           const auto& body) {
    if (!out.family(name, help, type)) return;
    for (std::size_t i = 0; i < n; ++i) body(i, stats(i));
  };

  // Each link's state is read once, so that link_up, link_state and links agree.
  std::vector<LinkState> states(n);
  std::array<std::uint32_t, kLinkStateCount> perState{};
  for (std::size_t i = 0; i < n; ++i) {
    states[i] = stats(i).state.load(std::memory_order_acquire);
    ++perState[static_cast<std::size_t>(states[i])];
  }

  // Per-link state.
  perLink("linkwatch_link_up", "1 when the link is logged on (state up or degraded).", kGauge,
          [&](std::size_t i, const LinkStats&) {
            out.sample(
                i, states[i] == LinkState::kUp || states[i] == LinkState::kDegraded ? 1.0 : 0.0);
          });
  perLink("linkwatch_link_state",
          "Current state of the link: one series per state, exactly one is 1.", kGauge,
          [&](std::size_t i, const LinkStats&) {
            for (int k = 0; k < kLinkStateCount; ++k) {
              const auto candidate = static_cast<LinkState>(k);
              out.sample(i, "state", toString(candidate), candidate == states[i] ? 1.0 : 0.0);
            }
          });
  perLink("linkwatch_link_reason", "Why the link is in its current state: one series, value 1.",
          kGauge, [&](std::size_t i, const LinkStats& s) {
            out.sample(i, "reason", toString(s.reason.load(std::memory_order_relaxed)), 1.0);
          });
  perLink("linkwatch_link_state_since_timestamp_seconds",
          "Unix time at which the link entered its current state.", kGauge,
          [&](std::size_t i, const LinkStats& s) {
            out.sample(i, seconds(s.stateSinceWall.load(std::memory_order_relaxed)));
          });
  perLink("linkwatch_last_message_received_timestamp_seconds",
          "Unix time of the last message received from the member (absent until one arrives).",
          kGauge, [&](std::size_t i, const LinkStats& s) {
            if (const Nanos t = s.lastInboundWall.load(std::memory_order_relaxed); t != 0)
              out.sample(i, seconds(t));
          });
  perLink("linkwatch_last_logon_timestamp_seconds",
          "Unix time of the last completed logon (absent until one).", kGauge,
          [&](std::size_t i, const LinkStats& s) {
            if (const Nanos t = s.lastLogonWall.load(std::memory_order_relaxed); t != 0)
              out.sample(i, seconds(t));
          });
  perLink("linkwatch_heartbeat_interval_setting_seconds",
          "HeartBtInt in force for the session, 0 when unknown.", kGauge,
          [&](std::size_t i, const LinkStats& s) { out.sample(i, number(s.heartBtIntSeconds)); });

  // Per-link counters.
  perLink("linkwatch_messages_received_total",
          "FIX messages received from the member, by message type (a type appears with its "
          "first message; garbled always).",
          kCounter, [&](std::size_t i, const LinkStats& s) {
            for (std::size_t k = 0; k < kMessageClassLabels.size(); ++k) {
              const auto v = s.messagesReceived[k].load(std::memory_order_relaxed);
              if (v != 0 || alwaysExportedReceived(k))
                out.sample(i, "msg_type", kMessageClassLabels[k], static_cast<double>(v));
            }
          });
  perLink("linkwatch_messages_sent_total",
          "FIX messages sent to the member, by message type (a type appears with its first "
          "message).",
          kCounter, [&](std::size_t i, const LinkStats& s) {
            for (std::size_t k = 0; k < kMessageClassLabels.size(); ++k) {
              if (const auto v = s.messagesSent[k].load(std::memory_order_relaxed); v != 0)
                out.sample(i, "msg_type", kMessageClassLabels[k], static_cast<double>(v));
            }
          });
  const auto counter = [&](std::string_view name, std::string_view help,
                           const Counter LinkStats::*field) {
    perLink(name, help, kCounter,
            [&](std::size_t i, const LinkStats& s) { out.sample(i, number(s.*field)); });
  };
  counter("linkwatch_heartbeats_received_total", "Heartbeats received from the member.",
          &LinkStats::heartbeatsReceived);
  counter("linkwatch_test_requests_sent_total", "TestRequests sent to the member.",
          &LinkStats::testRequestsSent);
  counter("linkwatch_test_requests_received_total", "TestRequests received from the member.",
          &LinkStats::testRequestsReceived);
  perLink(
      "linkwatch_disconnects_total", "Sessions ended, by the reason they ended.", kCounter,
      [&](std::size_t i, const LinkStats& s) {
        for (const LinkReason r : kSessionEndReasons)
          out.sample(i, "reason", toString(r), number(s.disconnects[static_cast<std::size_t>(r)]));
        // Only with FixWorkers, and rare: from its first occurrence, not a zero per link.
        constexpr auto kWorkerLost = static_cast<std::size_t>(LinkReason::kFixWorkerLost);
        if (const auto lost = s.disconnects[kWorkerLost].load(std::memory_order_relaxed); lost != 0)
          out.sample(i, "reason", toString(LinkReason::kFixWorkerLost), static_cast<double>(lost));
      });
  counter("linkwatch_logons_total", "Completed logons.", &LinkStats::logons);
  counter("linkwatch_logon_rejects_total", "Logons refused or rejected.", &LinkStats::logonRejects);
  counter("linkwatch_sequence_gaps_total", "Inbound MsgSeqNum gaps detected (MsgSeqNum too high).",
          &LinkStats::sequenceGaps);
  perLink("linkwatch_resend_requests_total", "ResendRequests, by direction (sent or received).",
          kCounter, [&](std::size_t i, const LinkStats& s) {
            out.sample(i, "direction", "sent", number(s.resendRequestsSent));
            out.sample(i, "direction", "received", number(s.resendRequestsReceived));
          });
  perLink("linkwatch_session_rejects_total",
          "Session-level Rejects (35=3), by direction (sent or received).", kCounter,
          [&](std::size_t i, const LinkStats& s) {
            out.sample(i, "direction", "sent", number(s.rejectsSent));
            out.sample(i, "direction", "received", number(s.rejectsReceived));
          });
  counter("linkwatch_link_flaps_total", "Changes of the link's state (flaps).", &LinkStats::flaps);

  // Per-link gauges and histograms.
  perLink("linkwatch_link_flaps_in_window", "State changes within the last FlapWindow.", kGauge,
          [&](std::size_t i, const LinkStats& s) { out.sample(i, number(s.flapsInWindow)); });
  perLink("linkwatch_rtt_last_seconds", "Round-trip time of the last answered TestRequest probe.",
          kGauge, [&](std::size_t i, const LinkStats& s) {
            if (const Nanos r = s.lastRtt.load(std::memory_order_relaxed); r >= 0)
              out.sample(i, seconds(r));
          });
  perLink("linkwatch_sending_time_skew_seconds",
          "Receive time minus SendingTime (52) of the last inbound message.", kGauge,
          [&](std::size_t i, const LinkStats& s) {
            if (s.hasSendingTimeSkew.load(std::memory_order_relaxed))
              out.sample(i, seconds(s.lastSendingTimeSkew.load(std::memory_order_relaxed)));
          });
  const auto histogram = [&](std::string_view name, std::string_view help,
                             const AtomicHistogram LinkStats::*field,
                             const ExportedBuckets& exported) {
    perLink(name, help, kHistogram, [&](std::size_t i, const LinkStats& s) {
      const HistogramRead r = readHistogram(s.*field, exported);
      if (r.count != 0) out.histogram(i, r, exported);
    });
  };
  histogram("linkwatch_rtt_seconds",
            "Round-trip time of TestRequest probes answered by the member (from the first).",
            &LinkStats::rtt, rttBuckets_);
  histogram("linkwatch_heartbeat_interval_seconds",
            "Time between consecutive heartbeats received from the member (from the first "
            "interval).",
            &LinkStats::heartbeatInterval, heartbeatIntervalBuckets_);
  perLink("linkwatch_member_info", "Configuration of the link, as labels; value always 1.", kGauge,
          [&](std::size_t i, const LinkStats&) { out.info(i); });

  // Monitor-wide.
  const MonitorStats& ms = monitor_.monitorStats();
  const auto single = [&](std::string_view name, std::string_view help, MetricType type,
                          double value) {
    if (out.family(name, help, type)) out.sample(kMonitorWide, value);
  };
  const auto wholeHistogram = [&](std::string_view name, std::string_view help,
                                  const AtomicHistogram& h) {
    if (!out.family(name, help, kHistogram)) return;
    const ExportedBuckets all = exportedBuckets(h.boundsNs(), {});
    out.histogram(kMonitorWide, readHistogram(h, all), all);
  };
  if (out.family("linkwatch_links", "Number of configured links in each state.", kGauge)) {
    for (int k = 0; k < kLinkStateCount; ++k)
      out.sample(kMonitorWide, "state", toString(static_cast<LinkState>(k)),
                 perState[static_cast<std::size_t>(k)]);
  }
  single("linkwatch_event_queue_depth", "Session events queued at the last drain.", kGauge,
         number(ms.queueDepth));
  single("linkwatch_events_applied_total", "Session events applied by the core.", kCounter,
         number(ms.eventsApplied));
  single("linkwatch_events_dropped_total", "Session events dropped because their queue was full.",
         kCounter, number(ms.eventsDropped));
  single("linkwatch_events_deferred_total",
         "Connectivity events that found their queue full and were kept in the link's "
         "overflow slot instead.",
         kCounter, number(ms.criticalEventsDeferred));
  single("linkwatch_unknown_session_logons_total",
         "Logon attempts for sessions no [SESSION] block declares.", kCounter,
         number(ms.unknownSessionLogons));
  single("linkwatch_link_transitions_total", "Link state transitions, all links.", kCounter,
         number(ms.transitions));
  wholeHistogram("linkwatch_event_apply_delay_seconds",
                 "Delay from publishing a session event on a FIX thread to applying it on the "
                 "core thread, for events that can change a link's state (routine Heartbeats and "
                 "application messages may wait for the core's next wake-up).",
                 ms.applyDelay);
  if (const Nanos started = ms.startedWall.load(std::memory_order_relaxed); started != 0)
    single("linkwatch_start_time_seconds", "Unix time at which the monitor started.", kGauge,
           seconds(started));
  single("linkwatch_scrape_duration_seconds",
         "Time taken to collect, serialise and send the previous /metrics scrape.", kGauge,
         seconds(lastScrapeDuration()));
  if (out.family("linkwatch_build_info", "linkwatch build information; value always 1.", kGauge))
    out.sample(kMonitorWide, "version", version_, 1.0);
  if (history_ != nullptr) {
    const EventHistoryStats js = history_->stats();
    const auto journalCounter = [&](std::string_view name, std::string_view help,
                                    std::uint64_t value) {
      single(name, help, kCounter, static_cast<double>(value));
    };
    journalCounter("linkwatch_journal_records_written_total",
                   "Records appended to the event journal.", js.recordsWritten);
    journalCounter("linkwatch_journal_bytes_written_total", "Bytes appended to the event journal.",
                   js.bytesWritten);
    journalCounter("linkwatch_journal_dropped_records_total",
                   "Records that found the journal writer's queue full; a gap record and a "
                   "snapshot of every link follow them in the journal.",
                   js.droppedRecords);
    journalCounter("linkwatch_journal_corrupt_records_total",
                   "Damaged journal records found and skipped when reading the journal at start.",
                   js.corruptRecords);
    journalCounter("linkwatch_journal_errors_total",
                   "Failed journal file operations (create, write, fdatasync, remove).",
                   js.writeErrors);
    single("linkwatch_journal_segments", "Journal segment files on disk.", kGauge,
           static_cast<double>(js.segments));
    single("linkwatch_journal_queue_depth", "Records waiting for the journal writer.", kGauge,
           static_cast<double>(js.queueDepth));
    wholeHistogram("linkwatch_journal_fsync_duration_seconds",
                   "Time taken by one fdatasync of the journal.", history_->syncLatency());
  }
}

std::vector<MetricFamily> MetricsCollector::Collect() const {
  ModelOut out(monitor_);
  emit(out);
  return std::move(out).take();
}

bool MetricsCollector::write(const TextSink& sink, std::size_t chunkBytes) const {
  TextOut out(linkLabels_, infoLabels_, &sink, chunkBytes);
  // A line or a histogram may overshoot the chunk a little before it is handed over.
  out.buffer().reserve(chunkBytes + 4096);
  emit(out);
  return out.finish();
}

std::string MetricsCollector::serialize() const {
  TextOut out(linkLabels_, infoLabels_, nullptr, 0);
  out.buffer().reserve(lastSize_.load(std::memory_order_relaxed) + 4096);
  emit(out);
  lastSize_.store(out.buffer().size(), std::memory_order_relaxed);
  return std::move(out.buffer());
}

}  // namespace linkwatch
