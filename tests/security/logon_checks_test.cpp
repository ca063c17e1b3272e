// Nobody in who does not belong: logon checks beyond CompIDs (source address, Username/
// Password from the secrets file), the per-address limit on refused logons, HTTP basic auth,
// and no secret in any log, metric or API answer. The real linkwatch binary over loopback.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "security/security_support.hpp"

namespace linkwatch::testing {
namespace {

using namespace std::chrono_literals;

// The value of the first series line starting with `series` ("name{labels}"), or -1.
double metric(const std::string& text, const std::string& series) {
  std::size_t at = 0;
  while ((at = text.find(series, at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') {
      const std::size_t space = text.find(' ', at + series.size());
      if (space != std::string::npos && space == at + series.size())
        return std::stod(text.substr(space + 1));
    }
    at += series.size();
  }
  return -1;
}

// The value at the end of the first line starting with `prefix`, or -1.
double lineValue(const std::string& text, const std::string& prefix) {
  std::size_t at = text.find("\n" + prefix);
  if (at == std::string::npos) return -1;
  const std::size_t end = text.find('\n', at + 1);
  const std::string line = text.substr(at + 1, end - at - 1);
  return std::stod(line.substr(line.rfind(' ') + 1));
}

bool accepted(const std::string& reply) {
  return reply.find(
             "\x01"
             "35=A\x01") != std::string::npos;
}
bool refusedFor(const std::string& reply, const std::string& reason) {
  return reply.find(
             "\x01"
             "35=5\x01") != std::string::npos &&
         reply.find("Rejected Logon Attempt: " + reason) != std::string::npos;
}

TEST(LogonChecks, RefusesOutsideAllowedSourceAddressesAndCountsItWithTheAddress) {
  SecuredMonitor m;
  ASSERT_TRUE(m.ready()) << m.log();

  const std::string refused = logonReply("127.0.0.2", m.fixPort, logon("GUARDED"));
  EXPECT_TRUE(refusedFor(refused, "source_address")) << "reply: " << refused << "\nlog:\n"
                                                     << m.log();
  EXPECT_TRUE(accepted(logonReply("127.0.0.1", m.fixPort, logon("GUARDED"))));

  const std::string metrics = m.get("/metrics").body;
  EXPECT_EQ(metric(metrics,
                   "linkwatch_logons_refused_total{member=\"GUARDED\",reason=\"source_"
                   "address\",session=\"FIX.4.4:EXCH->GUARDED\"}"),
            1);
  EXPECT_EQ(metric(metrics, "linkwatch_logon_refusals_total{reason=\"source_address\"}"), 1);
  // Logged with member, session, source address and reason.
  EXPECT_NE(m.log().find("logon refused: member GUARDED session FIX.4.4:EXCH->GUARDED from "
                         "127.0.0.2: source_address"),
            std::string::npos)
      << m.log();
  // The link's own counter too: the monitor saw QuickFIX's "Rejected Logon Attempt" (the core
  // thread applies it a moment after the reply went out).
  EXPECT_TRUE(waitFor(
      [&] {
        return lineValue(m.get("/metrics").body,
                         "linkwatch_logon_rejects_total{member=\"GUARDED\"") >= 1;
      },
      5s))
      << m.get("/metrics").body;
}

TEST(LogonChecks, ChecksPasswordsAndBlocksAnAddressAfterRepeatedFailures) {
  SecuredMonitor m;
  ASSERT_TRUE(m.ready()) << m.log();

  const std::string refused = logonReply("127.0.0.1", m.fixPort, logon("PASSWD"));
  EXPECT_TRUE(refusedFor(refused, "missing_credentials")) << "reply: " << refused << "\nlog:\n"
                                                          << m.log();
  // Five wrong passwords from one address (LogonFailureLimit=5) block it...
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(refusedFor(logonReply("127.0.0.3", m.fixPort, logon("PASSWD", "passuser", "nope")),
                           "bad_credentials"));
  // ...so even the right password from it is refused unchecked...
  EXPECT_TRUE(
      refusedFor(logonReply("127.0.0.3", m.fixPort, logon("PASSWD", "passuser", kMemberPassword)),
                 "rate_limited"));
  // ...while another address logs on with it.
  EXPECT_TRUE(
      accepted(logonReply("127.0.0.1", m.fixPort, logon("PASSWD", "passuser", kMemberPassword))));

  const std::string metrics = m.get("/metrics").body;
  EXPECT_EQ(metric(metrics, "linkwatch_logon_refusals_total{reason=\"bad_credentials\"}"), 5);
  EXPECT_EQ(metric(metrics, "linkwatch_logon_refusals_total{reason=\"missing_credentials\"}"), 1);
  EXPECT_EQ(metric(metrics, "linkwatch_logon_refusals_total{reason=\"rate_limited\"}"), 1);
  EXPECT_EQ(metric(metrics, "linkwatch_logon_blocked_addresses_total"), 1);
  EXPECT_NE(m.log().find("127.0.0.3 blocked"), std::string::npos) << m.log();
}

TEST(LogonChecks, NoSecretInLogsMetricsEventsOrLinks) {
  SecuredMonitor m;
  ASSERT_TRUE(m.ready()) << m.log();
  // A session with a password, logged on, then a wrong one: both reach QuickFIX's logs.
  const std::string reply =
      logonReply("127.0.0.1", m.fixPort, logon("PASSWD", "passuser", kMemberPassword));
  ASSERT_TRUE(accepted(reply)) << "reply: " << reply << "\nlog:\n" << m.log();
  logonReply("127.0.0.1", m.fixPort,
             logon("PASSWD", "passuser", kMemberPassword + std::string("x")));
  // A Logon with a password for a session nobody declares: QuickFIX quotes the whole message.
  logonReply("127.0.0.1", m.fixPort, logon("NOBODY", "u", kMemberPassword));

  std::vector<std::pair<std::string, std::string>> outputs = {
      {"/metrics", m.get("/metrics").body},
      {"/api/v1/events", m.get("/api/v1/events?limit=1000").body},
      {"/api/v1/links", m.get("/api/v1/links").body},
      {"stdout+stderr", m.log()}};
  int fixLogs = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(m.dir.path() / "fixlog")) {
    if (!entry.is_regular_file()) continue;
    outputs.emplace_back(entry.path().string(), readFile(entry.path().string()));
    ++fixLogs;
  }
  ASSERT_GT(fixLogs, 0);
  bool sawRedactedLogon = false;
  for (const auto& [where, text] : outputs) {
    EXPECT_EQ(text.find(kMemberPassword), std::string::npos) << "member password in " << where;
    EXPECT_EQ(text.find(kHttpPassword), std::string::npos) << "HTTP password in " << where;
    sawRedactedLogon = sawRedactedLogon || text.find("554=***") != std::string::npos;
  }
  // The Logon was logged, with its password blanked: the check above looked at the right files.
  EXPECT_TRUE(sawRedactedLogon);
}

TEST(HttpAuth, AsksForBasicAuthEverywhereButHealthz) {
  SecuredMonitor m;
  ASSERT_TRUE(m.ready()) << m.log();
  for (const char* path : {"/metrics", "/api/v1/links", "/api/v1/events", "/"}) {
    const HttpReply anonymous = http(m.url(path));
    EXPECT_EQ(anonymous.status, 401) << path;
    EXPECT_NE(anonymous.headers.find("WWW-Authenticate: Basic realm=\"linkwatch\""),
              std::string::npos)
        << path;
    EXPECT_EQ(http(m.url(path), "ops:wrong").status, 401) << path;
    EXPECT_EQ(http(m.url(path), "nobody:" + std::string(kHttpPassword)).status, 401) << path;
    EXPECT_EQ(m.get(path).status, 200) << path;
  }
  EXPECT_EQ(http(m.url("/healthz")).status, 200);
  // Maintenance writes need the user too.
  EXPECT_EQ(http(m.url("/api/v1/links/BANK01/maintenance"), "", "DELETE").status, 401);
  EXPECT_EQ(
      http(m.url("/api/v1/links/BANK01/maintenance"), std::string("ops:") + kHttpPassword, "DELETE")
          .status,
      200);
}

TEST(SecretsFile, RefusesToStartWhenOthersMayReadIt) {
  TempDir dir;
  const std::string secrets = dir.write("secrets", "http ops pw\n");
  ::chmod(secrets.c_str(), 0644);
  const std::string cfg = dir.write(
      "l.cfg", "[LINKWATCH]\nSecretsFile=" + secrets +
                   "\n[SESSION]\nConnectionType=acceptor\nBeginString=FIX.4.4\nSenderCompID=E\n"
                   "TargetCompID=B\nMemberId=B\nSocketAcceptPort=" +
                   std::to_string(freePort()) + "\nStartTime=00:00:00\nEndTime=00:00:00\n");
  const std::string out = (dir.path() / "out").string();
  const int status = std::system(
      (std::string(LINKWATCH_BINARY) + " check-config --config " + cfg + " > " + out + " 2>&1")
          .c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  const std::string text = readFile(out);
  EXPECT_NE(text.find(cfg + ":2: [LINKWATCH] SecretsFile: "), std::string::npos) << text;
  EXPECT_NE(text.find("mode 0644"), std::string::npos) << text;
  EXPECT_EQ(text.find(" pw"), std::string::npos) << text;
}

}  // namespace
}  // namespace linkwatch::testing
