// FIX over TLS: linkwatch's FixEngine as the venue (QuickFIX's threaded SSL acceptor, client
// certificates required) and a QuickFIX SSL initiator as the member, over loopback.
// Throw-away certificates are made with the openssl command at test time: a CA, the server,
// a client it signed, and a client signed by another CA. C++14, like the adapter.
#ifndef HAVE_SSL
#define HAVE_SSL 1
#endif

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <quickfix/Application.h>
#include <quickfix/MessageStore.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/ThreadedSSLSocketInitiator.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/loopback.hpp"

#include <linkwatch/event_hub.hpp>
#include <linkwatch/fix_engine.hpp>

#include "fix/logon_guard.hpp"

namespace linkwatch {
namespace {

using test_support::freePort;

bool waitFor(const std::function<bool()>& condition) { return test_support::eventually(condition); }

// One directory of certificates for the whole suite.
class Certificates {
 public:
  Certificates() {
    char pattern[] = "/tmp/linkwatch-tls-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    if (made == nullptr) return;
    dir_ = made;
    // RSA: QuickFIX 1.15.1 loads RSA and DSA certificates only ("Unable to configure client
    // certificate" for EC keys).
    const std::string key = "-newkey rsa:2048 -nodes";
    std::ostringstream script;
    script << "cd " << dir_ << " && set -e\n"
           << "ca() { openssl req -x509 " << key << " -keyout $1.key -out $1.pem -days 2 "
           << "-subj /CN=$1 2>/dev/null; }\n"
           << "leaf() { openssl req " << key << " -keyout $1.key -out $1.csr -subj /CN=$1 "
           << "2>/dev/null; openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key "
           << "-CAcreateserial -out $1.pem -days 2 2>/dev/null; }\n"
           << "ca venue-ca; ca other-ca\n"
           << "leaf server venue-ca; leaf member venue-ca; leaf intruder other-ca\n";
    const std::string path = dir_ + "/make.sh";
    std::ofstream(path) << script.str();
    ok_ = std::system(("sh " + path + " >/dev/null 2>&1").c_str()) == 0;
  }
  ~Certificates() {
    if (!dir_.empty()) std::system(("rm -rf " + dir_).c_str());
  }
  bool ok() const { return ok_; }
  std::string file(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
  bool ok_ = false;
};

Certificates* gCertificates = nullptr;

class MemberApplication : public FIX::NullApplication {
 public:
  std::atomic<int> logons{0};
  void onLogon(const FIX::SessionID&) override { ++logons; }
};

class TlsSession : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { gCertificates = new Certificates(); }
  static void TearDownTestSuite() {
    delete gCertificates;
    gCertificates = nullptr;
  }

  TlsSession() : hub(1, 4096), guard(guardOptions()) {}

  void SetUp() override {
    ASSERT_TRUE(gCertificates->ok()) << "openssl could not make the test certificates";
    const Certificates& c = *gCertificates;
    settingsPath = c.file("venue-" + std::to_string(port) + ".cfg");
    std::ofstream(settingsPath)
        << "[DEFAULT]\nConnectionType=acceptor\nBeginString=FIX.4.4\nSenderCompID=EXCH\n"
        << "SocketAcceptPort=" << port << "\nStartTime=00:00:00\nEndTime=00:00:00\n"
        << "SocketUseSSL=Y\nServerCertificateFile=" << c.file("server.pem")
        << "\nServerCertificateKeyFile=" << c.file("server.key")
        << "\nCertificationAuthoritiesFile=" << c.file("venue-ca.pem")
        << "\nCertificateVerifyLevel=1\nSSLProtocol=-all +TLSv1_2\n"
        << "[SESSION]\nTargetCompID=BANK01\n";
    FixEngineOptions options;
    options.settingsPath = settingsPath;
    options.links.push_back({"FIX.4.4:EXCH->BANK01", 0});
    options.tls = true;
    options.logonGuard = &guard;
    engine = FixEngine::create(options, hub);
    engine->start();
  }

  void TearDown() override {
    if (member) member->stop();
    if (engine) engine->stop();
  }

  static LogonGuardOptions guardOptions() {
    LogonGuardOptions o;
    LogonRuleSpec rule;
    rule.memberId = "BANK01";
    rule.sessionKey = "FIX.4.4:EXCH->BANK01";
    o.links.push_back(rule);
    return o;
  }

  // The member's QuickFIX SSL initiator, presenting `certificate` (none when empty).
  void startMember(const std::string& certificate) {
    const Certificates& c = *gCertificates;
    std::ostringstream s;
    s << "[DEFAULT]\nConnectionType=initiator\nBeginString=FIX.4.4\nTargetCompID=EXCH\n"
      << "SenderCompID=BANK01\nSocketConnectHost=127.0.0.1\nSocketConnectPort=" << port
      << "\nHeartBtInt=1\nReconnectInterval=1\nStartTime=00:00:00\nEndTime=00:00:00\n"
      << "UseDataDictionary=N\nCertificationAuthoritiesFile=" << c.file("venue-ca.pem") << "\n";
    if (!certificate.empty())
      s << "ClientCertificateFile=" << c.file(certificate + ".pem")
        << "\nClientCertificateKeyFile=" << c.file(certificate + ".key") << "\n";
    s << "[SESSION]\n";
    std::istringstream in(s.str());
    memberSettings.reset(new FIX::SessionSettings(in));
    member.reset(new FIX::ThreadedSSLSocketInitiator(memberApp, memberStore, *memberSettings));
    member->start();
  }

  std::uint64_t tlsRefusals() const { return guard.refusals(kNoLink, LogonRefusal::kTlsHandshake); }

  std::uint16_t port = freePort();
  std::string settingsPath;
  EventHub hub;
  LogonGuard guard;
  std::unique_ptr<FixEngine> engine;
  MemberApplication memberApp;
  FIX::MemoryStoreFactory memberStore;
  std::unique_ptr<FIX::SessionSettings> memberSettings;
  std::unique_ptr<FIX::Initiator> member;
};

TEST_F(TlsSession, MemberWithClientCertificateOfTheVenueCaLogsOn) {
  startMember("member");
  EXPECT_TRUE(waitFor([&] { return engine->isLoggedOn(0) && memberApp.logons > 0; }));
  EXPECT_EQ(tlsRefusals(), 0u);
}

TEST_F(TlsSession, MemberWithoutClientCertificateCannotLogOn) {
  startMember("");
  // The refusal is visible (counted from QuickFIX's "SSL handshake failed" event)...
  ASSERT_TRUE(waitFor([&] { return tlsRefusals() > 0; }));
  // ...and the handshake failed before any FIX message: nobody logged on.
  EXPECT_FALSE(engine->isLoggedOn(0));
  EXPECT_EQ(memberApp.logons.load(), 0);
  EXPECT_EQ(guard.recentRefusals(1).at(0).reason, LogonRefusal::kTlsHandshake);
}

TEST_F(TlsSession, MemberWithCertificateOfAnotherCaCannotLogOn) {
  startMember("intruder");
  ASSERT_TRUE(waitFor([&] { return tlsRefusals() > 0; }));
  EXPECT_FALSE(engine->isLoggedOn(0));
  EXPECT_EQ(memberApp.logons.load(), 0);
}

}  // namespace
}  // namespace linkwatch
