#include <linkwatch/thread_scheduling.hpp>

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace linkwatch {
namespace {

// The kernel's struct sched_attr (include/uapi/linux/sched/types.h, size version 1): glibc
// 2.36 has no wrapper, and the uapi header clashes with glibc's struct sched_param.
struct SchedAttr {
  std::uint32_t size;
  std::uint32_t sched_policy;
  std::uint64_t sched_flags;
  std::int32_t sched_nice;
  std::uint32_t sched_priority;
  std::uint64_t sched_runtime;
  std::uint64_t sched_deadline;
  std::uint64_t sched_period;
  std::uint32_t sched_util_min;
  std::uint32_t sched_util_max;
};
static_assert(sizeof(SchedAttr) == 56, "SCHED_ATTR_SIZE_VER1");

bool readAttr(SchedAttr& attr) noexcept {
  std::memset(&attr, 0, sizeof attr);
  return syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) == 0;
}

}  // namespace

std::string setThreadTimeSlice(Nanos slice) noexcept {
  SchedAttr attr;
  if (!readAttr(attr)) return std::string("sched_getattr: ") + std::strerror(errno);
  if (attr.sched_policy != SCHED_OTHER && attr.sched_policy != SCHED_BATCH)
    return "the thread does not run under the fair scheduler";
  attr.size = sizeof attr;
  attr.sched_flags = 0;  // keep nice (read above); a slice is not a reset-on-fork matter
  attr.sched_runtime = static_cast<std::uint64_t>(slice < 0 ? 0 : slice);
  if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0)
    return std::string("sched_setattr: ") + std::strerror(errno);
  return {};
}

Nanos threadTimeSlice() noexcept {
  SchedAttr attr;
  if (!readAttr(attr)) return 0;
  return static_cast<Nanos>(attr.sched_runtime);
}

}  // namespace linkwatch
