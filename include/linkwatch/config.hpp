// linkwatch's view of a QuickFIX settings file: [DEFAULT] and [SESSION] blocks as QuickFIX
// reads them, plus the per-session keys MemberId/MemberName/Criticality/... and a
// [LINKWATCH] section of monitor-wide keys.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <linkwatch/trading_schedule.hpp>

namespace linkwatch {

enum class Criticality : std::uint8_t { kCritical, kStandard, kTest };
std::string_view toString(Criticality c) noexcept;
// "critical", "standard" or "test" (any case); nullopt otherwise.
std::optional<Criticality> parseCriticality(std::string_view text) noexcept;

enum class ConnectionType : std::uint8_t { kAcceptor, kInitiator };
std::string_view toString(ConnectionType t) noexcept;  // "acceptor" / "initiator"

struct LinkConfig {
  std::string memberId;    // short, unique: the `member` label
  std::string memberName;  // display name
  Criticality criticality = Criticality::kStandard;
  ConnectionType connectionType = ConnectionType::kAcceptor;
  std::string beginString;
  std::string senderCompId;
  std::string targetCompId;
  std::string sessionQualifier;
  // QuickFIX's SessionID::toString(): "FIX.4.4:EXCH->BANK01" (the `session` label).
  std::string sessionKey;
  // Configured HeartBtInt; for acceptors QuickFIX takes the initiator's value from its Logon,
  // and the monitor does the same. 0 when not configured.
  int heartBtIntSeconds = 0;
  std::string socketHost;  // SocketConnectHost (initiator) or SocketAcceptHost (acceptor)
  int socketPort = 0;      // SocketConnectPort or SocketAcceptPort
  TradingSchedule schedule;
  std::chrono::milliseconds rttProbeInterval{0};  // 0: no probes
  // AllowedSourceAddresses (acceptors): CIDRs a Logon may come from, as written ("10.1.0.0/16",
  // "127.0.0.1", "::1/128"); empty: any address.
  std::vector<std::string> allowedSourceAddresses;
  // Every key of the merged [DEFAULT]+[SESSION] block, as written (QuickFIX keys included).
  std::map<std::string, std::string> settings;
  std::string file;
  int line = 0;  // line of the [SESSION] header
};

// When the journal writer calls fdatasync(): never (the kernel writes back; a kill -9 loses
// nothing, a power cut may), at most every interval, or after every batch before the records
// are served by the API.
enum class JournalSyncMode : std::uint8_t { kNone, kInterval, kEvery };

// One KEY=VALUE line of a section that another component validates.
struct RawSetting {
  std::string key;  // as written
  std::string value;
  int line = 0;
};

// Where `run` puts the QuickFIX sessions: in its own process while they fit one process's
// descriptor budget (auto), always there (in-process), or in worker processes (processes).
enum class FixWorkerMode : std::uint8_t { kAuto, kInProcess, kProcesses };

class Secrets;

// Who may connect, and over what: FIX over TLS, logon checks, the HTTP port's TLS and auth.
struct SecurityConfig {
  // SocketUseSSL=Y in [DEFAULT]: QuickFIX's SSL acceptor and initiator for every session of
  // the process (QuickFIX reads its TLS keys from [DEFAULT] only).
  bool fixTls = false;
  // A file or directory the settings name (certificates, keys, CAs, CRLs, the secrets file):
  // loadConfig checks that each exists and is readable, and reports this line if not.
  struct FileSetting {
    std::string section;
    std::string key;
    std::string path;
    int line = 0;
    bool directory = false;
  };
  std::vector<FileSetting> files;
  std::string secretsFile;  // SecretsFile in [LINKWATCH]
  int secretsFileLine = 0;
  std::string httpTlsCertificate;  // HttpTlsCertificate: PEM with the certificate and its key
  int httpTlsCertificateLine = 0;
  // Refused logons from one address: after LogonFailureLimit within LogonFailureWindow, every
  // Logon from it is refused unchecked for LogonBlockDuration.
  int logonFailureLimit = 5;
  std::chrono::milliseconds logonFailureWindow{60000};
  std::chrono::milliseconds logonBlockDuration{60000};
  // FixIdleConnectionTimeout: accepted FIX connections that send nothing this long are shut
  // down (0: never).
  std::chrono::milliseconds idleConnectionTimeout{10000};
  // FixLogonDeadline: accepted FIX connections with no logon completed this long are shut
  // down, whatever they sent (0: never).
  std::chrono::milliseconds logonDeadline{10000};
  // Loaded by loadConfig from secretsFile (never by parseConfig, which reads no other file).
  std::shared_ptr<const Secrets> secrets;
};

struct MonitorConfig {
  std::string file;
  std::string httpHost = "127.0.0.1";
  std::uint16_t httpPort = 9745;
  // HttpListen was in the file (not the default).
  bool httpListenSet = false;
  double heartbeatGrace = 0.20;                        // HeartbeatGrace: fraction of HeartBtInt
  std::chrono::milliseconds testRequestTimeout{1000};  // TestRequestTimeout
  std::chrono::seconds flapWindow{300};                // FlapWindow
  std::uint32_t eventQueueCapacity = 65536;            // EventQueueCapacity, per producer lane
  std::uint32_t historySize = 10000;                   // EventHistorySize
  // Alert pushes (src/alerts). No AlertmanagerUrl: linkwatch pushes nothing.
  std::vector<std::string> alertmanagerUrls;             // AlertmanagerUrl, e.g. http://host:9093
  bool alertOnDegraded = false;                          // AlertOnDegraded
  std::chrono::milliseconds alertResendInterval{60000};  // AlertResendInterval
  std::string alertRunbookUrl = "https://runbooks.invalid/linkwatch/{alertname}";  // template
  std::chrono::milliseconds alertTimeout{2000};  // AlertTimeout, per request
  // AlertStartupGrace: after start, links still down this long are alerted although no
  // transition took them down (they were down when linkwatch started).
  std::chrono::milliseconds alertStartupGrace{30000};
  // Durable event journal (src/journal). Empty JournalPath: no journal, history in memory only.
  std::string journalPath;                                   // JournalPath: a directory
  JournalSyncMode journalSync = JournalSyncMode::kInterval;  // JournalSync
  std::chrono::milliseconds journalSyncInterval{100};        // JournalSync=interval:<dur>
  std::uint64_t journalSegmentBytes = 64ull * 1024 * 1024;   // JournalSegmentSize
  std::uint32_t journalRetentionSegments = 16;               // JournalRetention=<N> (0: none)
  std::uint64_t journalRetentionBytes = 0;                   // JournalRetention=<size> (0: none)
  // [CERTIFICATION]: keys for `linkwatch certify`, kept as written (in file order) and
  // validated by src/cert, which reports problems with this file and line.
  std::vector<RawSetting> certification;
  int certificationLine = 0;  // line of the [CERTIFICATION] header; 0 when absent
  // QuickFIX worker processes (src/app/fix_worker.cpp): FixWorkerMode, and FixWorkers, the
  // number of processes (0: as few as the descriptor budget allows).
  FixWorkerMode fixWorkerMode = FixWorkerMode::kAuto;
  int fixWorkers = 0;
  // FixWorkerHangTimeout: a worker that makes no progress this long is killed and restarted.
  std::chrono::milliseconds fixWorkerHangTimeout{5000};
  // ThreadTimeSlice: the kernel time slice of linkwatch's own threads (the core, QuickFIX's,
  // HTTP; not in worker mode), so that they preempt a busy thread when they wake (0: the
  // kernel's).
  std::chrono::microseconds threadTimeSlice{100};
  SecurityConfig security;
  std::vector<LinkConfig> links;
};

// One problem in a configuration file: where it is and what was expected there.
struct ConfigIssue {
  std::string file;
  int line = 0;  // 0 when the problem is not tied to a line
  std::string section;
  std::string key;
  std::string message;  // what is wrong and what was expected

  std::string describe() const;  // "file:line: [SESSION] key: message"
};

class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<ConfigIssue> issues);
  const std::vector<ConfigIssue>& issues() const noexcept { return issues_; }

 private:
  std::vector<ConfigIssue> issues_;
};

// File descriptors a QuickFIX 1.15.1 process would hold for this configuration. QuickFIX waits
// on sockets with select(): a descriptor above FD_SETSIZE-1 (1023) aborts the process ("bit out
// of range 0 - FD_SETSIZE"), so the whole process has to stay under `limit`.
struct DescriptorBudget {
  static constexpr int kSocketPerSession = 1;
  static constexpr int kFileStorePerSession = 4;  // body, header, seqnums, session files
  static constexpr int kFileLogPerSession = 2;    // messages and event logs
  static constexpr int kGlobalFileLog = 2;        // QuickFIX's GLOBAL log, once per process
  static constexpr int kProcessReserve = 64;      // std streams, HTTP, journal, libraries
  static constexpr int kLimit = 1000;             // FD_SETSIZE 1024 minus a margin

  int sessions = 0;
  int perSessionEstimate = 0;  // the largest per-session figure
  int sessionDescriptors = 0;  // summed over the sessions
  int listeningSockets = 0;    // one per distinct SocketAcceptPort
  int reserve = kProcessReserve;
  int total = 0;
  int limit = kLimit;

  bool withinLimit() const noexcept { return total <= limit; }
  // How many sessions like the heaviest one fit in one process.
  int maxSessions() const noexcept;
};
DescriptorBudget descriptorBudget(const MonitorConfig& config);

// "250ms", "5s", "2m", "1h"; a bare integer means seconds. nullopt when malformed or above 24h.
std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) noexcept;

// "4096", "512KiB", "64MiB", "1GiB" (binary units; a bare number or "B" means bytes).
// nullopt when malformed or above 1 TiB.
std::optional<std::uint64_t> parseByteSize(std::string_view text) noexcept;

// Looks a key up in LinkConfig::settings ignoring case, as QuickFIX's Dictionary does.
std::optional<std::string> findSetting(const LinkConfig& link, std::string_view key);

// Reads and validates a settings file. Collects every problem it finds and throws one
// ConfigError carrying all of them; never returns a partly valid configuration.
MonitorConfig loadConfig(const std::string& path);
// Part of loadConfig: checks that every file SecurityConfig names exists and is readable,
// loads the secrets file (refusing one its group or others may read) and checks that each
// of its members is configured. Throws ConfigError; never prints a secret.
void loadSecurityFiles(MonitorConfig& config);
MonitorConfig parseConfig(const std::string& text, const std::string& fileName);

}  // namespace linkwatch
