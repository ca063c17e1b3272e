// [CERTIFICATION] keys → a CertificationPlan, every problem reported with file, line and key.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "cert/certification_catalogue.hpp"

namespace linkwatch::cert {
namespace {

constexpr const char* kSection = "CERTIFICATION";

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<std::int64_t> parseInt(std::string_view s) {
  s = trim(s);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string echo(std::string_view v) {
  std::string out = "\"";
  for (char c : v.substr(0, 60)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out + (v.size() > 60 ? "...\"" : "\"");
}

std::vector<std::string> splitList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string caseIds() {
  std::string out;
  for (const CaseDefinition& d : catalogue()) out += (out.empty() ? "" : ", ") + std::string(d.id);
  return out;
}

}  // namespace

std::optional<ParamValue> parseParam(const ParamSpec& spec, std::string_view text,
                                     std::string& expected) {
  ParamValue v;
  v.text = std::string(trim(text));
  switch (spec.type) {
    case ParamType::kDuration: {
      expected = "a duration from " + std::to_string(spec.min) + "ms to " +
                 std::to_string(spec.max / 1000) + "s, such as 500ms, 2s or 1m";
      const auto d = parseDuration(v.text);
      if (!d || d->count() < spec.min || d->count() > spec.max) return std::nullopt;
      v.number = d->count();
      return v;
    }
    case ParamType::kFraction: {
      expected = "a fraction from 0 to 1 such as 0.2 or 20%";
      std::string_view t = v.text;
      double scale = 1.0;
      if (!t.empty() && t.back() == '%') {
        t.remove_suffix(1);
        scale = 100.0;
      }
      double f = 0;
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), f);
      if (t.empty() || ec != std::errc{} || end != t.data() + t.size()) return std::nullopt;
      f /= scale;
      if (!(f >= 0.0 && f <= 1.0)) return std::nullopt;
      v.fraction = f;
      return v;
    }
    case ParamType::kCount: {
      expected = "an integer from " + std::to_string(spec.min) + " to " + std::to_string(spec.max);
      const auto n = parseInt(v.text);
      if (!n || *n < spec.min || *n > spec.max) return std::nullopt;
      v.number = *n;
      return v;
    }
    case ParamType::kRange: {
      expected = "LOW..HIGH with " + std::to_string(spec.min) +
                 " <= LOW <= HIGH <= " + std::to_string(spec.max) + ", such as 1..60";
      const std::size_t dots = v.text.find("..");
      if (dots == std::string::npos) return std::nullopt;
      const auto lo = parseInt(std::string_view(v.text).substr(0, dots));
      const auto hi = parseInt(std::string_view(v.text).substr(dots + 2));
      if (!lo || !hi || *lo < spec.min || *hi > spec.max || *lo > *hi) return std::nullopt;
      v.number = *lo;
      v.high = *hi;
      return v;
    }
    case ParamType::kCommand:
      expected = "a shell command line (one line)";
      return v;
    case ParamType::kChoice: {
      std::string choices = spec.choices;
      std::replace(choices.begin(), choices.end(), '|', ',');
      expected = "one of " + choices;
      const std::string u = upper(v.text);
      for (const std::string& c : splitList(choices)) {
        if (c == u) {
          v.choice = u;
          return v;
        }
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

CertificationPlan makePlan(const MonitorConfig& config, const std::string& memberId,
                           const std::optional<std::string>& casesOverride,
                           const std::optional<std::string>& reportDirOverride) {
  std::vector<ConfigIssue> issues;
  auto add = [&](int line, std::string key, std::string message) {
    issues.push_back(ConfigIssue{config.file, line, kSection, std::move(key), std::move(message)});
  };
  CertificationPlan plan;
  plan.file = config.file;

  const auto link = std::find_if(config.links.begin(), config.links.end(),
                                 [&](const LinkConfig& l) { return l.memberId == memberId; });
  if (link == config.links.end()) {
    std::string known;
    for (const LinkConfig& l : config.links) known += (known.empty() ? "" : ", ") + l.memberId;
    issues.push_back(ConfigIssue{config.file, 0, "", "--member",
                                 "no [SESSION] with MemberId=" + memberId + "; the file has " +
                                     (known.empty() ? std::string("none") : known)});
  } else {
    plan.link = *link;
    if (plan.link.socketPort <= 0) {
      issues.push_back(ConfigIssue{config.file, plan.link.line, "SESSION (" + memberId + ")",
                                   plan.link.connectionType == ConnectionType::kAcceptor
                                       ? "SocketAcceptPort"
                                       : "SocketConnectPort",
                                   "the certification session needs a port"});
    }
  }

  // Parameters start at their defaults; the section and the command line override them.
  std::map<std::string, PlannedCase> byId;
  for (const CaseDefinition& d : catalogue()) {
    PlannedCase p;
    p.definition = &d;
    for (const ParamSpec& spec : d.params) {
      std::string expected;
      p.params[spec.name] = *parseParam(spec, spec.defaultValue, expected);
    }
    byId[d.id] = std::move(p);
  }
  std::optional<std::vector<std::string>> selected;
  int selectedLine = 0;
  auto setParam = [&](const RawSetting& e, const char* caseId, const char* name) {
    PlannedCase& p = byId.at(caseId);
    const auto spec =
        std::find_if(p.definition->params.begin(), p.definition->params.end(),
                     [&](const ParamSpec& s) { return upper(s.name) == upper(name); });
    if (spec == p.definition->params.end()) {
      std::string known;
      for (const ParamSpec& s : p.definition->params)
        known += (known.empty() ? "" : ", ") + std::string(s.name);
      add(e.line, e.key,
          "case " + std::string(caseId) + " has no parameter " + echo(name) + "; it has " +
              (known.empty() ? std::string("none") : known));
      return;
    }
    std::string expected;
    const auto v = parseParam(*spec, e.value, expected);
    if (!v) {
      add(e.line, e.key, "expected " + expected + "; got " + echo(e.value));
      return;
    }
    p.params[spec->name] = *v;
  };

  for (const RawSetting& e : config.certification) {
    const std::string key = upper(e.key);
    if (key == "CASES") {
      selected = splitList(e.value);
      selectedLine = e.line;
    } else if (key == "REPORTDIR") {
      if (e.value.empty()) {
        add(e.line, e.key, "expected a directory for the report files");
      } else {
        plan.reportDir = e.value;
      }
    } else if (key == "LOGONTIMEOUT") {
      const auto d = parseDuration(e.value);
      if (!d || d->count() < 100) {
        add(e.line, e.key,
            "expected a duration from 100ms to 24h such as 30s; got " + echo(e.value));
      } else {
        plan.logonTimeout = *d;
      }
    } else if (key == "MINLOGONRETRYINTERVAL") {
      setParam(e, "logon-retry-discipline", "MinInterval");
    } else if (key.rfind("CASE.", 0) == 0) {
      const std::string rest = e.key.substr(5);
      const std::size_t dot = rest.rfind('.');
      const CaseDefinition* d =
          dot == std::string::npos ? nullptr : findCase(std::string_view(rest).substr(0, dot));
      if (dot == std::string::npos) {
        add(e.line, e.key,
            "expected Case.<case id>.<parameter>, such as Case.4b-test-request.Deadline");
      } else if (d == nullptr) {
        add(e.line, e.key,
            "unknown case " + echo(rest.substr(0, dot)) + "; expected one of " + caseIds());
      } else {
        setParam(e, d->id, rest.substr(dot + 1).c_str());
      }
    } else {
      add(e.line, e.key,
          "unknown key in [CERTIFICATION]; expected Cases, ReportDir, LogonTimeout, "
          "MinLogonRetryInterval or Case.<case id>.<parameter>");
    }
  }

  std::string selectionFile = config.file;
  if (casesOverride) {
    selected = splitList(*casesOverride);
    selectedLine = 0;
    selectionFile = "--cases";
  }
  std::set<std::string> wanted;
  if (!selected || (selected->size() == 1 && upper(selected->front()) == "ALL")) {
    for (const CaseDefinition& d : catalogue()) wanted.insert(d.id);
  } else {
    if (selected->empty()) {
      issues.push_back(ConfigIssue{selectionFile, selectedLine, casesOverride ? "" : kSection,
                                   "Cases", "expected a comma-separated list of case ids or all"});
    }
    for (const std::string& id : *selected) {
      const CaseDefinition* d = findCase(id);
      if (d == nullptr) {
        issues.push_back(
            ConfigIssue{selectionFile, selectedLine, casesOverride ? "" : kSection, "Cases",
                        "unknown case " + echo(id) + "; expected all or any of " + caseIds()});
      } else {
        wanted.insert(d->id);
      }
    }
  }
  for (const CaseDefinition& d : catalogue()) {
    if (wanted.count(d.id) != 0) plan.cases.push_back(byId.at(d.id));
  }
  if (reportDirOverride) plan.reportDir = *reportDirOverride;
  if (!issues.empty()) throw ConfigError(std::move(issues));
  return plan;
}

}  // namespace linkwatch::cert
