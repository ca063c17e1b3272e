// The certification catalogue: session-level test cases named after the FIX Session Layer
// Test Cases (FIX Trading Community, v1.0), each data (id, purpose, behaviour checked,
// parameters with defaults) plus a small function that drives the CertSession. An exchange
// drops, keeps and parametrises cases in the [CERTIFICATION] section of the settings file.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <linkwatch/config.hpp>

namespace linkwatch::cert {

class CaseContext;

enum class ParamType : std::uint8_t {
  kDuration,  // 500ms, 2s, 1m
  kFraction,  // 20% or 0.2
  kCount,     // an integer within [min, max]
  kRange,     // LOW..HIGH, integers within [min, max]
  kChoice,    // one of `choices` ("a|b|c"), any case
  kCommand,   // a shell command line, run with /bin/sh -c; empty: not configured
};

struct ParamSpec {
  const char* name;
  ParamType type;
  const char* defaultValue;
  const char* help;
  std::int64_t min = 0;  // counts and ranges; durations in ms
  std::int64_t max = 0;
  const char* choices = "";
};

struct ParamValue {
  std::string text;         // as written (or the default)
  std::int64_t number = 0;  // durations: ms; counts; ranges: low end
  std::int64_t high = 0;    // ranges: high end
  double fraction = 0;
  std::string choice;  // upper case
};

// Which side of the session linkwatch plays for a case to make sense.
enum class CaseModes : std::uint8_t { kBoth, kInitiatorOnly, kAcceptorOnly };

struct CaseDefinition {
  const char* id;         // stable; FIX Session Layer Test Case number first where one exists
  const char* purpose;    // one line
  const char* behaviour;  // the FIX behaviour checked, with the spec reference
  CaseModes modes;
  const char* skipReason;  // when the mode does not fit
  std::vector<ParamSpec> params;
  void (*run)(CaseContext&);
};

// Every case, in the order a run executes them.
const std::vector<CaseDefinition>& catalogue();
const CaseDefinition* findCase(std::string_view id);

struct PlannedCase {
  const CaseDefinition* definition = nullptr;
  std::map<std::string, ParamValue> params;  // by ParamSpec::name
};

// What a run does, validated: the member's session, the cases, their parameters.
struct CertificationPlan {
  std::string file;
  LinkConfig link;  // the member's [SESSION]: linkwatch's side of the test session
  std::vector<PlannedCase> cases;
  std::string reportDir;                          // ReportDir; empty: no report files
  std::chrono::milliseconds logonTimeout{30000};  // LogonTimeout
};

// Builds the plan for `memberId` from the [CERTIFICATION] section. `casesOverride` (--cases,
// comma-separated ids) replaces the Cases key. Throws ConfigError listing every problem with
// file, line and key.
CertificationPlan makePlan(const MonitorConfig& config, const std::string& memberId,
                           const std::optional<std::string>& casesOverride = std::nullopt,
                           const std::optional<std::string>& reportDirOverride = std::nullopt);

// Parses one value for `spec`; nullopt with `expected` describing the accepted form.
std::optional<ParamValue> parseParam(const ParamSpec& spec, std::string_view text,
                                     std::string& expected);

}  // namespace linkwatch::cert
