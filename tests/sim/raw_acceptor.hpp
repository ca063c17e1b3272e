// A tiny blocking FIX acceptor for the simulator tests: one connection at a time on
// 127.0.0.1:<ephemeral>, every wait bounded by a deadline (poll in short slices). Its outbound
// MsgSeqNum carries on across connections, as a session's does, unless the member's Logon
// asks for a reset; tests can also set it, or write any header they like.
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <linkwatch/clock.hpp>

#include "sim/fix_wire.hpp"

namespace linkwatch::sim::test {

using namespace std::chrono_literals;

class RawAcceptor {
 public:
  enum class ReadEnd { kTimeout, kEof, kReset, kError };

  RawAcceptor() {
    listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listenFd_ < 0) throw std::runtime_error("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listenFd_, 16) != 0) {
      throw std::runtime_error("bind/listen");
    }
    socklen_t len = sizeof(addr);
    ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~RawAcceptor() {
    closeConnection();
    ::close(listenFd_);
  }
  RawAcceptor(const RawAcceptor&) = delete;
  RawAcceptor& operator=(const RawAcceptor&) = delete;

  std::uint16_t port() const { return port_; }
  int fd() const { return fd_; }

  // Accepts the next connection, dropping the current one (without a close: the member
  // must see nothing from us). False on timeout.
  bool accept(std::chrono::milliseconds timeout = 5000ms) {
    if (!waitReadable(listenFd_, timeout)) return false;
    const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return false;
    closeConnection();
    fd_ = fd;
    parser_.clear();
    return true;
  }

  void closeConnection() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Reads until a message matching `pred` arrives; messages before it are kept in seen().
  std::optional<FixMessage> waitFor(const std::function<bool(const FixMessage&)>& pred,
                                    std::chrono::milliseconds timeout = 5000ms) {
    const Nanos deadline = monotonicNow() + timeout.count() * kNanosPerMilli;
    for (;;) {
      FixMessage msg;
      while (parser_.next(msg)) {
        received_.push_back({monotonicNow(), msg});
        if (pred(msg)) return msg;
      }
      const Nanos left = deadline - monotonicNow();
      if (left <= 0 || fd_ < 0) return std::nullopt;
      std::string bytes;
      const auto end = readSome(
          bytes, std::chrono::milliseconds(std::min<Nanos>(50, left / kNanosPerMilli + 1)));
      if (!bytes.empty()) {
        parser_.feed(bytes);
        continue;
      }
      if (end != ReadEnd::kTimeout) return std::nullopt;
    }
  }
  std::optional<FixMessage> waitForType(std::string_view type,
                                        std::chrono::milliseconds timeout = 5000ms) {
    return waitFor([type](const FixMessage& m) { return m.msgType() == type; }, timeout);
  }

  // Waits for the member's Logon and answers it, resetting our side when the member asks
  // for it (ResetSeqNumFlag=Y). Returns the member's Logon.
  std::optional<FixMessage> completeLogon(std::chrono::milliseconds timeout = 5000ms) {
    auto logon = waitForType("A", timeout);
    if (logon) {
      const bool reset = logon->get(141) == std::optional<std::string_view>("Y");
      if (reset) outSeq_ = 1;
      std::vector<FixField> fields{{98, "0"}, {108, std::string(logon->get(108).value_or("1"))}};
      if (reset) fields.push_back({141, "Y"});
      sendAdmin("A", std::move(fields));
    }
    return logon;
  }

  // Reads until the member closes the connection (true: ours is closed too) or the timeout
  // passes (false); messages on the way are kept in received().
  bool waitForClose(std::chrono::milliseconds timeout = 5000ms) {
    const Nanos deadline = monotonicNow() + timeout.count() * kNanosPerMilli;
    for (;;) {
      FixMessage msg;
      while (parser_.next(msg)) received_.push_back({monotonicNow(), msg});
      const Nanos left = deadline - monotonicNow();
      if (left <= 0 || fd_ < 0) return false;
      std::string bytes;
      const ReadEnd end = readSome(
          bytes, std::chrono::milliseconds(std::min<Nanos>(50, left / kNanosPerMilli + 1)));
      parser_.feed(bytes);
      if (end == ReadEnd::kEof || end == ReadEnd::kReset) {
        while (parser_.next(msg)) received_.push_back({monotonicNow(), msg});
        closeConnection();  // our side too, as an acceptor does on the member's FIN
        return true;
      }
    }
  }

  // Messages received from index `from` on, of one type.
  std::vector<FixMessage> receivedOfType(std::string_view type, std::size_t from = 0) const {
    std::vector<FixMessage> out;
    for (std::size_t i = from; i < received_.size(); ++i) {
      if (received_[i].message.msgType() == type) out.push_back(received_[i].message);
    }
    return out;
  }

  // Reads raw bytes for up to `timeout` or until the connection ends; bytes are appended.
  ReadEnd readRaw(std::string& bytes, std::chrono::milliseconds timeout) {
    const Nanos deadline = monotonicNow() + timeout.count() * kNanosPerMilli;
    for (;;) {
      const Nanos left = deadline - monotonicNow();
      if (left <= 0) return ReadEnd::kTimeout;
      const ReadEnd end = readSome(
          bytes, std::chrono::milliseconds(std::min<Nanos>(50, left / kNanosPerMilli + 1)));
      if (end != ReadEnd::kTimeout) return end;
    }
  }

  // One slice: waits up to `slice` for readability, then reads what is there.
  ReadEnd readSome(std::string& bytes, std::chrono::milliseconds slice) {
    if (fd_ < 0) return ReadEnd::kError;
    if (!waitReadable(fd_, slice)) return ReadEnd::kTimeout;
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0) {
      bytes.append(buffer, static_cast<std::size_t>(n));
      return ReadEnd::kTimeout;
    }
    if (n == 0) return ReadEnd::kEof;
    lastErrno_ = errno;
    if (errno == EAGAIN || errno == EINTR) return ReadEnd::kTimeout;
    return errno == ECONNRESET ? ReadEnd::kReset : ReadEnd::kError;
  }

  void sendAdmin(std::string_view type, std::vector<FixField> fields) {
    std::vector<FixField> all{{34, std::to_string(outSeq_++)},
                              {49, "EXCH"},
                              {52, formatSendingTime(wallNow())},
                              {56, "BANK01"}};
    for (auto& f : fields) all.push_back(std::move(f));
    sendRaw(encodeFixMessage("FIX.4.4", type, all));
  }

  // A message whose whole header after 35 is the caller's (`fields`, in order): for invalid
  // messages. Uses no MsgSeqNum of ours unless `fields` carries one.
  void sendCustom(std::string_view beginString, std::string_view type,
                  const std::vector<FixField>& fields) {
    sendRaw(encodeFixMessage(beginString, type, fields));
  }
  // The standard header with the next MsgSeqNum (consumed), for building custom messages.
  std::vector<FixField> header() {
    return {{34, std::to_string(outSeq_++)},
            {49, "EXCH"},
            {52, formatSendingTime(wallNow())},
            {56, "BANK01"}};
  }

  std::int64_t nextOutSeq() const { return outSeq_; }
  void setNextOutSeq(std::int64_t seq) { outSeq_ = seq; }

  void sendRaw(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  struct Received {
    Nanos at;
    FixMessage message;
  };
  const std::vector<Received>& received() const { return received_; }
  const FixStreamParser& parser() const { return parser_; }
  int lastErrno() const { return lastErrno_; }

 private:
  static bool waitReadable(int fd, std::chrono::milliseconds timeout) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
  }

  int listenFd_ = -1;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  FixStreamParser parser_;
  std::vector<Received> received_;
  std::int64_t outSeq_ = 1;
  int lastErrno_ = 0;
};

}  // namespace linkwatch::sim::test
