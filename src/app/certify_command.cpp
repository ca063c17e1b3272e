#include "app/certify_command.hpp"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <iostream>
#include <memory>
#include <optional>

#include <linkwatch/config.hpp>
#include <linkwatch/link_monitor.hpp>

#include "app/process.hpp"
#include "cert/certification_catalogue.hpp"
#include "cert/certification_progress.hpp"
#include "cert/certification_report.hpp"
#include "cert/certification_runner.hpp"
#include "http/http_server.hpp"
#include "journal/journal.hpp"

namespace linkwatch {
namespace {

// linkwatch_certification_case_result{member,case}: 1 pass, 0 fail, -1 skipped; a case has
// no series until it has run. linkwatch_certification_last_run_timestamp_seconds{member}:
// when the run in progress (or the last one) started.
class CertificationMetrics final : public prometheus::Collectable {
 public:
  explicit CertificationMetrics(const cert::CertificationProgress& progress)
      : progress_(progress) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const cert::CertificationProgress::Snapshot s = progress_.snapshot();
    prometheus::MetricFamily results;
    results.name = "linkwatch_certification_case_result";
    results.help =
        "Verdict of a certification case: 1 pass, 0 fail, -1 skipped (absent before it ran)";
    results.type = prometheus::MetricType::Gauge;
    for (const auto& [caseId, value] : s.results) {
      prometheus::ClientMetric m;
      m.label = {{"case", caseId}, {"member", s.memberId}};
      m.gauge.value = value;
      results.metric.push_back(std::move(m));
    }
    prometheus::MetricFamily lastRun;
    lastRun.name = "linkwatch_certification_last_run_timestamp_seconds";
    lastRun.help = "When the current or last certification run of the member started";
    lastRun.type = prometheus::MetricType::Gauge;
    if (s.runStartedWall != 0) {
      prometheus::ClientMetric m;
      m.label = {{"member", s.memberId}};
      m.gauge.value = static_cast<double>(s.runStartedWall) / 1e9;
      lastRun.metric.push_back(std::move(m));
    }
    return {std::move(results), std::move(lastRun)};
  }

 private:
  const cert::CertificationProgress& progress_;
};

std::optional<std::pair<std::string, std::uint16_t>> parseHostPort(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  try {
    std::size_t used = 0;
    const int port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || port < 0 || port > 65535) return std::nullopt;
    return std::make_pair(text.substr(0, colon), static_cast<std::uint16_t>(port));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

void addCertifyOptions(CLI::App& command, CertifyCommandOptions& options) {
  command.add_option("--config", options.configPath, "Settings file with the member's [SESSION]")
      ->required();
  command.add_option("--member", options.memberId, "MemberId of the session to certify")
      ->required();
  command.add_option("--cases", options.cases,
                     "Comma-separated case ids (default: Cases= of [CERTIFICATION], or all)");
  command.add_option("--report", options.reportDir,
                     "Directory for the JUnit XML, JSON and HTML reports");
  command.add_option("--http", options.http,
                     "HOST:PORT for /metrics, the API and the wall while the run lasts");
  std::string cases;
  for (const cert::CaseDefinition& d : cert::catalogue()) cases += "\n  " + std::string(d.id);
  command.footer("Cases, in the order they run:" + cases);
}

bool certificationSectionValid(const MonitorConfig& config) {
  if (config.certificationLine == 0 || config.links.empty()) return true;
  try {
    cert::makePlan(config, config.links.front().memberId);
    return true;
  } catch (const ConfigError& e) {
    for (const ConfigIssue& issue : e.issues()) std::cerr << issue.describe() << '\n';
    std::cerr << config.file << ": " << e.issues().size() << " problem"
              << (e.issues().size() == 1 ? "" : "s") << " in [CERTIFICATION]\n";
    return false;
  }
}

int runCertify(const CertifyCommandOptions& options,
               const std::function<void(const cert::CaseVerdict&)>& observer) {
  auto config = loadOrReport(options.configPath);
  if (!config) return kExitUsage;
  cert::CertificationPlan plan;
  try {
    plan =
        cert::makePlan(*config, options.memberId,
                       options.cases.empty() ? std::nullopt : std::optional(options.cases),
                       options.reportDir.empty() ? std::nullopt : std::optional(options.reportDir));
  } catch (const ConfigError& e) {
    for (const ConfigIssue& issue : e.issues()) std::cerr << issue.describe() << '\n';
    std::cerr << "linkwatch certify: " << e.issues().size() << " problem"
              << (e.issues().size() == 1 ? "" : "s") << "; nothing was run\n";
    return kExitUsage;
  }
  std::optional<std::pair<std::string, std::uint16_t>> listen;
  if (!options.http.empty()) {
    listen = parseHostPort(options.http);
    if (!listen) {
      std::cerr << "linkwatch certify: --http: expected HOST:PORT, got \"" << options.http
                << "\"\n";
      return kExitUsage;
    }
  } else if (config->httpListenSet) {
    listen = std::make_pair(config->httpHost, config->httpPort);
  }

  try {
    SystemClock clock;
    cert::CertificationProgress progress;
    // Live status: the certification session is the one `test` link of an in-process monitor.
    std::unique_ptr<LinkMonitor> monitor;
    std::unique_ptr<HttpServer> http;
    if (listen) {
      MonitorConfig live = *config;
      LinkConfig link = plan.link;
      link.criticality = Criticality::kTest;
      live.links = {link};
      monitor = std::make_unique<LinkMonitor>(live, clock);
      http = std::make_unique<HttpServer>(*monitor, listen->first, listen->second, clock);
      http->addCollectable(std::make_shared<CertificationMetrics>(progress));
      monitor->start();
      http->start();
    }

    // Verdicts go to a journal of their own under JournalPath: the monitor's directory is
    // locked by `linkwatch run`, which may be watching production links at the same time.
    std::unique_ptr<journal::Journal> verdictJournal;
    if (!config->journalPath.empty()) {
      journal::JournalOptions journalOptions = journal::JournalOptions::fromConfig(*config);
      journalOptions.directory = config->journalPath + "/certify";
      verdictJournal = std::make_unique<journal::Journal>(journalOptions, clock, std::cerr);
      verdictJournal->start();
    }
    const std::string runId =
        plan.link.memberId + "-" + std::to_string(clock.wall() / kNanosPerMilli);

    cert::RunHooks hooks;
    hooks.onCaseStart = [](const cert::CaseVerdict& v) {
      std::cout << "RUN   " << v.caseId << std::endl;
    };
    hooks.onVerdict = [&](const cert::CaseVerdict& v) {
      progress.record(v);
      std::cout << cert::summaryLine(v) << std::endl;
      if (observer) observer(v);
      if (verdictJournal) {
        verdictJournal->appendCertificationVerdict({plan.link.memberId, v.caseId,
                                                    std::string(cert::toString(v.verdict)),
                                                    v.reason(), runId, v.purpose});
      }
    };
    if (monitor) {
      hooks.hub = &monitor->hub();
      hooks.link = 0;
    }
    cert::CertificationRunner runner(plan, clock, hooks);
    runner.open();
    progress.begin(plan.link.memberId, clock.wall());
    std::cout << "linkwatch certify: " << plan.cases.size() << " cases against "
              << plan.link.memberId << "; ";
    if (plan.link.connectionType == ConnectionType::kAcceptor) {
      std::cout << "waiting for the member on port " << runner.port();
    } else {
      std::cout << "connecting to " << plan.link.socketHost << ':' << plan.link.socketPort;
    }
    if (http) std::cout << "; live status " << http->url() << "/";
    std::cout << std::endl;

    const cert::CertificationReport report = runner.run();
    std::cout << '\n';
    cert::writeSummary(std::cout, report);
    if (!plan.reportDir.empty()) {
      for (const std::string& path : cert::writeReports(report, plan.reportDir))
        std::cout << "report: " << path << '\n';
    }
    std::cout.flush();
    if (verdictJournal) {
      verdictJournal->flush(5 * kNanosPerSecond);
      verdictJournal->stop();
    }
    if (http) http->stop();
    if (monitor) monitor->stop();
    return report.passed() ? kExitOk : kExitRuntime;
  } catch (const std::exception& e) {
    std::cerr << "linkwatch certify: " << e.what() << '\n';
    return kExitRuntime;
  }
}

}  // namespace linkwatch
