#include <linkwatch/cidr.hpp>
#include <linkwatch/config.hpp>
#include <linkwatch/fix_worker_plan.hpp>
#include <linkwatch/secrets.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <system_error>
#include <tuple>
#include <utility>

namespace linkwatch {

namespace {

constexpr std::size_t kMaxLineLength = 1023;  // QuickFIX reads lines into a char[1024]
constexpr std::size_t kMaxMemberIdLength = 32;
constexpr std::size_t kMaxMemberNameLength = 128;
constexpr std::size_t kMaxFileBytes = 16 * 1024 * 1024;
constexpr std::int64_t kMaxDurationMs = 24LL * 3600 * 1000;
constexpr std::chrono::milliseconds kMinRttProbeInterval{100};
constexpr int kMaxHeartBtInt = 86400;

const char* const kDefaultName = "DEFAULT";
const char* const kSessionName = "SESSION";
const char* const kLinkwatchName = "LINKWATCH";
const char* const kCertificationName = "CERTIFICATION";

// ---- Small, locale-free text helpers: the input is untrusted and will be fuzzed. ----

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlnum(char c) { return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char toUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
bool isControl(char c) {
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = toUpper(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (toUpper(a[i]) != toUpper(b[i])) return false;
  }
  return true;
}

bool hasControl(std::string_view s) { return std::any_of(s.begin(), s.end(), isControl); }

// A value echoed back in a message: quoted, control bytes escaped, long values cut.
std::string quoted(std::string_view v) {
  constexpr std::size_t kMaxEcho = 60;
  std::string out = "\"";
  std::size_t n = std::min(v.size(), kMaxEcho);
  for (std::size_t i = 0; i < n; ++i) {
    char c = v[i];
    if (isControl(c) || static_cast<unsigned char>(c) >= 0x80) {
      static const char* const kHex = "0123456789abcdef";
      auto u = static_cast<unsigned char>(c);
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  if (v.size() > kMaxEcho) out += "...";
  out += '"';
  return out;
}

// Digits only (no sign, no spaces), at most 18 of them so the value fits an int64.
std::optional<std::int64_t> parseUnsigned(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  if (!std::all_of(s.begin(), s.end(), isDigit)) return std::nullopt;
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

std::optional<int> parsePort(std::string_view s, int min) {
  auto v = parseUnsigned(s);
  if (!v || *v < min || *v > 65535) return std::nullopt;
  return static_cast<int>(*v);
}

// HH:MM:SS, as QuickFIX's StartTime/EndTime.
std::optional<int> parseTimeOfDay(std::string_view s) {
  if (s.size() != 8 || s[2] != ':' || s[5] != ':') return std::nullopt;
  auto two = [&](std::size_t at) -> int {
    if (!isDigit(s[at]) || !isDigit(s[at + 1])) return -1;
    return (s[at] - '0') * 10 + (s[at + 1] - '0');
  };
  int h = two(0);
  int m = two(3);
  int sec = two(6);
  if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59) return std::nullopt;
  return h * 3600 + m * 60 + sec;
}

// Full English day names or any prefix of at least two letters ("Su", "Sun", "Thurs"), any case.
std::optional<int> parseDay(std::string_view s) {
  static const char* const kDays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                      "thursday", "friday", "saturday"};
  if (s.size() < 2) return std::nullopt;
  for (int d = 0; d < 7; ++d) {
    std::string_view name(kDays[d]);
    if (s.size() <= name.size() && iequals(s, name.substr(0, s.size()))) return d;
  }
  return std::nullopt;
}

std::optional<bool> parseYesNo(std::string_view s) {
  if (s == "Y") return true;
  if (s == "N") return false;
  return std::nullopt;
}

// 0.2 or 20%: digits, an optional fraction, an optional percent sign.
std::optional<double> parseFraction(std::string_view s) {
  bool percent = !s.empty() && s.back() == '%';
  if (percent) s.remove_suffix(1);
  if (s.empty() || s.size() > 32 || !isDigit(s.front()) || !isDigit(s.back())) return std::nullopt;
  int dots = 0;
  for (char c : s) {
    if (c == '.') {
      ++dots;
    } else if (!isDigit(c)) {
      return std::nullopt;
    }
  }
  if (dots > 1) return std::nullopt;
  double value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return percent ? value / 100.0 : value;
}

bool isHostName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return isAlnum(c) || c == '.' || c == '-' || c == '_' || c == ':';
  });
}

// HOST:PORT or [IPv6]:PORT. Port 0 asks the kernel for a free port (tests).
std::optional<std::pair<std::string, int>> parseListen(std::string_view s) {
  std::string_view host;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return std::nullopt;
    }
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    std::size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // IPv6 needs brackets
  }
  auto p = parsePort(port, 0);
  if (!isHostName(host) || !p) return std::nullopt;
  return std::make_pair(std::string(host), *p);
}

// http://HOST[:PORT][/PATH], what AlertPusher appends /api/v2/alerts to (a path serves an
// Alertmanager behind --web.route-prefix). Returned without trailing '/'.
std::optional<std::string> parseHttpUrl(std::string_view s) {
  constexpr std::string_view kScheme = "http://";
  if (s.size() <= kScheme.size() || !iequals(s.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  std::string_view rest = s.substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  std::string_view host = authority;
  std::string_view port;
  bool hasPort = false;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
      hasPort = true;
    }
  } else if (const std::size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    hasPort = true;
  }
  if (!isHostName(host) || (hasPort && !parsePort(port, 1))) return std::nullopt;
  const bool pathOk = std::all_of(path.begin(), path.end(), [](char c) {
    return isAlnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~' || c == '%';
  });
  if (!pathOk) return std::nullopt;
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return "http://" + std::string(authority) + std::string(path);
}

// An http(s) URL in which '{' only opens {alertname} or {member}.
bool isRunbookTemplate(std::string_view s) {
  constexpr std::size_t kMaxLength = 512;
  if (s.size() > kMaxLength) return false;
  if (!(s.substr(0, 7) == "http://" || s.substr(0, 8) == "https://")) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (isControl(c) || isSpace(c) || c == '"' || c == '<' || c == '>' || c == '}' ||
        static_cast<unsigned char>(c) >= 0x80) {
      return false;
    }
    if (c == '{') {
      std::string_view rest = s.substr(i);
      if (rest.substr(0, 11) == "{alertname}") {
        i += 10;
      } else if (rest.substr(0, 8) == "{member}") {
        i += 7;
      } else {
        return false;
      }
    }
  }
  return true;
}

bool isMemberId(std::string_view s) {
  if (s.empty() || s.size() > kMaxMemberIdLength) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return isAlnum(c) || c == '_' || c == '.' || c == '-'; });
}

// ---- The file as blocks of entries. ----

struct Entry {
  std::string key;  // as written
  std::string value;
  int line = 0;
  bool fromDefault = false;
};

// Keyed by the upper-cased key: QuickFIX's Dictionary ignores the case of keys.
using Entries = std::map<std::string, Entry>;

enum class BlockKind { kDefault, kSession, kLinkwatch, kCertification, kIgnored };

struct Block {
  BlockKind kind = BlockKind::kIgnored;
  int line = 0;
  int ordinal = 0;  // 1-based, sessions only
  Entries entries;
};

struct PendingIssue {
  int block = -1;  // index into blocks, -1 when outside any
  ConfigIssue issue;
};

class Parser {
 public:
  Parser(std::string_view text, std::string fileName) : text_(text), file_(std::move(fileName)) {}

  MonitorConfig run() {
    lex();
    labelBlocks();
    MonitorConfig config;
    config.file = file_;
    for (const Block& b : blocks_) {
      if (b.kind == BlockKind::kLinkwatch) readLinkwatch(b, config);
      if (b.kind == BlockKind::kCertification) readCertification(b, config);
    }
    if (defaultBlock_ >= 0) checkDefault(blocks_[static_cast<std::size_t>(defaultBlock_)]);
    for (std::size_t i = 0; i < blocks_.size(); ++i) {
      if (blocks_[i].kind == BlockKind::kSession) config.links.push_back(readSession(i));
    }
    if (config.links.empty()) {
      add(0, kSessionName, "", "no [SESSION] block: linkwatch needs at least one link to watch");
    }
    checkUnique(config);
    checkBudget(config);
    readFixTls(config);
    if (!issues_.empty()) throw ConfigError(sortedIssues());
    return config;
  }

 private:
  // -- Lexing --

  void lex() {
    int lineNo = 0;
    int current = -1;
    std::size_t pos = 0;
    while (pos <= text_.size()) {
      std::size_t nl = text_.find('\n', pos);
      if (nl == std::string_view::npos) nl = text_.size();
      std::string_view raw = text_.substr(pos, nl - pos);
      pos = nl + 1;
      ++lineNo;
      if (raw.size() > kMaxLineLength) {
        pending(current, lineNo, "",
                "line is " + std::to_string(raw.size()) +
                    " characters long; QuickFIX reads at most " + std::to_string(kMaxLineLength) +
                    " per line");
        continue;
      }
      std::string_view line = trim(raw);
      if (line.empty() || line.front() == '#') continue;
      if (line.front() == '[' && line.back() == ']' && line.size() >= 2) {
        current = openBlock(trim(line.substr(1, line.size() - 2)), lineNo);
        continue;
      }
      std::size_t eq = line.find('=');
      if (eq == std::string_view::npos) {
        pending(current, lineNo, "",
                "expected a [SECTION] header, KEY=VALUE or a # comment; got " + quoted(line));
        continue;
      }
      std::string_view key = trim(line.substr(0, eq));
      std::string_view value = trim(line.substr(eq + 1));
      if (key.empty()) {
        pending(current, lineNo, "", "expected KEY=VALUE; the key before '=' is missing");
        continue;
      }
      if (current < 0) {
        pending(-1, lineNo, std::string(key),
                "key outside any section (QuickFIX would ignore it); put it under [DEFAULT], "
                "[SESSION] or [LINKWATCH]");
        continue;
      }
      Block& block = blocks_[static_cast<std::size_t>(current)];
      if (block.kind == BlockKind::kIgnored) continue;  // the header was reported already
      auto [it, inserted] =
          block.entries.emplace(upper(key), Entry{std::string(key), std::string(value), lineNo});
      if (!inserted) {
        pending(current, lineNo, std::string(key),
                "duplicate key in this block (first set on line " +
                    std::to_string(it->second.line) +
                    "; QuickFIX would silently keep the last one)");
      }
    }
  }

  int openBlock(std::string_view name, int lineNo) {
    Block block;
    block.line = lineNo;
    int index = static_cast<int>(blocks_.size());
    if (name == kDefaultName) {
      block.kind = BlockKind::kDefault;
      if (defaultBlock_ >= 0) {
        pending(-1, lineNo, "",
                "second [DEFAULT] block (the first is on line " +
                    std::to_string(blocks_[static_cast<std::size_t>(defaultBlock_)].line) +
                    "); QuickFIX reads only the first: merge them");
        block.kind = BlockKind::kIgnored;
      } else {
        defaultBlock_ = index;
      }
    } else if (name == kSessionName) {
      block.kind = BlockKind::kSession;
      block.ordinal = ++sessionCount_;
      sessionBlocks_.push_back(static_cast<std::size_t>(index));
    } else if (name == kLinkwatchName) {
      block.kind = BlockKind::kLinkwatch;
      if (linkwatchBlock_ >= 0) {
        pending(-1, lineNo, "",
                "second [LINKWATCH] block (the first is on line " +
                    std::to_string(blocks_[static_cast<std::size_t>(linkwatchBlock_)].line) +
                    "): merge them");
        block.kind = BlockKind::kIgnored;
      } else {
        linkwatchBlock_ = index;
      }
    } else if (name == kCertificationName) {
      block.kind = BlockKind::kCertification;
      if (certificationBlock_ >= 0) {
        pending(-1, lineNo, "",
                "second [CERTIFICATION] block (the first is on line " +
                    std::to_string(blocks_[static_cast<std::size_t>(certificationBlock_)].line) +
                    "): merge them");
        block.kind = BlockKind::kIgnored;
      } else {
        certificationBlock_ = index;
      }
    } else {
      pending(-1, lineNo, "",
              "unknown section " + quoted("[" + std::string(name) + "]") +
                  "; expected [DEFAULT], [SESSION], [LINKWATCH] or [CERTIFICATION] (upper case)");
      block.kind = BlockKind::kIgnored;
    }
    blocks_.push_back(std::move(block));
    return index;
  }

  void pending(int block, int line, std::string key, std::string message) {
    pending_.push_back({block, ConfigIssue{file_, line, "", std::move(key), std::move(message)}});
  }

  // Sessions are named by ordinal and MemberId, which is known only once the block is read.
  void labelBlocks() {
    for (const Block& b : blocks_) {
      std::string label;
      switch (b.kind) {
        case BlockKind::kDefault:
          label = kDefaultName;
          break;
        case BlockKind::kLinkwatch:
          label = kLinkwatchName;
          break;
        case BlockKind::kCertification:
          label = kCertificationName;
          break;
        case BlockKind::kSession: {
          label = "SESSION #" + std::to_string(b.ordinal);
          auto it = b.entries.find("MEMBERID");
          if (it != b.entries.end() && isMemberId(it->second.value)) {
            label += " (" + it->second.value + ")";
          }
          break;
        }
        case BlockKind::kIgnored:
          break;
      }
      labels_.push_back(std::move(label));
    }
    for (PendingIssue& p : pending_) {
      if (p.block >= 0) p.issue.section = labels_[static_cast<std::size_t>(p.block)];
      issues_.push_back(std::move(p.issue));
    }
    pending_.clear();
  }

  void add(int line, std::string section, std::string key, std::string message) {
    issues_.push_back(
        ConfigIssue{file_, line, std::move(section), std::move(key), std::move(message)});
  }

  // -- [CERTIFICATION]: kept as written; `linkwatch certify` validates the keys. --

  static void readCertification(const Block& b, MonitorConfig& config) {
    config.certificationLine = b.line;
    for (const auto& entry : b.entries)
      config.certification.push_back({entry.second.key, entry.second.value, entry.second.line});
    std::sort(config.certification.begin(), config.certification.end(),
              [](const RawSetting& x, const RawSetting& y) { return x.line < y.line; });
  }

  // -- Security: secrets file, FIX over TLS, logon checks, HTTP TLS (see secrets.hpp) --

  // [LINKWATCH] keys of SecurityConfig; false when `upperKey` is not one of them.
  bool readSecurityKey(const std::string& upperKey, const Entry& e, MonitorConfig& config) {
    SecurityConfig& sec = config.security;
    auto bad = [&](const std::string& expected) {
      add(e.line, kLinkwatchName, e.key, "expected " + expected + "; got " + quoted(e.value));
    };
    auto duration = [&](std::chrono::milliseconds& out) {
      auto d = parseDuration(e.value);
      if (!d || *d < std::chrono::seconds{1} || *d > std::chrono::hours{24}) {
        bad("a duration from 1s to 24h, such as 60s or 5m");
      } else {
        out = *d;
      }
    };
    if (upperKey == "SECRETSFILE") {
      if (e.value.empty() || hasControl(e.value)) {
        bad("the path of the secrets file (mode 0600)");
      } else {
        sec.secretsFile = e.value;
        sec.secretsFileLine = e.line;
        sec.files.push_back({kLinkwatchName, e.key, e.value, e.line, false});
      }
    } else if (upperKey == "HTTPTLSCERTIFICATE") {
      // Served by civetweb (src/http/civetweb_tls.hpp says what Debian 12's build needed);
      // loadConfig checks that the file holds a certificate and its private key.
      if (e.value.empty() || hasControl(e.value)) {
        bad("the path of a PEM file with the certificate (chain) and its private key");
      } else {
        sec.httpTlsCertificate = e.value;
        sec.httpTlsCertificateLine = e.line;
        sec.files.push_back({kLinkwatchName, e.key, e.value, e.line, false});
      }
    } else if (upperKey == "LOGONFAILURELIMIT") {
      auto v = parseUnsigned(e.value);
      if (!v || *v < 1 || *v > 1000) {
        bad("refused logons from one address before it is blocked, from 1 to 1000");
      } else {
        sec.logonFailureLimit = static_cast<int>(*v);
      }
    } else if (upperKey == "LOGONFAILUREWINDOW") {
      duration(sec.logonFailureWindow);
    } else if (upperKey == "LOGONBLOCKDURATION") {
      duration(sec.logonBlockDuration);
    } else if (upperKey == "FIXIDLECONNECTIONTIMEOUT") {
      auto d = parseDuration(e.value);
      if (!d || (d->count() != 0 && *d < std::chrono::milliseconds{100})) {
        bad("0 (never) or a duration of at least 100ms, such as 10s");
      } else {
        sec.idleConnectionTimeout = *d;
      }
    } else if (upperKey == "FIXLOGONDEADLINE") {
      auto d = parseDuration(e.value);
      if (!d || (d->count() != 0 &&
                 (*d < std::chrono::milliseconds{100} || *d > std::chrono::minutes{10}))) {
        bad("0 (never) or a duration from 100ms to 10m, such as 10s");
      } else {
        sec.logonDeadline = *d;
      }
    } else {
      return false;
    }
    return true;
  }

  // QuickFIX 1.15.1's SSL acceptor and initiator read SocketUseSSL's companions from [DEFAULT]
  // only, for the whole process: a TLS key inside a [SESSION] would be silently ignored.
  void readFixTls(MonitorConfig& config) {
    static const char* const kTlsFiles[][2] = {
        {"SERVERCERTIFICATEFILE", "f"},         {"SERVERCERTIFICATEKEYFILE", "f"},
        {"CLIENTCERTIFICATEFILE", "f"},         {"CLIENTCERTIFICATEKEYFILE", "f"},
        {"CERTIFICATIONAUTHORITIESFILE", "f"},  {"CERTIFICATIONAUTHORITIESDIRECTORY", "d"},
        {"CERTIFICATEREVOCATIONLISTFILE", "f"}, {"CERTIFICATEREVOCATIONLISTDIRECTORY", "d"}};
    static const char* const kTlsOther[] = {"SOCKETUSESSL", "CERTIFICATEVERIFYLEVEL", "SSLPROTOCOL",
                                            "SSLCIPHERSUITE"};
    for (std::size_t i = 0; i < blocks_.size(); ++i) {
      if (blocks_[i].kind != BlockKind::kSession) continue;
      for (const auto& entry : blocks_[i].entries) {
        bool tlsKey = std::any_of(std::begin(kTlsOther), std::end(kTlsOther),
                                  [&](const char* k) { return entry.first == k; });
        for (const auto& f : kTlsFiles) tlsKey = tlsKey || entry.first == f[0];
        if (tlsKey)
          add(entry.second.line, labels_[i], entry.second.key,
              "TLS settings apply to every session of the process (QuickFIX's SSL acceptor and "
              "initiator read them from [DEFAULT] only): move it to [DEFAULT]");
      }
    }
    if (defaultBlock_ < 0) return;
    const Entries& d = blocks_[static_cast<std::size_t>(defaultBlock_)].entries;
    auto find = [&](const char* upperKey) -> const Entry* {
      auto it = d.find(upperKey);
      return it == d.end() ? nullptr : &it->second;
    };
    auto bad = [&](const Entry& e, const std::string& expected) {
      add(e.line, kDefaultName, e.key, "expected " + expected + "; got " + quoted(e.value));
    };
    SecurityConfig& sec = config.security;
    if (const Entry* e = find("SOCKETUSESSL")) {
      auto v = parseYesNo(e->value);
      if (!v) {
        bad(*e, "Y or N");
      } else {
        sec.fixTls = *v;
      }
    }
    for (const auto& f : kTlsFiles) {
      const Entry* e = find(f[0]);
      if (e == nullptr) continue;
      if (!sec.fixTls) {
        add(e->line, kDefaultName, e->key, "set, but SocketUseSSL is not Y: TLS is off");
        continue;
      }
      if (e->value.empty() || hasControl(e->value)) {
        bad(*e, f[1][0] == 'd' ? "a directory path" : "a file path");
        continue;
      }
      sec.files.push_back({kDefaultName, e->key, e->value, e->line, f[1][0] == 'd'});
    }
    if (const Entry* e = find("CERTIFICATEVERIFYLEVEL")) {
      if (e->value != "0" && e->value != "1" && e->value != "2") {
        bad(*e, "0 (no client certificate asked), 1 (required) or 2 (optional)");
      } else if (e->value != "0" && find("CERTIFICATIONAUTHORITIESFILE") == nullptr &&
                 find("CERTIFICATIONAUTHORITIESDIRECTORY") == nullptr) {
        add(e->line, kDefaultName, e->key,
            "verifying client certificates needs CertificationAuthoritiesFile or "
            "CertificationAuthoritiesDirectory");
      }
    }
    if (const Entry* e = find("SSLPROTOCOL")) {
      if (!isSslProtocolList(e->value))
        bad(*e,
            "protocols from SSLv3, TLSv1, TLSv1_1, TLSv1_2, all, each optionally prefixed "
            "with + or -, such as `-all +TLSv1_2`");
    }
    if (const Entry* e = find("SSLCIPHERSUITE")) {
      if (e->value.empty() || hasControl(e->value) || e->value.size() > 1024)
        bad(*e, "an OpenSSL cipher list such as HIGH:!aNULL:!MD5");
    }
    if (!sec.fixTls) return;
    bool anyAcceptor = false;
    bool anyInitiator = false;
    for (const LinkConfig& l : config.links) {
      anyAcceptor = anyAcceptor || l.connectionType == ConnectionType::kAcceptor;
      anyInitiator = anyInitiator || l.connectionType == ConnectionType::kInitiator;
    }
    const Entry* use = find("SOCKETUSESSL");
    if (anyAcceptor && find("SERVERCERTIFICATEFILE") == nullptr)
      add(use->line, kDefaultName, "ServerCertificateFile",
          "missing: acceptor sessions over TLS need the server's certificate (PEM)");
    if (anyInitiator && find("CERTIFICATIONAUTHORITIESFILE") == nullptr &&
        find("CERTIFICATIONAUTHORITIESDIRECTORY") == nullptr)
      add(use->line, kDefaultName, "CertificationAuthoritiesFile",
          "missing: initiator sessions over TLS need the CA that signed the venue's certificate");
  }

  // QuickFIX's own grammar: words, each optionally prefixed with + or -. SSLv2 is refused.
  static bool isSslProtocolList(std::string_view s) {
    static const char* const kWords[] = {"SSLv3", "TLSv1", "TLSv1_1", "TLSv1_2", "all"};
    bool any = false;
    while (!(s = trim(s)).empty()) {
      if (s.front() == '+' || s.front() == '-') s.remove_prefix(1);
      std::size_t end = 0;
      while (end < s.size() && !isSpace(s[end])) ++end;
      const std::string_view word = s.substr(0, end);
      if (std::none_of(std::begin(kWords), std::end(kWords),
                       [&](const char* w) { return iequals(word, w); }))
        return false;
      any = true;
      s.remove_prefix(end);
    }
    return any;
  }

  // -- [LINKWATCH] --

  void readLinkwatch(const Block& b, MonitorConfig& config) {
    static const char* const kKeys[] = {
        "HttpListen",         "HeartbeatGrace",       "TestRequestTimeout",
        "FlapWindow",         "EventQueueCapacity",   "EventHistorySize",
        "AlertmanagerUrl",    "AlertOnDegraded",      "AlertResendInterval",
        "AlertRunbookUrl",    "AlertTimeout",         "AlertStartupGrace",
        "JournalPath",        "JournalSync",          "JournalSegmentSize",
        "JournalRetention",   "FixWorkers",           "FixWorkerMode",
        "SecretsFile",        "HttpTlsCertificate",   "LogonFailureLimit",
        "LogonFailureWindow", "LogonBlockDuration",   "FixIdleConnectionTimeout",
        "FixLogonDeadline",   "FixWorkerHangTimeout", "ThreadTimeSlice"};
    for (const auto& entry : b.entries) {
      // Named, not a structured binding: clang before 16 cannot capture bindings in a lambda.
      const std::string& upperKey = entry.first;
      const Entry& e = entry.second;
      auto bad = [&](const std::string& expected) {
        add(e.line, kLinkwatchName, e.key, "expected " + expected + "; got " + quoted(e.value));
      };
      if (upperKey == "HTTPLISTEN") {
        auto listen = parseListen(e.value);
        if (!listen) {
          bad("HOST:PORT such as 127.0.0.1:9745 (port 0..65535, IPv6 as [::1]:9745)");
          continue;
        }
        config.httpHost = listen->first;
        config.httpPort = static_cast<std::uint16_t>(listen->second);
        config.httpListenSet = true;
      } else if (upperKey == "HEARTBEATGRACE") {
        auto grace = parseFraction(e.value);
        if (!grace || *grace < 0.0 || *grace > 5.0) {
          bad("a fraction of HeartBtInt from 0 to 5, such as 0.2 or 20%");
          continue;
        }
        config.heartbeatGrace = *grace;
      } else if (upperKey == "TESTREQUESTTIMEOUT") {
        auto d = parseDuration(e.value);
        if (!d || d->count() <= 0) {
          bad("a positive duration such as 500ms, 1s or 2m (at most 24h)");
          continue;
        }
        config.testRequestTimeout = *d;
      } else if (upperKey == "FLAPWINDOW") {
        auto d = parseDuration(e.value);
        if (!d || d->count() <= 0 || d->count() % 1000 != 0) {
          bad("a positive whole number of seconds such as 300, 90s, 5m or 1h (at most 24h)");
          continue;
        }
        config.flapWindow = std::chrono::duration_cast<std::chrono::seconds>(*d);
      } else if (upperKey == "EVENTQUEUECAPACITY") {
        auto v = parseUnsigned(e.value);
        if (!v || *v < 1024 || *v > 16777216) {
          bad("an integer from 1024 to 16777216");
          continue;
        }
        config.eventQueueCapacity = static_cast<std::uint32_t>(*v);
      } else if (upperKey == "EVENTHISTORYSIZE") {
        auto v = parseUnsigned(e.value);
        if (!v || *v < 10 || *v > 1000000) {
          bad("an integer from 10 to 1000000");
          continue;
        }
        config.historySize = static_cast<std::uint32_t>(*v);
      } else if (upperKey == "ALERTMANAGERURL") {
        readAlertmanagerUrls(e, config);
      } else if (upperKey == "ALERTONDEGRADED") {
        auto v = parseYesNo(e.value);
        if (!v) {
          bad("Y or N");
          continue;
        }
        config.alertOnDegraded = *v;
      } else if (upperKey == "ALERTRESENDINTERVAL") {
        auto d = parseDuration(e.value);
        if (!d || *d < std::chrono::seconds{1} || *d > std::chrono::hours{1}) {
          bad("a duration from 1s to 1h, such as 30s or 1m");
          continue;
        }
        config.alertResendInterval = *d;
      } else if (upperKey == "ALERTRUNBOOKURL") {
        if (!isRunbookTemplate(e.value)) {
          bad("an http:// or https:// URL of printable characters (at most 512), in which "
              "{alertname} and {member} are the only placeholders");
          continue;
        }
        config.alertRunbookUrl = e.value;
      } else if (upperKey == "ALERTTIMEOUT") {
        auto d = parseDuration(e.value);
        if (!d || *d < std::chrono::milliseconds{10} || *d > std::chrono::minutes{1}) {
          bad("a duration from 10ms to 1m, such as 500ms or 2s");
          continue;
        }
        config.alertTimeout = *d;
      } else if (readSecurityKey(upperKey, e, config)) {
        continue;
      } else if (upperKey == "ALERTSTARTUPGRACE") {
        auto d = parseDuration(e.value);
        if (!d || *d > std::chrono::hours{1}) {
          bad("a duration from 0s to 1h, such as 30s");
          continue;
        }
        config.alertStartupGrace = *d;
      } else if (upperKey == "FIXWORKERS") {
        auto v = parseUnsigned(e.value);
        if (!v || *v > 64) {
          bad("a number of QuickFIX worker processes from 0 (as few as fit) to 64");
          continue;
        }
        config.fixWorkers = static_cast<int>(*v);
      } else if (upperKey == "FIXWORKERHANGTIMEOUT") {
        auto d = parseDuration(e.value);
        if (!d || *d < std::chrono::seconds{1} || *d > std::chrono::hours{1}) {
          bad("a duration from 1s to 1h, such as 5s");
          continue;
        }
        config.fixWorkerHangTimeout = *d;
      } else if (upperKey == "THREADTIMESLICE") {
        // Microseconds matter here: "100us", or any duration ("1ms"), or 0.
        std::optional<std::chrono::microseconds> slice;
        const std::string& v = e.value;
        if (v.size() > 2 && v.compare(v.size() - 2, 2, "us") == 0) {
          if (auto n = parseUnsigned(std::string_view(v).substr(0, v.size() - 2)))
            slice = std::chrono::microseconds{*n};
        } else if (auto d = parseDuration(v)) {
          slice = std::chrono::duration_cast<std::chrono::microseconds>(*d);
        }
        if (!slice || (slice->count() != 0 && (*slice < std::chrono::microseconds{100} ||
                                               *slice > std::chrono::milliseconds{100}))) {
          bad("0 (the kernel's) or a duration from 100us to 100ms, such as 100us");
          continue;
        }
        config.threadTimeSlice = *slice;
      } else if (upperKey == "FIXWORKERMODE") {
        std::string mode = e.value;
        for (char& c : mode) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (mode == "auto") {
          config.fixWorkerMode = FixWorkerMode::kAuto;
        } else if (mode == "in-process") {
          config.fixWorkerMode = FixWorkerMode::kInProcess;
        } else if (mode == "processes") {
          config.fixWorkerMode = FixWorkerMode::kProcesses;
        } else {
          bad("auto, in-process or processes");
          continue;
        }
      } else if (upperKey == "JOURNALPATH") {
        if (e.value.empty() || e.value.find('\0') != std::string::npos) {
          bad("a directory for the event journal, such as /var/lib/linkwatch/journal");
          continue;
        }
        config.journalPath = e.value;
      } else if (upperKey == "JOURNALSYNC") {
        readJournalSync(e, config);
      } else if (upperKey == "JOURNALSEGMENTSIZE") {
        auto v = parseByteSize(e.value);
        if (!v || *v < 4096 || *v > (1ull << 30)) {
          bad("a size from 4KiB to 1GiB, such as 64MiB");
          continue;
        }
        config.journalSegmentBytes = *v;
      } else if (upperKey == "JOURNALRETENTION") {
        // A bare number counts segments; a size with a unit bounds the bytes kept.
        const auto segments = parseUnsigned(e.value);
        const auto bytes = segments ? std::nullopt : parseByteSize(e.value);
        if (segments && *segments >= 1 && *segments <= 1000000) {
          config.journalRetentionSegments = static_cast<std::uint32_t>(*segments);
          config.journalRetentionBytes = 0;
        } else if (bytes && *bytes >= 4096) {
          config.journalRetentionBytes = *bytes;
          config.journalRetentionSegments = 0;
        } else {
          bad("a number of segments from 1 to 1000000 (such as 16) or a size of at least 4KiB "
              "with a unit (such as 1GiB)");
          continue;
        }
      } else {
        std::string known;
        for (const char* k : kKeys) known += (known.empty() ? "" : ", ") + std::string(k);
        add(e.line, kLinkwatchName, e.key, "unknown key in [LINKWATCH]; expected one of " + known);
      }
    }
  }

  // none | every | interval:<duration> (1ms..1h); "interval" alone keeps the default 100ms.
  void readJournalSync(const Entry& e, MonitorConfig& config) {
    std::string lower;
    for (const char c : e.value)
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    constexpr std::string_view kPrefix = "interval:";
    if (lower == "none") {
      config.journalSync = JournalSyncMode::kNone;
    } else if (lower == "every") {
      config.journalSync = JournalSyncMode::kEvery;
    } else if (lower == "interval") {
      config.journalSync = JournalSyncMode::kInterval;
    } else if (lower.starts_with(kPrefix)) {
      auto d = parseDuration(std::string_view(lower).substr(kPrefix.size()));
      if (!d || d->count() < 1 || *d > std::chrono::hours{1}) {
        add(e.line, kLinkwatchName, e.key,
            "expected interval:<duration> from 1ms to 1h, such as interval:100ms; got " +
                quoted(e.value));
        return;
      }
      config.journalSync = JournalSyncMode::kInterval;
      config.journalSyncInterval = *d;
    } else {
      add(e.line, kLinkwatchName, e.key,
          "expected none, every or interval:<duration> (such as interval:100ms); got " +
              quoted(e.value));
    }
  }

  // One or more comma-separated URLs; every alert goes to every one (an HA pair is two).
  void readAlertmanagerUrls(const Entry& e, MonitorConfig& config) {
    constexpr std::size_t kMaxUrls = 8;
    std::vector<std::string> urls;
    std::string_view rest = e.value;
    for (;;) {
      const std::size_t comma = rest.find(',');
      std::string_view item = trim(rest.substr(0, comma));
      auto url = parseHttpUrl(item);
      if (!url) {
        add(e.line, kLinkwatchName, e.key,
            "expected comma-separated http://HOST:PORT URLs of Alertmanager, such as "
            "http://127.0.0.1:9093,http://10.0.0.2:9093; got " +
                quoted(item));
        return;
      }
      if (std::find(urls.begin(), urls.end(), *url) != urls.end()) {
        add(e.line, kLinkwatchName, e.key,
            quoted(*url) + " is listed twice: every alert would be sent to it twice");
        return;
      }
      urls.push_back(std::move(*url));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (urls.size() > kMaxUrls) {
      add(e.line, kLinkwatchName, e.key,
          "expected at most " + std::to_string(kMaxUrls) + " URLs; got " +
              std::to_string(urls.size()));
      return;
    }
    config.alertmanagerUrls = std::move(urls);
  }

  // -- [DEFAULT] --

  void checkDefault(const Block& b) {
    auto it = b.entries.find("MEMBERID");
    if (it != b.entries.end()) {
      add(it->second.line, kDefaultName, it->second.key,
          "MemberId identifies one member: set it in each [SESSION], not in [DEFAULT]");
    }
  }

  // -- [SESSION] --

  class SessionReader {
   public:
    SessionReader(Parser& parser, const Block& block, std::string label)
        : p_(parser), block_(block), label_(std::move(label)) {
      if (p_.defaultBlock_ >= 0) {
        for (const auto& [k, e] : p_.blocks_[static_cast<std::size_t>(p_.defaultBlock_)].entries) {
          Entry inherited = e;
          inherited.fromDefault = true;
          merged_.emplace(k, std::move(inherited));
        }
      }
      for (const auto& [k, e] : block.entries) merged_[k] = e;
    }

    const Entry* find(const char* upperKey) const {
      auto it = merged_.find(upperKey);
      return it == merged_.end() ? nullptr : &it->second;
    }

    // A required key: reports it missing at the [SESSION] header.
    const Entry* require(const char* upperKey, const char* name, const std::string& expected) {
      const Entry* e = find(upperKey);
      if (e == nullptr) {
        p_.add(block_.line, label_, name, "missing; expected " + expected);
      } else if (e->value.empty()) {
        bad(*e, expected);
        return nullptr;
      }
      return e;
    }

    void bad(const Entry& e, const std::string& expected) {
      p_.add(e.line, sectionOf(e), e.key, "expected " + expected + "; got " + quoted(e.value));
    }
    void fail(const Entry& e, const std::string& message) {
      p_.add(e.line, sectionOf(e), e.key, message);
    }
    void failAtHeader(const std::string& key, const std::string& message) {
      p_.add(block_.line, label_, key, message);
    }

    std::string sectionOf(const Entry& e) const { return e.fromDefault ? kDefaultName : label_; }
    const Entries& merged() const { return merged_; }
    const std::string& label() const { return label_; }

   private:
    Parser& p_;
    const Block& block_;
    std::string label_;
    Entries merged_;
  };

  LinkConfig readSession(std::size_t index) {
    const Block& b = blocks_[index];
    SessionReader r(*this, b, labels_[index]);
    LinkConfig link;
    link.file = file_;
    link.line = b.line;
    for (const auto& [k, e] : r.merged()) link.settings[e.key] = e.value;

    if (const Entry* e = r.require("MEMBERID", "MemberId",
                                   "a short unique id of letters, digits, '_', '.' or '-' (at "
                                   "most 32 characters)")) {
      if (!isMemberId(e->value)) {
        r.bad(*e, "letters, digits, '_', '.' or '-', at most 32 characters");
      } else {
        link.memberId = e->value;
      }
    }
    link.memberName = link.memberId;
    if (const Entry* e = r.find("MEMBERNAME")) {
      if (e->value.empty() || e->value.size() > kMaxMemberNameLength || hasControl(e->value)) {
        r.bad(*e, "a display name of 1 to 128 printable characters");
      } else {
        link.memberName = e->value;
      }
    }
    if (const Entry* e = r.find("CRITICALITY")) {
      auto c = parseCriticality(e->value);
      if (!c) {
        r.bad(*e, "one of critical, standard, test");
      } else {
        link.criticality = *c;
      }
    }

    readIdentity(r, link);
    readTransport(r, link);
    readSchedule(r, link);

    if (const Entry* e = r.find("RTTPROBEINTERVAL")) {
      auto d = parseDuration(e->value);
      if (!d || (d->count() != 0 && *d < kMinRttProbeInterval)) {
        r.bad(*e, "0 (off) or a duration of at least 100ms, such as 500ms, 5s or 1m (at most 24h)");
      } else {
        link.rttProbeInterval = *d;
      }
    }
    readAllowedSources(r, link);
    sessionLabels_.push_back(r.label());
    return link;
  }

  // AllowedSourceAddresses: a comma-separated list of CIDRs, for acceptor sessions.
  void readAllowedSources(SessionReader& r, LinkConfig& link) {
    const Entry* e = r.find("ALLOWEDSOURCEADDRESSES");
    if (e == nullptr) return;
    if (link.connectionType != ConnectionType::kAcceptor) {
      r.fail(*e, "applies to acceptor sessions only (a member connecting to us)");
      return;
    }
    std::vector<CidrRange> ranges;
    std::string badItem;
    if (!parseCidrList(e->value, ranges, badItem)) {
      r.bad(*e,
            "a comma-separated list of addresses or CIDR ranges such as 10.1.0.0/16, "
            "192.0.2.7, 2001:db8::/32 (bad item " +
                quoted(badItem) + ")");
      return;
    }
    std::size_t pos = 0;
    while (pos <= e->value.size()) {
      std::size_t comma = e->value.find(',', pos);
      if (comma == std::string::npos) comma = e->value.size();
      link.allowedSourceAddresses.emplace_back(
          trim(std::string_view(e->value).substr(pos, comma - pos)));
      pos = comma + 1;
    }
  }

  void readIdentity(SessionReader& r, LinkConfig& link) {
    if (const Entry* e =
            r.require("BEGINSTRING", "BeginString",
                      "one of FIX.4.0, FIX.4.1, FIX.4.2, FIX.4.3, FIX.4.4, FIXT.1.1")) {
      static const char* const kVersions[] = {"FIX.4.0", "FIX.4.1", "FIX.4.2",
                                              "FIX.4.3", "FIX.4.4", "FIXT.1.1"};
      if (std::none_of(std::begin(kVersions), std::end(kVersions),
                       [&](const char* v) { return e->value == v; })) {
        r.bad(*e, "one of FIX.4.0, FIX.4.1, FIX.4.2, FIX.4.3, FIX.4.4, FIXT.1.1");
      } else {
        link.beginString = e->value;
      }
    }
    auto compId = [&](const char* upperKey, const char* name, std::string& out) {
      if (const Entry* e = r.require(upperKey, name, "a CompID")) {
        if (hasControl(e->value)) {
          r.bad(*e, "a CompID of printable characters");
        } else {
          out = e->value;
        }
      }
    };
    compId("SENDERCOMPID", "SenderCompID", link.senderCompId);
    compId("TARGETCOMPID", "TargetCompID", link.targetCompId);
    if (const Entry* e = r.find("SESSIONQUALIFIER")) {
      if (hasControl(e->value)) {
        r.bad(*e, "printable characters");
      } else {
        link.sessionQualifier = e->value;
      }
    }
    link.sessionKey = link.beginString + ":" + link.senderCompId + "->" + link.targetCompId;
    if (!link.sessionQualifier.empty()) link.sessionKey += ":" + link.sessionQualifier;
  }

  void readTransport(SessionReader& r, LinkConfig& link) {
    bool initiator = false;
    const Entry* type = r.require("CONNECTIONTYPE", "ConnectionType", "acceptor or initiator");
    if (type != nullptr) {
      if (type->value == "acceptor") {
        link.connectionType = ConnectionType::kAcceptor;
      } else if (type->value == "initiator") {
        link.connectionType = ConnectionType::kInitiator;
        initiator = true;
      } else {
        r.bad(*type, "acceptor or initiator (lower case)");
        type = nullptr;
      }
    }
    auto heartBtInt = [&](bool required) {
      const Entry* e = required ? r.require("HEARTBTINT", "HeartBtInt",
                                            "the heartbeat interval in whole seconds, above 0")
                                : r.find("HEARTBTINT");
      if (e == nullptr) return;
      auto v = parseUnsigned(e->value);
      if (!v || *v <= 0 || *v > kMaxHeartBtInt) {
        r.bad(*e, "the heartbeat interval in whole seconds, from 1 to 86400");
      } else {
        link.heartBtIntSeconds = static_cast<int>(*v);
      }
    };
    auto port = [&](const Entry* e) {
      if (e == nullptr) return;
      auto v = parsePort(e->value, 1);
      if (!v) {
        r.bad(*e, "a TCP port from 1 to 65535");
      } else {
        link.socketPort = *v;
      }
    };
    auto host = [&](const Entry* e) {
      if (e == nullptr) return;
      if (!isHostName(e->value)) {
        r.bad(*e, "a host name or IP address");
      } else {
        link.socketHost = e->value;
      }
    };
    if (type == nullptr) return;
    if (initiator) {
      host(r.require("SOCKETCONNECTHOST", "SocketConnectHost", "a host name or IP address"));
      port(r.require("SOCKETCONNECTPORT", "SocketConnectPort", "a TCP port from 1 to 65535"));
      heartBtInt(true);
    } else {
      port(r.require("SOCKETACCEPTPORT", "SocketAcceptPort", "a TCP port from 1 to 65535"));
      host(r.find("SOCKETACCEPTHOST"));
      heartBtInt(false);  // the member simulator initiates with it
    }
  }

  void readSchedule(SessionReader& r, LinkConfig& link) {
    ScheduleSpec spec;
    bool ok = true;
    auto yesNo = [&](const char* upperKey) {
      const Entry* e = r.find(upperKey);
      if (e == nullptr) return false;
      auto v = parseYesNo(e->value);
      if (!v) {
        r.bad(*e, "Y or N");
        ok = false;
        return false;
      }
      return *v;
    };
    spec.nonStop = yesNo("NONSTOPSESSION");
    bool useLocalTime = yesNo("USELOCALTIME");

    const Entry* zoneEntry = r.find("TIMEZONE");
    if (zoneEntry != nullptr) {
      if (useLocalTime) {
        r.fail(*zoneEntry, "TimeZone conflicts with UseLocalTime=Y; set only one of them");
        ok = false;
      } else if (zoneEntry->value.empty() || zoneEntry->value.size() > 64 ||
                 hasControl(zoneEntry->value)) {
        r.bad(*zoneEntry, "an IANA time zone name such as Europe/London, or UTC");
        ok = false;
      } else {
        spec.timeZone = zoneEntry->value;
      }
    } else if (useLocalTime) {
      spec.timeZone = "local";
    }

    const char* timeExpected = "a time of day HH:MM:SS such as 07:30:00";
    auto timeOfDay = [&](const char* upperKey, const char* name, int& out) -> const Entry* {
      const Entry* e =
          spec.nonStop
              ? r.find(upperKey)
              : r.require(upperKey, name, std::string(timeExpected) + " (or NonStopSession=Y)");
      if (e == nullptr) {
        if (!spec.nonStop) ok = false;
        return nullptr;
      }
      auto v = parseTimeOfDay(e->value);
      if (!v) {
        r.bad(*e, timeExpected);
        ok = false;
        return nullptr;
      }
      out = *v;
      return e;
    };
    timeOfDay("STARTTIME", "StartTime", spec.startSecond);
    timeOfDay("ENDTIME", "EndTime", spec.endSecond);

    const Entry* startDay = r.find("STARTDAY");
    const Entry* endDay = r.find("ENDDAY");
    const char* dayExpected = "a day name such as Sunday, Sun or Su";
    auto weekDay = [&](const Entry* e, int& out) {
      auto v = parseDay(e->value);
      if (!v) {
        r.bad(*e, dayExpected);
        ok = false;
      } else {
        out = *v;
      }
    };
    if (startDay != nullptr && endDay != nullptr) {
      weekDay(startDay, spec.startDay);
      weekDay(endDay, spec.endDay);
      if (ok && !spec.nonStop && spec.startDay == spec.endDay &&
          spec.endSecond > spec.startSecond) {
        r.fail(*endDay,
               "StartDay equals EndDay with EndTime after StartTime: QuickFIX treats this as open "
               "all week; for one day a week use a daily schedule, for a week-long session make "
               "EndTime earlier than StartTime");
        ok = false;
      }
    } else if (startDay != nullptr || endDay != nullptr) {
      const Entry* e = startDay != nullptr ? startDay : endDay;
      r.fail(*e,
             std::string(startDay != nullptr ? "StartDay needs EndDay" : "EndDay needs StartDay") +
                 ": set both for a weekly session, or neither for a daily one");
      ok = false;
    }

    if (spec.nonStop) spec.startDay = spec.endDay = -1;
    if (!ok) {
      // Still check the zone, so that one pass reports it along with the other problems.
      ScheduleSpec zoneOnly;
      zoneOnly.nonStop = true;
      zoneOnly.timeZone = spec.timeZone;
      spec = zoneOnly;
    }
    try {
      TradingSchedule schedule(spec);
      if (ok) link.schedule = std::move(schedule);
    } catch (const std::exception& e) {
      if (zoneEntry != nullptr) {
        r.fail(*zoneEntry, std::string(e.what()) + "; expected an IANA name such as Europe/London");
      } else if (const Entry* local = r.find("USELOCALTIME")) {
        r.fail(*local, "cannot determine the machine's local time zone: " + std::string(e.what()));
      } else {
        r.failAtHeader("StartTime", e.what());
      }
    }
  }

  // -- Across sessions --

  void checkUnique(const MonitorConfig& config) {
    std::map<std::string, std::size_t> byMember;
    std::map<std::string, std::size_t> byKey;
    for (std::size_t i = 0; i < config.links.size(); ++i) {
      const LinkConfig& link = config.links[i];
      if (!link.memberId.empty()) {
        auto [it, inserted] = byMember.emplace(link.memberId, i);
        const Entry* e = sessionEntry(i, "MEMBERID");
        if (!inserted && e != nullptr) {
          const LinkConfig& first = config.links[it->second];
          add(e->line, sessionLabels_[i], e->key,
              "duplicate MemberId " + quoted(link.memberId) + ": already used by " +
                  sessionLabels_[it->second] + " on line " + std::to_string(first.line) +
                  "; each member needs its own id");
        }
      }
      if (!link.beginString.empty() && !link.senderCompId.empty() && !link.targetCompId.empty()) {
        auto [it, inserted] = byKey.emplace(link.sessionKey, i);
        if (!inserted) {
          const Entry* e = sessionEntry(i, "TARGETCOMPID");
          add(e != nullptr ? e->line : link.line, sessionLabels_[i], "TargetCompID",
              "session " + quoted(link.sessionKey) + " is already defined by " +
                  sessionLabels_[it->second] + " on line " +
                  std::to_string(config.links[it->second].line) +
                  "; change a CompID or add a SessionQualifier");
        }
      }
    }
  }

  // An entry written in the session's own block (not inherited), or nullptr.
  const Entry* sessionEntry(std::size_t sessionIndex, const char* upperKey) const {
    const Block& b = blocks_[sessionBlocks_[sessionIndex]];
    auto it = b.entries.find(upperKey);
    return it == b.entries.end() ? nullptr : &it->second;
  }

  void checkBudget(const MonitorConfig& config) {
    if (config.fixWorkerMode == FixWorkerMode::kInProcess) {
      checkBudget(config, "", 0);
      return;
    }
    // QuickFIX worker processes take the sessions, but the sessions of one SocketAcceptPort
    // share one process (QuickFIX binds the port): each port group must fit one process.
    for (const std::vector<LinkIndex>& group : fixPortGroups(config)) {
      MonitorConfig part;
      for (LinkIndex i : group) part.links.push_back(config.links[i]);
      const LinkConfig& first = part.links.front();
      checkBudget(part,
                  first.connectionType == ConnectionType::kAcceptor
                      ? " on SocketAcceptPort " + std::to_string(first.socketPort) +
                            " (sessions of one port share one QuickFIX process; the first on "
                            "line " +
                            std::to_string(first.line) + ", the last on line " +
                            std::to_string(part.links.back().line) + ")"
                      : "",
                  first.line);
    }
  }

  void checkBudget(const MonitorConfig& config, const std::string& where, int line) {
    DescriptorBudget budget = descriptorBudget(config);
    if (budget.withinLimit()) return;
    bool anyLog = std::any_of(config.links.begin(), config.links.end(), [](const LinkConfig& l) {
      return findSetting(l, "FileLogPath").has_value();
    });
    bool anyStore = std::any_of(config.links.begin(), config.links.end(), [](const LinkConfig& l) {
      return findSetting(l, "FileStorePath").has_value();
    });
    std::string advice;
    if (anyLog) advice += "drop FileLogPath (QuickFIX's screen log or none), ";
    if (anyStore) advice += "drop FileStorePath (memory store), ";
    add(line, kSessionName, anyLog ? "FileLogPath" : (anyStore ? "FileStorePath" : ""),
        std::to_string(budget.sessions) + " sessions" + where + " need about " +
            std::to_string(budget.total) + " file descriptors (up to " +
            std::to_string(budget.perSessionEstimate) + " per session, " +
            std::to_string(budget.listeningSockets) + " listening, " +
            std::to_string(budget.reserve) +
            " reserved), but QuickFIX 1.15.1 waits with select() and aborts above descriptor "
            "1023 (budget " +
            std::to_string(budget.limit) + "): " + advice + "or run at most " +
            std::to_string(budget.maxSessions()) + " such sessions per " +
            (where.empty() ? "linkwatch process" : "port"));
  }

  std::vector<ConfigIssue> sortedIssues() {
    std::vector<ConfigIssue> out;
    std::set<std::tuple<int, std::string, std::string, std::string>> seen;
    for (ConfigIssue& i : issues_) {
      // A bad value inherited from [DEFAULT] is reported once, not once per session.
      if (seen.emplace(i.line, i.section, i.key, i.message).second) out.push_back(std::move(i));
    }
    std::stable_sort(out.begin(), out.end(), [](const ConfigIssue& a, const ConfigIssue& b) {
      auto rank = [](const ConfigIssue& i) {
        return i.line == 0 ? std::numeric_limits<int>::max() : i.line;
      };
      return rank(a) < rank(b);
    });
    return out;
  }

  std::string_view text_;
  std::string file_;
  std::vector<Block> blocks_;
  std::vector<std::string> labels_;         // per block
  std::vector<std::string> sessionLabels_;  // per link, in order
  std::vector<std::size_t> sessionBlocks_;  // per link: its block
  std::vector<PendingIssue> pending_;
  std::vector<ConfigIssue> issues_;
  int defaultBlock_ = -1;
  int linkwatchBlock_ = -1;
  int certificationBlock_ = -1;
  int sessionCount_ = 0;
};

}  // namespace

std::string_view toString(Criticality c) noexcept {
  switch (c) {
    case Criticality::kCritical:
      return "critical";
    case Criticality::kStandard:
      return "standard";
    case Criticality::kTest:
      return "test";
  }
  return "standard";
}

std::optional<Criticality> parseCriticality(std::string_view text) noexcept {
  for (Criticality c : {Criticality::kCritical, Criticality::kStandard, Criticality::kTest}) {
    if (iequals(text, toString(c))) return c;
  }
  return std::nullopt;
}

std::string_view toString(ConnectionType t) noexcept {
  return t == ConnectionType::kInitiator ? "initiator" : "acceptor";
}

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) noexcept {
  text = trim(text);
  std::size_t digits = 0;
  while (digits < text.size() && isDigit(text[digits])) ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  std::int64_t n = 0;
  for (std::size_t i = 0; i < digits; ++i) n = n * 10 + (text[i] - '0');
  std::string_view unit = text.substr(digits);
  std::int64_t ms = 0;
  if (unit.empty() || unit == "s") {
    ms = 1000;
  } else if (unit == "ms") {
    ms = 1;
  } else if (unit == "m") {
    ms = 60 * 1000;
  } else if (unit == "h") {
    ms = 3600 * 1000;
  } else {
    return std::nullopt;
  }
  if (n > kMaxDurationMs / ms) return std::nullopt;
  return std::chrono::milliseconds{n * ms};
}

std::optional<std::uint64_t> parseByteSize(std::string_view text) noexcept {
  text = trim(text);
  std::size_t digits = 0;
  while (digits < text.size() && isDigit(text[digits])) ++digits;
  if (digits == 0 || digits > 13) return std::nullopt;
  std::uint64_t value = 0;
  std::from_chars(text.data(), text.data() + digits, value);
  std::string unit;
  for (const char c : trim(text.substr(digits)))
    unit.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  std::uint64_t scale = 0;
  if (unit.empty() || unit == "b") {
    scale = 1;
  } else if (unit == "kib") {
    scale = 1ull << 10;
  } else if (unit == "mib") {
    scale = 1ull << 20;
  } else if (unit == "gib") {
    scale = 1ull << 30;
  } else {
    return std::nullopt;
  }
  constexpr std::uint64_t kMax = 1ull << 40;
  if (value > kMax / scale) return std::nullopt;
  return value * scale;
}

std::optional<std::string> findSetting(const LinkConfig& link, std::string_view key) {
  for (const auto& [k, v] : link.settings) {
    if (iequals(k, key)) return v;
  }
  return std::nullopt;
}

int DescriptorBudget::maxSessions() const noexcept {
  if (perSessionEstimate <= 0) return 0;
  int room = limit - reserve - listeningSockets - kGlobalFileLog;
  return room > 0 ? room / perSessionEstimate : 0;
}

DescriptorBudget descriptorBudget(const MonitorConfig& config) {
  DescriptorBudget b;
  std::set<int> acceptPorts;
  bool anyLog = false;
  for (const LinkConfig& link : config.links) {
    int n = DescriptorBudget::kSocketPerSession;
    if (findSetting(link, "FileStorePath")) n += DescriptorBudget::kFileStorePerSession;
    if (findSetting(link, "FileLogPath")) {
      n += DescriptorBudget::kFileLogPerSession;
      anyLog = true;
    }
    if (link.connectionType == ConnectionType::kAcceptor) acceptPorts.insert(link.socketPort);
    ++b.sessions;
    b.sessionDescriptors += n;
    b.perSessionEstimate = std::max(b.perSessionEstimate, n);
  }
  b.listeningSockets = static_cast<int>(acceptPorts.size());
  b.total = b.sessionDescriptors + b.listeningSockets + b.reserve +
            (anyLog ? DescriptorBudget::kGlobalFileLog : 0);
  return b;
}

std::string ConfigIssue::describe() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ":";
  if (!section.empty()) out += " [" + section + "]";
  if (!key.empty()) out += " " + key + ":";
  out += " " + message;
  return out;
}

namespace {
std::string summarize(const std::vector<ConfigIssue>& issues) {
  std::string out = std::to_string(issues.size()) +
                    (issues.size() == 1 ? " problem" : " problems") + " in the configuration";
  for (const ConfigIssue& i : issues) out += "\n  " + i.describe();
  return out;
}
}  // namespace

ConfigError::ConfigError(std::vector<ConfigIssue> issues)
    : std::runtime_error(summarize(issues)), issues_(std::move(issues)) {}

MonitorConfig parseConfig(const std::string& text, const std::string& fileName) {
  try {
    return Parser(text, fileName).run();
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    // Should not happen; the promise is that only ConfigError leaves this function.
    throw ConfigError(
        {ConfigIssue{fileName, 0, "", "", std::string("internal error: ") + e.what()}});
  }
}

namespace {
[[noreturn]] void throwFileError(const std::string& path, const std::string& message) {
  throw ConfigError({ConfigIssue{path, 0, "", "", message}});
}

// HttpTlsCertificate names one PEM file that civetweb reads twice, for the certificate chain
// and for the key: both must be in it, the key unencrypted (civetweb cannot ask for a
// passphrase). A text check, so that a wrong file fails here with its line rather than at
// start with OpenSSL's words; whether the key matches is OpenSSL's to say, at start.
void checkHttpTlsCertificate(const MonitorConfig& config) {
  const SecurityConfig& sec = config.security;
  if (sec.httpTlsCertificate.empty()) return;
  const std::string& path = sec.httpTlsCertificate;
  auto fail = [&](const std::string& message) {
    throw ConfigError({ConfigIssue{config.file, sec.httpTlsCertificateLine, kLinkwatchName,
                                   "HttpTlsCertificate", message}});
  };
  constexpr std::size_t kMaxPemBytes = 1024 * 1024;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) fail("cannot read " + path + ": " + std::generic_category().message(errno));
  std::string text;
  char buffer[16 * 1024];
  for (;;) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, f.get());
    text.append(buffer, n);
    if (text.size() > kMaxPemBytes)
      fail("expected a PEM file of at most 1 MiB; " + path + " is larger");
    if (n < sizeof buffer) break;
  }
  const std::string expected =
      "expected a PEM file with the certificate (chain) and its unencrypted private key; ";
  const bool hasCertificate = text.find("-----BEGIN CERTIFICATE-----") != std::string::npos;
  const bool hasKey = text.find("-----BEGIN PRIVATE KEY-----") != std::string::npos ||
                      text.find("-----BEGIN RSA PRIVATE KEY-----") != std::string::npos ||
                      text.find("-----BEGIN EC PRIVATE KEY-----") != std::string::npos;
  const bool hasEncryptedKey =
      text.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string::npos ||
      text.find("Proc-Type: 4,ENCRYPTED") != std::string::npos;
  if (!hasCertificate && !hasKey && !hasEncryptedKey) fail(expected + path + " is not PEM");
  if (!hasCertificate) fail(expected + path + " has no certificate");
  if (hasEncryptedKey) fail(expected + path + "'s private key is encrypted");
  if (!hasKey) fail(expected + path + " has no private key (append it: cat cert.pem key.pem)");
}
}  // namespace

MonitorConfig loadConfig(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f)
    throwFileError(path, "cannot open " + path + ": " + std::generic_category().message(errno));
  std::string text;
  char buffer[64 * 1024];
  for (;;) {
    std::size_t n = std::fread(buffer, 1, sizeof buffer, f.get());
    text.append(buffer, n);
    if (text.size() > kMaxFileBytes)
      throwFileError(path, "cannot read " + path + ": larger than 16 MiB");
    if (n < sizeof buffer) break;
  }
  if (std::ferror(f.get()) != 0) {
    throwFileError(path, "cannot read " + path + ": " + std::generic_category().message(errno));
  }
  MonitorConfig config = parseConfig(text, path);
  loadSecurityFiles(config);
  checkHttpTlsCertificate(config);
  return config;
}

}  // namespace linkwatch
