#include "app/monitor_service.hpp"

#include <iostream>

#include <linkwatch/fix_worker_plan.hpp>
#include <linkwatch/thread_scheduling.hpp>

#include "app/fix_worker.hpp"
#include "app/fix_worker_metrics.hpp"
#include "app/process.hpp"
#include "app/security_setup.hpp"

namespace linkwatch {
namespace {

// Throws journal::JournalError (a std::runtime_error) when another process owns the directory.
std::unique_ptr<journal::Journal> openJournal(const MonitorConfig& config, const Clock& clock) {
  if (config.journalPath.empty()) return nullptr;
  return std::make_unique<journal::Journal>(journal::JournalOptions::fromConfig(config), clock,
                                            std::cerr);
}

// The threads `run` starts here take ThreadTimeSlice only when QuickFIX runs in this process.
// With worker processes, short slices on QuickFIX's busy select() loops made them preempt one
// another: at 5,000 sessions one A/B gave the workers 121 % of a core instead of 93 % and
// reset -> down p99 24 ms instead of 14 (the VM varies widely there: bench/RESULTS.md). There
// only the threads that carry a disconnect and do little else take it: the core thread
// (LinkMonitor applies its config's slice itself) and each worker's forwarder.
std::chrono::microseconds sliceForStartedThreads(const MonitorConfig& config) {
  return usesFixWorkers(config) ? std::chrono::microseconds{0} : config.threadTimeSlice;
}

}  // namespace

// At 5,000 sessions in seven worker processes, the threaded acceptor had reset -> down p99
// 1.8-6.3 ms against 5.4-17 ms for the single-threaded one over four runs each, whose select()
// loop walks every socket of its worker on each wake-up; in one process (up to about 1,000
// sessions) the single-threaded one keeps a fixed number of threads and met the 1 ms target
// (bench/RESULTS.md).
bool threadedAcceptor(AcceptorThreading threading, const MonitorConfig& config) {
  switch (threading) {
    case AcceptorThreading::kSingle:
      return false;
    case AcceptorThreading::kThreaded:
      return true;
    case AcceptorThreading::kAuto:
      break;
  }
  return usesFixWorkers(config);
}

MonitorService::MonitorService(const MonitorConfig& config, AcceptorThreading threading)
    : timeSlice_(sliceForStartedThreads(config)),
      journal_(openJournal(config, clock_)),
      monitor_(config, clock_),
      http_(monitor_, config.httpHost, config.httpPort, clock_),
      logonGuard_(makeLogonGuard(config)),
      // Past one process's descriptor budget (or as configured) QuickFIX runs in worker
      // processes; otherwise in this one.
      engine_(usesFixWorkers(config)
                  ? std::make_unique<FixWorkerPool>(config, threadedAcceptor(threading, config),
                                                    monitor_.hub())
                  : FixEngine::create(
                        fixOptions(config, threadedAcceptor(threading, config), logonGuard_.get()),
                        monitor_.hub())) {
  // Refused logons on /metrics; TLS and basic auth on the HTTP port. With worker processes
  // the logon checks count there: the same series, from their shared-memory counters.
  if (const auto* pool = dynamic_cast<const FixWorkerPool*>(engine_.get())) {
    http_.addCollectable(
        logonRefusalMetrics(*logonGuard_, [pool] { return pool->logonCounters(); }));
    http_.addCollectable(fixWorkerMetrics(*pool));
  } else {
    http_.addCollectable(logonRefusalMetrics(*logonGuard_));
  }
  http_.setSecurity(config.security.secrets, config.security.httpTlsCertificate);
  // Restored links show `unknown` until re-observed; then every change goes to the journal.
  if (journal_) {
    journal_->restoreInto(monitor_);
    journal_->attach(monitor_);
    http_.setEventHistory(journal_.get());
  }
  // The alert listener and its metrics must be registered before the core and HTTP start.
  if (!config.alertmanagerUrls.empty()) {
    alerts_ =
        std::make_unique<AlertPusher>(monitor_, AlertPusherOptions::fromConfig(config), clock_);
    monitor_.addListener(alerts_->listener());
    http_.addCollectable(alerts_->metrics());
  }
}

MonitorService::~MonitorService() { stop(); }

void MonitorService::start() {
  started_ = true;
  // Threads inherit the time slice of the thread that creates them: every thread started here
  // gets ThreadTimeSlice (with worker processes only the core: sliceForStartedThreads); the
  // caller's own is restored after, so that what it starts next (the demo's simulated members)
  // competes as usual.
  const Nanos callersSlice = threadTimeSlice();
  const auto slice = std::chrono::duration_cast<std::chrono::nanoseconds>(timeSlice_).count();
  if (slice != 0) {
    if (const std::string why = setThreadTimeSlice(slice); !why.empty())
      std::cerr << "linkwatch: ThreadTimeSlice not applied: " << why << std::endl;
  }
  try {
    if (alerts_) alerts_->start();
    if (journal_) journal_->start();
    monitor_.start();
    http_.start();
    engine_->start();
  } catch (...) {
    if (slice != 0) setThreadTimeSlice(callersSlice);
    stop();
    throw;
  }
  if (slice != 0) setThreadTimeSlice(callersSlice);
}

void MonitorService::stop() {
  if (!started_) return;
  started_ = false;
  engine_->stop();
  http_.stop();
  monitor_.stop();
  if (alerts_) alerts_->stop();
  if (journal_) journal_->stop();
}

}  // namespace linkwatch
