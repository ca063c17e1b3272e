#include "app/process.hpp"

#include <pthread.h>

#include <cerrno>
#include <iostream>

namespace linkwatch {

std::optional<MonitorConfig> loadOrReport(const std::string& path) {
  try {
    return loadConfig(path);
  } catch (const ConfigError& e) {
    for (const ConfigIssue& issue : e.issues()) std::cerr << issue.describe() << '\n';
    std::cerr << path << ": " << e.issues().size() << " problem"
              << (e.issues().size() == 1 ? "" : "s") << "; nothing was started\n";
    return std::nullopt;
  }
}

FixEngineOptions fixOptions(const MonitorConfig& config, bool threaded, LogonGuard* logonGuard) {
  FixEngineOptions options;
  options.settingsPath = config.file;
  options.threaded = threaded;
  options.tls = config.security.fixTls;
  options.logonGuard = logonGuard;
  options.idleConnectionTimeoutMs = config.security.idleConnectionTimeout.count();
  options.logonDeadlineMs = config.security.logonDeadline.count();
  for (const LinkConfig& link : config.links)
    options.links.push_back({link.sessionKey, link.rttProbeInterval.count()});
  return options;
}

StopSignals::StopSignals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

bool StopSignals::wait(std::chrono::seconds timeout) const {
  if (timeout.count() <= 0) {
    int signal = 0;
    return sigwait(&set_, &signal) == 0;
  }
  const timespec ts{static_cast<time_t>(timeout.count()), 0};
  while (true) {
    const int r = sigtimedwait(&set_, nullptr, &ts);
    if (r > 0) return true;
    if (errno == EAGAIN) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace linkwatch
