#include "cert/certification_report.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace linkwatch::cert {
namespace {

std::string seconds(Nanos ns, int decimals = 3) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, static_cast<double>(ns) / 1e9);
  return text;
}

std::string hexByte(unsigned char u) {
  static const char* const kHex = "0123456789abcdef";
  return std::string("\\x") + kHex[u >> 4] + kHex[u & 0xf];
}

const char* label(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return "PASS";
    case Verdict::kFail:
      return "FAIL";
    case Verdict::kSkipped:
      return "SKIP";
  }
  return "FAIL";
}

std::string transcript(const CaseVerdict& c) {
  std::string out;
  for (const RecordedMessage& m : c.messages) {
    out += isoTime(m.wall) + " " + std::string(toString(m.direction)) + " " + m.text + "\n";
  }
  return out;
}

}  // namespace

std::string isoTime(Nanos wall) {
  const std::time_t secs = static_cast<std::time_t>(wall / kNanosPerSecond);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((wall % kNanosPerSecond) / kNanosPerMilli));
  return text;
}

std::string escapeXml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 has no way to carry most control characters, not even as references.
        if ((u < 0x20 && c != '\n' && c != '\t') || u == 0x7f) {
          out += hexByte(u);
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string escapeHtml(std::string_view text) { return escapeXml(text); }

std::string summaryLine(const CaseVerdict& v) {
  char head[160];
  std::snprintf(head, sizeof head, "%s  %-28s %8ss", label(v.verdict), v.caseId.c_str(),
                seconds(v.durationNs).c_str());
  std::string line = head;
  if (v.verdict != Verdict::kPass && !v.reason().empty()) line += "  " + v.reason();
  return line;
}

void writeSummary(std::ostream& out, const CertificationReport& r) {
  out << "certification of " << r.memberId << " (" << r.memberName << "), session " << r.sessionKey
      << ", linkwatch as " << r.mode << " on " << r.endpoint << '\n';
  for (const CaseVerdict& c : r.cases) out << summaryLine(c) << '\n';
  out << r.count(Verdict::kPass) << " passed, " << r.count(Verdict::kFail) << " failed, "
      << r.count(Verdict::kSkipped) << " skipped in " << seconds(r.finishedWall - r.startedWall, 1)
      << " s: " << (r.passed() ? "CERTIFIED" : "NOT CERTIFIED") << '\n';
}

std::string junitXml(const CertificationReport& r) {
  std::ostringstream x;
  const std::string suite = "linkwatch certification " + r.memberId;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<testsuites name=\"" << escapeXml(suite) << "\" tests=\"" << r.cases.size()
    << "\" failures=\"" << r.count(Verdict::kFail) << "\" skipped=\"" << r.count(Verdict::kSkipped)
    << "\" time=\"" << seconds(r.finishedWall - r.startedWall) << "\">\n"
    << "  <testsuite name=\"" << escapeXml(suite) << "\" tests=\"" << r.cases.size()
    << "\" failures=\"" << r.count(Verdict::kFail) << "\" errors=\"0\" skipped=\""
    << r.count(Verdict::kSkipped) << "\" time=\"" << seconds(r.finishedWall - r.startedWall)
    << "\" timestamp=\"" << isoTime(r.startedWall) << "\">\n"
    << "    <properties>\n"
    << "      <property name=\"member\" value=\"" << escapeXml(r.memberId) << "\"/>\n"
    << "      <property name=\"member_name\" value=\"" << escapeXml(r.memberName) << "\"/>\n"
    << "      <property name=\"session\" value=\"" << escapeXml(r.sessionKey) << "\"/>\n"
    << "      <property name=\"mode\" value=\"" << escapeXml(r.mode) << "\"/>\n"
    << "      <property name=\"linkwatch_version\" value=\"" << escapeXml(r.version) << "\"/>\n"
    << "    </properties>\n";
  for (const CaseVerdict& c : r.cases) {
    x << "    <testcase classname=\"certification." << escapeXml(r.memberId) << "\" name=\""
      << escapeXml(c.caseId) << "\" time=\"" << seconds(c.durationNs) << "\">\n";
    if (c.verdict == Verdict::kFail) {
      std::string details;
      for (const std::string& f : c.findings) details += f + "\n";
      x << "      <failure message=\"" << escapeXml(c.reason()) << "\" type=\"fail\">"
        << escapeXml(details) << "</failure>\n";
    } else if (c.verdict == Verdict::kSkipped) {
      x << "      <skipped message=\"" << escapeXml(c.reason()) << "\"/>\n";
    }
    x << "      <system-out>" << escapeXml(c.purpose + "\n" + transcript(c)) << "</system-out>\n"
      << "    </testcase>\n";
  }
  x << "  </testsuite>\n</testsuites>\n";
  return x.str();
}

std::string jsonReport(const CertificationReport& r) {
  using nlohmann::json;
  json cases = json::array();
  for (const CaseVerdict& c : r.cases) {
    json messages = json::array();
    for (const RecordedMessage& m : c.messages) {
      messages.push_back({{"time", isoTime(m.wall)},
                          {"time_unix_ns", m.wall},
                          {"direction", std::string(toString(m.direction))},
                          {"text", m.text}});
    }
    json params = json::object();
    for (const auto& [k, v] : c.parameters) params[k] = v;
    json measurements = json::object();
    for (const auto& [k, v] : c.measurements) measurements[k] = v;
    cases.push_back({{"id", c.caseId},
                     {"purpose", c.purpose},
                     {"behaviour", c.behaviour},
                     {"verdict", std::string(toString(c.verdict))},
                     {"reason", c.reason()},
                     {"findings", c.findings},
                     {"parameters", params},
                     {"measurements", measurements},
                     {"started", isoTime(c.startedWall)},
                     {"duration_seconds", static_cast<double>(c.durationNs) / 1e9},
                     {"messages", messages}});
  }
  json doc = {{"member", r.memberId},
              {"member_name", r.memberName},
              {"session", r.sessionKey},
              {"mode", r.mode},
              {"endpoint", r.endpoint},
              {"linkwatch_version", r.version},
              {"started", isoTime(r.startedWall)},
              {"finished", isoTime(r.finishedWall)},
              {"passed", r.passed()},
              {"counts",
               {{"pass", r.count(Verdict::kPass)},
                {"fail", r.count(Verdict::kFail)},
                {"skipped", r.count(Verdict::kSkipped)}}},
              {"cases", cases}};
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string htmlReport(const CertificationReport& r) {
  std::ostringstream h;
  const auto e = [](std::string_view s) { return escapeHtml(s); };
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    << "<title>FIX session certification: " << e(r.memberId) << "</title>\n"
    << "<style>\n"
       "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
       "table{border-collapse:collapse;margin:.5em 0}\n"
       "td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}\n"
       ".pass{color:#fff;background:#2a7d2a}.fail{color:#fff;background:#b22}"
       ".skipped{color:#222;background:#ddd}\n"
       ".verdict{font-weight:bold;padding:.1em .5em;border-radius:3px}\n"
       "pre,.fix{font-family:ui-monospace,monospace;font-size:12px;white-space:pre-wrap;"
       "word-break:break-all}\n"
       "tr.in td{background:#f3f8ff}tr.out td{background:#fff8ef}tr.note td{color:#666}\n"
       "details{margin:.5em 0 1.5em}.id{white-space:nowrap}\n"
       "</style></head><body>\n";
  h << "<h1>FIX session certification: " << e(r.memberName) << " (" << e(r.memberId) << ")</h1>\n"
    << "<p><span class=\"verdict " << (r.passed() ? "pass" : "fail") << "\">"
    << (r.passed() ? "CERTIFIED" : "NOT CERTIFIED") << "</span> " << r.count(Verdict::kPass)
    << " passed, " << r.count(Verdict::kFail) << " failed, " << r.count(Verdict::kSkipped)
    << " skipped</p>\n"
    << "<table><tr><th>session</th><td>" << e(r.sessionKey) << "</td></tr>"
    << "<tr><th>linkwatch as</th><td>" << e(r.mode) << " on " << e(r.endpoint) << "</td></tr>"
    << "<tr><th>started</th><td>" << e(isoTime(r.startedWall)) << "</td></tr>"
    << "<tr><th>finished</th><td>" << e(isoTime(r.finishedWall)) << "</td></tr>"
    << "<tr><th>linkwatch</th><td>" << e(r.version) << "</td></tr></table>\n";
  h << "<h2>Cases</h2>\n<table><tr><th>case</th><th>verdict</th><th>time (s)</th>"
       "<th>purpose</th><th>reason</th></tr>\n";
  for (const CaseVerdict& c : r.cases) {
    const std::string v(toString(c.verdict));
    h << "<tr><td class=\"id\"><a href=\"#" << e(c.caseId) << "\">" << e(c.caseId) << "</a></td>"
      << "<td><span class=\"verdict " << v << "\">" << v << "</span></td><td>"
      << seconds(c.durationNs) << "</td><td>" << e(c.purpose) << "</td><td>" << e(c.reason())
      << "</td></tr>\n";
  }
  h << "</table>\n";
  for (const CaseVerdict& c : r.cases) {
    const std::string v(toString(c.verdict));
    h << "<h3 id=\"" << e(c.caseId) << "\">" << e(c.caseId) << " <span class=\"verdict " << v
      << "\">" << v << "</span></h3>\n"
      << "<p>" << e(c.purpose) << "<br><small>" << e(c.behaviour) << "</small></p>\n";
    if (!c.findings.empty()) {
      h << "<ul>";
      for (const std::string& f : c.findings) h << "<li class=\"fix\">" << e(f) << "</li>";
      h << "</ul>\n";
    }
    if (!c.parameters.empty() || !c.measurements.empty()) {
      h << "<table>";
      for (const auto& [k, val] : c.parameters)
        h << "<tr><th>" << e(k) << "</th><td>" << e(val) << "</td></tr>";
      for (const auto& [k, val] : c.measurements)
        h << "<tr><th>" << e(k) << " (measured)</th><td>" << e(val) << "</td></tr>";
      h << "</table>\n";
    }
    h << "<details" << (c.verdict == Verdict::kFail ? " open" : "") << "><summary>"
      << c.messages.size() << " messages and notes</summary>\n<table>";
    for (const RecordedMessage& m : c.messages) {
      const std::string d(toString(m.direction));
      h << "<tr class=\"" << d << "\"><td>" << e(isoTime(m.wall)) << "</td><td>" << d
        << "</td><td class=\"fix\">" << e(m.text) << "</td></tr>\n";
    }
    h << "</table></details>\n";
  }
  h << "</body></html>\n";
  return h.str();
}

std::vector<std::string> writeReports(const CertificationReport& report, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create report directory " + dir + ": " + ec.message());
  const std::string base =
      (std::filesystem::path(dir) / (report.memberId + "-certification")).string();
  const std::vector<std::pair<std::string, std::string>> files = {
      {base + ".xml", junitXml(report)},
      {base + ".json", jsonReport(report)},
      {base + ".html", htmlReport(report)}};
  std::vector<std::string> written;
  for (const auto& [path, content] : files) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    written.push_back(path);
  }
  return written;
}

}  // namespace linkwatch::cert
