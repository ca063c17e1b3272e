// `linkwatch certify` against `linkwatch simulate`, both the real binary: the well-behaved
// member passes every case, and each broken profile fails exactly the case made for it, with
// a reason a person can act on. The certifications run in parallel, on distinct ports.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "cert_support.hpp"

namespace linkwatch::cert {
namespace {

using namespace std::chrono_literals;
using test::Process;
using test::TempDir;

// HeartBtInt 1 s and short deadlines keep a full run near 20 s.
const char* const kShortParameters =
    "LogonTimeout=15s\n"
    "MinLogonRetryInterval=500ms\n"
    "Case.1a-valid-logon.Deadline=15s\n"
    "Case.4a-heartbeat-when-idle.Intervals=2\n"
    // Loaded CI machines (and sanitizer builds) jitter; a wrong rate is 100% off.
    "Case.4a-heartbeat-when-idle.Tolerance=40%\n"
    "Case.11a-sequence-reset.Window=500ms\n"
    "Case.reconnect-next-seqnums.Deadline=15s\n"
    "Case.reconnect-next-seqnums.Window=500ms\n"
    "Case.logon-retry-discipline.Refusals=1\n"
    "Case.logon-retry-discipline.Deadline=15s\n";

std::string settings(std::uint16_t port, const std::string& certification = kShortParameters) {
  return "[DEFAULT]\nBeginString=FIX.4.4\nSenderCompID=EXCH\nUseDataDictionary=N\n"
         "StartTime=00:00:00\nEndTime=00:00:00\n"
         "[SESSION]\nMemberId=BANK01\nMemberName=Bank One\nTargetCompID=BANK01\n"
         "ConnectionType=acceptor\nSocketAcceptHost=127.0.0.1\nSocketAcceptPort=" +
         std::to_string(port) + "\nHeartBtInt=1\n[CERTIFICATION]\n" + certification;
}

struct Expectation {
  std::string profile;
  std::map<std::string, std::string> failures;  // case id -> part of its reason
};

struct Certification {
  Expectation expected;
  std::uint16_t port = 0;
  std::uint16_t httpPort = 0;
  std::string reportDir;
  std::unique_ptr<Process> certify;
  std::unique_ptr<Process> member;
};

TEST(CertifyBinary, WellBehavedMemberPassesAndEachBrokenProfileFailsExactlyItsCase) {
  const std::vector<Expectation> expectations = {
      {"well-behaved", {}},
      {"no-test-request-answer", {{"4b-test-request", "no Heartbeat with TestReqID(112)=CERT"}}},
      {"ignore-gaps", {{"2b-seqnum-too-high", "no ResendRequest within 2s"}}},
      {"empty-resend", {{"8-resend-request", "neither resent nor gap-filled"}}},
      {"wrong-heartbeat-rate", {{"4a-heartbeat-when-idle", "no Heartbeat within 1400.0 ms"}}},
      {"ignore-invalid",
       {{"14b-required-field-missing", "the member ignored it"},
        {"2k-compid-mismatch", "the member ignored it"}}},
      {"reset-on-reconnect", {{"reconnect-next-seqnums", "ResetSeqNumFlag=Y"}}},
      {"no-logout-reply", {{"13b-logout", "no Logout answer within 2s"}}},
      {"tight-logon-retry",
       {{"logon-retry-discipline", "after a refused Logon, expected at least 500ms"}}},
  };
  TempDir dir;
  std::vector<Certification> runs;
  // Ports come from freePort(): another test may take one first. A run that cannot listen is
  // started again on new ports.
  auto start = [&](Certification& c) {
    c.port = test::freePort();
    const std::string cfg = dir.write(c.expected.profile + ".cfg", settings(c.port));
    std::vector<std::string> args = {LINKWATCH_BINARY, "certify", "--config", cfg,
                                     "--member",       "BANK01",  "--report", c.reportDir};
    if (c.expected.profile == "well-behaved") {
      c.httpPort = test::freePort();
      args.push_back("--http");
      args.push_back("127.0.0.1:" + std::to_string(c.httpPort));
    }
    c.certify.reset();
    c.certify = std::make_unique<Process>(args, dir.file(c.expected.profile + ".certify.log"));
  };
  for (const Expectation& e : expectations) {
    Certification c;
    c.expected = e;
    c.reportDir = dir.file(e.profile);
    start(c);
    runs.push_back(std::move(c));
  }
  for (Certification& c : runs) {
    for (int attempt = 1;; ++attempt) {
      ASSERT_TRUE(test::eventually(
          [&] {
            const std::string out = c.certify->output();
            return out.find("waiting for the member") != std::string::npos ||
                   out.find("already in use") != std::string::npos;
          },
          20s))
          << c.expected.profile << ": " << c.certify->output();
      if (c.certify->output().find("already in use") == std::string::npos) break;
      ASSERT_LT(attempt, 3) << c.certify->output();
      start(c);
    }
    c.member = std::make_unique<Process>(
        std::vector<std::string>{LINKWATCH_BINARY, "simulate", "--config",
                                 dir.file(c.expected.profile + ".cfg"), "--member", "BANK01",
                                 "--status-interval", "0", "--profile", c.expected.profile},
        dir.file(c.expected.profile + ".simulate.log"));
  }

  // Live status of the well-behaved run: a `test` link, and case results as they come.
  const Certification& live = runs.front();
  const std::string firstResult =
      "linkwatch_certification_case_result{case=\"1a-valid-logon\",member=\"BANK01\"} 1";
  std::string metrics;
  ASSERT_TRUE(test::eventually(
      [&] {
        metrics = test::httpGet(live.httpPort, "/metrics");
        return metrics.find(firstResult) != std::string::npos;
      },
      30s))
      << metrics;
  EXPECT_EQ(metrics.find("case=\"logon-retry-discipline\""), std::string::npos)
      << "a case that has not run yet has a result";
  EXPECT_NE(metrics.find("linkwatch_certification_last_run_timestamp_seconds{member=\"BANK01\"}"),
            std::string::npos);
  EXPECT_NE(metrics.find("linkwatch_link_up{"), std::string::npos);
  const auto links =
      nlohmann::json::parse(test::httpGet(live.httpPort, "/api/v1/links"), nullptr, false);
  ASSERT_TRUE(links.is_array() && links.size() == 1) << links.dump();
  EXPECT_EQ(links[0]["member"], "BANK01");
  EXPECT_EQ(links[0]["criticality"], "test");

  for (Certification& c : runs) {
    const auto code = c.certify->wait(120s);
    c.member->terminate();
    const std::string output = c.certify->output();
    ASSERT_TRUE(code.has_value()) << c.expected.profile << " did not finish:\n" << output;
    EXPECT_EQ(*code, c.expected.failures.empty() ? 0 : 1) << c.expected.profile << "\n" << output;

    const auto report = nlohmann::json::parse(
        test::readFile(c.reportDir + "/BANK01-certification.json"), nullptr, false);
    ASSERT_TRUE(report.is_object()) << c.expected.profile << "\n" << output;
    std::map<std::string, std::string> failed;
    for (const auto& k : report["cases"]) {
      if (k["verdict"] != "skipped") {
        EXPECT_FALSE(k["messages"].empty()) << k["id"];
      }
      if (k["verdict"] == "fail") failed[k["id"]] = k["reason"];
      if (k["id"] == "1c-invalid-compid") {
        EXPECT_EQ(k["verdict"], "skipped");
      }
    }
    std::set<std::string> failedIds, expectedIds;
    for (const auto& [id, reason] : failed) failedIds.insert(id);
    for (const auto& [id, part] : c.expected.failures) expectedIds.insert(id);
    EXPECT_EQ(failedIds, expectedIds) << c.expected.profile << "\n" << output;
    for (const auto& [id, part] : c.expected.failures) {
      EXPECT_NE(failed[id].find(part), std::string::npos)
          << c.expected.profile << " " << id << ": " << failed[id];
    }
    EXPECT_NE(test::readFile(c.reportDir + "/BANK01-certification.xml").find("<testsuites"),
              std::string::npos);
    EXPECT_NE(test::readFile(c.reportDir + "/BANK01-certification.html").find("Bank One"),
              std::string::npos);
  }
}

TEST(CertifyBinary, AMemberThatNeverConnectsFailsFastWithTheReason) {
  TempDir dir;
  const std::string cfg = dir.write(
      "c.cfg",
      settings(test::freePort(), "LogonTimeout=300ms\nCase.1a-valid-logon.Deadline=300ms\n"));
  Process certify({LINKWATCH_BINARY, "certify", "--config", cfg, "--member", "BANK01", "--cases",
                   "1a-valid-logon,4b-test-request,13b-logout"},
                  dir.file("log"));
  const auto code = certify.wait(30s);
  const std::string output = certify.output();
  ASSERT_TRUE(code.has_value()) << output;
  EXPECT_EQ(*code, 1) << output;
  EXPECT_NE(output.find("FAIL  1a-valid-logon"), std::string::npos) << output;
  EXPECT_NE(output.find("the member did not connect to port"), std::string::npos) << output;
  EXPECT_NE(output.find("FAIL  13b-logout"), std::string::npos) << output;
  EXPECT_NE(output.find("0 passed, 3 failed, 0 skipped"), std::string::npos) << output;
}

TEST(CertifyBinary, BadConfigurationOrUsageExitsTwoNamingFileLineAndKey) {
  TempDir dir;
  const std::string text = settings(
      test::freePort(), std::string(kShortParameters) + "Case.4b-test-request.Deadline=forever\n");
  const std::string cfg = dir.write("bad.cfg", text);
  const auto badLine = std::count(text.begin(), text.end(), '\n');  // the last line
  Process bad({LINKWATCH_BINARY, "certify", "--config", cfg, "--member", "BANK01"},
              dir.file("bad.log"));
  EXPECT_EQ(bad.wait(20s), 2);
  EXPECT_NE(bad.output().find("bad.cfg:" + std::to_string(badLine) +
                              ": [CERTIFICATION] Case.4b-test-request.Deadline: "
                              "expected a duration"),
            std::string::npos)
      << bad.output();

  Process check({LINKWATCH_BINARY, "check-config", "--config", cfg}, dir.file("check.log"));
  EXPECT_EQ(check.wait(20s), 2);
  EXPECT_NE(check.output().find("bad.cfg:" + std::to_string(badLine) + ": [CERTIFICATION]"),
            std::string::npos)
      << check.output();

  const std::string good = dir.write("good.cfg", settings(test::freePort()));
  Process member({LINKWATCH_BINARY, "certify", "--config", good, "--member", "NOPE"},
                 dir.file("member.log"));
  EXPECT_EQ(member.wait(20s), 2);
  EXPECT_NE(member.output().find("no [SESSION] with MemberId=NOPE; the file has BANK01"),
            std::string::npos)
      << member.output();

  Process cases({LINKWATCH_BINARY, "certify", "--config", good, "--member", "BANK01", "--cases",
                 "4b-test-request,zz"},
                dir.file("cases.log"));
  EXPECT_EQ(cases.wait(20s), 2);
  EXPECT_NE(cases.output().find("unknown case \"zz\""), std::string::npos) << cases.output();

  Process http(
      {LINKWATCH_BINARY, "certify", "--config", good, "--member", "BANK01", "--http", "nonsense"},
      dir.file("http.log"));
  EXPECT_EQ(http.wait(20s), 2);
  EXPECT_NE(http.output().find("--http: expected HOST:PORT"), std::string::npos) << http.output();
}

TEST(CertifyBinary, ATestPortInUseIsARuntimeFailureNamingThePort) {
  TempDir dir;
  const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::uint16_t port = ntohs(addr.sin_port);
  Process certify({LINKWATCH_BINARY, "certify", "--config", dir.write("c.cfg", settings(port)),
                   "--member", "BANK01"},
                  dir.file("log"));
  EXPECT_EQ(certify.wait(20s), 1) << certify.output();
  EXPECT_NE(certify.output().find("cannot listen on 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << certify.output();
  ::close(holder);
}

}  // namespace
}  // namespace linkwatch::cert
