// A FIX::LogFactory decorator. QuickFIX reports raw messages and its reasons (timeouts,
// refused logons, sequence problems, unknown sessions) only through Log, so the monitor
// listens here; the wrapped factory (a gateway's FileLog, say) still gets every line.
#pragma once

#include <quickfix/Log.h>

#include <atomic>
#include <cstddef>

#include <linkwatch/clock.hpp>
#include <linkwatch/event_hub.hpp>

#include "fix/session_directory.hpp"

namespace linkwatch {

class MonitoringLog : public FIX::Log {
 public:
  // link is kNoLink for the acceptor-wide log (unknown sessions are reported there).
  MonitoringLog(EventHub& hub, LinkIndex link, FIX::Log* inner) noexcept
      : hub_(hub),
        link_(link),
        tally_(hub.tallySlot(link)),
        inner_(inner),
        coarseClock_(gDirectClockGettime) {}

  // On a cache line of its own: a quiet link's FIX thread reads this object from cold caches
  // on every message, one miss rather than two when it would straddle lines. (The adapter is
  // C++14, which has no aligned new-expression.)
  static void* operator new(std::size_t size);
  static void operator delete(void* object) noexcept;

  void clear() override;
  void backup() override;
  void onIncoming(const std::string& message) override;
  void onOutgoing(const std::string& message) override;
  void onEvent(const std::string& text) override;

  FIX::Log* inner() const noexcept { return inner_; }

 private:
  bool tallied(const std::string& message, bool inbound) noexcept;
  void publishMessage(const std::string& message, bool inbound) noexcept;

  EventHub& hub_;
  const LinkIndex link_;
  EventHub::TallySlot* const tally_;  // the link's, null when the hub has no such link
  FIX::Log* inner_;                   // owned by the inner factory
  // SendingTime of inbound application messages is parsed at most once per interval: the
  // skew it gives is a gauge, and parsing it is the costliest part of the scan.
  std::atomic<Nanos> nextSendingTimeSample_{0};
  // gDirectClockGettime, kept here so that the tallied path reads no global's cache line.
  const ClockGettime coarseClock_;
};
static_assert(sizeof(MonitoringLog) <= kCacheLineSize, "MonitoringLog fits one cache line");

class MonitoringLogFactory : public FIX::LogFactory {
 public:
  // `inner` may be null (no log of record); not owned.
  MonitoringLogFactory(EventHub& hub, const SessionDirectory& directory,
                       FIX::LogFactory* inner = nullptr) noexcept
      : hub_(hub), directory_(directory), inner_(inner) {}

  FIX::Log* create() override;
  FIX::Log* create(const FIX::SessionID& id) override;
  void destroy(FIX::Log* log) override;

 private:
  EventHub& hub_;
  const SessionDirectory& directory_;
  FIX::LogFactory* inner_;
};

}  // namespace linkwatch
