#include <linkwatch/clock.hpp>

namespace linkwatch {

std::atomic<Nanos> gWallMinusMonotonic{wallNow() - monotonicNow()};

Nanos coarseMonotonicResolution() noexcept {
  static const Nanos resolution = [] {
    timespec ts{};
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &ts) != 0) return 10 * kNanosPerMilli;
    return static_cast<Nanos>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
  }();
  return resolution;
}

}  // namespace linkwatch
