// Logon checks beyond CompIDs, for the sessions members connect to: the source address
// (AllowedSourceAddresses), Username/Password (553/554) against the secrets file, and a
// per-address limit on refused logons. It decides, counts and logs; the QuickFIX side
// (logon_check.hpp) finds the peer and turns a refusal into FIX::RejectLogon.
//
// No QuickFIX here (the HTTP side reads the counters). C++14.
// Thread-safety: check() and the readers from any thread. Refusals take a mutex: they are
// rare, and a flood of them is exactly what the per-address limit is for.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <linkwatch/cidr.hpp>
#include <linkwatch/secrets.hpp>
#include <linkwatch/session_event.hpp>

namespace linkwatch {

enum class LogonRefusal : std::uint8_t {
  kSourceAddress,       // the peer is outside AllowedSourceAddresses
  kPeerUnknown,         // AllowedSourceAddresses is set but the peer address could not be read
  kMissingCredentials,  // the member has a secret but the Logon carries no 553/554
  kBadCredentials,      // wrong Username or Password
  kRateLimited,         // the address is blocked after too many refusals
  kTlsHandshake,        // the TLS handshake failed (no or bad client certificate, ...)
  kLogonDeadline,       // no logon completed within FixLogonDeadline (connection_guard.hpp)
};
constexpr int kLogonRefusalCount = 7;
const char* toString(LogonRefusal r) noexcept;  // "source_address", ..., "logon_deadline"

struct LogonRuleSpec {
  std::string memberId;
  std::string sessionKey;
  std::vector<CidrRange> allowedSources;  // empty: any address
};

struct LogonGuardOptions {
  std::vector<LogonRuleSpec> links;        // link index i is links[i]
  std::shared_ptr<const Secrets> secrets;  // may be null
  int failureLimit = 5;                    // refusals from one address within the window...
  std::chrono::milliseconds failureWindow{60000};
  std::chrono::milliseconds blockDuration{60000};  // ...block it this long
};

struct LogonRefusalRecord {
  std::int64_t wallNs = 0;   // Unix time
  LinkIndex link = kNoLink;  // kNoLink: before any session was known (TLS)
  LogonRefusal reason = LogonRefusal::kSourceAddress;
  std::string address;  // "" when unknown
};

// Told of every count a LogonGuard makes, as it makes it: a QuickFIX worker process mirrors
// them into shared memory for the core's /metrics. Called on the counting thread (a FIX
// thread, the idle-connection reaper): cheap, and never throws.
class LogonCountObserver {
 public:
  virtual ~LogonCountObserver() = default;
  virtual void refusalCounted(LinkIndex link, LogonRefusal why) noexcept = 0;  // kNoLink too
  virtual void addressBlocked() noexcept = 0;
  virtual void idleConnectionsClosed(std::uint64_t n) noexcept = 0;
};

class LogonGuard {
 public:
  static constexpr std::size_t kRecentRefusals = 256;
  static constexpr std::size_t kMaxTrackedAddresses = 4096;

  explicit LogonGuard(LogonGuardOptions options);

  // The link has a check beyond CompIDs (address rule or credential): its Logon must be
  // looked at. Cheap; no lock.
  bool guards(LinkIndex link) const noexcept;
  bool needsPeerAddress(LinkIndex link) const noexcept;

  // Decides a Logon on `link` from `peer` (null when unknown). Returns true to accept; on
  // refusal stores the reason, counts and logs it. The password is compared in constant
  // time and never stored or printed.
  bool check(LinkIndex link, const IpAddress* peer, const std::string* username,
             const std::string* password, LogonRefusal& why);

  // A refusal seen elsewhere (a failed TLS handshake): counted and logged.
  void recordRefusal(LinkIndex link, const IpAddress* peer, LogonRefusal why);

  // Counters: link kNoLink means "no member known" (TLS handshakes).
  std::uint64_t refusals(LinkIndex link, LogonRefusal why) const noexcept;
  std::uint64_t blockedAddresses() const noexcept;  // addresses that were blocked, in total
  // Accepted connections shut down for sending nothing (IdleConnectionReaper).
  void noteIdleConnectionsClosed(std::uint64_t n) noexcept {
    idleClosed_.fetch_add(n, std::memory_order_relaxed);
    if (observer_ != nullptr) observer_->idleConnectionsClosed(n);
  }
  // Before the FIX sessions start (it is read without synchronisation); null: none.
  void setCountObserver(LogonCountObserver* observer) noexcept { observer_ = observer; }
  std::uint64_t idleConnectionsClosed() const noexcept {
    return idleClosed_.load(std::memory_order_relaxed);
  }
  std::size_t linkCount() const noexcept { return options_.links.size(); }
  const LogonRuleSpec& link(LinkIndex i) const { return options_.links.at(i); }
  std::vector<LogonRefusalRecord> recentRefusals(std::size_t limit) const;

 private:
  struct AddressHistory {
    std::deque<std::chrono::steady_clock::time_point> refusals;  // within the window
    std::chrono::steady_clock::time_point blockedUntil{};
    std::chrono::steady_clock::time_point lastSeen{};
  };
  using Counters = std::array<std::atomic<std::uint64_t>, kLogonRefusalCount>;

  bool isBlocked(const std::string& address, std::chrono::steady_clock::time_point now);
  void refuse(LinkIndex link, const IpAddress* peer, LogonRefusal why);
  void evictOldest();

  LogonGuardOptions options_;
  std::vector<const FixCredential*> credentials_;  // per link, into options_.secrets
  std::unique_ptr<Counters[]> counters_;           // links + 1 (the last: no member)
  std::atomic<std::uint64_t> blocked_{0};
  std::atomic<std::uint64_t> idleClosed_{0};
  LogonCountObserver* observer_ = nullptr;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, AddressHistory> addresses_;
  std::deque<LogonRefusalRecord> recent_;
};

}  // namespace linkwatch
