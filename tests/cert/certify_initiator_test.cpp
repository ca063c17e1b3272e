// Initiator mode: linkwatch connects to the member's endpoint. The simulator only plays
// initiators, so the member here is a small acceptor of the test's own on the FIX wire layer:
// Logon, Heartbeats, TestRequest answers, Logout answers, sequence numbers kept across
// reconnects (a MsgSeqNum too low ends the session), and (unless told otherwise) a Logout for a
// Logon with a wrong CompID.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <map>
#include <thread>

#include "cert_support.hpp"
#include "sim/fix_wire.hpp"

namespace linkwatch::cert {
namespace {

using namespace std::chrono_literals;

class ToyAcceptorMember {
 public:
  explicit ToyAcceptorMember(bool refuseWrongCompId) : refuseWrongCompId_(refuseWrongCompId) {
    listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listenFd_, 8) != 0) {
      throw std::runtime_error("toy member: cannot listen");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~ToyAcceptorMember() {
    stop_ = true;
    thread_.join();
    ::close(listenFd_);
  }
  std::uint16_t port() const { return port_; }

 private:
  void send(int fd, std::string_view type, std::vector<sim::FixField> body) {
    std::vector<sim::FixField> fields = {{34, std::to_string(nextOut_++)},
                                         {49, "BANK01"},
                                         {52, sim::formatSendingTime(wallNow())},
                                         {56, "EXCH"}};
    for (auto& f : body) fields.push_back(std::move(f));
    const std::string bytes = sim::encodeFixMessage("FIX.4.4", type, fields);
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    lastSent_ = monotonicNow();
  }

  void serve(int fd) {
    sim::FixStreamParser parser;
    bool loggedOn = false;
    char buffer[4096];
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return;
        parser.feed(buffer, static_cast<std::size_t>(n));
        sim::FixMessage m;
        while (parser.next(m)) {
          const std::string_view type = m.msgType();
          const std::int64_t seq = m.getInt(34).value_or(0);
          const bool reset = m.get(141).value_or("") == "Y";
          if (seq < nextIn_ && !reset) {
            send(fd, "5", {{58, "MsgSeqNum too low, expecting " + std::to_string(nextIn_)}});
            return;
          }
          if (type == "A" && m.get(49).value_or("") != "EXCH" && refuseWrongCompId_) {
            send(fd, "5", {{58, "unknown SenderCompID"}});
            return;
          }
          nextIn_ = seq + 1;
          if (type == "A") {
            if (reset) nextOut_ = 1;
            std::vector<sim::FixField> body = {{98, "0"}, {108, "1"}};
            if (reset) body.push_back({141, "Y"});
            send(fd, "A", std::move(body));
            loggedOn = true;
          } else if (type == "1") {
            send(fd, "0", {{112, std::string(m.get(112).value_or(""))}});
          } else if (type == "5") {
            send(fd, "5", {});
            return;
          }
        }
      }
      if (loggedOn && monotonicNow() - lastSent_ >= kNanosPerSecond) send(fd, "0", {});
    }
  }

  void run() {
    while (!stop_) {
      pollfd p{listenFd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      serve(fd);
      ::close(fd);
    }
  }

  const bool refuseWrongCompId_;
  int listenFd_ = -1;
  std::uint16_t port_ = 0;
  // Kept across connections, as a member's store would.
  std::int64_t nextOut_ = 1;
  std::int64_t nextIn_ = 1;
  Nanos lastSent_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string initiatorSettings(std::uint16_t port) {
  return "[DEFAULT]\nBeginString=FIX.4.4\nSenderCompID=EXCH\nUseDataDictionary=N\n"
         "StartTime=00:00:00\nEndTime=00:00:00\n"
         "[SESSION]\nMemberId=BANK01\nTargetCompID=BANK01\nConnectionType=initiator\n"
         "SocketConnectHost=127.0.0.1\nSocketConnectPort=" +
         std::to_string(port) +
         "\nHeartBtInt=1\n"
         "[CERTIFICATION]\n"
         "Cases=1a-valid-logon,1c-invalid-compid,4b-test-request,13b-logout,"
         "reconnect-next-seqnums,logon-retry-discipline\n"
         "LogonTimeout=5s\n"
         "Case.reconnect-next-seqnums.Window=300ms\n";
}

std::map<std::string, nlohmann::json> casesOf(const std::string& reportFile) {
  std::map<std::string, nlohmann::json> out;
  const auto doc = nlohmann::json::parse(test::readFile(reportFile), nullptr, false);
  if (!doc.is_object()) return out;
  for (const auto& c : doc["cases"]) out[c["id"]] = c;
  return out;
}

TEST(CertifyInitiatorMode, ConnectsToTheMemberAndRunsTheInitiatorCases) {
  ToyAcceptorMember conformant(true);
  ToyAcceptorMember lax(false);  // logs on whatever the CompID
  test::TempDir dir;
  test::Process good({LINKWATCH_BINARY, "certify", "--config",
                      dir.write("good.cfg", initiatorSettings(conformant.port())), "--member",
                      "BANK01", "--report", dir.file("good")},
                     dir.file("good.log"));
  test::Process bad(
      {LINKWATCH_BINARY, "certify", "--config", dir.write("bad.cfg", initiatorSettings(lax.port())),
       "--member", "BANK01", "--report", dir.file("bad")},
      dir.file("bad.log"));

  EXPECT_EQ(good.wait(60s), 0) << good.output();
  const auto goodCases = casesOf(dir.file("good/BANK01-certification.json"));
  ASSERT_EQ(goodCases.size(), 6u) << good.output();
  for (const char* id : {"1a-valid-logon", "1c-invalid-compid", "4b-test-request", "13b-logout",
                         "reconnect-next-seqnums"}) {
    EXPECT_EQ(goodCases.at(id)["verdict"], "pass") << id << ": " << goodCases.at(id)["reason"];
  }
  EXPECT_EQ(goodCases.at("1c-invalid-compid")["measurements"]["refused_with"], "Logout");
  EXPECT_EQ(goodCases.at("logon-retry-discipline")["verdict"], "skipped");
  EXPECT_NE(good.output().find("connecting to 127.0.0.1:"), std::string::npos) << good.output();

  EXPECT_EQ(bad.wait(60s), 1) << bad.output();
  const auto badCases = casesOf(dir.file("bad/BANK01-certification.json"));
  ASSERT_EQ(badCases.size(), 6u) << bad.output();
  EXPECT_EQ(badCases.at("1c-invalid-compid")["verdict"], "fail");
  EXPECT_NE(badCases.at("1c-invalid-compid")["reason"].get<std::string>().find(
                "accepted a Logon with SenderCompID CERTEXCHX: \"8=FIX.4.4|"),
            std::string::npos)
      << badCases.at("1c-invalid-compid")["reason"];
  EXPECT_EQ(badCases.at("4b-test-request")["verdict"], "pass");
}

}  // namespace
}  // namespace linkwatch::cert
