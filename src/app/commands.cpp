#include "app/commands.hpp"

#include <csignal>
#include <iostream>

#include <linkwatch/config.hpp>
#include <linkwatch/fix_engine.hpp>
#include <linkwatch/link_monitor.hpp>

#include "alerts/alert_pusher.hpp"
#include "app/process.hpp"
#include "http/http_server.hpp"
#include "sim/simulator.hpp"

namespace linkwatch {

void addSimulateOptions(CLI::App& command, SimulateCommandOptions& options) {
  command.add_option("--config", options.configPath, "The monitor's settings file")->required();
  command.add_option("--member", options.members,
                     "Only these MemberIds (repeatable); default every acceptor session");
  command.add_flag("--faults", options.faults, "Inject random faults on a rolling schedule");
  command
      .add_option("--fault-interval-ms", options.meanFaultIntervalMs,
                  "Mean time between faults across all members")
      ->check(CLI::Range(10, 3600000));
  command.add_option("--fault-kind", options.faultKinds,
                     "Allowed fault kinds (repeatable); default all");
  command.add_option("--seed", options.seed, "Seed of the fault schedule");
  command.add_option("--control", options.control,
                     "HOST:PORT for the command channel (lines: 'fault MEMBER SPEC', 'status')");
  command.add_option("--duration", options.durationSeconds, "Seconds to run; 0 until SIGINT")
      ->check(CLI::NonNegativeNumber);
  command
      .add_option("--status-interval", options.statusIntervalSeconds,
                  "Seconds between status lines; 0 for none")
      ->check(CLI::NonNegativeNumber);
}

void addDemoOptions(CLI::App& command, DemoCommandOptions& options) {
  command.add_option("--config", options.configPath, "Settings file of the demo")
      ->capture_default_str();
  command
      .add_option("--fault-interval-ms", options.meanFaultIntervalMs,
                  "Mean time between faults across all members")
      ->check(CLI::Range(10, 3600000))
      ->capture_default_str();
  command.add_option("--duration", options.durationSeconds, "Seconds to run; 0 until SIGINT")
      ->check(CLI::NonNegativeNumber);
  command.add_option("--seed", options.seed, "Seed of the fault schedule");
}

int runSimulate(const SimulateCommandOptions& options) {
  auto config = loadOrReport(options.configPath);
  if (!config) return kExitUsage;
  sim::SimulateOptions sim;
  sim.config = std::move(*config);
  sim.members = options.members;
  sim.faultSchedule = options.faults;
  sim.meanFaultInterval = std::chrono::milliseconds(options.meanFaultIntervalMs);
  for (const std::string& name : options.faultKinds) {
    const auto kind = sim::faultKindFromString(name);
    if (!kind) {
      std::cerr << "linkwatch simulate: --fault-kind: unknown kind \"" << name << "\"\n"
                << sim::faultSyntaxHelp() << '\n';
      return kExitUsage;
    }
    sim.faultKinds.push_back(*kind);
  }
  sim.seed = options.seed;
  if (!options.control.empty()) {
    const auto colon = options.control.rfind(':');
    int port = -1;
    try {
      port = colon == std::string::npos ? -1 : std::stoi(options.control.substr(colon + 1));
    } catch (const std::exception&) {
      port = -1;
    }
    if (port < 0 || port > 65535) {
      std::cerr << "linkwatch simulate: --control: expected HOST:PORT, got \"" << options.control
                << "\"\n";
      return kExitUsage;
    }
    sim.controlHost = options.control.substr(0, colon);
    sim.controlPort = port;
  }
  sim.duration = std::chrono::seconds(options.durationSeconds);
  sim.statusInterval = std::chrono::seconds(options.statusIntervalSeconds);
  return sim::runSimulateCommand(sim);
}

int runDemo(const DemoCommandOptions& options) {
  auto config = loadOrReport(options.configPath);
  if (!config) return kExitUsage;
  StopSignals signals;
  try {
    SystemClock clock;
    LinkMonitor monitor(*config, clock);
    HttpServer http(monitor, config->httpHost, config->httpPort, clock);
    std::unique_ptr<FixEngine> engine =
        FixEngine::create(fixOptions(*config, false), monitor.hub());
    // Pushed alerts: listener and metrics must be registered before the monitor and HTTP start.
    std::unique_ptr<AlertPusher> alerts;
    if (!config->alertmanagerUrls.empty()) {
      alerts =
          std::make_unique<AlertPusher>(monitor, AlertPusherOptions::fromConfig(*config), clock);
      monitor.addListener(alerts->listener());
      http.addCollectable(alerts->metrics());
      alerts->start();
    }
    monitor.start();
    http.start();
    engine->start();

    sim::SimulatorOptions simOptions;
    sim::FaultScheduleConfig schedule;
    schedule.seed = options.seed;
    schedule.meanInterval = std::chrono::milliseconds(options.meanFaultIntervalMs);
    simOptions.schedule = schedule;
    sim::Simulator members(sim::membersFromMonitorConfig(*config), simOptions);
    members.start();

    std::cout << "linkwatch demo: " << config->links.size()
              << " members, simulated with rolling faults\n"
              << "  links (JSON):  " << http.url() << "/api/v1/links\n"
              << "  transitions:   " << http.url() << "/api/v1/events\n"
              << "  metrics:       " << http.url() << "/metrics\n"
              << "  health:        " << http.url() << "/healthz\n"
              << "Ctrl-C stops the demo." << std::endl;
    const bool bySignal = signals.wait(std::chrono::seconds(options.durationSeconds));
    std::cout << "linkwatch demo: " << (bySignal ? "stopping on signal" : "duration reached")
              << std::endl;
    members.stop();
    engine->stop();
    http.stop();
    monitor.stop();
    if (alerts) alerts->stop();
  } catch (const std::exception& e) {
    std::cerr << "linkwatch demo: " << e.what() << '\n';
    return kExitRuntime;
  }
  return kExitOk;
}

}  // namespace linkwatch
