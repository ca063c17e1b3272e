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

void SimMember::onConnected(Nanos now) {
  host_.record(index_, SimAction::kConnected, "");
  state_ = SimSessionState::kLogonSent;
  parser_.clear();
  out_.clear();
  nextOutSeq_ = 1;
  nextInSeq_ = 1;
  lastReceivedAt_ = now;
  testRequestSentAt_ = 0;
  logoutByUs_ = false;
  logonDeadline_ = now + std::max(toNanos(config_.logonTimeout), 2 * heartBt_);
  // ResetSeqNumFlag: an in-memory monitor that restarted still accepts us at 1.
  if (send("A", {{98, "0"}, {108, std::to_string(config_.heartBtIntSeconds)}, {141, "Y"}}, now)) {
    host_.record(index_, SimAction::kLogonSent, "");
  }
  updateWatch();
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
  out_.clear();
  parser_.clear();
  if (loggedOn_) {
    loggedOn_ = false;
    host_.loggedOnChanged(-1);
  }
  if (hadConnection) {
    ++counters_.disconnects;
    host_.record(index_, SimAction::kDisconnected, std::move(reason));
  }
  Nanos delay = toNanos(config_.reconnectDelay);
  switch (reconnect) {
    case Reconnect::kNone:
      state_ = SimSessionState::kStopped;
      return;
    case Reconnect::kNormal:
      break;
    case Reconnect::kBackoff: {
      const int doublings = std::min(std::max(consecutiveFailures_ - 1, 0), 16);
      delay = std::min(delay << doublings, std::max(delay, toNanos(config_.maxReconnectDelay)));
      break;
    }
    case Reconnect::kStorm:
      delay = kStormGap;
      break;
  }
  state_ = SimSessionState::kWaitingReconnect;
  reconnectAt_ = now + delay;
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
      closeConnection(now, "peer closed the connection", false,
                      loggedOn_ || logoutByUs_ ? Reconnect::kNormal : Reconnect::kBackoff);
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    if (errno == EINTR) continue;
    const int err = errno;
    if (!loggedOn_) ++consecutiveFailures_;
    closeConnection(now, "read: " + errnoText(err), false,
                    loggedOn_ ? Reconnect::kNormal : Reconnect::kBackoff);
    return;
  }
}

void SimMember::handleMessage(const FixMessage& msg, Nanos now) {
  ++counters_.messagesReceived;
  lastReceivedAt_ = now;
  testRequestSentAt_ = 0;  // any inbound traffic proves the peer alive
  const std::string_view type = msg.msgType();
  if (const auto seq = msg.getInt(34); seq && *seq >= nextInSeq_) nextInSeq_ = *seq + 1;

  if (type == "A") {
    if (state_ != SimSessionState::kLogonSent) return;
    state_ = SimSessionState::kLoggedOn;
    loggedOn_ = true;
    consecutiveFailures_ = 0;
    ++counters_.logons;
    host_.loggedOnChanged(+1);
    host_.record(index_, SimAction::kLoggedOn, "");
    if (stormRemaining_ > 0) {
      --stormRemaining_;
      closeConnection(now, "reconnect storm", false, Reconnect::kStorm);
    }
    return;
  }
  if (type == "1") {
    const std::string id(msg.get(112).value_or(std::string_view{}));
    if (silent(now) || (ignoreTestRequestsUntil_ != 0 && now < ignoreTestRequestsUntil_)) {
      ++counters_.testRequestsIgnored;
      host_.record(index_, SimAction::kTestRequestIgnored, id);
      return;
    }
    if (send("0", {{112, id}}, now)) {
      ++counters_.testRequestsAnswered;
      host_.record(index_, SimAction::kTestRequestAnswered, id);
    }
    return;
  }
  if (type == "2") {
    // We keep no message store: everything we ever sent is session-level, so the
    // whole range is gap-filled up to our next sequence number.
    const std::int64_t begin = std::max<std::int64_t>(1, msg.getInt(7).value_or(1));
    const std::int64_t gapStart = std::min(begin, nextOutSeq_);
    const std::string sendingTime = formatSendingTime(clock_.wall());
    if (send("4", {{43, "Y"}, {122, sendingTime}, {123, "Y"}, {36, std::to_string(nextOutSeq_)}},
             now, gapStart)) {
      ++counters_.gapFillsSent;
      host_.record(index_, SimAction::kGapFillSent,
                   "7=" + std::to_string(begin) + " 16=" + std::string(msg.get(16).value_or("")) +
                       " 36=" + std::to_string(nextOutSeq_));
    }
    return;
  }
  if (type == "4") {
    if (const auto newSeq = msg.getInt(36)) nextInSeq_ = *newSeq;
    return;
  }
  if (type == "3") {
    ++counters_.rejectsReceived;
    host_.record(index_, SimAction::kRejectReceived, std::string(msg.get(58).value_or("")));
    return;
  }
  if (type == "5") {
    const std::string text(msg.get(58).value_or(std::string_view{}));
    if (logoutByUs_) {
      host_.record(index_, SimAction::kLogoutReceived, text);
      closeConnection(now, "logout complete", false, Reconnect::kNormal);
      return;
    }
    if (state_ == SimSessionState::kLogonSent) {
      ++consecutiveFailures_;
      host_.record(index_, SimAction::kLogonRefused, text);
      closeConnection(now, "logon refused: " + text, false, Reconnect::kBackoff);
      return;
    }
    host_.record(index_, SimAction::kLogoutReceived, text);
    if (send("5", {}, now)) host_.record(index_, SimAction::kLogoutSent, "answer");
    // The acceptor closes after the exchange; close ourselves if it does not.
    state_ = SimSessionState::kLoggingOut;
    logoutDeadline_ = now + toNanos(config_.logoutTimeout);
    return;
  }
  // Heartbeats and application messages need nothing beyond the liveness update above.
}

bool SimMember::send(std::string_view msgType, std::vector<FixField> fields, Nanos now,
                     std::int64_t seqOverride) {
  if (fd_ < 0 || silent(now)) return false;
  std::vector<FixField> all;
  all.reserve(fields.size() + 4);
  const std::int64_t seq = seqOverride > 0 ? seqOverride : nextOutSeq_++;
  all.push_back({34, std::to_string(seq)});
  all.push_back({49, config_.senderCompId});
  all.push_back({52, formatSendingTime(clock_.wall())});
  all.push_back({56, config_.targetCompId});
  for (FixField& f : fields) all.push_back(std::move(f));
  appendFixMessage(out_, config_.beginString, msgType, all);
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
    closeConnection(now, "write: " + errnoText(err), false,
                    loggedOn_ ? Reconnect::kNormal : Reconnect::kBackoff);
    return;
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
  Nanos due = lastSentAt_ + heartBt_;
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
      if (now >= logonDeadline_) {
        ++consecutiveFailures_;
        closeConnection(now, "no Logon answer", false, Reconnect::kBackoff);
      }
      return;
    case SimSessionState::kLoggingOut:
      if (now >= logoutDeadline_) {
        closeConnection(now, logoutByUs_ ? "no Logout answer" : "peer kept the connection open",
                        false, Reconnect::kNormal);
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
      logoutByUs_ = true;
      if (send("5", {{58, "simulated logout"}}, now)) {
        host_.record(index_, SimAction::kLogoutSent, "fault");
      }
      if (fd_ >= 0) {
        state_ = SimSessionState::kLoggingOut;
        logoutDeadline_ = now + toNanos(config_.logoutTimeout);
      }
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
  s.counters = counters_;
  return s;
}

}  // namespace linkwatch::sim
