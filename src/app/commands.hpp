// The simulate and demo subcommands (run and check-config live in main.cpp).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace linkwatch {

struct SimulateCommandOptions {
  std::string configPath;
  std::vector<std::string> members;
  bool faults = false;
  int meanFaultIntervalMs = 10000;
  std::vector<std::string> faultKinds;
  std::uint64_t seed = 1;
  std::string control;  // HOST:PORT of the command channel; empty: none
  int durationSeconds = 0;
  int statusIntervalSeconds = 10;
  std::string profile = "well-behaved";  // sim::SimProfile by name
};

struct DemoCommandOptions {
  std::string configPath = "config/demo.cfg";
  int meanFaultIntervalMs = 3000;
  int durationSeconds = 0;
  std::uint64_t seed = 1;
};

void addSimulateOptions(CLI::App& command, SimulateCommandOptions& options);
void addDemoOptions(CLI::App& command, DemoCommandOptions& options);
int runSimulate(const SimulateCommandOptions& options);
int runDemo(const DemoCommandOptions& options);

}  // namespace linkwatch
