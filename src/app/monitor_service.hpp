// linkwatch as `run` and `demo` assemble it: the core, the QuickFIX sessions, the HTTP port
// and, when configured, the alert pushes, started and stopped in the right order.
#pragma once

#include <chrono>
#include <memory>

#include <linkwatch/clock.hpp>
#include <linkwatch/config.hpp>
#include <linkwatch/fix_engine.hpp>
#include <linkwatch/link_monitor.hpp>

#include "alerts/alert_pusher.hpp"
#include "fix/logon_guard.hpp"
#include "http/http_server.hpp"
#include "journal/journal.hpp"

namespace linkwatch {

// Which QuickFIX socket acceptor runs the sessions (README, "Acceptor").
enum class AcceptorThreading {
  kAuto,      // a thread per connection in QuickFIX worker processes, one thread in this one
  kSingle,    // `run --single-threaded`: SocketAcceptor everywhere
  kThreaded,  // `run --threaded`: ThreadedSocketAcceptor everywhere
};
bool threadedAcceptor(AcceptorThreading threading, const MonitorConfig& config);

class MonitorService {
 public:
  // Throws std::runtime_error for settings QuickFIX rejects.
  MonitorService(const MonitorConfig& config, AcceptorThreading threading);
  ~MonitorService();
  MonitorService(const MonitorService&) = delete;
  MonitorService& operator=(const MonitorService&) = delete;

  // Throws std::runtime_error when a port can't be bound (everything started is stopped).
  void start();
  // FIX sessions first, so that their last events are still applied; idempotent.
  void stop();

  LinkMonitor& monitor() { return monitor_; }
  HttpServer& http() { return http_; }
  // The durable event journal (JournalPath), else nullptr: certification verdicts go to
  // journal()->appendCertificationVerdict().
  journal::Journal* journal() { return journal_.get(); }

 private:
  SystemClock clock_;
  std::chrono::microseconds timeSlice_;
  // Before the monitor: opening it takes the directory lock and reads the previous runs'
  // history, and it must outlive the monitor whose listeners write to it.
  std::unique_ptr<journal::Journal> journal_;
  LinkMonitor monitor_;
  HttpServer http_;
  std::unique_ptr<LogonGuard> logonGuard_;  // before engine_, which holds a pointer to it
  std::unique_ptr<FixEngine> engine_;
  std::unique_ptr<AlertPusher> alerts_;
  bool started_ = false;
};

}  // namespace linkwatch
