#include "cert/cert_session.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <linkwatch/fix_scan.hpp>

namespace linkwatch::cert {
namespace {

std::string errnoText(int err) { return std::strerror(err); }

int pollTimeoutMs(Nanos now, Nanos until) {
  if (until <= now) return 0;
  const Nanos ms = (until - now + kNanosPerMilli - 1) / kNanosPerMilli;
  return static_cast<int>(std::min<Nanos>(ms, 60 * 1000));
}

bool resolveIpv4(const std::string& host, std::uint16_t port, sockaddr_in& out, bool wildcard) {
  out = sockaddr_in{};
  out.sin_family = AF_INET;
  out.sin_port = htons(port);
  if (host.empty() || host == "0.0.0.0" || host == "*") {
    out.sin_addr.s_addr = htonl(wildcard ? INADDR_ANY : INADDR_LOOPBACK);
    return true;
  }
  if (inet_pton(AF_INET, host.c_str(), &out.sin_addr) == 1) return true;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &result) != 0 || result == nullptr) return false;
  std::memcpy(&out.sin_addr, &reinterpret_cast<sockaddr_in*>(result->ai_addr)->sin_addr,
              sizeof(out.sin_addr));
  freeaddrinfo(result);
  return true;
}

std::string peerName(int fd) {
  sockaddr_in peer{};
  socklen_t len = sizeof(peer);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return "?";
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &peer.sin_addr, text, sizeof(text));
  return std::string(text) + ":" + std::to_string(ntohs(peer.sin_port));
}

}  // namespace

std::string_view toString(Direction d) noexcept {
  switch (d) {
    case Direction::kIn:
      return "in";
    case Direction::kOut:
      return "out";
    case Direction::kNote:
      return "note";
  }
  return "note";
}

std::string renderFix(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    const auto u = static_cast<unsigned char>(c);
    if (c == sim::kSoh) {
      out.push_back('|');
    } else if (u < 0x20 || u >= 0x7f) {
      static const char* const kHex = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

CertSession::CertSession(CertSessionConfig config, const Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      heartBtInt_(config_.heartBtIntSeconds > 0 ? config_.heartBtIntSeconds : 30) {}

CertSession::~CertSession() {
  if (fd_ >= 0) ::close(fd_);
  if (listenFd_ >= 0) ::close(listenFd_);
}

void CertSession::open() {
  if (config_.mode != ConnectionType::kAcceptor || listenFd_ >= 0) return;
  const std::string where =
      (config_.host.empty() ? "0.0.0.0" : config_.host) + ":" + std::to_string(config_.port);
  sockaddr_in addr{};
  if (!resolveIpv4(config_.host, config_.port, addr, true))
    throw std::runtime_error("cannot resolve " + where + " to an IPv4 address");
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket: " + errnoText(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, 16) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error("cannot listen on " + where + ": " + errnoText(err));
  }
  sockaddr_in bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  boundPort_ = ntohs(bound.sin_port);
  listenFd_ = fd;
}

void CertSession::record(Direction d, std::string text) {
  if (!recorder_) return;
  RecordedMessage m;
  m.monotonic = clock_.monotonic();
  m.wall = clock_.wall();
  m.direction = d;
  m.text = std::move(text);
  recorder_(std::move(m));
}

void CertSession::note(const std::string& text) { record(Direction::kNote, text); }

void CertSession::publish(EventKind kind, std::string_view raw) {
  if (hub_ == nullptr || link_ == kNoLink) return;
  SessionEvent e;
  std::memset(&e, 0, sizeof e);
  e.monotonic = monotonicNow();
  e.wall = wallFromMonotonic(e.monotonic);
  e.kind = kind;
  e.link = link_;
  e.messageClass = MessageClass::kApplication;
  if (!raw.empty()) scanFixMessage(raw.data(), raw.size(), e);
  hub_->publish(e);
}

bool CertSession::acceptPending(Nanos deadline) {
  for (;;) {
    const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      if (fd_ >= 0) closeSocket("replaced by a new connection from the member", true);
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      fd_ = fd;
      return true;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      note("accept: " + errnoText(errno));
      return false;
    }
    const Nanos now = clock_.monotonic();
    if (now >= deadline) return false;
    pollfd p{listenFd_, POLLIN, 0};
    ::poll(&p, 1, pollTimeoutMs(now, deadline));
  }
}

bool CertSession::connectTo(Nanos deadline, std::string& why) {
  sockaddr_in addr{};
  if (!resolveIpv4(config_.host, config_.port, addr, false)) {
    why = "cannot resolve " + config_.host + " to an IPv4 address";
    return false;
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    why = "socket: " + errnoText(errno);
    return false;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 &&
      errno != EINPROGRESS) {
    why =
        "connect to " + config_.host + ":" + std::to_string(config_.port) + ": " + errnoText(errno);
    ::close(fd);
    return false;
  }
  pollfd p{fd, POLLOUT, 0};
  const int rc = ::poll(&p, 1, pollTimeoutMs(clock_.monotonic(), deadline));
  int err = 0;
  socklen_t len = sizeof(err);
  if (rc <= 0) {
    err = ETIMEDOUT;
  } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    err = errno;
  }
  if (err != 0) {
    why = "connect to " + config_.host + ":" + std::to_string(config_.port) + ": " + errnoText(err);
    ::close(fd);
    return false;
  }
  fd_ = fd;
  return true;
}

bool CertSession::connect(Nanos deadline, std::string& why) {
  if (config_.mode == ConnectionType::kAcceptor) {
    if (!acceptPending(deadline)) {
      why = "the member did not connect to port " + std::to_string(boundPort_);
      return false;
    }
  } else {
    if (fd_ >= 0) closeSocket("reconnecting", true);
    if (!connectTo(deadline, why)) return false;
  }
  state_ = State::kAwaitingLogon;
  parser_.clear();
  ready_.clear();
  readyNext_ = 0;
  memberLoggedOut_ = false;
  connectedAt_ = clock_.monotonic();
  lastSentAt_ = connectedAt_;
  note(std::string(config_.mode == ConnectionType::kAcceptor ? "member connected from "
                                                             : "connected to the member at ") +
       peerName(fd_));
  return true;
}

std::optional<FixMessage> CertSession::awaitMessage(Nanos deadline) {
  FixMessage m;
  if (waitFor(
          deadline, [](const FixMessage&) { return true; }, &m) == Wait::kMessage)
    return m;
  return std::nullopt;
}

std::vector<FixField> CertSession::header(std::int64_t seq, const SendOptions& options) {
  std::vector<FixField> h;
  h.push_back({34, std::to_string(seq)});
  if (options.omitTag != 49)
    h.push_back({49, options.senderCompId.empty() ? config_.senderCompId : options.senderCompId});
  if (options.omitTag != 52) h.push_back({52, sim::formatSendingTime(clock_.wall())});
  if (options.omitTag != 56) h.push_back({56, config_.targetCompId});
  return h;
}

void CertSession::send(std::string_view msgType, std::vector<FixField> body,
                       const SendOptions& options) {
  if (fd_ < 0) {
    note("not sent (no connection): MsgType " + std::string(msgType));
    return;
  }
  std::int64_t seq = options.seq;
  if (seq <= 0) {
    seq = nextOut_++;
  } else if (options.advance) {
    nextOut_ = seq + 1;
  }
  std::vector<FixField> fields = header(seq, options);
  for (FixField& f : body) fields.push_back(std::move(f));
  const std::string bytes = sim::encodeFixMessage(config_.beginString, msgType, fields);
  if (!options.note.empty()) note(options.note);
  record(Direction::kOut, renderFix(bytes));
  publish(EventKind::kMessageOut, bytes);
  lastSentAt_ = clock_.monotonic();
  writeAll(bytes);
}

void CertSession::sendRaw(const std::string& bytes, const std::string& why) {
  if (fd_ < 0) return;
  if (!why.empty()) note(why);
  record(Direction::kOut, renderFix(bytes));
  lastSentAt_ = clock_.monotonic();
  writeAll(bytes);
}

void CertSession::writeAll(const std::string& bytes) {
  std::size_t done = 0;
  const Nanos deadline = clock_.monotonic() + kNanosPerSecond;
  while (fd_ >= 0 && done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const Nanos now = clock_.monotonic();
      if (now >= deadline) {
        closeSocket("the member stopped reading (send buffer full for 1 s)", true);
        return;
      }
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, pollTimeoutMs(now, deadline));
      continue;
    }
    closeSocket("write: " + errnoText(n < 0 ? errno : EPIPE), true);
    return;
  }
}

void CertSession::sendLogon() { send("A", {{98, "0"}, {108, std::to_string(heartBtInt_)}}); }

void CertSession::acceptLogon(const FixMessage& logon) {
  const std::int64_t seq = logon.getInt(34).value_or(0);
  const bool reset = logon.get(141).value_or("") == "Y";
  if (reset) nextOut_ = 1;
  if (seq > 0) nextIn_ = seq + 1;
  if (const auto hb = logon.getInt(108); hb && *hb > 0 && *hb <= 86400)
    heartBtInt_ = static_cast<int>(*hb);
  std::vector<FixField> body{{98, "0"}, {108, std::to_string(heartBtInt_)}};
  if (reset) body.push_back({141, "Y"});
  send("A", std::move(body));
  state_ = State::kLoggedOn;
  publish(EventKind::kLogon);
}

void CertSession::markLoggedOn(const FixMessage& logon) {
  if (state_ == State::kLoggedOn) return;
  if (const auto seq = logon.getInt(34); seq && *seq > 0) nextIn_ = *seq + 1;
  state_ = State::kLoggedOn;
  publish(EventKind::kLogon);
}

void CertSession::refuseLogon(const std::string& text) {
  send("5", {{58, text}});
  publish(EventKind::kLogonRefused);
  closeSocket("logon refused: " + text, false);
}

void CertSession::sendLogout(const std::string& text) {
  std::vector<FixField> body;
  if (!text.empty()) body.push_back({58, text});
  send("5", std::move(body));
  if (fd_ >= 0) state_ = State::kLogoutSent;
}

void CertSession::disconnect(const std::string& why) { closeSocket(why, true); }

void CertSession::disconnectGracefully(const std::string& why, Nanos deadline) {
  if (fd_ < 0) return;
  note("half-closing: " + why);
  ::shutdown(fd_, SHUT_WR);
  // Nothing more may be written on the half-closed connection.
  const bool duties[] = {autoHeartbeat, autoAnswerTestRequest, autoGapFill, autoAnswerLogout};
  autoHeartbeat = autoAnswerTestRequest = autoGapFill = autoAnswerLogout = false;
  idle(deadline);
  autoHeartbeat = duties[0];
  autoAnswerTestRequest = duties[1];
  autoGapFill = duties[2];
  autoAnswerLogout = duties[3];
  closeSocket("the member did not close within the deadline", true);
}

void CertSession::closeSocket(const std::string& why, bool notify) {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  const bool wasLoggedOn = state_ == State::kLoggedOn || state_ == State::kLogoutSent;
  state_ = State::kDisconnected;
  connectedAt_ = 0;
  parser_.clear();
  note("connection closed: " + why);
  if (notify)
    publish(wasLoggedOn && memberLoggedOut_ ? EventKind::kLogout : EventKind::kDisconnect);
}

bool CertSession::ensureLoggedOn(Nanos deadline, std::string& why) {
  while (state_ != State::kLoggedOn) {
    if (clock_.monotonic() >= deadline) {
      if (why.empty()) why = "no logged-on session before the deadline";
      return false;
    }
    if (fd_ < 0 || state_ == State::kLogoutSent) {
      if (fd_ >= 0) closeSocket("starting a new session", true);
      if (!connect(deadline, why)) {
        if (config_.mode == ConnectionType::kInitiator) {
          // The member's acceptor may not listen yet: retry at a modest pace.
          pollfd none{-1, 0, 0};
          ::poll(&none, 0,
                 pollTimeoutMs(clock_.monotonic(),
                               std::min(deadline, clock_.monotonic() + 200 * kNanosPerMilli)));
          continue;
        }
        return false;
      }
    }
    if (config_.mode == ConnectionType::kAcceptor) {
      const auto first = awaitMessage(deadline);
      if (!first) {
        why = connected() ? "the member connected but sent no Logon"
                          : "the member closed the connection before logging on";
        continue;
      }
      if (first->msgType() != "A") {
        disconnect("first message is not a Logon (MsgType " + std::string(first->msgType()) + ")");
        why = "the member's first message was not a Logon";
        continue;
      }
      acceptLogon(*first);
    } else {
      sendLogon();
      FixMessage answer;
      const Wait w = waitFor(
          deadline, [](const FixMessage& m) { return m.msgType() == "A" || m.msgType() == "5"; },
          &answer);
      if (w != Wait::kMessage) {
        why = w == Wait::kTimeout ? "no Logon answer from the member"
                                  : "the member closed the connection after our Logon";
        disconnect("no Logon answer");
        continue;
      }
      if (answer.msgType() == "5") {
        why = "the member refused our Logon: " + renderFix(answer.raw());
        disconnect("logon refused by the member");
        continue;
      }
      markLoggedOn(answer);
    }
  }
  return true;
}

void CertSession::handleInbound(const FixMessage& msg) {
  record(Direction::kIn, renderFix(msg.raw()));
  publish(EventKind::kMessageIn, msg.raw());
  const std::string_view type = msg.msgType();
  const std::int64_t seq = msg.getInt(34).value_or(0);
  if (type == "4") {
    const std::int64_t newSeq = msg.getInt(36).value_or(0);
    if (msg.get(123).value_or("N") != "Y") {
      if (newSeq > 0) nextIn_ = newSeq;
    } else if (newSeq > nextIn_) {
      nextIn_ = newSeq;
    }
  } else if (seq >= nextIn_) {
    nextIn_ = seq + 1;
  }
  // Our Logon's answer: logged on at once, so that what follows it in the same read (a
  // ResendRequest for a gap our Logon revealed) already gets the session's duties.
  if (type == "A" && state_ == State::kAwaitingLogon && config_.mode == ConnectionType::kInitiator)
    markLoggedOn(msg);
  const bool session = state_ == State::kLoggedOn || state_ == State::kLogoutSent;
  if (!session) return;
  if (type == "1" && autoAnswerTestRequest && state_ == State::kLoggedOn) {
    send("0", {{112, std::string(msg.get(112).value_or(""))}});
  } else if (type == "2" && autoGapFill) {
    // Everything we send is session-level: the whole range is gap-filled, as FIX allows.
    const std::int64_t begin = std::max<std::int64_t>(1, msg.getInt(7).value_or(1));
    if (begin < nextOut_) {
      SendOptions o;
      o.seq = begin;
      o.advance = false;
      send("4",
           {{43, "Y"},
            {122, sim::formatSendingTime(clock_.wall())},
            {123, "Y"},
            {36, std::to_string(nextOut_)}},
           o);
    }
  } else if (type == "5") {
    memberLoggedOut_ = true;
    if (state_ == State::kLogoutSent) {
      closeSocket("Logout handshake complete", true);
    } else if (autoAnswerLogout) {
      send("5", {});
      closeSocket("the member logged out; answered and closed", true);
    }
  }
}

void CertSession::dueHeartbeat() {
  if (!autoHeartbeat || state_ != State::kLoggedOn || fd_ < 0) return;
  if (clock_.monotonic() - lastSentAt_ >= heartBtIntNanos()) send("0", {});
}

void CertSession::pump(Nanos deadline) {
  if (fd_ < 0) return;
  Nanos wake = deadline;
  if (autoHeartbeat && state_ == State::kLoggedOn)
    wake = std::min(wake, lastSentAt_ + heartBtIntNanos());
  pollfd p{fd_, POLLIN, 0};
  const int rc = ::poll(&p, 1, pollTimeoutMs(clock_.monotonic(), wake));
  if (rc > 0) {
    char buffer[16384];
    for (int i = 0; i < 16 && fd_ >= 0; ++i) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0) {
        const std::uint64_t garbage = parser_.garbageBytes();
        parser_.feed(buffer, static_cast<std::size_t>(n));
        FixMessage m;
        while (parser_.next(m)) {
          handleInbound(m);
          ready_.push_back(std::move(m));
        }
        if (parser_.garbageBytes() != garbage)
          note(std::to_string(parser_.garbageBytes() - garbage) +
               " bytes from the member were not valid FIX and were skipped");
        if (static_cast<std::size_t>(n) < sizeof buffer) break;
        continue;
      }
      if (n == 0) {
        closeSocket("the member closed the connection", true);
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      closeSocket(errno == ECONNRESET ? std::string("connection reset by the member")
                                      : "read: " + errnoText(errno),
                  true);
      break;
    }
  }
  dueHeartbeat();
}

CertSession::Wait CertSession::waitFor(Nanos deadline,
                                       const std::function<bool(const FixMessage&)>& match,
                                       FixMessage* out) {
  bool lastLook = false;
  for (;;) {
    while (readyNext_ < ready_.size()) {
      FixMessage& m = ready_[readyNext_++];
      if (match(m)) {
        if (out != nullptr) *out = std::move(m);
        return Wait::kMessage;
      }
    }
    ready_.clear();
    readyNext_ = 0;
    if (fd_ < 0) return Wait::kDisconnected;
    if (clock_.monotonic() >= deadline) {
      // Woken late (a loaded machine): what arrived in time is still unread. Read it before
      // calling the deadline missed.
      if (lastLook) return Wait::kTimeout;
      lastLook = true;
    }
    pump(deadline);
  }
}

CertSession::Wait CertSession::idle(Nanos deadline) {
  const Wait w = waitFor(deadline, [](const FixMessage&) { return false; });
  return w == Wait::kDisconnected ? w : Wait::kTimeout;
}

}  // namespace linkwatch::cert
