// The security pieces `run` and `demo` add around the monitor: the LogonGuard built from the
// configuration, and its counters on /metrics.
#pragma once

#include <functional>
#include <memory>

#include <linkwatch/config.hpp>
#include <linkwatch/shm_worker_counters.hpp>

#include "fix/logon_guard.hpp"

namespace prometheus {
class Collectable;
}  // namespace prometheus

namespace linkwatch {

// One rule per configured link (initiator links never see a member's Logon and have none).
std::unique_ptr<LogonGuard> makeLogonGuard(const MonitorConfig& config);

// linkwatch_logon_refusals_total{reason} (every reason, always present),
// linkwatch_logons_refused_total{member,session,reason} (once non-zero) and
// linkwatch_logon_blocked_addresses_total. No address and no credential in any label.
// `elsewhere`, when set, gives what LogonGuards in other processes counted (QuickFIX worker
// processes, by this configuration's link indexes): added to `guard`'s own, so that the
// series are the same with and without workers.
using ElsewhereLogonCounts = std::function<WorkerCounterTotals()>;
std::shared_ptr<prometheus::Collectable> logonRefusalMetrics(const LogonGuard& guard,
                                                             ElsewhereLogonCounts elsewhere = {});

}  // namespace linkwatch
