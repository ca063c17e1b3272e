// The certification counterparty: linkwatch's own wire-level FIX session against one member
// engine. Unlike QuickFIX it can skip sequence numbers, send invalid messages on purpose and
// refuse a logon, which is what certifying a member needs. Acceptor mode listens on the
// member's test port; initiator mode connects to the member's endpoint.
//
// One thread: every wait is a poll() with a millisecond deadline, during which the session
// keeps its duties (heartbeats, answers to TestRequests, gap fills for ResendRequests, Logout
// answers) unless a case switches one off. Every message in and out is time-stamped and
// handed to the recorder, and to the monitor's EventHub for the live status.
//
// Thread-safety: none; one thread owns the session.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <linkwatch/clock.hpp>
#include <linkwatch/config.hpp>
#include <linkwatch/event_hub.hpp>

#include "sim/fix_wire.hpp"

namespace linkwatch::cert {

using sim::FixField;
using sim::FixMessage;

enum class Direction : std::uint8_t { kIn, kOut, kNote };
std::string_view toString(Direction d) noexcept;  // "in", "out", "note"

// One line of a case's evidence: a FIX message (SOH rendered as '|') or a note of ours.
struct RecordedMessage {
  Nanos wall = 0;
  Nanos monotonic = 0;
  Direction direction = Direction::kNote;
  std::string text;
};

// SOH → '|', other control bytes and non-ASCII as \xNN: FIX as a person reads it, and
// always valid in XML, JSON and HTML.
std::string renderFix(std::string_view raw);

struct CertSessionConfig {
  ConnectionType mode = ConnectionType::kAcceptor;  // ours: acceptor listens, initiator connects
  std::string host;                                 // listen (acceptor) or connect (initiator)
  std::uint16_t port = 0;
  std::string beginString = "FIX.4.4";
  std::string senderCompId;    // ours
  std::string targetCompId;    // the member's
  int heartBtIntSeconds = 30;  // initiator: sent in our Logon; acceptor: until the member's
};

// How one outbound message deviates from a correct one.
struct SendOptions {
  std::int64_t seq = 0;      // MsgSeqNum; 0: the next one
  bool advance = true;       // move the next MsgSeqNum past `seq`
  std::string senderCompId;  // SenderCompID(49) instead of ours
  int omitTag = 0;           // leave this header tag (49, 52 or 56) out
  std::string note;          // recorded before the message: why it is unusual
};

class CertSession {
 public:
  enum class State : std::uint8_t { kDisconnected, kAwaitingLogon, kLoggedOn, kLogoutSent };
  enum class Wait : std::uint8_t { kMessage, kTimeout, kDisconnected };

  CertSession(CertSessionConfig config, const Clock& clock);
  ~CertSession();
  CertSession(const CertSession&) = delete;
  CertSession& operator=(const CertSession&) = delete;

  // Acceptor: binds and listens. Throws std::runtime_error naming host:port and the cause.
  void open();
  std::uint16_t boundPort() const noexcept { return boundPort_; }

  void setRecorder(std::function<void(RecordedMessage)> recorder) {
    recorder_ = std::move(recorder);
  }
  // Live status: every message and connectivity change becomes a SessionEvent of `link`.
  void setEventHub(EventHub* hub, LinkIndex link) noexcept {
    hub_ = hub;
    link_ = link;
  }

  // Acceptor: waits for the member to connect (replacing any connection held). Initiator:
  // connects. False at the deadline (or on a refused connect), with `why`.
  bool connect(Nanos deadline, std::string& why);
  // Waits for the next inbound message on a connection awaiting logon: the member's Logon
  // (acceptor). nullopt at the deadline or when the connection ends.
  std::optional<FixMessage> awaitMessage(Nanos deadline);
  // Answers the member's Logon with ours: ResetSeqNumFlag echoed (and both sequences reset to
  // 1 when it is Y), HeartBtInt taken from it. The session is then logged on.
  void acceptLogon(const FixMessage& logon);
  // Refuses a Logon: a Logout with `text`, then the connection is closed.
  void refuseLogon(const std::string& text);
  // Initiator: sends our Logon, continuing our sequence numbers.
  void sendLogon();
  // The Logon answer to sendLogon arrived: logged on.
  void markLoggedOn(const FixMessage& logon);

  // Logged on one way or another: waits for (acceptor) or makes (initiator) a connection and
  // completes a logon, leniently. False with `why` at the deadline.
  bool ensureLoggedOn(Nanos deadline, std::string& why);

  void send(std::string_view msgType, std::vector<FixField> body, const SendOptions& options = {});
  // Bytes exactly as given (a garbled message); recorded rendered.
  void sendRaw(const std::string& bytes, const std::string& note);
  void sendLogout(const std::string& text);
  // Closes the TCP connection (FIN). `why` is recorded.
  void disconnect(const std::string& why);
  // Half-closes (FIN), reads and records whatever the member still sends until it closes or
  // the deadline passes, then closes: nothing the member sent is lost in flight.
  void disconnectGracefully(const std::string& why, Nanos deadline);

  // Pumps the connection until an inbound message satisfies `match` (copied to `out`), the
  // connection ends, or the deadline passes. Every inbound message is recorded and gets the
  // session's automatic duties first.
  Wait waitFor(Nanos deadline, const std::function<bool(const FixMessage&)>& match,
               FixMessage* out = nullptr);
  // Pumps until the deadline; returns kDisconnected if the connection ended meanwhile.
  Wait idle(Nanos deadline);

  void note(const std::string& text);

  // Automatic duties, each on by default.
  bool autoHeartbeat = true;
  bool autoAnswerTestRequest = true;
  bool autoGapFill = true;
  bool autoAnswerLogout = true;

  State state() const noexcept { return state_; }
  bool connected() const noexcept { return fd_ >= 0; }
  bool loggedOn() const noexcept { return state_ == State::kLoggedOn; }
  std::int64_t nextOutSeq() const noexcept { return nextOut_; }
  std::int64_t nextInSeq() const noexcept { return nextIn_; }
  int heartBtIntSeconds() const noexcept { return heartBtInt_; }
  Nanos heartBtIntNanos() const noexcept {
    return static_cast<Nanos>(heartBtInt_) * kNanosPerSecond;
  }
  // When the current connection was established (monotonic), 0 when none.
  Nanos connectedAt() const noexcept { return connectedAt_; }
  // Logout received from the member on the last connection, and its Text.
  bool memberLoggedOut() const noexcept { return memberLoggedOut_; }
  const CertSessionConfig& config() const noexcept { return config_; }
  const Clock& clock() const noexcept { return clock_; }
  std::uint64_t nextTestReqId() noexcept { return ++testReqIds_; }

 private:
  void record(Direction d, std::string text);
  void publish(EventKind kind, std::string_view raw = {});
  void writeAll(const std::string& bytes);
  bool acceptPending(Nanos deadline);
  bool connectTo(Nanos deadline, std::string& why);
  void closeSocket(const std::string& why, bool notify);
  // One poll round: returns when a message is ready in ready_, the deadline passes or the
  // connection ends.
  void pump(Nanos deadline);
  void handleInbound(const FixMessage& msg);
  void dueHeartbeat();
  std::vector<FixField> header(std::int64_t seq, const SendOptions& options);

  CertSessionConfig config_;
  const Clock& clock_;
  int listenFd_ = -1;
  int fd_ = -1;
  std::uint16_t boundPort_ = 0;
  State state_ = State::kDisconnected;
  sim::FixStreamParser parser_;
  std::vector<FixMessage> ready_;  // parsed, handled, not yet seen by a wait
  std::size_t readyNext_ = 0;
  std::int64_t nextOut_ = 1;
  std::int64_t nextIn_ = 1;
  int heartBtInt_ = 30;
  Nanos lastSentAt_ = 0;
  Nanos connectedAt_ = 0;
  bool memberLoggedOut_ = false;
  std::uint64_t testReqIds_ = 0;
  std::function<void(RecordedMessage)> recorder_;
  EventHub* hub_ = nullptr;
  LinkIndex link_ = kNoLink;
};

}  // namespace linkwatch::cert
