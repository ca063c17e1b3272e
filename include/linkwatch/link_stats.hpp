// What the core thread publishes about each link and about itself, for /metrics and the
// API. Written by the core thread only, read lock-free by any thread (relaxed atomics:
// a scrape may see one field a moment newer than another, never a torn value).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include <linkwatch/atomic_histogram.hpp>
#include <linkwatch/clock.hpp>
#include <linkwatch/link_state.hpp>
#include <linkwatch/session_event.hpp>

namespace linkwatch {

using Counter = std::atomic<std::uint64_t>;

struct LinkStats {
  LinkStats();

  std::atomic<LinkState> state{LinkState::kDown};
  std::atomic<LinkReason> reason{LinkReason::kNeverConnected};
  std::atomic<Nanos> stateSinceWall{0};
  std::atomic<Nanos> lastInboundWall{0};  // 0: nothing received yet
  std::atomic<Nanos> lastLogonWall{0};
  std::atomic<std::uint32_t> heartBtIntSeconds{0};
  std::atomic<Nanos> lastRtt{-1};             // -1: no probe answered yet
  std::atomic<Nanos> lastSendingTimeSkew{0};  // receive wall time - SendingTime
  std::atomic<bool> hasSendingTimeSkew{false};
  std::atomic<std::uint32_t> flapsInWindow{0};
  std::atomic<Nanos> maintenanceUntilWall{0};  // 0: not in maintenance

  std::array<Counter, kMessageClassCount> messagesReceived{};
  std::array<Counter, kMessageClassCount> messagesSent{};
  Counter heartbeatsReceived{0};
  Counter testRequestsSent{0};
  Counter testRequestsReceived{0};
  Counter logons{0};
  Counter logonRejects{0};
  Counter sequenceGaps{0};
  Counter resendRequestsSent{0};
  Counter resendRequestsReceived{0};
  Counter rejectsReceived{0};
  Counter rejectsSent{0};
  Counter flaps{0};
  // Indexed by the LinkReason that ended the session (disconnected, logout, ...).
  std::array<Counter, kLinkReasonCount> disconnects{};

  AtomicHistogram rtt;
  AtomicHistogram heartbeatInterval;
};

struct MonitorStats {
  MonitorStats();

  Counter eventsApplied{0};
  Counter eventsDropped{0};           // did not fit in a full queue
  Counter criticalEventsDeferred{0};  // did not fit, kept in a per-link slot, applied later
  Counter unknownSessionLogons{0};    // logons for CompIDs no [SESSION] declares
  Counter transitions{0};
  std::atomic<std::uint64_t> queueDepth{0};  // as of the last drain
  std::atomic<Nanos> startedWall{0};
  AtomicHistogram applyDelay;  // push on the FIX thread -> applied on the core thread
};

// Bucket bounds shared by the core and by the exporter's HELP text.
namespace buckets {
std::vector<std::int64_t> rtt();
std::vector<std::int64_t> heartbeatInterval();
std::vector<std::int64_t> applyDelay();
// The same bounds, one copy shared by every link's histogram.
const AtomicHistogram::Bounds& sharedRtt();
const AtomicHistogram::Bounds& sharedHeartbeatInterval();
}  // namespace buckets

}  // namespace linkwatch
