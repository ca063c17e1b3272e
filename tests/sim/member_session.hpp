// A fixture for the member's session-level behaviour: one simulated member against the raw
// acceptor, with helpers that wait on what the member puts on the wire (never on a sleep).
#pragma once

#include <gtest/gtest.h>
#include <poll.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/raw_acceptor.hpp"
#include "sim/simulator.hpp"

namespace linkwatch::sim::test {

template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 5000ms) {
  const Nanos deadline = monotonicNow() + timeout.count() * kNanosPerMilli;
  for (;;) {
    if (condition()) return true;
    if (monotonicNow() >= deadline) return false;
    ::poll(nullptr, 0, 5);
  }
}

inline bool hasValue(const FixMessage& m, int tag, std::string_view value) {
  return m.get(tag) == std::optional<std::string_view>(value);
}

class MemberSession : public ::testing::Test {
 protected:
  SimMemberConfig config() const {
    SimMemberConfig c;
    c.memberId = "BANK01";
    c.senderCompId = "BANK01";
    c.targetCompId = "EXCH";
    c.port = acceptor_.port();
    c.heartBtIntSeconds = 1;
    c.reconnectDelay = 100ms;
    c.maxReconnectDelay = 2000ms;
    c.minLogonRetryDelay = 100ms;
    // The raw acceptor sends nothing unprompted: keep the member from probing or leaving.
    c.testRequestOnSilence = false;
    c.peerSilenceTimeoutFactor = 0;
    return c;
  }
  void start(SimMemberConfig c) {
    sim_ = std::make_unique<Simulator>(std::vector<SimMemberConfig>{std::move(c)});
    sim_->start();
  }
  void start() { start(config()); }

  // Accepts the member and completes its logon; returns the member's Logon.
  FixMessage logOn() {
    EXPECT_TRUE(acceptor_.accept());
    auto logon = acceptor_.completeLogon();
    EXPECT_TRUE(logon.has_value());
    EXPECT_TRUE(eventually([&] { return sim_->loggedOnCount() == 1; }));
    return logon.value_or(FixMessage{});
  }

  SimMemberSnapshot member() { return sim_->snapshot().at(0); }

  // A TestRequest at our next MsgSeqNum is answered: the member is logged on and in step.
  bool answersTestRequest(const std::string& id, std::chrono::milliseconds timeout = 2000ms) {
    acceptor_.sendAdmin("1", {{112, id}});
    return acceptor_
        .waitFor([&](const FixMessage& m) { return m.msgType() == "0" && hasValue(m, 112, id); },
                 timeout)
        .has_value();
  }

  // The standard header with `tag` left out (consumes our next MsgSeqNum).
  std::vector<FixField> headerWithout(int tag) {
    std::vector<FixField> h = acceptor_.header();
    std::erase_if(h, [tag](const FixField& f) { return f.tag == tag; });
    return h;
  }
  std::vector<FixField> headerWith(int tag, std::string value) {
    std::vector<FixField> h = acceptor_.header();
    for (FixField& f : h) {
      if (f.tag == tag) f.value = value;
    }
    return h;
  }

  std::size_t mark() const { return acceptor_.received().size(); }
  std::vector<FixMessage> since(std::size_t from, std::string_view type) const {
    return acceptor_.receivedOfType(type, from);
  }

  RawAcceptor acceptor_;
  std::unique_ptr<Simulator> sim_;
};

}  // namespace linkwatch::sim::test
