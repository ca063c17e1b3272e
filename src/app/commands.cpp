#include "app/commands.hpp"

#include <iostream>

#include <linkwatch/config.hpp>

#include "app/monitor_service.hpp"
#include "app/process.hpp"
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
                     "HOST:PORT for the command channel (lines: 'fault MEMBER SPEC', "
                     "'logout MEMBER [TEXT]', 'app MEMBER [COUNT]', 'status')");
  command.add_option("--duration", options.durationSeconds, "Seconds to run; 0 until SIGINT")
      ->check(CLI::NonNegativeNumber);
  command
      .add_option("--status-interval", options.statusIntervalSeconds,
                  "Seconds between status lines; 0 for none")
      ->check(CLI::NonNegativeNumber);
  command.add_option("--profile", options.profile,
                     "Member behaviour: well-behaved, or one broken session-level rule (" +
                         sim::simProfileNames() + ")");
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
  const auto profile = sim::simProfileFromString(options.profile);
  if (!profile) {
    std::cerr << "linkwatch simulate: --profile: unknown profile \"" << options.profile
              << "\"; expected one of: " << sim::simProfileNames() << '\n';
    return kExitUsage;
  }
  sim.profile = *profile;
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
    MonitorService service(*config, AcceptorThreading::kAuto);
    service.start();
    const std::string url = service.http().url();

    sim::SimulatorOptions simOptions;
    sim::FaultScheduleConfig schedule;
    schedule.seed = options.seed;
    schedule.meanInterval = std::chrono::milliseconds(options.meanFaultIntervalMs);
    simOptions.schedule = schedule;
    sim::Simulator members(sim::membersFromMonitorConfig(*config), simOptions);
    members.start();

    std::cout << "linkwatch demo: " << config->links.size()
              << " members, simulated with rolling faults\n"
              << "  status wall:   " << url << "/\n"
              << "  links (JSON):  " << url << "/api/v1/links\n"
              << "  transitions:   " << url << "/api/v1/events\n"
              << "  metrics:       " << url << "/metrics\n"
              << "  health:        " << url << "/healthz\n"
              << "Ctrl-C stops the demo." << std::endl;
    const bool bySignal = signals.wait(std::chrono::seconds(options.durationSeconds));
    std::cout << "linkwatch demo: " << (bySignal ? "stopping on signal" : "duration reached")
              << std::endl;
    members.stop();
    service.stop();
  } catch (const std::exception& e) {
    std::cerr << "linkwatch demo: " << e.what() << '\n';
    return kExitRuntime;
  }
  return kExitOk;
}

}  // namespace linkwatch
