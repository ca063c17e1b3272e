// When a link is expected to be up. Mirrors QuickFIX's StartTime/EndTime/StartDay/EndDay
// (daily or weekly sessions, crossing midnight allowed) plus linkwatch's TimeZone key.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <linkwatch/clock.hpp>

namespace linkwatch {

struct ScheduleSpec {
  bool nonStop = false;  // NonStopSession=Y: always inside the schedule
  int startSecond = 0;   // seconds after local midnight, StartTime
  int endSecond = 0;     // seconds after local midnight, EndTime
  int startDay = -1;     // 0 = Sunday .. 6 = Saturday; -1 for a daily session
  int endDay = -1;
  std::string timeZone = "UTC";  // "UTC", an IANA name (Europe/London), or "local"
};

// Thread-safety: immutable after construction; const methods may be called from any thread.
class TradingSchedule {
 public:
  // Always open.
  TradingSchedule();
  // Throws std::invalid_argument when the time zone is unknown.
  explicit TradingSchedule(ScheduleSpec spec);
  ~TradingSchedule();
  TradingSchedule(const TradingSchedule&);
  TradingSchedule& operator=(const TradingSchedule&);
  TradingSchedule(TradingSchedule&&) noexcept;
  TradingSchedule& operator=(TradingSchedule&&) noexcept;

  bool isOpen(Nanos wall) const;
  // The first instant strictly after `wall` at which isOpen() changes; nullopt if never.
  std::optional<Nanos> nextChange(Nanos wall) const;
  const ScheduleSpec& spec() const noexcept { return spec_; }

 private:
  struct Zone;
  ScheduleSpec spec_;
  std::shared_ptr<const Zone> zone_;
};

}  // namespace linkwatch
