#include <linkwatch/secrets.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string_view>
#include <system_error>

namespace linkwatch {
namespace {

constexpr std::size_t kMaxSecretsBytes = 1 << 20;
constexpr std::size_t kMaxFieldLength = 256;

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && isBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && isBlank(s.back())) s.remove_suffix(1);
  return s;
}

// Splits off the next whitespace-separated field.
std::string_view nextField(std::string_view& rest) {
  rest = trim(rest);
  std::size_t end = 0;
  while (end < rest.size() && !isBlank(rest[end])) ++end;
  std::string_view field = rest.substr(0, end);
  rest.remove_prefix(end);
  return field;
}

bool printable(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

}  // namespace

bool constantTimeEquals(const std::string& a, const std::string& b) noexcept {
  // Walk the longer length always, so a short guess takes as long as a long one.
  const std::size_t n = a.size() > b.size() ? a.size() : b.size();
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

const FixCredential* Secrets::fixCredential(const std::string& memberId) const noexcept {
  for (const FixCredential& c : fix)
    if (c.memberId == memberId) return &c;
  return nullptr;
}

bool Secrets::checkHttpUser(const std::string& user, const std::string& password) const noexcept {
  bool ok = false;
  for (const HttpUser& u : http) {
    const bool userMatches = constantTimeEquals(u.user, user);
    const bool passwordMatches = constantTimeEquals(u.password, password);
    ok = ok || (userMatches && passwordMatches);
  }
  return ok;
}

Secrets parseSecrets(const std::string& text, const std::string& file,
                     std::vector<SecretsProblem>& problems) {
  Secrets out;
  out.file = file;
  std::string_view rest(text);
  int lineNo = 0;
  while (!rest.empty()) {
    ++lineNo;
    const std::size_t nl = rest.find('\n');
    std::string_view line = trim(rest.substr(0, nl));
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (line.empty() || line.front() == '#') continue;
    if (!printable(line)) {
      problems.push_back({lineNo, "control characters in the line; expected printable text"});
      continue;
    }
    std::string_view fields = line;
    const std::string_view kind = nextField(fields);
    if (kind == "fix") {
      const std::string_view member = nextField(fields);
      const std::string_view user = nextField(fields);
      const std::string_view password = trim(fields);
      if (member.empty() || user.empty() || password.empty()) {
        problems.push_back({lineNo, "expected `fix MEMBERID USERNAME PASSWORD`"});
        continue;
      }
      if (member.size() > kMaxFieldLength || user.size() > kMaxFieldLength ||
          password.size() > kMaxFieldLength) {
        problems.push_back({lineNo, "a field is longer than 256 characters"});
        continue;
      }
      if (out.fixCredential(std::string(member)) != nullptr) {
        problems.push_back({lineNo, "a second `fix` entry for member " + std::string(member) +
                                        "; expected one per member"});
        continue;
      }
      out.fix.push_back({std::string(member), std::string(user), std::string(password), lineNo});
    } else if (kind == "http") {
      const std::string_view user = nextField(fields);
      const std::string_view password = trim(fields);
      if (user.empty() || password.empty()) {
        problems.push_back({lineNo, "expected `http USER PASSWORD`"});
        continue;
      }
      if (user.find(':') != std::string_view::npos) {
        problems.push_back({lineNo, "an HTTP user name cannot contain ':' (basic auth)"});
        continue;
      }
      if (user.size() > kMaxFieldLength || password.size() > kMaxFieldLength) {
        problems.push_back({lineNo, "a field is longer than 256 characters"});
        continue;
      }
      out.http.push_back({std::string(user), std::string(password), lineNo});
    } else {
      problems.push_back({lineNo, "unknown entry `" + std::string(kind.substr(0, 32)) +
                                      "`; expected `fix MEMBERID USERNAME PASSWORD` or "
                                      "`http USER PASSWORD`"});
    }
  }
  return out;
}

Secrets loadSecrets(const std::string& path, std::vector<SecretsProblem>& problems) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    problems.push_back({0, "cannot open " + path + ": " + std::generic_category().message(errno)});
    return {};
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    problems.push_back({0, path + " is not a regular file"});
    return {};
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    problems.push_back({0, path + " has mode " + mode +
                               ": its group or others may read it; expected 0600 or 0400 "
                               "(chmod 600 " +
                               path + ")"});
    return {};
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      problems.push_back(
          {0, "cannot read " + path + ": " + std::generic_category().message(errno)});
      ::close(fd);
      return {};
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxSecretsBytes) {
      problems.push_back({0, path + " is larger than 1 MiB"});
      ::close(fd);
      return {};
    }
  }
  ::close(fd);
  return parseSecrets(text, path, problems);
}

}  // namespace linkwatch

// ---- loadSecurityFiles: the part of loadConfig that reads other files. ----

#include <linkwatch/config.hpp>

namespace linkwatch {

void loadSecurityFiles(MonitorConfig& config) {
  std::vector<ConfigIssue> issues;
  SecurityConfig& sec = config.security;
  for (const SecurityConfig::FileSetting& f : sec.files) {
    struct stat st {};
    if (::stat(f.path.c_str(), &st) != 0) {
      issues.push_back({config.file, f.line, f.section, f.key,
                        "cannot use " + f.path + ": " + std::generic_category().message(errno)});
    } else if (f.directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
      issues.push_back({config.file, f.line, f.section, f.key,
                        f.path + " is not a " + (f.directory ? "directory" : "regular file")});
    } else if (::access(f.path.c_str(), R_OK) != 0) {
      issues.push_back({config.file, f.line, f.section, f.key,
                        "cannot read " + f.path + ": " + std::generic_category().message(errno)});
    }
  }
  if (!sec.secretsFile.empty() && issues.empty()) {
    std::vector<SecretsProblem> problems;
    auto secrets = std::make_shared<Secrets>(loadSecrets(sec.secretsFile, problems));
    for (const SecretsProblem& p : problems) {
      if (p.line == 0) {
        issues.push_back({config.file, sec.secretsFileLine, "LINKWATCH", "SecretsFile", p.message});
      } else {
        issues.push_back({sec.secretsFile, p.line, "", "", p.message});
      }
    }
    for (const FixCredential& c : secrets->fix) {
      const bool known =
          std::any_of(config.links.begin(), config.links.end(), [&](const LinkConfig& l) {
            return l.memberId == c.memberId && l.connectionType == ConnectionType::kAcceptor;
          });
      if (!known)
        issues.push_back({sec.secretsFile, c.line, "", "",
                          "no acceptor [SESSION] has MemberId " + c.memberId +
                              ": logon credentials are checked on sessions members connect to"});
    }
    sec.secrets = std::move(secrets);
  }
  if (!issues.empty()) throw ConfigError(std::move(issues));
}

}  // namespace linkwatch
