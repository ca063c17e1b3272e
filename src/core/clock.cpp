#include <linkwatch/clock.hpp>

#include <dlfcn.h>

namespace linkwatch {
namespace {

// glibc keeps the vDSO among the loaded objects as "linux-vdso.so.1": found without loading
// anything (RTLD_NOLOAD). The kernel's x86-64 vDSO exports __vdso_clock_gettime; elsewhere,
// or under valgrind, which hides it, glibc's clock_gettime stays.
ClockGettime findVdsoClockGettime() noexcept {
  void* vdso = dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
  if (vdso == nullptr) return &clock_gettime;
  void* symbol = dlsym(vdso, "__vdso_clock_gettime");
  if (symbol == nullptr) return &clock_gettime;
  const auto direct = reinterpret_cast<ClockGettime>(symbol);
  // Trust it only if it answers as glibc does: read just before glibc's, the same or a tick
  // earlier (a second allows for this thread being preempted between the two).
  timespec viaVdso{}, viaLibc{};
  if (direct(CLOCK_MONOTONIC_COARSE, &viaVdso) != 0 ||
      clock_gettime(CLOCK_MONOTONIC_COARSE, &viaLibc) != 0)
    return &clock_gettime;
  const auto nanos = [](const timespec& ts) {
    return static_cast<Nanos>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
  };
  const Nanos behind = nanos(viaLibc) - nanos(viaVdso);
  return behind >= 0 && behind <= kNanosPerSecond ? direct : &clock_gettime;
}

}  // namespace

// glibc's until this file's dynamic initialisation has looked for the vDSO's: a coarse clock
// read from another file's static initialiser before that still works.
ClockGettime gDirectClockGettime = &clock_gettime;

namespace {
const bool kFoundVdsoClock = [] {
  gDirectClockGettime = findVdsoClockGettime();
  return gDirectClockGettime != &clock_gettime;
}();
}  // namespace

bool coarseClockCallsVdsoDirectly() noexcept { return kFoundVdsoClock; }

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
