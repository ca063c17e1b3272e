// Shared by the loopback integration tests: free ports, temp files, waiting on a condition
// with a deadline, and a monitor running real QuickFIX sessions from a settings text.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <linkwatch/clock.hpp>
#include <linkwatch/config.hpp>
#include <linkwatch/fix_engine.hpp>
#include <linkwatch/link_monitor.hpp>

#include "common/test_support.hpp"

namespace linkwatch::testing {

using test_support::freePort;
using test_support::TempDir;

// Polls `condition` until it holds or `timeout` passes; never a fixed sleep.
inline bool waitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  return test_support::eventually(condition, timeout);
}

// Acceptor sessions LINKWATCH->MEMBER on one port, HeartBtInt per member given by the
// simulator; the members play the other side.
inline std::string acceptorSettings(std::uint16_t port, const std::vector<std::string>& members,
                                    int heartBtInt = 1, const std::string& extraDefault = "") {
  std::string text =
      "[DEFAULT]\nConnectionType=acceptor\nBeginString=FIX.4.4\nSenderCompID=LINKWATCH\n"
      "SocketAcceptHost=127.0.0.1\nSocketAcceptPort=" +
      std::to_string(port) +
      "\nNonStopSession=Y\nUseDataDictionary=N\nHeartBtInt=" + std::to_string(heartBtInt) + "\n" +
      extraDefault + "\n[LINKWATCH]\nHttpListen=127.0.0.1:" + std::to_string(freePort()) + "\n";
  for (const std::string& m : members) {
    text += "\n[SESSION]\nTargetCompID=" + m + "\nMemberId=" + m + "\nMemberName=" + m +
            " Bank\nCriticality=critical\n";
  }
  return text;
}

// The monitor as `linkwatch run` assembles it, minus HTTP: LinkMonitor + FixEngine.
class RunningMonitor {
 public:
  RunningMonitor(const TempDir& dir, const std::string& settings, bool startCore = true,
                 const std::function<void(MonitorConfig&)>& adjust = {}) {
    const std::string file = dir.write("linkwatch.cfg", settings);
    config_ = loadConfig(file);
    if (adjust) adjust(config_);
    monitor_ = std::make_unique<LinkMonitor>(config_, clock_);
    FixEngineOptions options;
    options.settingsPath = file;
    for (const LinkConfig& link : config_.links)
      options.links.push_back({link.sessionKey, link.rttProbeInterval.count()});
    engine_ = FixEngine::create(options, monitor_->hub());
    if (startCore) monitor_->start();
    engine_->start();
  }
  ~RunningMonitor() {
    engine_->stop();
    monitor_->stop();
  }

  LinkMonitor& monitor() { return *monitor_; }
  FixEngine& engine() { return *engine_; }
  const MonitorConfig& config() const { return config_; }
  LinkIndex link(const std::string& member) const { return monitor_->findLink(member); }
  LinkState state(const std::string& member) const {
    return monitor_->stats(link(member)).state.load();
  }
  LinkReason reason(const std::string& member) const {
    return monitor_->stats(link(member)).reason.load();
  }
  const LinkStats& stats(const std::string& member) const { return monitor_->stats(link(member)); }
  bool is(const std::string& member, LinkState s, LinkReason r) const {
    return state(member) == s && reason(member) == r;
  }

 private:
  SystemClock clock_;
  MonitorConfig config_;
  std::unique_ptr<LinkMonitor> monitor_;
  std::unique_ptr<FixEngine> engine_;
};

}  // namespace linkwatch::testing
