// 13a-member-logout: the member, asked by its operator, initiates the Logout. In a scripted
// run the operator is a command: here the simulator's control channel (`logout MEMBER`).
#include <gtest/gtest.h>

#include <string>

#include "cert_support.hpp"

namespace linkwatch::cert {
namespace {

using namespace std::chrono_literals;
using test::Process;
using test::TempDir;

std::string settings(std::uint16_t port, const std::string& command) {
  return "[DEFAULT]\nBeginString=FIX.4.4\nSenderCompID=EXCH\nUseDataDictionary=N\n"
         "StartTime=00:00:00\nEndTime=00:00:00\n"
         "[SESSION]\nMemberId=BANK01\nTargetCompID=BANK01\nConnectionType=acceptor\n"
         "SocketAcceptHost=127.0.0.1\nSocketAcceptPort=" +
         std::to_string(port) +
         "\nHeartBtInt=1\n"
         "[CERTIFICATION]\nLogonTimeout=15s\nCase.1a-valid-logon.Deadline=15s\n"
         "Case.13a-member-logout.Command=" +
         command + "\n";
}

// Certifies one simulated member with the given command; returns certify's output.
std::string certifyWith(TempDir& dir, const std::string& name, const std::string& command,
                        std::uint16_t port, std::uint16_t controlPort, int expectedExit) {
  const std::string cfg = dir.write(name + ".cfg", settings(port, command));
  Process certify({LINKWATCH_BINARY, "certify", "--config", cfg, "--member", "BANK01", "--cases",
                   "1a-valid-logon,13a-member-logout"},
                  dir.file(name + ".certify.log"));
  EXPECT_TRUE(test::eventually(
      [&] { return certify.output().find("waiting for the member") != std::string::npos; }, 20s))
      << certify.output();
  Process member(
      {LINKWATCH_BINARY, "simulate", "--config", cfg, "--member", "BANK01", "--status-interval",
       "0", "--control", "127.0.0.1:" + std::to_string(controlPort)},
      dir.file(name + ".simulate.log"));
  const auto code = certify.wait(60s);
  const std::string output = certify.output();
  EXPECT_TRUE(code.has_value()) << output;
  if (code) {
    EXPECT_EQ(*code, expectedExit) << output;
  }
  return output;
}

TEST(CertifyMemberLogout, TheMemberAskedThroughItsControlChannelLogsOutAndCloses) {
  TempDir dir;
  const std::uint16_t control = test::freePort();
  const std::string ask = "bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(control) +
                          "; echo logout BANK01 >&3; head -n1 <&3 | grep -q ok'";
  const std::string output = certifyWith(dir, "asked", ask, test::freePort(), control, 0);
  EXPECT_NE(output.find("PASS  13a-member-logout"), std::string::npos) << output;
}

TEST(CertifyMemberLogout, AMemberThatIsNotReallyAskedFailsWithTheReason) {
  TempDir dir;
  // The command succeeds but asks nobody: no Logout comes.
  const std::string output =
      certifyWith(dir, "not-asked", "true", test::freePort(), test::freePort(), 1);
  EXPECT_NE(output.find("FAIL  13a-member-logout"), std::string::npos) << output;
  EXPECT_NE(output.find("no Logout from the member within 2s"), std::string::npos) << output;
}

TEST(CertifyMemberLogout, WithoutACommandTheCaseIsSkippedNotFailed) {
  TempDir dir;
  const std::string cfg = dir.write("skip.cfg", settings(test::freePort(), ""));
  Process certify({LINKWATCH_BINARY, "certify", "--config", cfg, "--member", "BANK01", "--cases",
                   "13a-member-logout"},
                  dir.file("skip.log"));
  const auto code = certify.wait(30s);
  ASSERT_TRUE(code.has_value()) << certify.output();
  EXPECT_EQ(*code, 0) << certify.output();
  EXPECT_NE(certify.output().find("SKIP  13a-member-logout"), std::string::npos)
      << certify.output();
}

}  // namespace
}  // namespace linkwatch::cert
