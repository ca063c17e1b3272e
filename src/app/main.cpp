// The linkwatch command line: run, check-config, simulate, demo, certify.
//
// Exit codes: 0 ok, 2 bad usage or bad configuration, 1 runtime failure.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <string>

#include <linkwatch/config.hpp>
#include <linkwatch/fix_worker_plan.hpp>

#include "app/certify_command.hpp"
#include "app/commands.hpp"
#include "app/fix_worker.hpp"
#include "app/monitor_service.hpp"
#include "app/process.hpp"

namespace linkwatch {
namespace {

int runCheckConfig(const std::string& path) {
  const auto config = loadOrReport(path);
  if (!config) return kExitUsage;
  if (!certificationSectionValid(*config)) return kExitUsage;
  const DescriptorBudget budget = descriptorBudget(*config);
  int acceptors = 0;
  for (const LinkConfig& l : config->links)
    acceptors += l.connectionType == ConnectionType::kAcceptor ? 1 : 0;
  std::cout << path << ": ok: " << config->links.size() << " sessions (" << acceptors
            << " acceptor, " << config->links.size() - static_cast<std::size_t>(acceptors)
            << " initiator), HTTP on " << config->httpHost << ':' << config->httpPort;
  if (usesFixWorkers(*config)) {
    // Past one process's budget: each worker has a budget of its own.
    const std::vector<FixShard> shards = planFixShards(*config);
    int most = 0;
    for (const FixShard& shard : shards) most = std::max(most, shard.descriptors);
    std::cout << ", " << shards.size() << " QuickFIX worker processes (~" << most << " of "
              << budget.limit << " descriptors in the fullest)\n";
  } else {
    std::cout << ", ~" << budget.total << " of " << budget.limit << " descriptors\n";
  }
  return kExitOk;
}

int runMonitor(const std::string& path, AcceptorThreading threading) {
  auto config = loadOrReport(path);
  if (!config) return kExitUsage;
  StopSignals signals;
  try {
    MonitorService service(*config, threading);
    service.start();
    const std::string url = service.http().url();
    std::cout << "linkwatch: monitoring " << config->links.size() << " links; status wall " << url
              << "/, metrics " << url << "/metrics, API " << url << "/api/v1/links" << std::endl;
    signals.wait();
    std::cout << "linkwatch: stopping" << std::endl;
    service.stop();
  } catch (const std::exception& e) {
    std::cerr << "linkwatch: " << e.what() << '\n';
    return kExitRuntime;
  }
  return kExitOk;
}

}  // namespace
}  // namespace linkwatch

int main(int argc, char** argv) {
  using namespace linkwatch;
  CLI::App app{"linkwatch: a low-latency FIX trading-link connectivity monitor"};
  app.require_subcommand(1);

  std::string configPath;
  bool threaded = false;
  bool singleThreaded = false;
  auto* run = app.add_subcommand("run", "Monitor the sessions of a settings file");
  run->add_option("--config", configPath, "QuickFIX settings file with linkwatch keys")->required();
  auto* threadedFlag = run->add_flag(
      "--threaded", threaded,
      "One QuickFIX thread per connection everywhere (the default in worker processes)");
  run->add_flag("--single-threaded", singleThreaded,
                "One QuickFIX thread for all sessions everywhere (the default in this process)")
      ->excludes(threadedFlag);

  auto* check = app.add_subcommand("check-config", "Validate a settings file; start nothing");
  check->add_option("--config", configPath, "QuickFIX settings file with linkwatch keys")
      ->required();

  SimulateCommandOptions simulate;
  auto* sim = app.add_subcommand("simulate", "Play the members of a settings file, with faults");
  addSimulateOptions(*sim, simulate);

  // Started by `run` itself for QuickFIX worker processes (src/app/fix_worker.hpp); hidden.
  FixWorkerCommandOptions worker;
  auto* workerCmd = app.add_subcommand("fix-worker", "One shard of run's QuickFIX sessions");
  workerCmd->group("");
  workerCmd->add_option("--config", worker.configPath)->required();
  workerCmd->add_option("--shard", worker.shard)->required();
  workerCmd->add_option("--shm-fd", worker.shmFd)->required();
  workerCmd->add_flag("--threaded", worker.threaded);

  DemoCommandOptions demo;
  auto* demoCmd = app.add_subcommand(
      "demo", "Monitor config/demo.cfg with 50 simulated members and rolling faults");
  addDemoOptions(*demoCmd, demo);

  CertifyCommandOptions certify;
  auto* certifyCmd = app.add_subcommand(
      "certify", "Certify a member's FIX engine against the session-level test cases");
  addCertifyOptions(*certifyCmd, certify);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  if (*run)
    return runMonitor(configPath, threaded         ? AcceptorThreading::kThreaded
                                  : singleThreaded ? AcceptorThreading::kSingle
                                                   : AcceptorThreading::kAuto);
  if (*check) return runCheckConfig(configPath);
  if (*sim) return runSimulate(simulate);
  if (*demoCmd) return runDemo(demo);
  if (*certifyCmd) return runCertify(certify);
  if (*workerCmd) return runFixWorker(worker);
  return kExitUsage;
}
