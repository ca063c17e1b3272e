// Both halves of a store-buffer handshake whose two sides run at very different rates: FIX
// threads publishing events (millions a second) and a consumer about to sleep (at most a
// few thousand times a second).
//
// Each side stores, then loads what the other stored; without a full barrier between the two
// on both sides, each may miss the other's store (x86 keeps stores in a store buffer past
// later loads) and a wake-up is lost. A full barrier on the publishing side drains the FIX
// thread's store buffer on every event, and so waits for the queue's cache lines to come
// back from the consumer's core: a third of a publish's time here, and more when the host
// places the two vCPUs far apart.
//
// Linux's membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) moves that cost to the rare side: it
// returns only once every thread of this process has passed a full barrier (an IPI to each
// CPU running one), so the frequent side needs only a compiler barrier. Threads of other
// processes (a QuickFIX worker waking the core over shared memory) are not covered and keep
// their own full barrier.
#pragma once

#include <atomic>

namespace linkwatch {

class ProcessFence {
 public:
  // Registers this process for expedited membarrier the first time, once. False when the
  // kernel (or a seccomp filter) refuses it: both sides then use full barriers.
  static bool available() noexcept;

  // The frequent side, between its store and its load. `asymmetric` must be the value of
  // available() that the other side uses.
  // Under ThreadSanitizer, which models no fences (GCC rejects them there), callers use a
  // sequentially consistent read-modify-write on the shared word instead, as EventHub does,
  // and these two order nothing.
  static void light(bool asymmetric) noexcept {
#if defined(__SANITIZE_THREAD__)
    (void)asymmetric;
#else
    if (asymmetric)
      std::atomic_signal_fence(std::memory_order_seq_cst);
    else
      std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
  }

  // The rare side, between its store and its load: a full barrier here and, when
  // `asymmetric`, one in every other running thread of the process.
  static void heavy(bool asymmetric) noexcept;
};

}  // namespace linkwatch
