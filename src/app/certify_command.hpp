// `linkwatch certify`: runs the certification catalogue against one member's FIX engine,
// prints a verdict per case, writes the reports and, with an HTTP port, shows the session
// live as a `test` link with linkwatch_certification_* gauges.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include <linkwatch/config.hpp>

#include "cert/certification_verdict.hpp"

namespace linkwatch {

struct CertifyCommandOptions {
  std::string configPath;
  std::string memberId;
  std::string cases;      // --cases: comma-separated ids; empty: the config's Cases (or all)
  std::string reportDir;  // --report: empty: the config's ReportDir (or no files)
  std::string http;       // --http HOST:PORT; empty: the config's HttpListen if set there
};

void addCertifyOptions(CLI::App& command, CertifyCommandOptions& options);

// check-config: validates a [CERTIFICATION] section (against the first session), printing
// every problem as file:line: [CERTIFICATION] key: ... on stderr. True when there is none.
bool certificationSectionValid(const MonitorConfig& config);

// Returns the exit code: 0 when every case that ran passed, 1 when one failed or the run
// could not be carried out, 2 for bad usage or configuration. `observer` sees each verdict
// as soon as it is known (the journal records them).
int runCertify(const CertifyCommandOptions& options,
               const std::function<void(const cert::CaseVerdict&)>& observer = {});

}  // namespace linkwatch
