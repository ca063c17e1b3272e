#include <linkwatch/trading_schedule.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace linkwatch {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (the era-based civil-day algorithm).
std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// A UTC instant, in nanoseconds since the epoch.
Nanos utc(int y, unsigned mo, unsigned d, int h, int mi, int s, Nanos extraNanos = 0) {
  std::int64_t seconds = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  return seconds * kNanosPerSecond + extraNanos;
}

ScheduleSpec daily(int startH, int startM, int endH, int endM, std::string zone = "UTC") {
  ScheduleSpec spec;
  spec.startSecond = startH * 3600 + startM * 60;
  spec.endSecond = endH * 3600 + endM * 60;
  spec.timeZone = std::move(zone);
  return spec;
}

ScheduleSpec weekly(int startDay, int startH, int endDay, int endH, std::string zone = "UTC") {
  ScheduleSpec spec = daily(startH, 0, endH, 0, std::move(zone));
  spec.startDay = startDay;
  spec.endDay = endDay;
  return spec;
}

constexpr int kSunday = 0;
constexpr int kMonday = 1;
constexpr int kFriday = 5;

TEST(TradingSchedule, DefaultIsAlwaysOpenAndNeverChanges) {
  TradingSchedule s;
  EXPECT_TRUE(s.isOpen(utc(2026, 1, 3, 12, 0, 0)));
  EXPECT_EQ(s.nextChange(utc(2026, 1, 3, 12, 0, 0)), std::nullopt);
}

TEST(TradingSchedule, NonStopIgnoresTimesAndNeverChanges) {
  ScheduleSpec spec = daily(8, 0, 17, 0);
  spec.nonStop = true;
  TradingSchedule s(spec);
  EXPECT_TRUE(s.isOpen(utc(2026, 1, 5, 3, 0, 0)));
  EXPECT_EQ(s.nextChange(utc(2026, 1, 5, 3, 0, 0)), std::nullopt);
}

TEST(TradingSchedule, DailyIsOpenFromStartThroughTheEndSecond) {
  TradingSchedule s(daily(8, 0, 17, 0));
  // QuickFIX compares whole seconds with `time <= EndTime`: 17:00:00.999 is still inside.
  struct Case {
    Nanos at;
    bool open;
  } cases[] = {
      {utc(2026, 1, 5, 7, 59, 59, 999'999'999), false},
      {utc(2026, 1, 5, 8, 0, 0), true},
      {utc(2026, 1, 5, 12, 0, 0), true},
      {utc(2026, 1, 5, 17, 0, 0, 999'999'999), true},
      {utc(2026, 1, 5, 17, 0, 1), false},
      {utc(2026, 1, 5, 23, 0, 0), false},
  };
  for (const Case& c : cases) EXPECT_EQ(s.isOpen(c.at), c.open) << c.at;
}

TEST(TradingSchedule, DailyNextChangeIsExact) {
  TradingSchedule s(daily(8, 0, 17, 0));
  EXPECT_EQ(s.nextChange(utc(2026, 1, 5, 7, 0, 0)), utc(2026, 1, 5, 8, 0, 0));
  EXPECT_EQ(s.nextChange(utc(2026, 1, 5, 7, 59, 59, 500)), utc(2026, 1, 5, 8, 0, 0));
  // Strictly after: at the opening instant the next change is the close.
  EXPECT_EQ(s.nextChange(utc(2026, 1, 5, 8, 0, 0)), utc(2026, 1, 5, 17, 0, 1));
  EXPECT_EQ(s.nextChange(utc(2026, 1, 5, 12, 0, 0, 1)), utc(2026, 1, 5, 17, 0, 1));
  EXPECT_EQ(s.nextChange(utc(2026, 1, 5, 17, 0, 1)), utc(2026, 1, 6, 8, 0, 0));
}

TEST(TradingSchedule, DailyCrossingMidnightIsOpenOnBothSides) {
  TradingSchedule s(daily(22, 0, 6, 0));
  EXPECT_TRUE(s.isOpen(utc(2026, 1, 5, 23, 30, 0)));
  EXPECT_TRUE(s.isOpen(utc(2026, 1, 6, 0, 0, 0)));
  EXPECT_TRUE(s.isOpen(utc(2026, 1, 6, 6, 0, 0)));
  EXPECT_FALSE(s.isOpen(utc(2026, 1, 6, 6, 0, 1)));
  EXPECT_FALSE(s.isOpen(utc(2026, 1, 6, 12, 0, 0)));
  EXPECT_EQ(s.nextChange(utc(2026, 1, 6, 12, 0, 0)), utc(2026, 1, 6, 22, 0, 0));
  EXPECT_EQ(s.nextChange(utc(2026, 1, 5, 23, 0, 0)), utc(2026, 1, 6, 6, 0, 1));
}

TEST(TradingSchedule, StartEqualToEndIsOpenAllDayLikeQuickFix) {
  TradingSchedule s(daily(0, 0, 0, 0));
  EXPECT_TRUE(s.isOpen(utc(2026, 1, 5, 0, 0, 0)));
  EXPECT_TRUE(s.isOpen(utc(2026, 1, 5, 13, 0, 0)));
  EXPECT_EQ(s.nextChange(utc(2026, 1, 5, 13, 0, 0)), std::nullopt);
  TradingSchedule w(weekly(kMonday, 9, kMonday, 9));
  EXPECT_TRUE(w.isOpen(utc(2026, 1, 5, 9, 0, 0)));
  EXPECT_EQ(w.nextChange(utc(2026, 1, 5, 9, 0, 0)), std::nullopt);
}

// 2026-01-02 is a Friday, 2026-01-03 a Saturday, 2026-01-04 a Sunday.
TEST(TradingSchedule, WeeklySessionWrapsOverTheWeekend) {
  // An FX-style week: Sunday 22:00 to Friday 21:00.
  TradingSchedule s(weekly(kSunday, 22, kFriday, 21));
  EXPECT_TRUE(s.isOpen(utc(2026, 1, 2, 21, 0, 0)));
  EXPECT_FALSE(s.isOpen(utc(2026, 1, 2, 21, 0, 1)));
  EXPECT_FALSE(s.isOpen(utc(2026, 1, 3, 12, 0, 0)));
  EXPECT_FALSE(s.isOpen(utc(2026, 1, 4, 21, 59, 59)));
  EXPECT_TRUE(s.isOpen(utc(2026, 1, 4, 22, 0, 0)));
  EXPECT_TRUE(s.isOpen(utc(2026, 1, 7, 3, 0, 0)));  // Wednesday night
  EXPECT_EQ(s.nextChange(utc(2026, 1, 3, 12, 0, 0)), utc(2026, 1, 4, 22, 0, 0));
  EXPECT_EQ(s.nextChange(utc(2026, 1, 7, 3, 0, 0)), utc(2026, 1, 9, 21, 0, 1));
}

TEST(TradingSchedule, WeeklySessionInsideTheWeek) {
  TradingSchedule s(weekly(kMonday, 8, kFriday, 17));
  EXPECT_FALSE(s.isOpen(utc(2026, 1, 4, 12, 0, 0)));  // Sunday
  EXPECT_FALSE(s.isOpen(utc(2026, 1, 5, 7, 0, 0)));   // Monday before the start
  EXPECT_TRUE(s.isOpen(utc(2026, 1, 6, 3, 0, 0)));    // Tuesday night: weekly, not daily
  EXPECT_TRUE(s.isOpen(utc(2026, 1, 9, 17, 0, 0)));
  EXPECT_FALSE(s.isOpen(utc(2026, 1, 9, 17, 0, 1)));
  EXPECT_EQ(s.nextChange(utc(2026, 1, 9, 18, 0, 0)), utc(2026, 1, 12, 8, 0, 0));
}

TEST(TradingSchedule, WeeklyOnOneDayWithEndBeforeStartIsClosedOnlyInTheGap) {
  // QuickFIX: StartDay == EndDay, EndTime < StartTime: a whole week with a gap on that day.
  TradingSchedule s(weekly(kSunday, 18, kSunday, 17));
  EXPECT_TRUE(s.isOpen(utc(2026, 1, 4, 17, 0, 0)));
  EXPECT_FALSE(s.isOpen(utc(2026, 1, 4, 17, 30, 0)));
  EXPECT_TRUE(s.isOpen(utc(2026, 1, 4, 18, 0, 0)));
  EXPECT_TRUE(s.isOpen(utc(2026, 1, 7, 12, 0, 0)));
  EXPECT_EQ(s.nextChange(utc(2026, 1, 7, 12, 0, 0)), utc(2026, 1, 11, 17, 0, 1));
}

TEST(TradingSchedule, WeeklyOnOneDayWithEndAfterStartIsAlwaysOpenLikeQuickFix) {
  TradingSchedule s(weekly(kMonday, 8, kMonday, 17));
  EXPECT_TRUE(s.isOpen(utc(2026, 1, 7, 3, 0, 0)));
  EXPECT_EQ(s.nextChange(utc(2026, 1, 7, 3, 0, 0)), std::nullopt);
}

// Europe/London: BST starts 2026-03-29 01:00Z and ends 2026-10-25 01:00Z.
TEST(TradingSchedule, LondonScheduleFollowsSummerTime) {
  TradingSchedule s(daily(8, 0, 17, 0, "Europe/London"));
  EXPECT_TRUE(s.isOpen(utc(2026, 3, 27, 8, 0, 0)));  // GMT: 08:00 local is 08:00Z
  EXPECT_FALSE(s.isOpen(utc(2026, 3, 30, 7, 0, 0) - 1));
  EXPECT_TRUE(s.isOpen(utc(2026, 3, 30, 7, 0, 0)));  // BST: 08:00 local is 07:00Z
  EXPECT_TRUE(s.isOpen(utc(2026, 3, 30, 16, 0, 0)));
  EXPECT_FALSE(s.isOpen(utc(2026, 3, 30, 16, 0, 1)));
  EXPECT_EQ(s.nextChange(utc(2026, 3, 28, 18, 0, 0)), utc(2026, 3, 29, 7, 0, 0));
  EXPECT_EQ(s.nextChange(utc(2026, 10, 24, 18, 0, 0)), utc(2026, 10, 25, 8, 0, 0));
}

TEST(TradingSchedule, SpringForwardGapClosesAtTheTransition) {
  // 00:30-01:30 local; local 01:00-01:59 does not exist on 2026-03-29.
  TradingSchedule s(daily(0, 30, 1, 30, "Europe/London"));
  EXPECT_TRUE(s.isOpen(utc(2026, 3, 29, 0, 45, 0)));
  EXPECT_EQ(s.nextChange(utc(2026, 3, 29, 0, 45, 0)), utc(2026, 3, 29, 1, 0, 0));
  EXPECT_FALSE(s.isOpen(utc(2026, 3, 29, 1, 0, 0)));
}

TEST(TradingSchedule, FallBackRepeatsTheLocalHour) {
  // 01:15-01:45 local happens twice on 2026-10-25: in BST, then again in GMT.
  TradingSchedule s(daily(1, 15, 1, 45, "Europe/London"));
  std::vector<Nanos> changes;
  Nanos t = utc(2026, 10, 25, 0, 0, 0);
  for (int i = 0; i < 4; ++i) {
    auto next = s.nextChange(t);
    ASSERT_TRUE(next.has_value());
    changes.push_back(*next);
    t = *next;
  }
  EXPECT_EQ(changes,
            (std::vector<Nanos>{utc(2026, 10, 25, 0, 15, 0), utc(2026, 10, 25, 0, 45, 1),
                                utc(2026, 10, 25, 1, 15, 0), utc(2026, 10, 25, 1, 45, 1)}));
}

// Differential check against a second-by-second scan: nextChange must name exactly the first
// second whose state differs, for every second of a window that spans a weekend and DST edges.
void expectNextChangeMatchesScan(const TradingSchedule& s, Nanos from, std::int64_t seconds) {
  std::vector<bool> open(static_cast<std::size_t>(seconds));
  for (std::int64_t i = 0; i < seconds; ++i) {
    open[static_cast<std::size_t>(i)] = s.isOpen(from + i * kNanosPerSecond);
  }
  std::optional<std::int64_t> next;  // index of the next change after i, within the window
  int mismatches = 0;
  for (std::int64_t i = seconds - 2; i >= 0; --i) {
    auto u = static_cast<std::size_t>(i);
    if (open[u] != open[u + 1]) next = i + 1;
    if (!next) continue;
    auto got = s.nextChange(from + i * kNanosPerSecond + 123);
    if (got != from + *next * kNanosPerSecond && ++mismatches <= 5) {
      ADD_FAILURE() << "at +" << i << "s expected change at +" << *next << "s, got "
                    << (got ? std::to_string((*got - from) / kNanosPerSecond) : "none");
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(TradingSchedule, NextChangeMatchesScanAcrossSpringForward) {
  Nanos from = utc(2026, 3, 27, 0, 0, 0);
  expectNextChangeMatchesScan(TradingSchedule(daily(0, 30, 1, 30, "Europe/London")), from,
                              4 * 86400);
  expectNextChangeMatchesScan(TradingSchedule(weekly(kSunday, 1, kFriday, 21, "Europe/London")),
                              from, 4 * 86400);
}

TEST(TradingSchedule, NextChangeMatchesScanAcrossFallBack) {
  Nanos from = utc(2026, 10, 23, 0, 0, 0);
  expectNextChangeMatchesScan(TradingSchedule(daily(23, 0, 1, 30, "Europe/London")), from,
                              4 * 86400);
  expectNextChangeMatchesScan(TradingSchedule(daily(1, 0, 1, 59, "America/New_York")),
                              utc(2026, 10, 31, 0, 0, 0), 3 * 86400);
}

TEST(TradingSchedule, UnknownTimeZoneIsInvalidArgument) {
  EXPECT_THROW(TradingSchedule(daily(8, 0, 17, 0, "Mars/Olympus_Mons")), std::invalid_argument);
  EXPECT_THROW(TradingSchedule(daily(8, 0, 17, 0, "../../etc/passwd")), std::invalid_argument);
}

TEST(TradingSchedule, MalformedSpecIsInvalidArgument) {
  ScheduleSpec late = daily(8, 0, 17, 0);
  late.endSecond = 86400;
  EXPECT_THROW(TradingSchedule{late}, std::invalid_argument);
  ScheduleSpec oneDay = daily(8, 0, 17, 0);
  oneDay.startDay = kMonday;
  EXPECT_THROW(TradingSchedule{oneDay}, std::invalid_argument);
}

TEST(TradingSchedule, LocalZoneResolves) {
  ScheduleSpec spec = daily(8, 0, 17, 0, "local");
  EXPECT_NO_THROW(TradingSchedule{spec});
}

TEST(TradingSchedule, CopiesAndMovesKeepTheZone) {
  TradingSchedule original(daily(8, 0, 17, 0, "Europe/London"));
  TradingSchedule copy = original;
  TradingSchedule moved = std::move(original);
  Nanos summerMorning = utc(2026, 6, 1, 7, 30, 0);  // 08:30 BST
  EXPECT_TRUE(copy.isOpen(summerMorning));
  EXPECT_TRUE(moved.isOpen(summerMorning));
  EXPECT_EQ(copy.spec().timeZone, "Europe/London");
}

TEST(TradingSchedule, TimesBeforeTheEpochWork) {
  TradingSchedule s(daily(8, 0, 17, 0));
  EXPECT_TRUE(s.isOpen(utc(1969, 12, 31, 9, 0, 0)));
  EXPECT_EQ(s.nextChange(utc(1969, 12, 31, 9, 0, 0)), utc(1969, 12, 31, 17, 0, 1));
}

TEST(TradingSchedule, ExtremeTimesDoNotOverflow) {
  TradingSchedule s(daily(8, 0, 17, 0, "Europe/London"));
  const Nanos lowest = std::numeric_limits<Nanos>::min();
  const Nanos highest = std::numeric_limits<Nanos>::max();
  EXPECT_NO_THROW(s.isOpen(lowest));
  EXPECT_NO_THROW(s.isOpen(highest));
  EXPECT_EQ(s.nextChange(highest), std::nullopt);
  auto fromLowest = s.nextChange(lowest);
  ASSERT_TRUE(fromLowest.has_value());
  EXPECT_GT(*fromLowest, lowest);
}

}  // namespace
}  // namespace linkwatch
