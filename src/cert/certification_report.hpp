// The outputs of a certification run: a terminal summary for a person, JUnit XML for a CI,
// a JSON report with every message of every case, and a self-contained HTML report a
// connectivity manager can mail to the member (every value escaped, no external resources).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "cert/certification_verdict.hpp"

namespace linkwatch::cert {

// "PASS  4b-test-request  0.012s" (the first finding or skip reason after a failing or
// skipped case's time).
std::string summaryLine(const CaseVerdict& verdict);
void writeSummary(std::ostream& out, const CertificationReport& report);

std::string junitXml(const CertificationReport& report);
std::string jsonReport(const CertificationReport& report);
std::string htmlReport(const CertificationReport& report);

// Writes <member>-certification.{xml,json,html} into `dir` (created if missing). Returns the
// paths written; throws std::runtime_error naming the path that could not be written.
std::vector<std::string> writeReports(const CertificationReport& report, const std::string& dir);

// Escaping for the writers, exposed for tests.
std::string escapeXml(std::string_view text);
std::string escapeHtml(std::string_view text);
// "2026-11-24T04:05:06.789Z"
std::string isoTime(Nanos wall);

}  // namespace linkwatch::cert
