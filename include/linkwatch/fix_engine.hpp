// The QuickFIX side of linkwatch, seen through linkwatch's own types only.
//
// This header is included by the C++14 QuickFIX adapter and by C++20 code: keep it
// C++14-clean and free of QuickFIX includes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <linkwatch/event_hub.hpp>

namespace linkwatch {

struct FixLinkSpec {
  std::string sessionKey;  // QuickFIX SessionID::toString(), e.g. "FIX.4.4:EXCH->BANK01"
  std::int64_t rttProbeIntervalMs = 0;  // 0: no RTT probes
};

struct FixEngineOptions {
  std::string settingsPath;        // a QuickFIX settings file ([DEFAULT]/[SESSION] blocks)
  std::vector<FixLinkSpec> links;  // link index i is links[i]
  // ThreadedSocketAcceptor/Initiator (a thread per connection) instead of one thread for all.
  bool threaded = false;
  // Run only the sessions in `links` and leave the file's others alone (a worker process's
  // shard); otherwise every session of the file runs.
  bool onlyListedSessions = false;
  // QuickFIX's threaded SSL acceptor and initiator for every session (SocketUseSSL=Y): TLS
  // is per process, its keys come from [DEFAULT] (see src/fix/fix_transport.hpp).
  bool tls = false;
  // Logon checks beyond CompIDs and the count of refused logons (src/fix/logon_guard.hpp);
  // null: none. Not owned; must outlive the engine.
  class LogonGuard* logonGuard = nullptr;
  // Accepted connections that send no byte for this long are shut down (QuickFIX keeps them
  // forever otherwise); 0: never. See src/fix/connection_guard.hpp.
  std::int64_t idleConnectionTimeoutMs = 10000;
  // Accepted connections we have not answered (no Logon accepted) after this long are shut
  // down whatever they sent, so QuickFIX's buffer of an unfinished message stays bounded;
  // 0: never. Only with `threaded` or `tls`: QuickFIX's single-threaded acceptor gives up after
  // 1 s by itself. See src/fix/connection_guard.hpp.
  std::int64_t logonDeadlineMs = 10000;
};

// Runs the configured acceptor and initiator sessions with the monitoring Application and
// Log decorators, publishing every session event to the hub.
// Thread-safety: start()/stop() from one control thread.
class FixEngine {
 public:
  // Throws std::runtime_error (with QuickFIX's message) for settings QuickFIX rejects.
  static std::unique_ptr<FixEngine> create(const FixEngineOptions& options, EventHub& hub);
  virtual ~FixEngine();
  virtual void start() = 0;  // throws std::runtime_error when a port can't be bound
  virtual void stop() = 0;
  // Sends a TestRequest with TestReqID "LW<id>" if the link is logged on.
  virtual bool sendTestRequest(LinkIndex link, std::uint64_t id) = 0;
  virtual bool isLoggedOn(LinkIndex link) const = 0;
};

}  // namespace linkwatch
