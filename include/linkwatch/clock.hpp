// Time sources. Every component that reasons about time takes a Clock so that tests
// can drive a ManualClock instead of sleeping.
//
// This header is included by the C++14 QuickFIX adapter: keep it C++14-clean.
#pragma once

#include <time.h>

#include <atomic>
#include <cstdint>

namespace linkwatch {

// Nanoseconds on CLOCK_MONOTONIC (deadlines, latencies) or since the Unix epoch
// (CLOCK_REALTIME: what operators see, and what SendingTime is compared with).
using Nanos = std::int64_t;

constexpr Nanos kNanosPerMicro = 1000;
constexpr Nanos kNanosPerMilli = 1000 * 1000;
constexpr Nanos kNanosPerSecond = 1000 * 1000 * 1000;

inline Nanos readClock(clockid_t id) noexcept {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<Nanos>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
}

inline Nanos monotonicNow() noexcept { return readClock(CLOCK_MONOTONIC); }

// The vDSO's own clock_gettime when the process found it at start-up (clock.cpp), else
// glibc's. The FIX thread's coarse clock calls it directly, without glibc's wrapper and its
// PLT entry, which saves 1-2 ns of the decorators' 12-13 a message (decorator_bench).
using ClockGettime = int (*)(clockid_t, timespec*);
extern ClockGettime gDirectClockGettime;
// Whether gDirectClockGettime is the vDSO's (not under valgrind, for one).
bool coarseClockCallsVdsoDirectly() noexcept;

// CLOCK_MONOTONIC as of the kernel's last timer tick: ~3 ns against ~25 ns for the exact
// clock on kvm-clock, and never ahead of it, but behind it by up to one tick
// (coarseMonotonicResolution(), 1-4 ms depending on the kernel's HZ), a little more when a
// VM's timer interrupt comes late.
inline Nanos coarseMonotonicNow() noexcept {
  timespec ts;
  gDirectClockGettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<Nanos>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
}
Nanos coarseMonotonicResolution() noexcept;
inline Nanos wallNow() noexcept { return readClock(CLOCK_REALTIME); }

// Wall time minus monotonic time, refreshed by the core thread on every loop. A FIX thread
// reads one clock (monotonic, ~25 ns on kvm-clock) and derives wall time from this offset
// instead of paying for a second clock read; NTP slews it by parts per million between
// refreshes, and a step shows up within one loop of the core thread.
extern std::atomic<Nanos> gWallMinusMonotonic;

// Stores only when the offset moved by a microsecond or more. Every FIX thread reads it on
// every stamp, and a store on each pass of the core thread would take its cache line from
// them every time: the two clock reads alone make the computed offset differ by tens of
// nanoseconds from call to call. NTP slews at most 500 ppm (1 us in 2 ms); a step is seen at
// once.
inline void refreshWallOffset() noexcept {
  const Nanos mono = monotonicNow();
  const Nanos offset = wallNow() - mono;
  const Nanos old = gWallMinusMonotonic.load(std::memory_order_relaxed);
  const Nanos moved = offset > old ? offset - old : old - offset;
  if (moved >= kNanosPerMicro) gWallMinusMonotonic.store(offset, std::memory_order_relaxed);
}

inline Nanos wallFromMonotonic(Nanos monotonic) noexcept {
  return monotonic + gWallMinusMonotonic.load(std::memory_order_relaxed);
}

// Thread-safety: implementations must be callable from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Nanos monotonic() const noexcept = 0;
  virtual Nanos wall() const noexcept = 0;
};

class SystemClock final : public Clock {
 public:
  Nanos monotonic() const noexcept override { return monotonicNow(); }
  Nanos wall() const noexcept override { return wallNow(); }
};

// A clock that moves only when told; wall time advances together with monotonic time.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Nanos monotonicStart = kNanosPerSecond,
                       Nanos wallStart = 1767225600LL * kNanosPerSecond /* 2026-01-01 UTC */)
      : monotonic_(monotonicStart), wallOffset_(wallStart - monotonicStart) {}

  Nanos monotonic() const noexcept override { return monotonic_.load(std::memory_order_acquire); }
  Nanos wall() const noexcept override {
    return monotonic() + wallOffset_.load(std::memory_order_acquire);
  }

  void advance(Nanos by) noexcept { monotonic_.fetch_add(by, std::memory_order_acq_rel); }
  // Moves wall time alone (as an NTP step would); monotonic time is unaffected.
  void setWall(Nanos wall) noexcept {
    wallOffset_.store(wall - monotonic(), std::memory_order_release);
  }

 private:
  std::atomic<Nanos> monotonic_;
  std::atomic<Nanos> wallOffset_;
};

}  // namespace linkwatch
