// linkwatch as `run` and `demo` assemble it: the core, the QuickFIX sessions, the HTTP port
// and, when configured, the alert pushes, started and stopped in the right order.
#pragma once

#include <memory>

#include <linkwatch/clock.hpp>
#include <linkwatch/config.hpp>
#include <linkwatch/fix_engine.hpp>
#include <linkwatch/link_monitor.hpp>

#include "alerts/alert_pusher.hpp"
#include "http/http_server.hpp"

namespace linkwatch {

class MonitorService {
 public:
  // Throws std::runtime_error for settings QuickFIX rejects.
  MonitorService(const MonitorConfig& config, bool threaded);
  ~MonitorService();
  MonitorService(const MonitorService&) = delete;
  MonitorService& operator=(const MonitorService&) = delete;

  // Throws std::runtime_error when a port can't be bound (everything started is stopped).
  void start();
  // FIX sessions first, so that their last events are still applied; idempotent.
  void stop();

  LinkMonitor& monitor() { return monitor_; }
  HttpServer& http() { return http_; }

 private:
  SystemClock clock_;
  LinkMonitor monitor_;
  HttpServer http_;
  std::unique_ptr<FixEngine> engine_;
  std::unique_ptr<AlertPusher> alerts_;
  bool started_ = false;
};

}  // namespace linkwatch
