// What the security tests share: the real linkwatch binary as a subprocess with a settings
// file and a secrets file of their own, HTTP with basic auth, and raw FIX over TCP from a
// chosen loopback source address (127.0.0.0/8 is all ours on Linux).
#pragma once

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "integration/loopback_support.hpp"

namespace linkwatch::testing {

// Secrets of the test configuration: no test may find them in any output.
inline constexpr const char* kMemberPassword = "Tr0ub4dor-member-SECRET";
inline constexpr const char* kHttpPassword = "0ps-http-SECRET";

struct HttpReply {
  long status = 0;
  std::string body;
  std::string headers;
};

inline std::size_t appendTo(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// GET (or `method`) with basic auth when `userPassword` ("user:password") is not empty;
// over https, trusting the CA in `caFile`.
inline HttpReply http(const std::string& url, const std::string& userPassword = "",
                      const char* method = "GET", const std::string& caFile = "") {
  HttpReply r;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendTo);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, appendTo);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  if (!caFile.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, caFile.c_str());
  if (!userPassword.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERPWD, userPassword.c_str());
  }
  if (curl_easy_perform(curl) == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_cleanup(curl);
  return r;
}

// A FIX message with BodyLength and CheckSum computed, or BodyLength forced to `bodyLength`.
inline std::string fixMessage(const std::vector<std::pair<int, std::string>>& fields,
                              const std::string& bodyLength = "") {
  std::string body;
  for (const auto& [tag, value] : fields) body += std::to_string(tag) + "=" + value + '\x01';
  std::string text =
      "8=FIX.4.4\x01"
      "9=" +
      (bodyLength.empty() ? std::to_string(body.size()) : bodyLength) + '\x01' + body;
  unsigned sum = 0;
  for (char c : text) sum += static_cast<unsigned char>(c);
  char trailer[16];
  std::snprintf(trailer, sizeof trailer, "10=%03u\x01", sum % 256);
  return text + trailer;
}

inline std::string sendingTime() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%d-%H:%M:%S", &tm);
  return text;
}

// A Logon from member `sender` to linkwatch ("EXCH"), with Username/Password if given.
inline std::string logon(const std::string& sender, const std::string& user = "",
                         const std::string& password = "") {
  std::vector<std::pair<int, std::string>> f = {{35, "A"},  {49, sender},        {56, "EXCH"},
                                                {34, "1"},  {52, sendingTime()}, {98, "0"},
                                                {108, "1"}, {141, "Y"}};
  if (!user.empty()) f.push_back({553, user});
  if (!password.empty()) f.push_back({554, password});
  return fixMessage(f);
}

// A TCP connection to 127.0.0.1:port from `source` (e.g. "127.0.0.2"); -1 on failure.
// The source port comes from 10000..31999, below the kernel's ephemeral range: the floods
// open thousands of connections, and ephemeral source ports would take the ports that
// freePort() hands to monitors of tests running in parallel (QuickFIX listens on 0.0.0.0).
inline int connectFrom(const char* source, std::uint16_t port) {
  static std::atomic<unsigned> next{static_cast<unsigned>(::getpid()) * 7919u};
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int attempt = 0; attempt < 64; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_port = htons(static_cast<std::uint16_t>(10000 + next++ % 22000));
    ::inet_pton(AF_INET, source, &from.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0 &&
        ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0)
      return fd;
    const bool portTaken = errno == EADDRINUSE || errno == EADDRNOTAVAIL;
    ::close(fd);
    if (!portTaken) return -1;
  }
  return -1;
}

inline bool sendAll(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads until the peer closes, `until` appears, or `timeout` passes.
inline std::string readUntil(int fd, const std::string& until, std::chrono::milliseconds timeout) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got.find(until) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    got.append(buffer, static_cast<std::size_t>(n));
  }
  return got;
}

// Sends one Logon on a fresh connection and returns what came back before the close (or
// within 5 s): "35=A" when accepted, a Logout "35=5" with the reason when refused.
inline std::string logonReply(const char* source, std::uint16_t port, const std::string& message) {
  const int fd = connectFrom(source, port);
  if (fd < 0) return "connect failed";
  sendAll(fd, message);
  std::string reply = readUntil(fd,
                                "\x01"
                                "10=",
                                std::chrono::seconds(5));
  ::close(fd);
  return reply;
}

using test_support::readFile;

// Resident memory of a process, in KiB (0 if unreadable).
inline long rssKib(pid_t pid) {
  std::istringstream status(readFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// Raises this process's descriptor limit to its hard limit (floods open >1,000 sockets).
inline void raiseDescriptorLimit() {
  rlimit l{};
  ::getrlimit(RLIMIT_NOFILE, &l);
  l.rlim_cur = l.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &l);
}

// LogonFailureLimit of the monitor that SecuredMonitor starts: refused Logons from one address
// within LogonFailureWindow before the address is blocked.
constexpr int kLogonFailureLimit = 5;

// `linkwatch run` on a settings file with these members, all acceptors with HeartBtInt=1:
//   BANK01, BANK02, BANK03   plain sessions
//   GUARDED                  AllowedSourceAddresses=127.0.0.1/32
//   PASSWD                   Username/Password from the secrets file
// and an `http` user "ops" in the secrets file (so the HTTP port asks for basic auth).
// `threaded`: `linkwatch run --threaded` (QuickFIX's ThreadedSocketAcceptor, as under TLS).
class SecuredMonitor {
 public:
  explicit SecuredMonitor(const std::string& linkwatchExtra = "", bool threaded = false) {
    const std::string secrets =
        dir.write("secrets", std::string("# test secrets\nfix PASSWD passuser ") + kMemberPassword +
                                 "\nhttp ops " + kHttpPassword + "\n");
    ::chmod(secrets.c_str(), 0600);
    std::string text =
        "[DEFAULT]\nConnectionType=acceptor\nBeginString=FIX.4.4\nSenderCompID=EXCH\n"
        "SocketAcceptHost=127.0.0.1\nSocketAcceptPort=" +
        std::to_string(fixPort) +
        "\nNonStopSession=Y\nUseDataDictionary=N\nHeartBtInt=1\nFileLogPath=" +
        (dir.path() / "fixlog").string() +
        "\n\n[LINKWATCH]\nHttpListen=127.0.0.1:" + std::to_string(httpPort) +
        "\nSecretsFile=" + secrets + "\nLogonFailureLimit=" + std::to_string(kLogonFailureLimit) +
        "\nLogonFailureWindow=60s\nLogonBlockDuration=60s\n" + linkwatchExtra + "\n";
    for (const char* m : {"BANK01", "BANK02", "BANK03", "GUARDED", "PASSWD"}) {
      text += std::string("\n[SESSION]\nTargetCompID=") + m + "\nMemberId=" + m + "\n";
      if (std::string(m) == "GUARDED") text += "AllowedSourceAddresses=127.0.0.1/32\n";
    }
    config = dir.write("linkwatch.cfg", text);
    logFile = (dir.path() / "linkwatch.log").string();
    pid = ::fork();
    if (pid == 0) {
      std::freopen(logFile.c_str(), "w", stdout);
      std::freopen(logFile.c_str(), "a", stderr);
      if (threaded) {
        ::execl(LINKWATCH_BINARY, LINKWATCH_BINARY, "run", "--threaded", "--config", config.c_str(),
                static_cast<char*>(nullptr));
      } else {
        ::execl(LINKWATCH_BINARY, LINKWATCH_BINARY, "run", "--config", config.c_str(),
                static_cast<char*>(nullptr));
      }
      std::_Exit(127);
    }
  }
  ~SecuredMonitor() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }

  bool alive() const { return pid > 0 && ::waitpid(pid, nullptr, WNOHANG) == 0; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(httpPort) + path;
  }
  HttpReply get(const std::string& path) const {
    return http(url(path), std::string("ops:") + kHttpPassword);
  }
  // HTTP answers and the FIX port listens (QuickFIX starts after the HTTP server). Without a
  // probe connection: see test_support::listeningOn.
  bool ready() const {
    return waitFor(
        [&] { return http(url("/healthz")).status == 200 && test_support::listeningOn(fixPort); },
        std::chrono::seconds(20));
  }
  std::string log() const { return readFile(logFile); }

  TempDir dir;
  std::uint16_t fixPort = freePort();
  std::uint16_t httpPort = freePort();
  std::string config;
  std::string logFile;
  pid_t pid = -1;
};

}  // namespace linkwatch::testing
