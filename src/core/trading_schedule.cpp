#include <linkwatch/trading_schedule.hpp>

#include <date/tz.h>

#include <cstdlib>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace linkwatch {

namespace {

constexpr std::int64_t kSecondsPerDay = 86400;
constexpr std::int64_t kSecondsPerWeek = 7 * kSecondsPerDay;
// 1970-01-01 was a Thursday: day 4 when Sunday is 0.
constexpr std::int64_t kEpochWeekday = 4;
constexpr std::int64_t kNoEnd = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMaxWallSecond = std::numeric_limits<Nanos>::max() / kNanosPerSecond;
// A change happens within a week of local time; only zone transitions can add segments,
// and no zone has anywhere near this many in a week.
constexpr int kMaxSegments = 64;

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::int64_t floorMod(std::int64_t a, std::int64_t b) { return a - floorDiv(a, b) * b; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

// The open part of the schedule as a closed interval [start, end] on a circle of `period`
// seconds (a day, or a week starting Sunday 00:00). Whole seconds, end inclusive: QuickFIX
// compares HH:MM:SS with `time <= end`, so EndTime=17:00:00 closes at 17:00:01.
struct Window {
  bool alwaysOpen = true;
  bool weekly = false;
  std::int64_t period = kSecondsPerDay;
  std::int64_t start = 0;
  std::int64_t end = 0;

  bool contains(std::int64_t position) const {
    if (alwaysOpen) return true;
    if (start <= end) return position >= start && position <= end;
    return position >= start || position <= end;
  }

  std::int64_t position(std::int64_t localSecond) const {
    if (weekly) return floorMod(localSecond + kEpochWeekday * kSecondsPerDay, kSecondsPerWeek);
    return floorMod(localSecond, kSecondsPerDay);
  }
};

Window windowOf(const ScheduleSpec& spec) {
  Window w;
  if (spec.nonStop) return w;
  w.weekly = spec.startDay >= 0;
  w.period = w.weekly ? kSecondsPerWeek : kSecondsPerDay;
  w.start = (w.weekly ? spec.startDay * kSecondsPerDay : 0) + spec.startSecond;
  w.end = (w.weekly ? spec.endDay * kSecondsPerDay : 0) + spec.endSecond;
  // QuickFIX's TimeRange: start == end means open all the time; a weekly range on one day with
  // EndTime after StartTime is turned into start == end as well.
  bool sameDayForward =
      w.weekly && spec.startDay == spec.endDay && spec.endSecond > spec.startSecond;
  // A closed part one second wide would be empty after the inclusive end.
  bool noGap = floorMod(w.end + 1, w.period) == w.start;
  w.alwaysOpen = w.start == w.end || sameDayForward || noGap;
  return w;
}

void validate(const ScheduleSpec& spec) {
  if (spec.nonStop) return;
  auto badSecond = [](int s) { return s < 0 || s >= kSecondsPerDay; };
  if (badSecond(spec.startSecond) || badSecond(spec.endSecond)) {
    throw std::invalid_argument("schedule times must be within 0..86399 seconds after midnight");
  }
  bool daily = spec.startDay == -1 && spec.endDay == -1;
  bool weekly = spec.startDay >= 0 && spec.startDay <= 6 && spec.endDay >= 0 && spec.endDay <= 6;
  if (!daily && !weekly) {
    throw std::invalid_argument("schedule days must both be -1 (daily) or both be 0..6 (weekly)");
  }
}

}  // namespace

// The zone is resolved once; date's time_zone objects live for the whole process and their
// lazy loading is guarded by call_once, so sharing one between threads is safe.
struct TradingSchedule::Zone {
  const date::time_zone* tz = nullptr;  // nullptr: UTC, without touching the tz database

  struct Segment {
    std::int64_t offset = 0;    // local minus UTC, seconds
    std::int64_t end = kNoEnd;  // first UTC second with another offset
  };

  static Segment at(const Zone* zone, std::int64_t utcSecond) {
    if (zone == nullptr || zone->tz == nullptr) return {};
    date::sys_info info = zone->tz->get_info(date::sys_seconds{std::chrono::seconds{utcSecond}});
    return {static_cast<std::int64_t>(info.offset.count()),
            static_cast<std::int64_t>(info.end.time_since_epoch().count())};
  }

  static std::shared_ptr<const Zone> resolve(const std::string& name) {
    if (name.empty() || equalsIgnoreCase(name, "UTC")) return nullptr;
    auto zone = std::make_shared<Zone>();
    try {
      if (name == "local") {
        zone->tz = localZone();
      } else {
        zone->tz = date::locate_zone(name);
      }
    } catch (const std::exception& e) {
      throw std::invalid_argument("unknown time zone \"" + name + "\" (" + e.what() + ")");
    }
    return zone;
  }

  // The machine's zone as libc sees it: $TZ, else /etc/localtime, else UTC.
  static const date::time_zone* localZone() {
    const char* env = std::getenv("TZ");  // read once, at configuration time
    if (env != nullptr && *env != '\0') {
      std::string_view tzName(env);
      if (tzName.front() == ':') tzName.remove_prefix(1);
      return date::locate_zone(tzName);
    }
    std::error_code ec;
    if (!std::filesystem::exists("/etc/localtime", ec)) return nullptr;
    return date::current_zone();
  }
};

TradingSchedule::TradingSchedule() { spec_.nonStop = true; }

TradingSchedule::TradingSchedule(ScheduleSpec spec) : spec_(std::move(spec)) {
  validate(spec_);
  zone_ = Zone::resolve(spec_.timeZone);
}

TradingSchedule::~TradingSchedule() = default;
TradingSchedule::TradingSchedule(const TradingSchedule&) = default;
TradingSchedule& TradingSchedule::operator=(const TradingSchedule&) = default;
TradingSchedule::TradingSchedule(TradingSchedule&&) noexcept = default;
TradingSchedule& TradingSchedule::operator=(TradingSchedule&&) noexcept = default;

bool TradingSchedule::isOpen(Nanos wall) const {
  Window w = windowOf(spec_);
  if (w.alwaysOpen) return true;
  std::int64_t second = floorDiv(wall, kNanosPerSecond);
  Zone::Segment seg = Zone::at(zone_.get(), second);
  return w.contains(w.position(second + seg.offset));
}

std::optional<Nanos> TradingSchedule::nextChange(Nanos wall) const {
  Window w = windowOf(spec_);
  if (w.alwaysOpen) return std::nullopt;
  // isOpen() is constant over each whole UTC second (zone offsets are whole seconds), so
  // the first candidate is the next second boundary.
  std::int64_t second = floorDiv(wall, kNanosPerSecond);
  const bool open = isOpen(wall);
  std::int64_t t = second + 1;
  for (int i = 0; i < kMaxSegments && t <= kMaxWallSecond; ++i) {
    Zone::Segment seg = Zone::at(zone_.get(), t);
    std::int64_t position = w.position(t + seg.offset);
    // Local time jumps at a zone transition: the state may flip right there.
    if (w.contains(position) != open) return t * kNanosPerSecond;
    // Inside a segment local time runs with UTC; the state flips when the position reaches
    // the start of the window (opening) or one second past its end (closing).
    std::int64_t edge = open ? floorMod(w.end + 1, w.period) : w.start;
    std::int64_t candidate = t + floorMod(edge - position, w.period);
    if (candidate < seg.end) {
      if (candidate > kMaxWallSecond) return std::nullopt;
      return candidate * kNanosPerSecond;
    }
    t = seg.end;
  }
  return std::nullopt;
}

}  // namespace linkwatch
