// The wall clock offset that FIX threads derive wall time from (clock.hpp).
#include <linkwatch/clock.hpp>

#include <gtest/gtest.h>

namespace linkwatch {
namespace {

// The offset as two clock reads give it now.
Nanos currentOffset() {
  const Nanos mono = monotonicNow();
  return wallNow() - mono;
}

TEST(WallOffset, IsLeftAloneWhenItMovedLessThanAMicrosecond) {
  // 300 ns off: within the jitter of the two clock reads' spacing plus the tolerance, so the
  // cache line that every FIX thread reads is not written.
  const Nanos nearlyRight = currentOffset() + 300;
  gWallMinusMonotonic.store(nearlyRight, std::memory_order_relaxed);
  refreshWallOffset();
  EXPECT_EQ(gWallMinusMonotonic.load(std::memory_order_relaxed), nearlyRight);
}

TEST(WallOffset, FollowsAStepOfTheWallClock) {
  // As after an NTP step of 5 ms: the next refresh takes the new offset.
  const Nanos stale = currentOffset() - 5 * kNanosPerMilli;
  gWallMinusMonotonic.store(stale, std::memory_order_relaxed);
  refreshWallOffset();
  const Nanos refreshed = gWallMinusMonotonic.load(std::memory_order_relaxed);
  EXPECT_NE(refreshed, stale);
  const Nanos error = refreshed - currentOffset();
  EXPECT_LT(error < 0 ? -error : error, 100 * kNanosPerMicro);
  // Derived wall times follow it.
  const Nanos mono = monotonicNow();
  const Nanos derived = wallFromMonotonic(mono);
  const Nanos wall = wallNow();
  EXPECT_LT(wall - derived, 100 * kNanosPerMicro);
  EXPECT_GT(wall - derived, -100 * kNanosPerMicro);
}

}  // namespace
}  // namespace linkwatch
