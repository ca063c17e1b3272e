#include "core/process_fence.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace linkwatch {
namespace {

long membarrier(int command) noexcept { return syscall(SYS_membarrier, command, 0u, 0); }

bool registerExpedited() noexcept {
  const long commands = membarrier(MEMBARRIER_CMD_QUERY);
  if (commands < 0 || (commands & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
  return membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}

}  // namespace

bool ProcessFence::available() noexcept {
  static const bool registered = registerExpedited();
  return registered;
}

void ProcessFence::heavy(bool asymmetric) noexcept {
#if !defined(__SANITIZE_THREAD__)
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
  if (!asymmetric) return;
  // Its only errors (EINVAL, EPERM) are the registration's, which available() checked. Were
  // it to fail anyway, a wake-up could be missed, and the consumer would still wake at its
  // next deadline: it never sleeps without one.
  (void)membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
}

}  // namespace linkwatch
