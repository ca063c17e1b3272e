// A member engine we did not write: jspurefix (npm registry, tests/cert/jspurefix) connects as
// the member's initiator and `linkwatch certify` runs the whole catalogue against it.
//
// The verdicts are pinned: a case that starts failing is either a change in jspurefix or a
// bug of ours, and someone has to look. jspurefix 5.11.4 deviates from the FIX session rules
// in three cases, and sometimes in a fourth (measured here, see tests/cert/jspurefix/member.js):
//   14b-required-field-missing, 2k-compid-mismatch: as an initiator jspurefix runs no message
//     integrity checks, so a message without SenderCompID(49), or with the wrong CompIDs,
//     gets neither a Reject(3) nor a Logout(5) (FIX 4.4 Vol. 2, "Message Recovery" and the
//     Session Layer Test Cases 2k and 14b demand one);
//   2c-seqnum-too-low: on a MsgSeqNum lower than expected without PossDupFlag it drops the
//     connection without the Logout(5) and its Text(58) reason that test case 2c requires;
//   reconnect-next-seqnums, now and then: see below.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <map>
#include <string>

#include "cert_support.hpp"

namespace linkwatch::cert {
namespace {

using namespace std::chrono_literals;
using test::Process;
using test::TempDir;

bool onPath(const char* program) {
  const std::string command = std::string("command -v ") + program + " >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

TEST(CertifyJspurefix, CatalogueVerdictsAgainstAnEngineWeDidNotWrite) {
  if (!onPath("node") || !onPath("npm")) GTEST_SKIP() << "node/npm missing (scripts/setup)";
  TempDir dir;
  const std::uint16_t port = test::freePort();
  // HeartBtInt 2 s: jspurefix's timers work in whole seconds. It needs 2-8 s to parse its
  // dictionary before the first Logon and about 5 s to come back after a Logout or a refusal.
  const std::string cfg = dir.write(
      "c.cfg",
      "[DEFAULT]\nBeginString=FIX.4.4\nSenderCompID=EXCH\nUseDataDictionary=N\n"
      "StartTime=00:00:00\nEndTime=00:00:00\n"
      "[SESSION]\nMemberId=JSPUREFIX\nTargetCompID=JSPF\nConnectionType=acceptor\n"
      "SocketAcceptHost=127.0.0.1\nSocketAcceptPort=" +
          std::to_string(port) +
          "\nHeartBtInt=2\n"
          "[CERTIFICATION]\nLogonTimeout=60s\nMinLogonRetryInterval=1s\n"
          "Case.1a-valid-logon.Deadline=90s\n"
          "Case.4a-heartbeat-when-idle.Intervals=2\n"
          "Case.4a-heartbeat-when-idle.Tolerance=40%\n"
          "Case.reconnect-next-seqnums.Deadline=30s\n"
          "Case.logon-retry-discipline.Refusals=1\n"
          "Case.logon-retry-discipline.Deadline=30s\n"
          // run_member.sh turns SIGUSR1 into a Logout of jspurefix's own ([r]: not this shell).
          "Case.13a-member-logout.Command=pkill -USR1 -f '[r]un_member.sh 127.0.0.1 " +
          std::to_string(port) +
          "'\n"
          "Case.13a-member-logout.Deadline=5s\n"
          "ReportDir=" +
          dir.file("report") + "\n");
  Process certify({LINKWATCH_BINARY, "certify", "--config", cfg, "--member", "JSPUREFIX"},
                  dir.file("certify.log"));
  ASSERT_TRUE(test::eventually(
      [&] { return certify.output().find("waiting for the member") != std::string::npos; }, 20s))
      << certify.output();
  Process member({"/bin/bash", LINKWATCH_SOURCE_DIR "/tests/cert/jspurefix/run_member.sh",
                  "127.0.0.1", std::to_string(port), "JSPF", "EXCH", "2"},
                 dir.file("member.log"));

  const auto code = certify.wait(280s);
  const std::string output = certify.output();
  ASSERT_TRUE(code.has_value()) << output << "\n--- member:\n"
                                << test::readFile(dir.file("member.log"));
  if (test::readFile(dir.file("member.log")).find("SKIP:") != std::string::npos)
    GTEST_SKIP() << test::readFile(dir.file("member.log"));
  EXPECT_EQ(*code, 1) << "jspurefix's three deviations fail the run\n" << output;

  const auto report =
      nlohmann::json::parse(test::readFile(dir.file("report/JSPUREFIX-certification.json")));
  std::map<std::string, std::string> verdicts;
  for (const auto& c : report["cases"])
    verdicts[c["id"].get<std::string>()] = c["verdict"].get<std::string>();
  const std::map<std::string, std::string> expected = {
      {"1a-valid-logon", "pass"},
      {"1c-invalid-compid", "skipped"},  // initiator mode only: jspurefix is the initiator
      {"4a-heartbeat-when-idle", "pass"},
      {"4b-test-request", "pass"},
      {"2b-seqnum-too-high", "pass"},  // with EndSeqNo(16)=0, allowed by FIX 4.4
      {"8-resend-request", "pass"},
      {"11a-sequence-reset", "pass"},
      {"14b-required-field-missing", "fail"},  // deviation: no integrity checks as initiator
      {"2k-compid-mismatch", "fail"},          // deviation: no integrity checks as initiator
      {"2c-seqnum-too-low", "fail"},           // deviation: disconnects without a Logout
      {"13b-logout", "pass"},
      {"13a-member-logout", "pass"},  // asked with SIGUSR1 through run_member.sh
      {"reconnect-next-seqnums", "pass"},
      {"logon-retry-discipline", "pass"},
  };
  // Timing-dependent in jspurefix: its file store records the sequence number of a message
  // after sending it, so when we drop the connection right behind its last message it may
  // log on again reusing that number (seen once in several runs). That is a real deviation
  // when it happens, and the case says so; it must not fail for any other reason.
  if (verdicts["reconnect-next-seqnums"] == "fail") {
    EXPECT_NE(output.find("Logon MsgSeqNum"), std::string::npos)
        << "reconnect-next-seqnums failed for another reason\n"
        << output;
    verdicts["reconnect-next-seqnums"] = "pass";
  }
  EXPECT_EQ(verdicts, expected) << output;
}

}  // namespace
}  // namespace linkwatch::cert
