// One simulated member bank: a FIX initiator session on a non-blocking socket, driven by the
// Simulator's epoll thread, with faults injected on its own wire. Well-behaved, it follows the
// FIX session layer (sequence numbers kept across reconnects, gaps and resends, Reject and
// Logout on invalid input); a SimProfile makes it break exactly one rule.
#pragma once

#include <netinet/in.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <linkwatch/clock.hpp>
#include <linkwatch/config.hpp>

#include "sim/fault.hpp"
#include "sim/fix_wire.hpp"
#include "sim/inbound_check.hpp"
#include "sim/sent_message_store.hpp"
#include "sim/sim_profile.hpp"

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
  // ResetSeqNumFlag=Y and MsgSeqNum 1 on every Logon. Otherwise sequence numbers carry on
  // across reconnects (for the life of the process: there is no persistent store).
  bool resetSeqNumOnLogon = false;
  std::chrono::milliseconds reconnectDelay{1000};
  // Repeated failures (refused connect, no logon answer) double the delay up to this.
  std::chrono::milliseconds maxReconnectDelay{10000};
  // After a refused logon (Logout or disconnect in answer to our Logon, no answer at all) the
  // next one waits at least this long, doubling on each further refusal: venues close the
  // port to members that hammer it with bad logons.
  std::chrono::milliseconds minLogonRetryDelay{5000};
  std::chrono::milliseconds connectTimeout{5000};
  // No Logon answer within max(this, 2 x HeartBtInt): close and retry.
  std::chrono::milliseconds logonTimeout{10000};
  // After our Logout, how long to wait for the peer's before closing anyway.
  std::chrono::milliseconds logoutTimeout{2000};
  // Send our own TestRequest after 2 x HeartBtInt without inbound traffic.
  bool testRequestOnSilence = true;
  // Close the connection after this many HeartBtInts without inbound traffic; 0 = never.
  double peerSilenceTimeoutFactor = 4.0;
  // Inbound SendingTime further than this from our clock: Reject and Logout; 0 = no check.
  std::chrono::milliseconds maxSendingTimeSkew{120000};
  SimProfile profile = SimProfile::kWellBehaved;
};

// The member's view of a monitor acceptor session: CompIDs swapped, 127.0.0.1 for an empty or
// wildcard SocketAcceptHost, HeartBtInt 30 when not configured, ResetSeqNumFlag=Y on every
// logon when the monitor resets the session itself (ResetOnLogon, ResetOnLogout or
// ResetOnDisconnect=Y). Throws std::invalid_argument for a monitor-side initiator session or
// a missing port.
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
  kResendRequestSent,      // detail "7=B 16=E"
  kMessagesResent,         // PossDupFlag=Y resends of stored application messages
  kRejectSent,             // detail: the Text(58)
  kSequenceResetReceived,  // a GapFill or Reset moved the expected MsgSeqNum
  kInvalidIgnored,         // profile ignore-invalid: an invalid message dropped silently
  kApplicationSent,
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
  std::uint64_t logonsRefused = 0;  // Logout, disconnect or silence in answer to our Logon
  std::uint64_t resendRequestsSent = 0;
  std::uint64_t resendRequestsReceived = 0;
  std::uint64_t messagesResent = 0;
  std::uint64_t rejectsSent = 0;
  std::uint64_t sequenceResetsReceived = 0;  // GapFill and Reset
  std::uint64_t invalidIgnored = 0;
  std::uint64_t seqNumTooLowLogouts = 0;
  std::uint64_t applicationMessagesSent = 0;
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
  SimProfile profile = SimProfile::kWellBehaved;
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
  // Sends our own Logout, waits for the answer (logoutTimeout), closes and reconnects after
  // reconnectDelay. False (recorded as skipped) unless logged on.
  bool initiateLogout(std::string text, Nanos now, std::string_view why = "command");
  // Sends `count` News(B) messages, kept for PossDupFlag=Y resends. Returns how many went.
  int sendApplication(int count, Nanos now);

  SimMemberSnapshot snapshot(Nanos now) const;
  const SimMemberConfig& config() const noexcept { return config_; }
  SimSessionState state() const noexcept { return state_; }
  bool loggedOn() const noexcept { return loggedOn_; }

  static constexpr Nanos kNever = std::numeric_limits<Nanos>::max();

 private:
  // What follows a closed connection: kLogonRefused waits at least minLogonRetryDelay.
  enum class Reconnect : std::uint8_t { kNormal, kBackoff, kLogonRefused, kStorm, kNone };

  void beginConnect(Nanos now);
  void onConnected(Nanos now);
  void connectFailed(Nanos now, std::string reason);
  void logonRefused(Nanos now, std::string reason);
  void closeConnection(Nanos now, std::string reason, bool reset, Reconnect reconnect);
  Nanos reconnectDelay(Reconnect reconnect) const noexcept;

  void handleMessage(const FixMessage& msg, Nanos now);
  // An invalid message: Reject, Logout or (ignore-invalid) nothing. True when its MsgSeqNum
  // still counts and sequencing goes on without its content.
  bool handleInvalid(const FixMessage& msg, const InboundVerdict& verdict, Nanos now);
  void onLogonAnswer(const FixMessage& msg, std::int64_t seq, bool contentValid, Nanos now);
  void sequenceAndProcess(const FixMessage& msg, std::int64_t seq, bool contentValid, Nanos now);
  // The message at exactly the expected MsgSeqNum.
  void deliver(const FixMessage& msg, bool contentValid, Nanos now);
  void drainQueue(Nanos now);
  // Asks for what is missing before `receivedSeq` and not already asked for or queued.
  void requestResend(std::int64_t receivedSeq, Nanos now);
  void answerTestRequest(const FixMessage& msg, Nanos now);
  void answerResendRequest(const FixMessage& msg, Nanos now);
  void applySequenceReset(const FixMessage& msg, Nanos now);
  void onLogout(const FixMessage& msg, Nanos now);
  void sendReject(std::int64_t refSeq, std::string_view refMsgType, SessionRejectReason reason,
                  int refTag, const std::string& text, Nanos now);
  // Logout with `text`, then FIN once it is written; the connection closes on the peer's
  // Logout, its FIN or logoutTimeout, and `after` decides the reconnect.
  void logoutAndDisconnect(const std::string& text, Nanos now, Reconnect after);

  // Appends one session message with our header; returns false while silenced or closing.
  bool send(std::string_view msgType, std::vector<FixField> fields, Nanos now,
            std::int64_t seqOverride = 0, std::string* sendingTimeOut = nullptr);
  void flush(Nanos now);
  void updateWatch();
  Nanos heartbeatDueAt() const noexcept;
  // A ResendRequest still unfilled after a HeartBtInt is sent again.
  Nanos resendRetryAt() const noexcept { return resendRequestedAt_ + heartBt_; }
  InboundExpectations expectations() const noexcept;
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
  bool sentReset_ = false;  // our current Logon carried ResetSeqNumFlag=Y
  bool draining_ = false;   // our terminal Logout is out: read until the peer's or its FIN
  bool halfClosed_ = false;
  Reconnect afterDrain_ = Reconnect::kNormal;
  FixStreamParser parser_;
  FixMessage message_;
  std::string out_;
  std::int64_t nextOutSeq_ = 1;
  std::int64_t nextInSeq_ = 1;
  std::uint64_t testRequestIds_ = 0;
  std::uint64_t applicationIds_ = 0;
  // Messages above a gap, by MsgSeqNum, until the gap is filled. An empty message stands for
  // one already handled (rejected, or a ResendRequest answered at once): it only counts.
  std::map<std::int64_t, FixMessage> queue_;
  std::int64_t resendRequestedUpTo_ = 0;  // EndSeqNo of our outstanding ResendRequests; 0 none
  Nanos resendRequestedAt_ = 0;
  SentMessageStore store_;

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
