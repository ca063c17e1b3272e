#include "sim/fault.hpp"

#include <charconv>
#include <vector>

namespace linkwatch::sim {
namespace {

struct KindSyntax {
  FaultKind kind;
  std::string_view name;
  std::string_view args;  // placeholder text of the arguments, "" for none
};

constexpr std::array<KindSyntax, kFaultKindCount> kSyntax = {{
    {FaultKind::kSilence, "silence", "DURATION_MS"},
    {FaultKind::kClose, "close", ""},
    {FaultKind::kReset, "reset", ""},
    {FaultKind::kLogout, "logout", ""},
    {FaultKind::kSkipSeq, "skip_seq", "N"},
    {FaultKind::kLateHeartbeats, "late_heartbeats", "DELAY_MS:DURATION_MS"},
    {FaultKind::kGarbage, "garbage", "BYTES"},
    {FaultKind::kReconnectStorm, "reconnect_storm", "CYCLES"},
    {FaultKind::kIgnoreTestRequests, "ignore_test_requests", "DURATION_MS"},
}};

constexpr std::int64_t kMaxDurationMs = 24LL * 3600 * 1000;

const KindSyntax& syntaxOf(FaultKind kind) noexcept {
  return kSyntax[static_cast<std::size_t>(kind)];
}

std::string usage(const KindSyntax& s) {
  std::string text(s.name);
  if (!s.args.empty()) text.append(":").append(s.args);
  return text;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> splitColons(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t colon = s.find(':', pos);
    if (colon == std::string_view::npos) {
      parts.push_back(s.substr(pos));
      return parts;
    }
    parts.push_back(s.substr(pos, colon - pos));
    pos = colon + 1;
  }
}

bool fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

// Parses `text` as an integer in [min, max]; `what` names the argument in the error.
bool parseArg(std::string_view text, std::int64_t min, std::int64_t max, std::string_view what,
              const KindSyntax& s, std::int64_t& out, std::string* error) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    return fail(error, std::string(s.name) + ": " + std::string(what) +
                           " must be a whole number, got '" + std::string(text) + "' (expected " +
                           usage(s) + ")");
  }
  if (value < min || value > max) {
    return fail(error, std::string(s.name) + ": " + std::string(what) + " must be between " +
                           std::to_string(min) + " and " + std::to_string(max) + ", got " +
                           std::to_string(value));
  }
  out = value;
  return true;
}

}  // namespace

std::string_view toString(FaultKind kind) noexcept { return syntaxOf(kind).name; }

std::optional<FaultKind> faultKindFromString(std::string_view name) noexcept {
  for (const KindSyntax& s : kSyntax) {
    if (s.name == name) return s.kind;
  }
  return std::nullopt;
}

std::string faultSyntaxHelp() {
  std::string text;
  for (const KindSyntax& s : kSyntax) {
    if (!text.empty()) text.append(", ");
    text.append(usage(s));
  }
  return text;
}

std::optional<Fault> parseFault(std::string_view spec, std::string* error) {
  spec = trim(spec);
  if (spec.empty()) {
    fail(error, "empty fault spec (expected one of: " + faultSyntaxHelp() + ")");
    return std::nullopt;
  }
  const std::vector<std::string_view> parts = splitColons(spec);
  const auto kind = faultKindFromString(parts[0]);
  if (!kind) {
    fail(error, "unknown fault kind '" + std::string(parts[0]) +
                    "' (expected one of: " + faultSyntaxHelp() + ")");
    return std::nullopt;
  }
  const KindSyntax& s = syntaxOf(*kind);
  const std::size_t args = parts.size() - 1;
  const std::size_t wanted = s.args.empty() ? 0 : splitColons(s.args).size();
  if (args != wanted) {
    fail(error, std::string(s.name) + " takes " + std::to_string(wanted) + " argument" +
                    (wanted == 1 ? "" : "s") + ", got " + std::to_string(args) + " (expected " +
                    usage(s) + ")");
    return std::nullopt;
  }
  Fault f;
  f.kind = *kind;
  bool ok = true;
  switch (*kind) {
    case FaultKind::kSilence:
    case FaultKind::kIgnoreTestRequests:
      ok = parseArg(parts[1], 1, kMaxDurationMs, "DURATION_MS", s, f.durationMs, error);
      break;
    case FaultKind::kClose:
    case FaultKind::kReset:
    case FaultKind::kLogout:
      break;
    case FaultKind::kSkipSeq:
      ok = parseArg(parts[1], 1, 1000000, "N", s, f.amount, error);
      break;
    case FaultKind::kLateHeartbeats:
      ok = parseArg(parts[1], 1, 3600 * 1000, "DELAY_MS", s, f.amount, error) &&
           parseArg(parts[2], 1, kMaxDurationMs, "DURATION_MS", s, f.durationMs, error);
      break;
    case FaultKind::kGarbage:
      ok = parseArg(parts[1], 1, 65536, "BYTES", s, f.amount, error);
      break;
    case FaultKind::kReconnectStorm:
      ok = parseArg(parts[1], 1, 1000, "CYCLES", s, f.amount, error);
      break;
  }
  if (!ok) return std::nullopt;
  return f;
}

std::string formatFault(const Fault& fault) {
  std::string text(toString(fault.kind));
  switch (fault.kind) {
    case FaultKind::kSilence:
    case FaultKind::kIgnoreTestRequests:
      text.append(":").append(std::to_string(fault.durationMs));
      break;
    case FaultKind::kClose:
    case FaultKind::kReset:
    case FaultKind::kLogout:
      break;
    case FaultKind::kSkipSeq:
    case FaultKind::kGarbage:
    case FaultKind::kReconnectStorm:
      text.append(":").append(std::to_string(fault.amount));
      break;
    case FaultKind::kLateHeartbeats:
      text.append(":")
          .append(std::to_string(fault.amount))
          .append(":")
          .append(std::to_string(fault.durationMs));
      break;
  }
  return text;
}

}  // namespace linkwatch::sim
