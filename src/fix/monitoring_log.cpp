#include "fix/monitoring_log.hpp"

#include <linkwatch/fix_scan.hpp>

#include <cstdlib>
#include <cstring>
#include <new>

#include "fix/event_stamp.hpp"

namespace linkwatch {
namespace {

constexpr Nanos kSendingTimeSampleInterval = 100 * kNanosPerMilli;

}  // namespace

void* MonitoringLog::operator new(std::size_t size) {
  void* object = nullptr;
  if (posix_memalign(&object, kCacheLineSize, size) != 0) throw std::bad_alloc();
  return object;
}

void MonitoringLog::operator delete(void* object) noexcept { std::free(object); }

void MonitoringLog::clear() {
  if (inner_ != nullptr) inner_->clear();
}

void MonitoringLog::backup() {
  if (inner_ != nullptr) inner_->backup();
}

// [[gnu::hot]] on the functions every message of an up link runs through (here,
// MonitoringApplication's fromAdmin/fromApp, classifyRoutineMessage): GCC puts them in
// .text.hot, so they sit together on one or two pages. A quiet link's FIX thread meets them
// from cold caches after each wait; together they cost it fewer misses (decorator_bench,
// one message every 100 us: +35-87 ns a message before, +2-30 ns after, in turn). For the
// same reason the tallied path runs through as few cache lines as it can: the classifier's
// fast path is a few lines of straight code, and this object fits one line with what the
// path reads (valgrind --tool=lackey on BM_Decorators_OwnWork, its loop included: 14 lines
// of code a message where there were 19, 122 instructions where there were 143).
//
// The fast path of an up link (EventHub::mayTally): its order flow and Heartbeats only move
// counters and the link's last-message times, so they are tallied, with the coarse clock
// (the core allows for its resolution), instead of being read in full and published. A
// message whose SendingTime is due for a sample, every 100 ms, is read in full: on a quiet
// link that is every message, so its liveness is timed exactly.
[[gnu::hot, gnu::always_inline]] inline bool MonitoringLog::tallied(const std::string& message,
                                                                    bool inbound) noexcept {
  if (tally_ == nullptr || !EventHub::mayTally(*tally_)) return false;
  timespec ts;  // coarseMonotonicNow(), through this object's copy of the function
  coarseClock_(CLOCK_MONOTONIC_COARSE, &ts);
  const Nanos now = static_cast<Nanos>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
  // Due for a SendingTime sample (on a quiet link, every message): read in full, whatever it
  // is, without classifying it first.
  if (inbound && now >= nextSendingTimeSample_.load(std::memory_order_relaxed)) return false;
  const RoutineMessage kind = classifyRoutineMessage(message.data(), message.size());
  if (kind == RoutineMessage::kNotRoutine) return false;
  // Our own Heartbeats, one a HeartBtInt on a quiet link: not worth a tally of their own.
  if (kind == RoutineMessage::kHeartbeat && !inbound) return false;
  if (kind == RoutineMessage::kHeartbeat)
    EventHub::tallyHeartbeat(*tally_, now);
  else
    EventHub::tallyApplication(*tally_, inbound, now);
  return true;
}

// Out of line: building and publishing a SessionEvent needs a frame that the tallied path,
// taken by most messages of an up link, would otherwise set up and tear down every time.
[[gnu::noinline]] void MonitoringLog::publishMessage(const std::string& message,
                                                     bool inbound) noexcept {
  SessionEvent e = stampEvent(inbound ? EventKind::kMessageIn : EventKind::kMessageOut, link_);
  // The monitor reads the SendingTime of inbound messages only (their skew).
  bool sample = false;
  if (inbound && e.monotonic >= nextSendingTimeSample_.load(std::memory_order_relaxed)) {
    sample = true;
    nextSendingTimeSample_.store(e.monotonic + kSendingTimeSampleInterval,
                                 std::memory_order_relaxed);
  }
  scanFixMessage(message.data(), message.size(), e, sample);
  hub_.publish(e);
}

[[gnu::hot]] void MonitoringLog::onIncoming(const std::string& message) {
  if (link_ != kNoLink && !tallied(message, true)) publishMessage(message, true);
  if (inner_ != nullptr) inner_->onIncoming(message);
}

[[gnu::hot]] void MonitoringLog::onOutgoing(const std::string& message) {
  if (link_ != kNoLink && !tallied(message, false)) publishMessage(message, false);
  if (inner_ != nullptr) inner_->onOutgoing(message);
}

void MonitoringLog::onEvent(const std::string& text) {
  SessionEvent e;
  std::memset(&e, 0, sizeof e);
  e.link = link_;
  e.messageClass = MessageClass::kApplication;
  // Most event lines are of no interest: classify before paying for the clocks.
  if (classifyQuickfixEvent(text.data(), text.size(), e) &&
      (link_ != kNoLink || e.kind == EventKind::kUnknownSession)) {
    e.monotonic = monotonicNow();
    e.wall = wallFromMonotonic(e.monotonic);
    hub_.publish(e);
  }
  if (inner_ != nullptr) inner_->onEvent(text);
}

FIX::Log* MonitoringLogFactory::create() {
  FIX::Log* inner = inner_ != nullptr ? inner_->create() : nullptr;
  return new MonitoringLog(hub_, kNoLink, inner);
}

FIX::Log* MonitoringLogFactory::create(const FIX::SessionID& id) {
  FIX::Log* inner = inner_ != nullptr ? inner_->create(id) : nullptr;
  return new MonitoringLog(hub_, directory_.find(id), inner);
}

void MonitoringLogFactory::destroy(FIX::Log* log) {
  MonitoringLog* ours = dynamic_cast<MonitoringLog*>(log);
  if (ours == nullptr) {
    delete log;
    return;
  }
  if (inner_ != nullptr && ours->inner() != nullptr) inner_->destroy(ours->inner());
  delete ours;
}

}  // namespace linkwatch
