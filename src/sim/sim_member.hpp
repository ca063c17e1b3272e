// One simulated member bank: a FIX initiator session on a non-blocking socket, driven by the
// Simulator's epoll thread, with faults injected on its own wire.
#pragma once

#include <netinet/in.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <linkwatch/clock.hpp>
#include <linkwatch/config.hpp>

#include "sim/fault.hpp"
#include "sim/fix_wire.hpp"

namespace linkwatch::sim {

// The member's side of a link. CompIDs are the member's own (the monitor's reversed).
struct SimMemberConfig {
  std::string memberId;
  std::string beginString = "FIX.4.4";
  std::string senderCompId;  // the monitor's TargetCompID
  std::string targetCompId;  // the monitor's SenderCompID
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  int heartBtIntSeconds = 30;
  std::chrono::milliseconds reconnectDelay{1000};
  // Repeated failures (refused connect, no logon answer) double the delay up to this.
  std::chrono::milliseconds maxReconnectDelay{10000};
  std::chrono::milliseconds connectTimeout{5000};
  // No Logon answer within max(this, 2 x HeartBtInt): close and retry.
  std::chrono::milliseconds logonTimeout{10000};
  // After our Logout, how long to wait for the peer's before closing anyway.
  std::chrono::milliseconds logoutTimeout{2000};
  // Send our own TestRequest after 2 x HeartBtInt without inbound traffic.
  bool testRequestOnSilence = true;
  // Close the connection after this many HeartBtInts without inbound traffic; 0 = never.
  double peerSilenceTimeoutFactor = 4.0;
};

// The member's view of a monitor acceptor session: CompIDs swapped, 127.0.0.1 for an empty or
// wildcard SocketAcceptHost, HeartBtInt 30 when not configured. Throws std::invalid_argument
// for a monitor-side initiator session or a missing port.
SimMemberConfig memberConfigFromLink(const LinkConfig& link);

enum class SimSessionState : std::uint8_t {
  kStopped,           // not started, or stopped
  kWaitingReconnect,  // no connection; a connect is scheduled
  kConnecting,        // TCP connect in flight
  kLogonSent,         // connected, waiting for the Logon answer
  kLoggedOn,
  kLoggingOut,  // a Logout went one way; waiting for the other one or the close
};
std::string_view toString(SimSessionState state) noexcept;

// What a member did or saw, as recorded in the Simulator's ordered action log.
enum class SimAction : std::uint8_t {
  kConnecting,
  kConnected,
  kConnectFailed,
  kLogonSent,
  kLoggedOn,
  kLogonRefused,
  kLogoutSent,
  kLogoutReceived,
  kDisconnected,
  kFaultInjected,
  kFaultSkipped,  // not applicable in the current state (e.g. close while disconnected)
  kFaultEnded,
  kTestRequestSent,
  kTestRequestAnswered,
  kTestRequestIgnored,
  kGapFillSent,
  kRejectReceived,
};
std::string_view toString(SimAction action) noexcept;

struct SimMemberCounters {
  std::uint64_t connectAttempts = 0;
  std::uint64_t connectFailures = 0;
  std::uint64_t logons = 0;
  std::uint64_t disconnects = 0;  // established connections that ended, for any reason
  std::uint64_t messagesSent = 0;
  std::uint64_t messagesReceived = 0;
  std::uint64_t heartbeatsSent = 0;
  std::uint64_t testRequestsSent = 0;
  std::uint64_t testRequestsAnswered = 0;
  std::uint64_t testRequestsIgnored = 0;
  std::uint64_t gapFillsSent = 0;
  std::uint64_t rejectsReceived = 0;
  std::uint64_t bytesSent = 0;
  std::uint64_t bytesReceived = 0;
  std::uint64_t garbledBytesReceived = 0;
  std::array<std::uint64_t, kFaultKindCount> faults{};  // injected, by FaultKind

  std::uint64_t faultCount(FaultKind kind) const noexcept {
    return faults[static_cast<std::size_t>(kind)];
  }
};

struct SimMemberSnapshot {
  std::string memberId;
  SimSessionState state = SimSessionState::kStopped;
  bool connected = false;
  bool loggedOn = false;
  std::int64_t nextSenderSeq = 1;  // MsgSeqNum of our next message
  std::int64_t nextTargetSeq = 1;  // MsgSeqNum we expect next from the monitor
  bool silent = false;
  bool lateHeartbeats = false;
  bool ignoringTestRequests = false;
  SimMemberCounters counters;
};

// What a member needs from the loop that drives it. Implemented by the Simulator.
class MemberHost {
 public:
  virtual ~MemberHost() = default;
  // Adds or updates the fd in the poll set; write interest only while wantWrite.
  virtual void watch(int fd, std::uint32_t member, bool wantWrite) = 0;
  virtual void unwatch(int fd) = 0;
  virtual void record(std::uint32_t member, SimAction action, std::string detail) = 0;
  virtual void loggedOnChanged(int delta) = 0;
  virtual std::uint64_t random() = 0;
  // Scratch space for recv(), shared by every member of the loop.
  virtual std::span<char> readBuffer() = 0;
};

// Thread-safety: none. Every call comes from the loop thread that owns the member.
class SimMember {
 public:
  // Throws std::invalid_argument when the host does not resolve to an IPv4 address.
  SimMember(std::uint32_t index, SimMemberConfig config, MemberHost& host, const Clock& clock);
  ~SimMember();
  SimMember(const SimMember&) = delete;
  SimMember& operator=(const SimMember&) = delete;

  // Schedules the first connect.
  void start(Nanos firstConnectAt);
  // Closes the connection (FIN) and stops reconnecting.
  void stop(Nanos now);

  void onReadable(Nanos now);
  void onWritable(Nanos now);
  void onTimer(Nanos now);
  // The earliest time onTimer has something to do; kNever when nothing is pending.
  Nanos nextWakeup() const noexcept;
  void inject(const Fault& fault, Nanos now);

  SimMemberSnapshot snapshot(Nanos now) const;
  const SimMemberConfig& config() const noexcept { return config_; }
  SimSessionState state() const noexcept { return state_; }
  bool loggedOn() const noexcept { return loggedOn_; }

  static constexpr Nanos kNever = std::numeric_limits<Nanos>::max();

 private:
  enum class Reconnect : std::uint8_t { kNormal, kBackoff, kStorm, kNone };

  void beginConnect(Nanos now);
  void onConnected(Nanos now);
  void connectFailed(Nanos now, std::string reason);
  void closeConnection(Nanos now, std::string reason, bool reset, Reconnect reconnect);
  void handleMessage(const FixMessage& msg, Nanos now);
  // Appends one session message with our header; returns false while silenced.
  bool send(std::string_view msgType, std::vector<FixField> fields, Nanos now,
            std::int64_t seqOverride = 0);
  void flush(Nanos now);
  void updateWatch();
  Nanos heartbeatDueAt() const noexcept;
  bool silent(Nanos now) const noexcept { return silentUntil_ != 0 && now < silentUntil_; }
  void expireFaults(Nanos now);
  Nanos hbNanos() const noexcept { return heartBt_; }

  std::uint32_t index_;
  SimMemberConfig config_;
  MemberHost& host_;
  const Clock& clock_;
  sockaddr_in address_{};
  Nanos heartBt_;

  SimSessionState state_ = SimSessionState::kStopped;
  int fd_ = -1;
  bool wantWrite_ = false;
  bool watchedForWrite_ = false;
  bool loggedOn_ = false;
  bool logoutByUs_ = false;
  FixStreamParser parser_;
  FixMessage message_;
  std::string out_;
  std::int64_t nextOutSeq_ = 1;
  std::int64_t nextInSeq_ = 1;
  std::uint64_t testRequestIds_ = 0;

  Nanos lastSentAt_ = 0;
  Nanos lastReceivedAt_ = 0;
  Nanos testRequestSentAt_ = 0;  // 0: no probe of ours outstanding
  Nanos reconnectAt_ = 0;
  Nanos connectDeadline_ = 0;
  Nanos logonDeadline_ = 0;
  Nanos logoutDeadline_ = 0;
  int consecutiveFailures_ = 0;

  // Faults in force; 0 = not active.
  Nanos silentUntil_ = 0;
  Nanos lateUntil_ = 0;
  Nanos lateDelay_ = 0;
  Nanos ignoreTestRequestsUntil_ = 0;
  std::int64_t stormRemaining_ = 0;

  SimMemberCounters counters_;
};

}  // namespace linkwatch::sim
