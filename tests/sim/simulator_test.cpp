// The simulator against a raw-socket acceptor: what each member puts on the wire, and what
// each fault does to it. Every wait has a deadline; nothing sleeps to synchronise.
#include "sim/simulator.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <regex>
#include <string>
#include <thread>

#include "sim/raw_acceptor.hpp"

namespace linkwatch::sim {
namespace {

using namespace std::chrono_literals;
using test::RawAcceptor;

template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 5000ms) {
  const Nanos deadline = monotonicNow() + timeout.count() * kNanosPerMilli;
  for (;;) {
    if (condition()) return true;
    if (monotonicNow() >= deadline) return false;
    ::poll(nullptr, 0, 5);
  }
}

SimMemberConfig memberFor(std::uint16_t port) {
  SimMemberConfig c;
  c.memberId = "BANK01";
  c.beginString = "FIX.4.4";
  c.senderCompId = "BANK01";
  c.targetCompId = "EXCH";
  c.host = "127.0.0.1";
  c.port = port;
  c.heartBtIntSeconds = 1;
  c.reconnectDelay = 100ms;
  c.maxReconnectDelay = 400ms;
  // The raw acceptor sends nothing unprompted: keep the member from probing or leaving.
  c.testRequestOnSilence = false;
  c.peerSilenceTimeoutFactor = 0;
  return c;
}

class SimulatorTest : public ::testing::Test {
 protected:
  void startSimulator(SimMemberConfig config) {
    sim_ = std::make_unique<Simulator>(std::vector<SimMemberConfig>{std::move(config)});
    sim_->start();
  }
  void startSimulator() { startSimulator(memberFor(acceptor_.port())); }

  // Accepts the member and completes its logon; returns the member's Logon.
  FixMessage logOn() {
    EXPECT_TRUE(acceptor_.accept());
    auto logon = acceptor_.completeLogon();
    EXPECT_TRUE(logon.has_value());
    EXPECT_TRUE(eventually([&] { return sim_->loggedOnCount() == 1; }));
    return logon.value_or(FixMessage{});
  }

  SimMemberSnapshot member() { return sim_->snapshot().at(0); }

  void inject(std::string_view spec) {
    std::string error;
    const auto fault = parseFault(spec, &error);
    ASSERT_TRUE(fault.has_value()) << error;
    ASSERT_TRUE(sim_->inject("BANK01", *fault, &error)) << error;
  }

  bool waitFaultApplied(FaultKind kind, std::uint64_t count = 1) {
    return eventually([&] { return member().counters.faultCount(kind) >= count; });
  }

  RawAcceptor acceptor_;
  std::unique_ptr<Simulator> sim_;
};

bool isPlainHeartbeat(const FixMessage& m) { return m.msgType() == "0" && !m.get(112); }

TEST_F(SimulatorTest, MemberLogsOnWithItsOwnCompIdsEncryptMethodNoneAndHeartBtInt) {
  startSimulator();
  const FixMessage logon = logOn();
  EXPECT_EQ(logon.get(8), "FIX.4.4");
  EXPECT_EQ(logon.fields().at(0).tag, 8);
  EXPECT_EQ(logon.fields().at(1).tag, 9);
  EXPECT_EQ(logon.fields().at(2).tag, 35);
  EXPECT_EQ(logon.get(49), "BANK01");
  EXPECT_EQ(logon.get(56), "EXCH");
  EXPECT_EQ(logon.getInt(34), 1);
  EXPECT_EQ(logon.get(98), "0");
  EXPECT_EQ(logon.get(108), "1");
  EXPECT_FALSE(logon.get(141).has_value()) << "ResetSeqNumFlag only when configured";
  const std::string sendingTime(logon.get(52).value_or(""));
  EXPECT_TRUE(std::regex_match(sendingTime, std::regex(R"(\d{8}-\d{2}:\d{2}:\d{2}\.\d{3})")))
      << sendingTime;
  const auto s = member();
  EXPECT_EQ(s.state, SimSessionState::kLoggedOn);
  EXPECT_EQ(s.counters.logons, 1U);
}

TEST_F(SimulatorTest, SendsHeartbeatsEveryHeartBtIntWhenIdle) {
  startSimulator();
  logOn();
  std::vector<Nanos> arrivals;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(acceptor_.waitFor(isPlainHeartbeat, 3000ms).has_value());
    arrivals.push_back(acceptor_.received().back().at);
  }
  for (std::size_t i = 1; i < arrivals.size(); ++i) {
    const Nanos gap = arrivals[i] - arrivals[i - 1];
    EXPECT_GT(gap, 800 * kNanosPerMilli) << "heartbeat " << i;
    EXPECT_LT(gap, 1300 * kNanosPerMilli) << "heartbeat " << i;
  }
}

TEST_F(SimulatorTest, AnswersTestRequestWithHeartbeatCarryingTheSameTestReqId) {
  startSimulator();
  logOn();
  acceptor_.sendAdmin("1", {{112, "PROBE-42"}});
  const auto answer = acceptor_.waitFor(
      [](const FixMessage& m) { return m.msgType() == "0" && m.get(112); }, 1000ms);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->get(112), "PROBE-42");
  EXPECT_EQ(member().counters.testRequestsAnswered, 1U);
}

TEST_F(SimulatorTest, SilenceStopsAllTrafficWhileTheSocketStaysOpen) {
  startSimulator();
  logOn();
  inject("silence:2500");
  ASSERT_TRUE(eventually([&] { return member().silent; }));
  std::string drained;
  acceptor_.readRaw(drained, 100ms);  // a heartbeat already on its way before the fault
  acceptor_.sendAdmin("1", {{112, "UNANSWERED"}});
  std::string bytes;
  EXPECT_EQ(acceptor_.readRaw(bytes, 2000ms), RawAcceptor::ReadEnd::kTimeout);
  EXPECT_EQ(bytes, "") << "the member sent something while silenced";
  EXPECT_TRUE(member().connected);
  // Heartbeats resume when the silence ends, on the same connection.
  EXPECT_TRUE(acceptor_.waitFor(isPlainHeartbeat, 3000ms).has_value());
  EXPECT_EQ(member().counters.testRequestsIgnored, 1U);
}

TEST_F(SimulatorTest, CloseSendsFinThenReconnectsWithANewLogon) {
  startSimulator();
  logOn();
  inject("close");
  std::string bytes;
  EXPECT_EQ(acceptor_.readRaw(bytes, 3000ms), RawAcceptor::ReadEnd::kEof);
  const FixMessage again = logOn();
  EXPECT_GT(again.getInt(34).value_or(0), 1) << "sequence numbers carry on across reconnects";
  EXPECT_FALSE(again.get(141).has_value());
  const auto s = member();
  EXPECT_EQ(s.counters.logons, 2U);
  EXPECT_EQ(s.counters.disconnects, 1U);
  EXPECT_EQ(s.counters.faultCount(FaultKind::kClose), 1U);
}

TEST_F(SimulatorTest, ResetMakesTheAcceptorsReadFailWithConnectionReset) {
  startSimulator();
  logOn();
  inject("reset");
  std::string bytes;
  EXPECT_EQ(acceptor_.readRaw(bytes, 3000ms), RawAcceptor::ReadEnd::kReset)
      << "errno " << acceptor_.lastErrno();
  EXPECT_EQ(acceptor_.lastErrno(), ECONNRESET);
  logOn();  // and it comes back
}

TEST_F(SimulatorTest, SkipSeqMakesTheNextMsgSeqNumJumpByN) {
  startSimulator();
  logOn();
  ASSERT_TRUE(acceptor_.waitFor(isPlainHeartbeat, 3000ms).has_value());
  inject("skip_seq:5");
  std::int64_t previous = acceptor_.received().back().message.getInt(34).value_or(0);
  std::vector<std::int64_t> steps;
  const auto jumped = acceptor_.waitFor(
      [&](const FixMessage& m) {
        const std::int64_t seq = m.getInt(34).value_or(0);
        steps.push_back(seq - previous);
        previous = seq;
        return steps.back() != 1;
      },
      4000ms);
  ASSERT_TRUE(jumped.has_value());
  EXPECT_EQ(steps.back(), 6) << "next MsgSeqNum should skip 5 numbers";
}

TEST_F(SimulatorTest, AnswersResendRequestWithGapFillUpToItsNextSeqNum) {
  startSimulator();
  logOn();
  inject("skip_seq:5");
  ASSERT_TRUE(waitFaultApplied(FaultKind::kSkipSeq));
  acceptor_.sendAdmin("2", {{7, "2"}, {16, "0"}});
  const auto gapFill = acceptor_.waitForType("4", 2000ms);
  ASSERT_TRUE(gapFill.has_value());
  EXPECT_EQ(gapFill->get(123), "Y");
  EXPECT_EQ(gapFill->get(43), "Y");
  EXPECT_EQ(gapFill->getInt(34), 2);
  const std::int64_t newSeqNo = gapFill->getInt(36).value_or(0);
  EXPECT_GE(newSeqNo, 7);
  // The member's next message carries exactly NewSeqNo.
  const auto next = acceptor_.waitFor(isPlainHeartbeat, 3000ms);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->getInt(34), newSeqNo);
  EXPECT_EQ(member().counters.gapFillsSent, 1U);
}

TEST_F(SimulatorTest, GarbageSendsBytesThatDoNotParseAsFix) {
  startSimulator();
  logOn();
  inject("garbage:32");
  FixStreamParser parser;
  FixMessage msg;
  std::string raw;
  const bool sawGarbage = eventually(
      [&] {
        std::string bytes;
        acceptor_.readSome(bytes, 20ms);
        raw += bytes;
        parser.feed(bytes);
        while (parser.next(msg)) {
        }
        return parser.garbageBytes() >= 32;
      },
      3000ms);
  ASSERT_TRUE(sawGarbage) << raw.size() << " bytes read";
  EXPECT_EQ(parser.garbageBytes(), 32U);
  EXPECT_EQ(parser.badChecksums(), 0U);
  // The session carries on after the garbage.
  EXPECT_TRUE(acceptor_.waitFor(isPlainHeartbeat, 3000ms).has_value());
}

TEST_F(SimulatorTest, AnswersLogoutWithLogoutAndReconnectsAfterTheClose) {
  startSimulator();
  logOn();
  acceptor_.sendAdmin("5", {{58, "bye"}});
  ASSERT_TRUE(acceptor_.waitForType("5", 2000ms).has_value());
  acceptor_.closeConnection();
  logOn();
}

TEST_F(SimulatorTest, LogoutFaultSendsLogoutAndClosesAfterTheAnswer) {
  startSimulator();
  logOn();
  inject("logout");
  ASSERT_TRUE(acceptor_.waitForType("5", 2000ms).has_value());
  acceptor_.sendAdmin("5", {});
  std::string bytes;
  EXPECT_EQ(acceptor_.readRaw(bytes, 1000ms), RawAcceptor::ReadEnd::kEof);
  logOn();
}

TEST_F(SimulatorTest, IgnoreTestRequestsKeepsHeartbeatingButLeavesProbesUnanswered) {
  startSimulator();
  logOn();
  inject("ignore_test_requests:3000");
  ASSERT_TRUE(eventually([&] { return member().ignoringTestRequests; }));
  acceptor_.sendAdmin("1", {{112, "IGNORED"}});
  bool answered = false;
  int heartbeats = 0;
  acceptor_.waitFor(
      [&](const FixMessage& m) {
        if (m.get(112) == std::optional<std::string_view>("IGNORED")) answered = true;
        if (isPlainHeartbeat(m)) ++heartbeats;
        return false;
      },
      2200ms);
  EXPECT_FALSE(answered);
  EXPECT_GE(heartbeats, 1);
  EXPECT_EQ(member().counters.testRequestsIgnored, 1U);
}

TEST_F(SimulatorTest, LateHeartbeatsStretchTheIntervalByTheDelay) {
  startSimulator();
  logOn();
  inject("late_heartbeats:600:10000");
  ASSERT_TRUE(eventually([&] { return member().lateHeartbeats; }));
  ASSERT_TRUE(acceptor_.waitFor(isPlainHeartbeat, 3000ms).has_value());
  const Nanos first = acceptor_.received().back().at;
  ASSERT_TRUE(acceptor_.waitFor(isPlainHeartbeat, 3000ms).has_value());
  const Nanos gap = acceptor_.received().back().at - first;
  EXPECT_GT(gap, 1400 * kNanosPerMilli);
  EXPECT_LT(gap, 1900 * kNanosPerMilli);
}

TEST_F(SimulatorTest, ReconnectStormCyclesConnectLogonCloseThenStaysUp) {
  startSimulator();
  logOn();
  inject("reconnect_storm:2");
  // Two quick cycles, each a fresh connection with a Logon that the member then closes.
  for (int cycle = 0; cycle < 2; ++cycle) {
    ASSERT_TRUE(acceptor_.accept(3000ms)) << "cycle " << cycle;
    ASSERT_TRUE(acceptor_.completeLogon().has_value()) << "cycle " << cycle;
    std::string bytes;
    EXPECT_EQ(acceptor_.readRaw(bytes, 2000ms), RawAcceptor::ReadEnd::kEof) << "cycle " << cycle;
  }
  logOn();
  EXPECT_TRUE(acceptor_.waitFor(isPlainHeartbeat, 3000ms).has_value());
  EXPECT_EQ(member().counters.logons, 4U);
}

TEST_F(SimulatorTest, SendsItsOwnTestRequestWhenTheMonitorGoesSilent) {
  SimMemberConfig config = memberFor(acceptor_.port());
  config.testRequestOnSilence = true;
  startSimulator(config);
  logOn();
  const auto probe = acceptor_.waitForType("1", 4000ms);
  ASSERT_TRUE(probe.has_value());
  EXPECT_EQ(probe->get(112).value_or("").substr(0, 3), "SIM");
}

TEST_F(SimulatorTest, ReconnectsWhenTheAcceptorDropsTheConnection) {
  startSimulator();
  logOn();
  acceptor_.closeConnection();
  logOn();
  EXPECT_TRUE(eventually([&] { return member().counters.disconnects == 1; }));
}

TEST_F(SimulatorTest, RecordsItsActionsInOrder) {
  startSimulator();
  logOn();
  inject("close");
  logOn();
  std::vector<SimAction> actions;
  for (const SimRecordEntry& e : sim_->record()) {
    EXPECT_EQ(e.memberId, "BANK01");
    actions.push_back(e.action);
  }
  const std::vector<SimAction> expected = {SimAction::kConnecting,    SimAction::kConnected,
                                           SimAction::kLogonSent,     SimAction::kLoggedOn,
                                           SimAction::kFaultInjected, SimAction::kDisconnected,
                                           SimAction::kConnecting,    SimAction::kConnected,
                                           SimAction::kLogonSent,     SimAction::kLoggedOn};
  EXPECT_EQ(actions, expected);
  const auto record = sim_->record();
  EXPECT_TRUE(std::is_sorted(record.begin(), record.end(), [](const auto& a, const auto& b) {
    return a.monotonic < b.monotonic;
  }));
}

TEST_F(SimulatorTest, FaultsOnADisconnectedMemberAreRecordedAsSkipped) {
  SimMemberConfig config = memberFor(1);  // nothing listens on port 1
  startSimulator(config);
  inject("close");
  EXPECT_TRUE(eventually([&] {
    const auto record = sim_->record();
    return std::any_of(record.begin(), record.end(),
                       [](const auto& e) { return e.action == SimAction::kFaultSkipped; });
  }));
  EXPECT_EQ(member().counters.faultCount(FaultKind::kClose), 0U);
  EXPECT_GE(member().counters.connectFailures, 1U);
}

TEST_F(SimulatorTest, InjectRejectsUnknownMembers) {
  startSimulator();
  std::string error;
  EXPECT_FALSE(sim_->inject("NOPE", Fault{FaultKind::kClose, 0, 0}, &error));
  EXPECT_EQ(error, "unknown member 'NOPE'");
}

TEST_F(SimulatorTest, FaultScheduleInjectsRandomFaultsOfTheAllowedKinds) {
  SimulatorOptions options;
  FaultScheduleConfig schedule;
  schedule.seed = 3;
  schedule.meanInterval = 100ms;
  schedule.kinds = {FaultKind::kGarbage};
  options.schedule = schedule;
  sim_ = std::make_unique<Simulator>(std::vector<SimMemberConfig>{memberFor(acceptor_.port())},
                                     options);
  sim_->start();
  logOn();
  EXPECT_TRUE(waitFaultApplied(FaultKind::kGarbage, 3));
  std::uint64_t total = 0;
  for (std::uint64_t n : member().counters.faults) total += n;
  EXPECT_EQ(total, member().counters.faultCount(FaultKind::kGarbage));
}

TEST(RunSimulateCommand, PlaysTheConfiguredMembersForTheDuration) {
  RawAcceptor acceptor;
  SimulateOptions options;
  LinkConfig link;
  link.memberId = "BANK01";
  link.beginString = "FIX.4.4";
  link.senderCompId = "EXCH";
  link.targetCompId = "BANK01";
  link.socketHost = "127.0.0.1";
  link.socketPort = acceptor.port();
  link.heartBtIntSeconds = 1;
  options.config.links.push_back(link);
  options.duration = 2s;
  options.statusInterval = 0s;
  int exitCode = -1;
  std::thread command([&] { exitCode = runSimulateCommand(options); });
  ASSERT_TRUE(acceptor.accept(3000ms));
  const auto logon = acceptor.completeLogon();
  ASSERT_TRUE(logon.has_value());
  EXPECT_EQ(logon->get(49), "BANK01");
  EXPECT_EQ(logon->get(56), "EXCH");
  std::string bytes;
  // The command ends by itself after its duration and closes the connection.
  EXPECT_EQ(acceptor.readRaw(bytes, 4000ms), RawAcceptor::ReadEnd::kEof);
  command.join();
  EXPECT_EQ(exitCode, 0);
}

TEST(RunSimulateCommand, FailsWithUsageCodeForUnknownMembers) {
  SimulateOptions options;
  options.members = {"NOPE"};
  EXPECT_EQ(runSimulateCommand(options), 2);
}

TEST(Simulator, RejectsDuplicateMemberIds) {
  SimMemberConfig c = memberFor(1);
  EXPECT_THROW(Simulator({c, c}), std::invalid_argument);
}

// The control channel --------------------------------------------------------------------

class ControlClient {
 public:
  explicit ControlClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~ControlClient() { ::close(fd_); }
  bool connected() const { return connected_; }

  // Sends a line and reads the answer up to its final "ok..." or "error..." line.
  std::string ask(const std::string& line) {
    const std::string text = line + "\n";
    ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL);
    std::string answer;
    eventually(
        [&] {
          pollfd p{fd_, POLLIN, 0};
          if (::poll(&p, 1, 20) > 0) {
            char buffer[4096];
            const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
            if (n > 0) answer.append(buffer, static_cast<std::size_t>(n));
          }
          const std::size_t lastLine =
              answer.rfind('\n', answer.size() >= 2 ? answer.size() - 2 : 0);
          const std::string_view last =
              std::string_view(answer).substr(lastLine == std::string::npos ? 0 : lastLine + 1);
          return !answer.empty() && answer.back() == '\n' &&
                 (last.substr(0, 2) == "ok" || last.substr(0, 5) == "error");
        },
        3000ms);
    return answer;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

TEST_F(SimulatorTest, ControlChannelInjectsFaultsAndReportsStatus) {
  startSimulator();
  logOn();
  const std::uint16_t port = sim_->startControl("127.0.0.1", 0);
  ControlClient control(port);
  ASSERT_TRUE(control.connected());

  const std::string help = control.ask("help");
  EXPECT_NE(help.find("fault MEMBER SPEC"), std::string::npos) << help;

  const std::string status = control.ask("status");
  EXPECT_NE(status.find("BANK01 logged_on"), std::string::npos) << status;
  EXPECT_NE(status.find("ok 1 members, 1 logged on"), std::string::npos) << status;

  EXPECT_EQ(control.ask("fault BANK01 explode:1").substr(0, 34),
            "error unknown fault kind 'explode'");
  EXPECT_EQ(control.ask("fault NOPE close"), "error unknown member 'NOPE'\n");
  EXPECT_EQ(control.ask("fault BANK01"), "error usage: fault MEMBER SPEC\n");
  EXPECT_EQ(control.ask("frobnicate"), "error unknown command 'frobnicate' (try help)\n");

  EXPECT_EQ(control.ask("faults"), "ok 0 faults\n");
  const Nanos before = wallNow();
  EXPECT_EQ(control.ask("fault BANK01 close"), "ok\n");
  std::string bytes;
  EXPECT_EQ(acceptor_.readRaw(bytes, 3000ms), RawAcceptor::ReadEnd::kEof);

  // The fault's own time, taken when the simulator's loop injected it.
  const std::string faults = control.ask("faults");
  const std::size_t space = faults.find(' ');
  ASSERT_NE(space, std::string::npos) << faults;
  EXPECT_EQ(faults.substr(space), " BANK01 close\nok 1 faults\n");
  const double injectedAt = std::stod(faults.substr(0, space));
  EXPECT_GE(injectedAt, static_cast<double>(before) / 1e9 - 0.001) << faults;
  EXPECT_LE(injectedAt, static_cast<double>(wallNow()) / 1e9 + 0.001) << faults;
  EXPECT_EQ(control.ask("faults 0"),
            "error COUNT must be a whole number from 1 to 100000, got '0'\n");
  EXPECT_EQ(control.ask("faults 1 2"), "error usage: faults [COUNT]\n");
}

}  // namespace
}  // namespace linkwatch::sim
