#include "app/monitor_service.hpp"

#include "app/process.hpp"

namespace linkwatch {

MonitorService::MonitorService(const MonitorConfig& config, bool threaded)
    : monitor_(config, clock_),
      http_(monitor_, config.httpHost, config.httpPort, clock_),
      engine_(FixEngine::create(fixOptions(config, threaded), monitor_.hub())) {
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
  try {
    if (alerts_) alerts_->start();
    monitor_.start();
    http_.start();
    engine_->start();
  } catch (...) {
    stop();
    throw;
  }
}

void MonitorService::stop() {
  if (!started_) return;
  started_ = false;
  engine_->stop();
  http_.stop();
  monitor_.stop();
  if (alerts_) alerts_->stop();
}

}  // namespace linkwatch
