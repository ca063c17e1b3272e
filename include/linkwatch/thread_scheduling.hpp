// Asking the kernel to give a latency-sensitive thread the CPU soon after it wakes.
#pragma once

#include <string>

#include <linkwatch/clock.hpp>

namespace linkwatch {

// Sets the calling thread's time slice under the kernel's fair scheduler (EEVDF, Linux 6.12
// and later: sched_setattr's sched_runtime for SCHED_OTHER, 0.1 to 100 ms). A waking thread
// whose slice is shorter than the running one's gets an earlier virtual deadline, so it
// preempts instead of waiting for that slice to end; its share of the CPU is unchanged.
// Needs no privilege; threads created afterwards inherit it. 0 restores the default slice.
// Returns an empty string, or why it could not (older kernels ignore the request).
std::string setThreadTimeSlice(Nanos slice) noexcept;

// The calling thread's time slice as the kernel reports it; 0 when it uses the default.
Nanos threadTimeSlice() noexcept;

}  // namespace linkwatch
