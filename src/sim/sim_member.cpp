#include "sim/sim_member.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace linkwatch::sim {
namespace {

// A peer that stops reading must not make us buffer without bound.
constexpr std::size_t kMaxOutputBuffer = std::size_t{4} << 20;
// Pause between the cycles of a reconnect storm: quick, but not a busy loop.
constexpr Nanos kStormGap = 50 * kNanosPerMilli;
// Reads per readiness event, so one chatty member cannot starve the others.
constexpr int kMaxReadsPerEvent = 8;
// Messages held above a sequence gap; beyond this they are dropped and asked for again.
constexpr std::size_t kMaxQueuedMessages = 10000;

Nanos toNanos(std::chrono::milliseconds ms) noexcept {
  return static_cast<Nanos>(ms.count()) * kNanosPerMilli;
}

std::string errnoText(int err) { return std::strerror(err); }

bool resolveIpv4(const std::string& host, std::uint16_t port, sockaddr_in& out) {
  out = sockaddr_in{};
  out.sin_family = AF_INET;
  out.sin_port = htons(port);
  const std::string name = (host.empty() || host == "0.0.0.0") ? "127.0.0.1" : host;
  if (inet_pton(AF_INET, name.c_str(), &out.sin_addr) == 1) return true;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &result) != 0 || result == nullptr) return false;
  std::memcpy(&out.sin_addr, &reinterpret_cast<sockaddr_in*>(result->ai_addr)->sin_addr,
              sizeof(out.sin_addr));
  freeaddrinfo(result);
  return true;
}

}  // namespace

SimMemberConfig memberConfigFromLink(const LinkConfig& link) {
  if (link.connectionType != ConnectionType::kAcceptor) {
    throw std::invalid_argument(link.memberId +
                                ": the monitor initiates this session; a simulated member can "
                                "only play the initiator of a monitor acceptor session");
  }
  if (link.socketPort <= 0 || link.socketPort > 65535) {
    throw std::invalid_argument(link.memberId + ": no usable SocketAcceptPort (got " +
                                std::to_string(link.socketPort) + ")");
  }
  SimMemberConfig c;
  c.memberId = link.memberId;
  c.beginString = link.beginString;
  c.senderCompId = link.targetCompId;
  c.targetCompId = link.senderCompId;
  c.host =
      (link.socketHost.empty() || link.socketHost == "0.0.0.0") ? "127.0.0.1" : link.socketHost;
  c.port = static_cast<std::uint16_t>(link.socketPort);
  c.heartBtIntSeconds = link.heartBtIntSeconds > 0 ? link.heartBtIntSeconds : 30;
  // A monitor that resets the session itself starts each logon at 1 on its side: so must we.
  for (const char* key : {"ResetOnLogon", "ResetOnLogout", "ResetOnDisconnect"}) {
    const auto value = findSetting(link, key);
    if (value && (*value == "Y" || *value == "y")) c.resetSeqNumOnLogon = true;
  }
  return c;
}

std::string_view toString(SimSessionState state) noexcept {
  switch (state) {
    case SimSessionState::kStopped:
      return "stopped";
    case SimSessionState::kWaitingReconnect:
      return "waiting_reconnect";
    case SimSessionState::kConnecting:
      return "connecting";
    case SimSessionState::kLogonSent:
      return "logon_sent";
    case SimSessionState::kLoggedOn:
      return "logged_on";
    case SimSessionState::kLoggingOut:
      return "logging_out";
  }
  return "unknown";
}

std::string_view toString(SimAction action) noexcept {
  switch (action) {
    case SimAction::kConnecting:
      return "connecting";
    case SimAction::kConnected:
      return "connected";
    case SimAction::kConnectFailed:
      return "connect_failed";
    case SimAction::kLogonSent:
      return "logon_sent";
    case SimAction::kLoggedOn:
      return "logged_on";
    case SimAction::kLogonRefused:
      return "logon_refused";
    case SimAction::kLogoutSent:
      return "logout_sent";
    case SimAction::kLogoutReceived:
      return "logout_received";
    case SimAction::kDisconnected:
      return "disconnected";
    case SimAction::kFaultInjected:
      return "fault_injected";
    case SimAction::kFaultSkipped:
      return "fault_skipped";
    case SimAction::kFaultEnded:
      return "fault_ended";
    case SimAction::kTestRequestSent:
      return "test_request_sent";
    case SimAction::kTestRequestAnswered:
      return "test_request_answered";
    case SimAction::kTestRequestIgnored:
      return "test_request_ignored";
    case SimAction::kGapFillSent:
      return "gap_fill_sent";
    case SimAction::kRejectReceived:
      return "reject_received";
    case SimAction::kResendRequestSent:
      return "resend_request_sent";
    case SimAction::kMessagesResent:
      return "messages_resent";
    case SimAction::kRejectSent:
      return "reject_sent";
    case SimAction::kSequenceResetReceived:
      return "sequence_reset_received";
    case SimAction::kInvalidIgnored:
      return "invalid_ignored";
    case SimAction::kApplicationSent:
      return "application_sent";
  }
  return "unknown";
}

SimMember::SimMember(std::uint32_t index, SimMemberConfig config, MemberHost& host,
                     const Clock& clock)
    : index_(index),
      config_(std::move(config)),
      host_(host),
      clock_(clock),
      heartBt_(static_cast<Nanos>(config_.heartBtIntSeconds > 0 ? config_.heartBtIntSeconds : 30) *
               kNanosPerSecond) {
  if (!resolveIpv4(config_.host, config_.port, address_)) {
    throw std::invalid_argument(config_.memberId + ": cannot resolve host '" + config_.host +
                                "' to an IPv4 address");
  }
}

SimMember::~SimMember() {
  if (fd_ >= 0) ::close(fd_);
}

void SimMember::start(Nanos firstConnectAt) {
  state_ = SimSessionState::kWaitingReconnect;
  reconnectAt_ = firstConnectAt;
}

void SimMember::stop(Nanos now) {
  if (fd_ >= 0) closeConnection(now, "simulator stopped", false, Reconnect::kNone);
  state_ = SimSessionState::kStopped;
}

void SimMember::beginConnect(Nanos now) {
  ++counters_.connectAttempts;
  host_.record(index_, SimAction::kConnecting, "");
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    connectFailed(now, "socket: " + errnoText(errno));
    return;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fd_ = fd;
  state_ = SimSessionState::kConnecting;
  connectDeadline_ = now + toNanos(config_.connectTimeout);
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address_), sizeof(address_));
  if (rc == 0) {
    watchedForWrite_ = false;
    host_.watch(fd_, index_, false);
    onConnected(now);
    return;
  }
  if (errno != EINPROGRESS) {
    connectFailed(now, "connect: " + errnoText(errno));
    return;
  }
  watchedForWrite_ = true;
  host_.watch(fd_, index_, true);
}

void SimMember::connectFailed(Nanos now, std::string reason) {
  ++counters_.connectFailures;
  ++consecutiveFailures_;
  host_.record(index_, SimAction::kConnectFailed, reason);
  closeConnection(now, std::move(reason), false, Reconnect::kBackoff);
}

void SimMember::logonRefused(Nanos now, std::string reason) {
  ++consecutiveFailures_;
  ++counters_.logonsRefused;
  host_.record(index_, SimAction::kLogonRefused, reason);
  closeConnection(now, "logon refused: " + reason, false, Reconnect::kLogonRefused);
}

void SimMember::onConnected(Nanos now) {
  host_.record(index_, SimAction::kConnected, "");
  state_ = SimSessionState::kLogonSent;
  parser_.clear();
  out_.clear();
  queue_.clear();
  resendRequestedUpTo_ = 0;
  draining_ = false;
  halfClosed_ = false;
  lastReceivedAt_ = now;
  testRequestSentAt_ = 0;
  logoutByUs_ = false;
  logonDeadline_ = now + std::max(toNanos(config_.logonTimeout), 2 * heartBt_);
  // Sequence numbers carry on from the last connection unless we reset them (FIX: a reset
  // is a decision of the session's configuration, never a side effect of reconnecting).
  sentReset_ = config_.resetSeqNumOnLogon ||
               (config_.profile == SimProfile::kResetOnReconnect && counters_.logons > 0);
  std::vector<FixField> fields{{98, "0"}, {108, std::to_string(config_.heartBtIntSeconds)}};
  if (sentReset_) {
    nextOutSeq_ = 1;
    nextInSeq_ = 1;
    store_.clear();
    fields.push_back({141, "Y"});
  }
  if (send("A", std::move(fields), now)) {
    host_.record(index_, SimAction::kLogonSent,
                 "34=" + std::to_string(nextOutSeq_ - 1) + (sentReset_ ? " 141=Y" : ""));
  }
  updateWatch();
}

Nanos SimMember::reconnectDelay(Reconnect reconnect) const noexcept {
  const int doublings = std::min(std::max(consecutiveFailures_ - 1, 0), 16);
  switch (reconnect) {
    case Reconnect::kNone:
    case Reconnect::kNormal:
      return toNanos(config_.reconnectDelay);
    case Reconnect::kBackoff: {
      const Nanos base = toNanos(config_.reconnectDelay);
      return std::min(base << doublings, std::max(base, toNanos(config_.maxReconnectDelay)));
    }
    case Reconnect::kLogonRefused: {
      if (config_.profile == SimProfile::kTightLogonRetry) return 0;
      const Nanos base =
          std::max(toNanos(config_.reconnectDelay), toNanos(config_.minLogonRetryDelay));
      return std::min(base << doublings, std::max(base, toNanos(config_.maxReconnectDelay)));
    }
    case Reconnect::kStorm:
      return kStormGap;
  }
  return toNanos(config_.reconnectDelay);
}

void SimMember::closeConnection(Nanos now, std::string reason, bool reset, Reconnect reconnect) {
  const bool hadConnection = fd_ >= 0 && state_ != SimSessionState::kConnecting;
  if (fd_ >= 0) {
    host_.unwatch(fd_);
    if (reset) {
      // Linger on with a zero timeout: close() discards the send queue and sends RST.
      linger lg{1, 0};
      ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    ::close(fd_);
    fd_ = -1;
  }
  wantWrite_ = false;
  watchedForWrite_ = false;
  draining_ = false;
  halfClosed_ = false;
  out_.clear();
  parser_.clear();
  queue_.clear();
  resendRequestedUpTo_ = 0;
  if (loggedOn_) {
    loggedOn_ = false;
    host_.loggedOnChanged(-1);
  }
  if (hadConnection) {
    ++counters_.disconnects;
    host_.record(index_, SimAction::kDisconnected, std::move(reason));
  }
  if (reconnect == Reconnect::kNone) {
    state_ = SimSessionState::kStopped;
    return;
  }
  state_ = SimSessionState::kWaitingReconnect;
  reconnectAt_ = now + reconnectDelay(reconnect);
}

void SimMember::onWritable(Nanos now) {
  if (fd_ < 0) return;
  if (state_ == SimSessionState::kConnecting) {
    int err = 0;
    socklen_t len = sizeof(err);
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      connectFailed(now, "connect: " + errnoText(err));
      return;
    }
    sockaddr_in peer{};
    socklen_t peerLen = sizeof(peer);
    if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&peer), &peerLen) != 0)
      return;  // still in flight
    onConnected(now);
    return;
  }
  flush(now);
}

void SimMember::onReadable(Nanos now) {
  if (fd_ < 0) return;
  if (state_ == SimSessionState::kConnecting) {
    // A refused connect shows up as readable + error.
    onWritable(now);
    return;
  }
  const std::span<char> buffer = host_.readBuffer();
  for (int i = 0; i < kMaxReadsPerEvent && fd_ >= 0; ++i) {
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n > 0) {
      counters_.bytesReceived += static_cast<std::uint64_t>(n);
      const std::uint64_t garbageBefore = parser_.garbageBytes();
      parser_.feed(buffer.data(), static_cast<std::size_t>(n));
      while (fd_ >= 0 && parser_.next(message_)) handleMessage(message_, now);
      counters_.garbledBytesReceived += parser_.garbageBytes() - garbageBefore;
      if (static_cast<std::size_t>(n) < buffer.size()) break;
      continue;
    }
    if (n == 0) {
      if (state_ == SimSessionState::kLogonSent) {
        logonRefused(now, "connection closed before the Logon answer");
        return;
      }
      closeConnection(now, "peer closed the connection", false,
                      draining_ ? afterDrain_ : Reconnect::kNormal);
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    if (errno == EINTR) continue;
    const int err = errno;
    if (state_ == SimSessionState::kLogonSent) {
      logonRefused(now, "read: " + errnoText(err));
      return;
    }
    closeConnection(now, "read: " + errnoText(err), false,
                    draining_ ? afterDrain_ : Reconnect::kNormal);
    return;
  }
}

InboundExpectations SimMember::expectations() const noexcept {
  InboundExpectations e;
  e.beginString = config_.beginString;
  e.senderCompId = config_.targetCompId;
  e.targetCompId = config_.senderCompId;
  e.maxSendingTimeSkew = toNanos(config_.maxSendingTimeSkew);
  return e;
}

void SimMember::handleMessage(const FixMessage& msg, Nanos now) {
  ++counters_.messagesReceived;
  lastReceivedAt_ = now;
  testRequestSentAt_ = 0;  // any inbound traffic proves the peer alive
  if (draining_) {
    // Our Logout ended the session: only the peer's Logout matters now.
    if (msg.msgType() == "5") {
      host_.record(index_, SimAction::kLogoutReceived, std::string(msg.get(58).value_or("")));
      closeConnection(now, "logout complete", false, afterDrain_);
    }
    return;
  }
  bool contentValid = true;
  const InboundVerdict verdict = checkInboundHeader(msg, expectations(), clock_.wall());
  if (verdict.action != InboundVerdict::Action::kAccept) {
    if (!handleInvalid(msg, verdict, now)) return;
    contentValid = false;
  }
  const std::int64_t seq = msg.getInt(34).value_or(0);
  if (state_ == SimSessionState::kLogonSent) {
    onLogonAnswer(msg, seq, contentValid, now);
    return;
  }
  sequenceAndProcess(msg, seq, contentValid, now);
}

bool SimMember::handleInvalid(const FixMessage& msg, const InboundVerdict& verdict, Nanos now) {
  const auto seq = msg.getInt(34);
  if (config_.profile == SimProfile::kIgnoreInvalid) {
    ++counters_.invalidIgnored;
    host_.record(index_, SimAction::kInvalidIgnored, verdict.text);
    return seq && *seq >= 1;
  }
  const bool logonPhase = state_ == SimSessionState::kLogonSent;
  const Reconnect after = logonPhase ? Reconnect::kLogonRefused : Reconnect::kNormal;
  if (verdict.action != InboundVerdict::Action::kLogout) {
    sendReject(seq.value_or(0), msg.msgType(), verdict.reason, verdict.refTagId, verdict.text, now);
  }
  // An invalid answer to our Logon ends the attempt (test case 1B d): Reject, then Logout.
  if (verdict.action == InboundVerdict::Action::kReject && !logonPhase) return true;
  if (logonPhase) {
    ++consecutiveFailures_;
    ++counters_.logonsRefused;
    host_.record(index_, SimAction::kLogonRefused, verdict.text);
  }
  logoutAndDisconnect(verdict.text, now, after);
  return false;
}

void SimMember::onLogonAnswer(const FixMessage& msg, std::int64_t seq, bool contentValid,
                              Nanos now) {
  const std::string_view type = msg.msgType();
  if (type == "5") {
    logonRefused(now, std::string(msg.get(58).value_or(std::string_view{})));
    return;
  }
  if (!contentValid) return;  // ignore-invalid: as if it never came
  if (type != "A") {
    const std::string text = "First message not a Logon: MsgType " + std::string(type);
    ++consecutiveFailures_;
    ++counters_.logonsRefused;
    host_.record(index_, SimAction::kLogonRefused, text);
    logoutAndDisconnect(text, now, Reconnect::kLogonRefused);
    return;
  }
  // A counterparty that resets on its own starts its side at 1.
  if (!sentReset_ && msg.get(141) == std::optional<std::string_view>("Y")) nextInSeq_ = 1;
  if (seq < nextInSeq_) {
    // No session can start from there: a refused logon, retried with the logon backoff.
    const std::string text = "MsgSeqNum too low, expecting " + std::to_string(nextInSeq_) +
                             " but received " + std::to_string(seq);
    ++counters_.seqNumTooLowLogouts;
    ++consecutiveFailures_;
    ++counters_.logonsRefused;
    host_.record(index_, SimAction::kLogonRefused, text);
    logoutAndDisconnect(text, now, Reconnect::kLogonRefused);
    return;
  }
  state_ = SimSessionState::kLoggedOn;
  loggedOn_ = true;
  consecutiveFailures_ = 0;
  ++counters_.logons;
  host_.loggedOnChanged(+1);
  host_.record(index_, SimAction::kLoggedOn, "");
  if (stormRemaining_ > 0) {
    --stormRemaining_;
    if (seq >= nextInSeq_) nextInSeq_ = seq + 1;  // the storm leaves no gap behind it
    closeConnection(now, "reconnect storm", false, Reconnect::kStorm);
    return;
  }
  // Test case 1B c: a Logon answer with MsgSeqNum too high is followed by a ResendRequest.
  if (seq > nextInSeq_ && config_.profile != SimProfile::kIgnoreGaps) {
    queue_[seq] = FixMessage{};
    requestResend(seq, now);
    return;
  }
  nextInSeq_ = seq + 1;
}

void SimMember::sequenceAndProcess(const FixMessage& msg, std::int64_t seq, bool contentValid,
                                   Nanos now) {
  const std::string_view type = msg.msgType();
  // SequenceReset-Reset ignores MsgSeqNum (FIX 4.4 Vol. 2, Sequence Reset, Reset mode).
  if (type == "4" && msg.get(123) != std::optional<std::string_view>("Y")) {
    if (contentValid) applySequenceReset(msg, now);
    return;
  }
  // A Logout is acted on whatever its MsgSeqNum: the session ends anyway.
  if (type == "5") {
    if (seq == nextInSeq_) ++nextInSeq_;
    if (contentValid) onLogout(msg, now);
    return;
  }
  if (seq > nextInSeq_) {
    if (config_.profile == SimProfile::kIgnoreGaps) {
      nextInSeq_ = seq;  // pretend nothing was missing
    } else {
      if (queue_.size() < kMaxQueuedMessages) {
        // A ResendRequest is answered at once (the peer may be waiting on it to fill our gap).
        const bool answerNow = contentValid && type == "2";
        if (answerNow) answerResendRequest(msg, now);
        queue_[seq] = contentValid && !answerNow ? msg : FixMessage{};
      }
      requestResend(seq, now);
      return;
    }
  }
  if (seq < nextInSeq_) {
    if (msg.get(43) == std::optional<std::string_view>("Y")) return;  // 2g: a duplicate
    ++counters_.seqNumTooLowLogouts;
    logoutAndDisconnect("MsgSeqNum too low, expecting " + std::to_string(nextInSeq_) +
                            " but received " + std::to_string(seq),
                        now, Reconnect::kNormal);
    return;
  }
  deliver(msg, contentValid, now);
  drainQueue(now);
}

void SimMember::deliver(const FixMessage& msg, bool contentValid, Nanos now) {
  const std::string_view type = msg.msgType();
  const std::int64_t seq = msg.getInt(34).value_or(nextInSeq_);
  ++nextInSeq_;
  if (!contentValid) return;
  if (type == "0") return;
  if (type == "1") {
    answerTestRequest(msg, now);
    return;
  }
  if (type == "2") {
    answerResendRequest(msg, now);
    return;
  }
  if (type == "3") {
    ++counters_.rejectsReceived;
    host_.record(index_, SimAction::kRejectReceived, std::string(msg.get(58).value_or("")));
    return;
  }
  if (type == "4") {  // GapFill at the expected number (Reset mode never gets here)
    const auto newSeq = msg.getInt(36);
    if (!newSeq) {
      sendReject(seq, type, SessionRejectReason::kRequiredTagMissing, 36,
                 "Required tag missing: NewSeqNo(36)", now);
      return;
    }
    if (*newSeq <= seq) {
      sendReject(
          seq, type, SessionRejectReason::kValueIncorrect, 36,
          "Attempt to lower sequence number, invalid value NewSeqNo(36)=" + std::to_string(*newSeq),
          now);
      return;
    }
    nextInSeq_ = *newSeq;
    ++counters_.sequenceResetsReceived;
    host_.record(index_, SimAction::kSequenceResetReceived,
                 "GapFill 34=" + std::to_string(seq) + " 36=" + std::to_string(*newSeq));
    return;
  }
  // Heartbeats, a second Logon and application messages need nothing more.
}

void SimMember::drainQueue(Nanos now) {
  while (!queue_.empty() && fd_ >= 0 && !draining_) {
    const auto it = queue_.begin();
    if (it->first < nextInSeq_) {
      queue_.erase(it);
      continue;
    }
    if (it->first > nextInSeq_) break;
    const FixMessage queued = std::move(it->second);
    queue_.erase(it);
    if (queued.raw().empty()) {
      ++nextInSeq_;  // handled when it arrived
      continue;
    }
    deliver(queued, true, now);
  }
  if (fd_ < 0 || draining_) return;
  if (resendRequestedUpTo_ != 0 && nextInSeq_ > resendRequestedUpTo_) resendRequestedUpTo_ = 0;
  // The answer filled less than we asked for: ask for the rest.
  if (resendRequestedUpTo_ == 0 && !queue_.empty()) requestResend(queue_.begin()->first, now);
}

void SimMember::requestResend(std::int64_t receivedSeq, Nanos now) {
  std::int64_t begin = std::max(nextInSeq_, resendRequestedUpTo_ + 1);
  while (begin < receivedSeq && queue_.count(begin) != 0) ++begin;
  const std::int64_t end = receivedSeq - 1;
  if (begin > end) return;
  // EndSeqNo is the last missing number rather than 0 ("infinity", FIX 4.2+): both are
  // valid in FIX 4.4, and the exact range is what certification scripts ask for.
  if (send("2", {{7, std::to_string(begin)}, {16, std::to_string(end)}}, now)) {
    resendRequestedUpTo_ = end;
    resendRequestedAt_ = now;
    ++counters_.resendRequestsSent;
    host_.record(index_, SimAction::kResendRequestSent,
                 "7=" + std::to_string(begin) + " 16=" + std::to_string(end));
  }
}

void SimMember::answerTestRequest(const FixMessage& msg, Nanos now) {
  const std::string id(msg.get(112).value_or(std::string_view{}));
  if (silent(now) || (ignoreTestRequestsUntil_ != 0 && now < ignoreTestRequestsUntil_) ||
      config_.profile == SimProfile::kNoTestRequestAnswer) {
    ++counters_.testRequestsIgnored;
    host_.record(index_, SimAction::kTestRequestIgnored, id);
    return;
  }
  if (send("0", {{112, id}}, now)) {
    ++counters_.testRequestsAnswered;
    host_.record(index_, SimAction::kTestRequestAnswered, id);
  }
}

void SimMember::answerResendRequest(const FixMessage& msg, Nanos now) {
  ++counters_.resendRequestsReceived;
  const std::int64_t seq = msg.getInt(34).value_or(0);
  const auto begin = msg.getInt(7);
  const auto endField = msg.getInt(16);
  if (!begin || *begin < 1) {
    sendReject(
        seq, "2",
        begin ? SessionRejectReason::kValueIncorrect : SessionRejectReason::kRequiredTagMissing, 7,
        "BeginSeqNo(7) missing or not a positive integer", now);
    return;
  }
  if (!endField) {
    sendReject(seq, "2", SessionRejectReason::kRequiredTagMissing, 16,
               "EndSeqNo(16) missing or not an integer", now);
    return;
  }
  const std::int64_t lastSent = nextOutSeq_ - 1;
  const std::int64_t end = (*endField == 0 || *endField > lastSent) ? lastSent : *endField;
  const std::string asked = "7=" + std::to_string(*begin) + " 16=" + std::to_string(*endField);
  if (config_.profile == SimProfile::kEmptyResend || *begin > end) {
    host_.record(index_, SimAction::kGapFillSent, asked + ": nothing sent");
    return;
  }
  std::uint64_t resent = 0;
  for (const ResendStep& step : store_.plan(*begin, end)) {
    if (step.gapFill) {
      if (send("4",
               {{43, "Y"},
                {122, formatSendingTime(clock_.wall())},
                {123, "Y"},
                {36, std::to_string(step.newSeqNo)}},
               now, step.seq)) {
        ++counters_.gapFillsSent;
        host_.record(
            index_, SimAction::kGapFillSent,
            asked + " 34=" + std::to_string(step.seq) + " 36=" + std::to_string(step.newSeqNo));
      }
      continue;
    }
    std::vector<FixField> fields{{43, "Y"}, {122, step.message->sendingTime}};
    fields.insert(fields.end(), step.message->body.begin(), step.message->body.end());
    if (send(step.message->msgType, std::move(fields), now, step.seq)) ++resent;
  }
  if (resent > 0) {
    counters_.messagesResent += resent;
    host_.record(index_, SimAction::kMessagesResent, asked + ": " + std::to_string(resent));
  }
}

void SimMember::applySequenceReset(const FixMessage& msg, Nanos now) {
  const std::int64_t seq = msg.getInt(34).value_or(0);
  const auto newSeq = msg.getInt(36);
  if (!newSeq) {
    sendReject(seq, "4", SessionRejectReason::kRequiredTagMissing, 36,
               "Required tag missing: NewSeqNo(36)", now);
    return;
  }
  if (*newSeq < nextInSeq_) {
    // Test case 11c: a Reset may never lower the expected number.
    sendReject(seq, "4", SessionRejectReason::kValueIncorrect, 36,
               "Attempt to lower sequence number, invalid value NewSeqNo(36)=" +
                   std::to_string(*newSeq) + " (expecting " + std::to_string(nextInSeq_) + ")",
               now);
    return;
  }
  host_.record(index_, SimAction::kSequenceResetReceived,
               "Reset " + std::to_string(nextInSeq_) + " -> " + std::to_string(*newSeq));
  ++counters_.sequenceResetsReceived;
  nextInSeq_ = *newSeq;
  drainQueue(now);
}

void SimMember::onLogout(const FixMessage& msg, Nanos now) {
  const std::string text(msg.get(58).value_or(std::string_view{}));
  host_.record(index_, SimAction::kLogoutReceived, text);
  if (logoutByUs_) {
    closeConnection(now, "logout complete", false, Reconnect::kNormal);
    return;
  }
  if (state_ == SimSessionState::kLoggingOut) return;  // answered already
  if (config_.profile == SimProfile::kNoLogoutReply) return;
  if (send("5", {}, now)) host_.record(index_, SimAction::kLogoutSent, "answer");
  // The acceptor closes after the exchange; close ourselves if it does not.
  state_ = SimSessionState::kLoggingOut;
  logoutDeadline_ = now + toNanos(config_.logoutTimeout);
}

void SimMember::sendReject(std::int64_t refSeq, std::string_view refMsgType,
                           SessionRejectReason reason, int refTag, const std::string& text,
                           Nanos now) {
  std::vector<FixField> fields{{45, std::to_string(refSeq)}};
  // RefTagID, RefMsgType and SessionRejectReason exist from FIX 4.2 on.
  if (config_.beginString >= "FIX.4.2") {
    if (refTag > 0) fields.push_back({371, std::to_string(refTag)});
    if (!refMsgType.empty()) fields.push_back({372, std::string(refMsgType)});
    fields.push_back({373, std::to_string(static_cast<int>(reason))});
  }
  fields.push_back({58, text});
  if (send("3", std::move(fields), now)) {
    ++counters_.rejectsSent;
    host_.record(index_, SimAction::kRejectSent, text);
  }
}

void SimMember::logoutAndDisconnect(const std::string& text, Nanos now, Reconnect after) {
  if (send("5", {{58, text}}, now)) host_.record(index_, SimAction::kLogoutSent, text);
  if (fd_ < 0) return;  // the write failed and closed the connection
  draining_ = true;
  afterDrain_ = after;
  logoutByUs_ = true;
  state_ = SimSessionState::kLoggingOut;
  logoutDeadline_ = now + toNanos(config_.logoutTimeout);
  flush(now);  // FIN right behind the Logout once it is written
}

bool SimMember::initiateLogout(std::string text, Nanos now, std::string_view why) {
  if (!loggedOn_ || state_ != SimSessionState::kLoggedOn) {
    host_.record(index_, SimAction::kFaultSkipped,
                 "logout (" + std::string(why) + "): not logged on");
    return false;
  }
  logoutByUs_ = true;
  if (send("5", {{58, std::move(text)}}, now)) {
    host_.record(index_, SimAction::kLogoutSent, std::string(why));
  }
  if (fd_ >= 0) {
    state_ = SimSessionState::kLoggingOut;
    logoutDeadline_ = now + toNanos(config_.logoutTimeout);
  }
  return true;
}

int SimMember::sendApplication(int count, Nanos now) {
  if (!loggedOn_ || state_ != SimSessionState::kLoggedOn) return 0;
  int sent = 0;
  for (int i = 0; i < count && fd_ >= 0; ++i) {
    const std::string id = std::to_string(++applicationIds_);
    std::vector<FixField> body{
        {148, "linkwatch simulated news " + id}, {33, "1"}, {58, "from " + config_.memberId}};
    const std::int64_t seq = nextOutSeq_;
    std::string sendingTime;
    if (!send("B", body, now, 0, &sendingTime)) break;
    store_.add(seq, StoredMessage{"B", std::move(body), std::move(sendingTime)});
    ++counters_.applicationMessagesSent;
    ++sent;
  }
  if (sent > 0) host_.record(index_, SimAction::kApplicationSent, std::to_string(sent));
  return sent;
}

bool SimMember::send(std::string_view msgType, std::vector<FixField> fields, Nanos now,
                     std::int64_t seqOverride, std::string* sendingTimeOut) {
  if (fd_ < 0 || draining_ || silent(now)) return false;
  std::vector<FixField> all;
  all.reserve(fields.size() + 4);
  const std::int64_t seq = seqOverride > 0 ? seqOverride : nextOutSeq_++;
  std::string sendingTime = formatSendingTime(clock_.wall());
  all.push_back({34, std::to_string(seq)});
  all.push_back({49, config_.senderCompId});
  all.push_back({52, sendingTime});
  all.push_back({56, config_.targetCompId});
  for (FixField& f : fields) all.push_back(std::move(f));
  appendFixMessage(out_, config_.beginString, msgType, all);
  if (sendingTimeOut) *sendingTimeOut = std::move(sendingTime);
  ++counters_.messagesSent;
  lastSentAt_ = now;
  flush(now);
  return true;
}

void SimMember::flush(Nanos now) {
  while (fd_ >= 0 && !out_.empty()) {
    const ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      counters_.bytesSent += static_cast<std::uint64_t>(n);
      out_.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (out_.size() > kMaxOutputBuffer) {
        closeConnection(now, "peer is not reading", false, Reconnect::kNormal);
        return;
      }
      break;
    }
    const int err = n < 0 ? errno : EPIPE;
    if (state_ == SimSessionState::kLogonSent) {
      logonRefused(now, "write: " + errnoText(err));
      return;
    }
    closeConnection(now, "write: " + errnoText(err), false,
                    draining_ ? afterDrain_ : Reconnect::kNormal);
    return;
  }
  if (fd_ < 0) return;
  if (draining_ && out_.empty() && !halfClosed_) {
    // FIN after the Logout; keep reading so that the peer's answer is not met with a RST.
    ::shutdown(fd_, SHUT_WR);
    halfClosed_ = true;
  }
  wantWrite_ = !out_.empty();
  updateWatch();
}

void SimMember::updateWatch() {
  if (fd_ < 0 || state_ == SimSessionState::kConnecting) return;
  if (wantWrite_ != watchedForWrite_) {
    watchedForWrite_ = wantWrite_;
    host_.watch(fd_, index_, wantWrite_);
  }
}

Nanos SimMember::heartbeatDueAt() const noexcept {
  const Nanos interval =
      config_.profile == SimProfile::kWrongHeartbeatRate ? 2 * heartBt_ : heartBt_;
  Nanos due = lastSentAt_ + interval;
  if (lateUntil_ != 0) due += lateDelay_;
  return due;
}

void SimMember::expireFaults(Nanos now) {
  if (silentUntil_ != 0 && now >= silentUntil_) {
    silentUntil_ = 0;
    host_.record(index_, SimAction::kFaultEnded, std::string(toString(FaultKind::kSilence)));
  }
  if (lateUntil_ != 0 && now >= lateUntil_) {
    lateUntil_ = 0;
    lateDelay_ = 0;
    host_.record(index_, SimAction::kFaultEnded, std::string(toString(FaultKind::kLateHeartbeats)));
  }
  if (ignoreTestRequestsUntil_ != 0 && now >= ignoreTestRequestsUntil_) {
    ignoreTestRequestsUntil_ = 0;
    host_.record(index_, SimAction::kFaultEnded,
                 std::string(toString(FaultKind::kIgnoreTestRequests)));
  }
}

void SimMember::onTimer(Nanos now) {
  expireFaults(now);
  switch (state_) {
    case SimSessionState::kStopped:
      return;
    case SimSessionState::kWaitingReconnect:
      if (now >= reconnectAt_ && !silent(now)) beginConnect(now);
      return;
    case SimSessionState::kConnecting:
      if (now >= connectDeadline_) connectFailed(now, "connect timed out");
      return;
    case SimSessionState::kLogonSent:
      if (now >= logonDeadline_) logonRefused(now, "no Logon answer");
      return;
    case SimSessionState::kLoggingOut:
      if (now >= logoutDeadline_) {
        closeConnection(now, logoutByUs_ ? "no Logout answer" : "peer kept the connection open",
                        false, draining_ ? afterDrain_ : Reconnect::kNormal);
      }
      return;
    case SimSessionState::kLoggedOn:
      break;
  }
  if (config_.peerSilenceTimeoutFactor > 0 &&
      now >= lastReceivedAt_ + static_cast<Nanos>(config_.peerSilenceTimeoutFactor *
                                                  static_cast<double>(heartBt_))) {
    closeConnection(now, "no traffic from the monitor", false, Reconnect::kNormal);
    return;
  }
  if (silent(now)) return;
  // An answer that left part of the gap open, or none at all: ask again for what is missing.
  if (resendRequestedUpTo_ != 0 && !queue_.empty() && now >= resendRetryAt()) {
    resendRequestedUpTo_ = 0;
    requestResend(queue_.begin()->first, now);
    if (fd_ < 0) return;
  }
  if (config_.testRequestOnSilence && testRequestSentAt_ == 0 &&
      now >= lastReceivedAt_ + 2 * heartBt_) {
    const std::string id = "SIM" + std::to_string(++testRequestIds_);
    if (send("1", {{112, id}}, now)) {
      testRequestSentAt_ = now;
      ++counters_.testRequestsSent;
      host_.record(index_, SimAction::kTestRequestSent, id);
    }
    if (fd_ < 0) return;
  }
  if (now >= heartbeatDueAt()) {
    if (send("0", {}, now)) ++counters_.heartbeatsSent;
  }
}

Nanos SimMember::nextWakeup() const noexcept {
  Nanos next = kNever;
  auto consider = [&next](Nanos t) {
    if (t != 0 && t < next) next = t;
  };
  consider(silentUntil_);
  consider(lateUntil_);
  consider(ignoreTestRequestsUntil_);
  switch (state_) {
    case SimSessionState::kStopped:
      break;
    case SimSessionState::kWaitingReconnect:
      consider(silentUntil_ != 0 ? std::max(reconnectAt_, silentUntil_) : reconnectAt_);
      break;
    case SimSessionState::kConnecting:
      consider(connectDeadline_);
      break;
    case SimSessionState::kLogonSent:
      consider(logonDeadline_);
      break;
    case SimSessionState::kLoggingOut:
      consider(logoutDeadline_);
      break;
    case SimSessionState::kLoggedOn:
      if (config_.peerSilenceTimeoutFactor > 0) {
        consider(lastReceivedAt_ + static_cast<Nanos>(config_.peerSilenceTimeoutFactor *
                                                      static_cast<double>(heartBt_)));
      }
      if (silentUntil_ == 0) {
        consider(heartbeatDueAt());
        if (resendRequestedUpTo_ != 0 && !queue_.empty()) consider(resendRetryAt());
        if (config_.testRequestOnSilence && testRequestSentAt_ == 0) {
          consider(lastReceivedAt_ + 2 * heartBt_);
        }
      }
      break;
  }
  return next;
}

void SimMember::inject(const Fault& fault, Nanos now) {
  const std::string spec = formatFault(fault);
  auto skip = [&](const char* why) {
    host_.record(index_, SimAction::kFaultSkipped, spec + ": " + why);
  };
  const bool connected = fd_ >= 0 && state_ != SimSessionState::kConnecting;
  switch (fault.kind) {
    case FaultKind::kClose:
    case FaultKind::kReset:
    case FaultKind::kGarbage:
      if (!connected) return skip("not connected");
      break;
    case FaultKind::kLogout:
    case FaultKind::kSkipSeq:
      if (!loggedOn_ || state_ != SimSessionState::kLoggedOn) return skip("not logged on");
      break;
    default:
      break;
  }
  ++counters_.faults[static_cast<std::size_t>(fault.kind)];
  host_.record(index_, SimAction::kFaultInjected, spec);
  const Nanos duration = static_cast<Nanos>(fault.durationMs) * kNanosPerMilli;
  switch (fault.kind) {
    case FaultKind::kSilence:
      silentUntil_ = std::max(silentUntil_, now + duration);
      break;
    case FaultKind::kClose:
      closeConnection(now, "fault: close", false, Reconnect::kNormal);
      break;
    case FaultKind::kReset:
      closeConnection(now, "fault: reset", true, Reconnect::kNormal);
      break;
    case FaultKind::kLogout:
      initiateLogout("simulated logout", now, "fault");
      break;
    case FaultKind::kSkipSeq:
      nextOutSeq_ += fault.amount;
      break;
    case FaultKind::kLateHeartbeats:
      lateDelay_ = static_cast<Nanos>(fault.amount) * kNanosPerMilli;
      lateUntil_ = now + duration;
      break;
    case FaultKind::kGarbage: {
      // Bytes that can never start a FIX message: no '8' (so no "8=") and no SOH.
      const std::size_t count = static_cast<std::size_t>(fault.amount);
      for (std::size_t i = 0; i < count; ++i) {
        char c = static_cast<char>(0x20 + host_.random() % 0x5f);
        if (c == '8') c = 'x';
        out_.push_back(c);
      }
      flush(now);
      break;
    }
    case FaultKind::kReconnectStorm:
      stormRemaining_ = fault.amount;
      if (connected) {
        closeConnection(now, "reconnect storm", false, Reconnect::kStorm);
      } else if (state_ == SimSessionState::kWaitingReconnect) {
        reconnectAt_ = std::min(reconnectAt_, now);
      }
      break;
    case FaultKind::kIgnoreTestRequests:
      ignoreTestRequestsUntil_ = std::max(ignoreTestRequestsUntil_, now + duration);
      break;
  }
}

SimMemberSnapshot SimMember::snapshot(Nanos now) const {
  SimMemberSnapshot s;
  s.memberId = config_.memberId;
  s.state = state_;
  s.connected = fd_ >= 0 && state_ != SimSessionState::kConnecting;
  s.loggedOn = loggedOn_;
  s.nextSenderSeq = nextOutSeq_;
  s.nextTargetSeq = nextInSeq_;
  s.silent = silent(now);
  s.lateHeartbeats = lateUntil_ != 0 && now < lateUntil_;
  s.ignoringTestRequests = ignoreTestRequestsUntil_ != 0 && now < ignoreTestRequestsUntil_;
  s.profile = config_.profile;
  s.counters = counters_;
  return s;
}

}  // namespace linkwatch::sim
