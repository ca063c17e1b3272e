// The QuickFIX adapter as a gateway embeds it: a real QuickFIX acceptor whose Application and
// LogFactory are wrapped by linkwatch's decorators, and a real QuickFIX initiator as the
// member, in one process over loopback. C++14, like the adapter.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/SocketInitiator.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/loopback.hpp"

#include "fix/logon_check.hpp"
#include "fix/monitoring_application.hpp"
#include "fix/monitoring_log.hpp"

namespace linkwatch {
namespace {

using test_support::freePort;

bool waitFor(const std::function<bool()>& condition) { return test_support::eventually(condition); }

// The gateway's own application: counts every callback, refuses one member's logon.
class GatewayApplication : public FIX::Application {
 public:
  std::atomic<int> created{0}, logons{0}, logouts{0}, toAdmins{0}, fromAdmins{0}, toApps{0},
      fromApps{0};
  void onCreate(const FIX::SessionID&) override { ++created; }
  void onLogon(const FIX::SessionID&) override { ++logons; }
  void onLogout(const FIX::SessionID&) override { ++logouts; }
  void toAdmin(FIX::Message&, const FIX::SessionID&) override { ++toAdmins; }
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override { ++toApps; }
  void fromAdmin(const FIX::Message& m, const FIX::SessionID& id) throw(FIX::FieldNotFound,
                                                                        FIX::IncorrectDataFormat,
                                                                        FIX::IncorrectTagValue,
                                                                        FIX::RejectLogon) override {
    ++fromAdmins;
    FIX::MsgType type;
    m.getHeader().getField(type);
    if (type == FIX::MsgType_Logon && id.getTargetCompID().getValue() == "REFUSED")
      throw FIX::RejectLogon("member suspended");
  }
  void fromApp(const FIX::Message&,
               const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                            FIX::IncorrectTagValue,
                                            FIX::UnsupportedMessageType) override {
    ++fromApps;
  }
};

class MemberApplication : public FIX::NullApplication {};

std::string acceptorSettings(std::uint16_t port) {
  std::ostringstream s;
  s << "[DEFAULT]\nConnectionType=acceptor\nBeginString=FIX.4.4\nSenderCompID=EXCH\n"
       "SocketAcceptPort="
    << port
    << "\nStartTime=00:00:00\nEndTime=00:00:00\nUseDataDictionary=N\n"
       "[SESSION]\nTargetCompID=BANK01\n[SESSION]\nTargetCompID=REFUSED\n";
  return s.str();
}

std::string initiatorSettings(std::uint16_t port, const std::string& sender) {
  std::ostringstream s;
  s << "[DEFAULT]\nConnectionType=initiator\nBeginString=FIX.4.4\nTargetCompID=EXCH\n"
       "SocketConnectHost=127.0.0.1\nSocketConnectPort="
    << port
    << "\nHeartBtInt=1\nReconnectInterval=30\nStartTime=00:00:00\nEndTime=00:00:00\n"
       "UseDataDictionary=N\n[SESSION]\nSenderCompID="
    << sender << "\n";
  return s.str();
}

class EmbeddedDecorator : public ::testing::Test {
 protected:
  EmbeddedDecorator()
      : hub(2, 4096),
        directory({"FIX.4.4:EXCH->BANK01", "FIX.4.4:EXCH->REFUSED"}),
        app(hub, directory, &gateway),
        logs(hub, directory) {}

  void startAcceptor() {
    std::istringstream in(acceptorSettings(port));
    acceptorSettings_.reset(new FIX::SessionSettings(in));
    acceptor.reset(new FIX::SocketAcceptor(app, store, *acceptorSettings_, logs));
    acceptor->start();
  }
  void startMember(const std::string& sender) {
    std::istringstream in(initiatorSettings(port, sender));
    memberSettings.emplace_back(new FIX::SessionSettings(in));
    members.emplace_back(new FIX::SocketInitiator(memberApp, memberStore, *memberSettings.back()));
    members.back()->start();
  }
  void TearDown() override {
    for (auto& m : members) m->stop();
    if (acceptor) acceptor->stop();
  }
  // Drains the hub into `seen` (the test thread plays the core thread).
  void drain() {
    hub.drain([this](const SessionEvent& e) { seen.push_back(e); }, 100000);
  }
  bool sawEvent(EventKind kind, LinkIndex link) {
    drain();
    for (const SessionEvent& e : seen)
      if (e.kind == kind && e.link == link) return true;
    return false;
  }

  std::uint16_t port = freePort();
  EventHub hub;
  SessionDirectory directory;
  GatewayApplication gateway;
  MonitoringApplication app;
  MonitoringLogFactory logs;
  FIX::MemoryStoreFactory store;
  std::unique_ptr<FIX::SessionSettings> acceptorSettings_;
  std::unique_ptr<FIX::SocketAcceptor> acceptor;
  MemberApplication memberApp;
  FIX::MemoryStoreFactory memberStore;
  std::vector<std::unique_ptr<FIX::SessionSettings>> memberSettings;
  std::vector<std::unique_ptr<FIX::SocketInitiator>> members;
  std::vector<SessionEvent> seen;
};

TEST_F(EmbeddedDecorator, ForwardsEveryCallbackToTheGatewayAndPublishesTheLogon) {
  startAcceptor();
  EXPECT_EQ(gateway.created.load(), 2);
  startMember("BANK01");
  ASSERT_TRUE(waitFor([&] { return gateway.logons.load() == 1; }));
  ASSERT_TRUE(waitFor([&] { return sawEvent(EventKind::kLogon, 0); }));
  EXPECT_GE(gateway.fromAdmins.load(), 1);  // the member's Logon
  EXPECT_GE(gateway.toAdmins.load(), 1);    // our Logon answer
  // The raw Logon in both directions, scanned on the FIX thread.
  bool logonIn = false, logonOut = false;
  for (const SessionEvent& e : seen) {
    if (e.link != 0 || e.messageClass != MessageClass::kLogon) continue;
    if (e.kind == EventKind::kMessageIn) {
      logonIn = true;
      EXPECT_EQ(e.aux, 1u);  // HeartBtInt
      EXPECT_TRUE(e.flags & event_flag::kHasSendingTime);
    }
    if (e.kind == EventKind::kMessageOut) logonOut = true;
  }
  EXPECT_TRUE(logonIn);
  EXPECT_TRUE(logonOut);
  // The member leaves: onLogout reaches both the gateway and the monitor.
  members[0]->stop();
  ASSERT_TRUE(waitFor([&] { return gateway.logouts.load() == 1; }));
  ASSERT_TRUE(waitFor([&] { return sawEvent(EventKind::kLogout, 0); }));
  EXPECT_TRUE(sawEvent(EventKind::kDisconnect, 0));
}

TEST_F(EmbeddedDecorator, GatewayRefusingALogonIsStillRefusedAndTheMonitorHearsWhy) {
  startAcceptor();
  startMember("REFUSED");
  ASSERT_TRUE(waitFor([&] { return sawEvent(EventKind::kLogonRefused, 1); }));
  EXPECT_EQ(gateway.logons.load(), 0);  // the RejectLogon went through unchanged
  EXPECT_FALSE(sawEvent(EventKind::kLogon, 1));
}

TEST_F(EmbeddedDecorator, LogonForAnUnknownSessionIsReportedOnTheAcceptorLog) {
  startAcceptor();
  startMember("STRANGER");
  ASSERT_TRUE(waitFor([&] { return sawEvent(EventKind::kUnknownSession, kNoLink); }));
  EXPECT_EQ(gateway.logons.load(), 0);
}

// fromAdmin runs the logon checks only for what isLogon() says is a Logon: a Logon that it
// missed would skip them.
TEST(LogonChecks, AreAskedForOfLogonsAndOfNothingElse) {
  const auto parsed = [](const std::string& text) {
    FIX::Message message;
    message.setString(text, false);  // no validation: as QuickFIX parses without a dictionary
    return message;
  };
  const std::string soh(1, '\x01');
  const auto header = [&](const std::string& type) {
    return "8=FIX.4.4" + soh + "9=50" + soh + "35=" + type + soh + "34=1" + soh + "49=M" + soh +
           "52=20261125-04:00:00.000" + soh + "56=LINKWATCH" + soh;
  };
  EXPECT_TRUE(isLogon(parsed(header("A") + "98=0" + soh + "108=30" + soh + "10=000" + soh)));
  EXPECT_FALSE(isLogon(parsed(header("0") + "10=000" + soh)));
  EXPECT_FALSE(isLogon(parsed(header("AE") + "10=000" + soh)));  // a TradeCaptureReport
  EXPECT_FALSE(isLogon(parsed(header("5") + "10=000" + soh)));
  FIX::Message noType;
  noType.getHeader().setField(49, "M");
  EXPECT_FALSE(isLogon(noType));
  // A MsgType set after the other header fields is found all the same.
  FIX::Message built;
  built.getHeader().setField(49, "M");
  built.getHeader().setField(56, "LINKWATCH");
  built.getHeader().setField(35, "A");
  EXPECT_TRUE(isLogon(built));
}

}  // namespace
}  // namespace linkwatch
