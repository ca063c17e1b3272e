// What every subcommand shares: exit codes, loading a config with a readable report,
// and waiting for SIGINT/SIGTERM.
#pragma once

#include <chrono>
#include <csignal>
#include <optional>
#include <string>

#include <linkwatch/config.hpp>
#include <linkwatch/fix_engine.hpp>

namespace linkwatch {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

// Loads a settings file; on failure prints every problem (file:line: [section] key: what
// was expected) to stderr and returns nullopt.
std::optional<MonitorConfig> loadOrReport(const std::string& path);

// `logonGuard` (may be null, not owned) checks the Logons members send.
FixEngineOptions fixOptions(const MonitorConfig& config, bool threaded,
                            LogonGuard* logonGuard = nullptr);

// Blocks SIGINT and SIGTERM in this thread and in every thread started afterwards, so that
// wait() receives them. Construct before starting any thread.
class StopSignals {
 public:
  StopSignals();
  // Waits for a signal, or for `timeout` when it is positive. True if a signal came.
  bool wait(std::chrono::seconds timeout = std::chrono::seconds(0)) const;

 private:
  sigset_t set_;
};

}  // namespace linkwatch
