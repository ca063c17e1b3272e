// The [CERTIFICATION] section: defaults, overrides, and every bad key or value reported with
// file, line and key.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "cert/certification_catalogue.hpp"

namespace linkwatch::cert {
namespace {

const char* const kSession =
    "[DEFAULT]\nBeginString=FIX.4.4\nSenderCompID=EXCH\nUseDataDictionary=N\n"
    "StartTime=00:00:00\nEndTime=00:00:00\n"
    "[SESSION]\nMemberId=BANK01\nTargetCompID=BANK01\nConnectionType=acceptor\n"
    "SocketAcceptPort=9890\nHeartBtInt=1\n";  // 12 lines

CertificationPlan plan(const std::string& certification,
                       const std::optional<std::string>& cases = std::nullopt,
                       const std::string& member = "BANK01") {
  const MonitorConfig config =
      parseConfig(std::string(kSession) + "[CERTIFICATION]\n" + certification, "cert.cfg");
  return makePlan(config, member, cases);
}

std::vector<ConfigIssue> issuesOf(const std::string& certification,
                                  const std::optional<std::string>& cases = std::nullopt,
                                  const std::string& member = "BANK01") {
  try {
    plan(certification, cases, member);
  } catch (const ConfigError& e) {
    return e.issues();
  }
  ADD_FAILURE() << "no ConfigError for:\n" << certification;
  return {};
}

const PlannedCase& planned(const CertificationPlan& p, const std::string& id) {
  const auto it = std::find_if(p.cases.begin(), p.cases.end(),
                               [&](const PlannedCase& c) { return c.definition->id == id; });
  if (it == p.cases.end()) throw std::runtime_error("no case " + id);
  return *it;
}

TEST(CertificationCatalogue, CoversTheElevenBehavioursWithStableUniqueIds) {
  std::set<std::string> ids;
  for (const CaseDefinition& d : catalogue()) {
    EXPECT_TRUE(ids.insert(d.id).second) << d.id;
    EXPECT_NE(std::string(d.purpose), "") << d.id;
    EXPECT_NE(std::string(d.behaviour), "") << d.id;
    EXPECT_NE(d.run, nullptr) << d.id;
    for (const ParamSpec& spec : d.params) {
      std::string expected;
      EXPECT_TRUE(parseParam(spec, spec.defaultValue, expected).has_value())
          << d.id << "." << spec.name << " default " << spec.defaultValue;
    }
  }
  for (const char* id :
       {"1a-valid-logon", "1c-invalid-compid", "4a-heartbeat-when-idle", "4b-test-request",
        "2b-seqnum-too-high", "8-resend-request", "11a-sequence-reset",
        "14b-required-field-missing", "2k-compid-mismatch", "2c-seqnum-too-low", "13b-logout",
        "reconnect-next-seqnums", "logon-retry-discipline"}) {
    EXPECT_EQ(ids.count(id), 1u) << id;
  }
}

TEST(CertificationPlan, DefaultsRunEveryCaseWithTheCatalogueDefaults) {
  const CertificationPlan p = plan("");
  EXPECT_EQ(p.cases.size(), catalogue().size());
  EXPECT_EQ(p.link.memberId, "BANK01");
  EXPECT_EQ(p.link.socketPort, 9890);
  EXPECT_EQ(p.logonTimeout.count(), 30000);
  EXPECT_EQ(planned(p, "4b-test-request").params.at("Deadline").number, 2000);
  EXPECT_DOUBLE_EQ(planned(p, "4a-heartbeat-when-idle").params.at("Tolerance").fraction, 0.2);
  EXPECT_EQ(planned(p, "1a-valid-logon").params.at("HeartBtInt").high, 60);
}

TEST(CertificationPlan, KeysParametriseCasesAndSelectThemInCatalogueOrder) {
  const CertificationPlan p = plan(
      "Cases=13b-logout, 4b-test-request ,4A-HEARTBEAT-WHEN-IDLE\n"
      "case.4b-test-request.deadline=750ms\n"
      "Case.4a-heartbeat-when-idle.Intervals=5\n"
      "Case.4a-heartbeat-when-idle.Tolerance=0.35\n"
      "MinLogonRetryInterval=20s\n"
      "LogonTimeout=5s\n"
      "ReportDir=/tmp/reports\n");
  ASSERT_EQ(p.cases.size(), 3u);
  EXPECT_STREQ(p.cases[0].definition->id, "4a-heartbeat-when-idle");
  EXPECT_STREQ(p.cases[1].definition->id, "4b-test-request");
  EXPECT_STREQ(p.cases[2].definition->id, "13b-logout");
  EXPECT_EQ(planned(p, "4b-test-request").params.at("Deadline").number, 750);
  EXPECT_EQ(planned(p, "4a-heartbeat-when-idle").params.at("Intervals").number, 5);
  EXPECT_DOUBLE_EQ(planned(p, "4a-heartbeat-when-idle").params.at("Tolerance").fraction, 0.35);
  EXPECT_EQ(p.logonTimeout.count(), 5000);
  EXPECT_EQ(p.reportDir, "/tmp/reports");
  const CertificationPlan all = plan("MinLogonRetryInterval=20s\n");
  EXPECT_EQ(planned(all, "logon-retry-discipline").params.at("MinInterval").number, 20000);
}

TEST(CertificationPlan, CommandLineCasesReplaceTheConfiguredOnes) {
  const CertificationPlan p = plan("Cases=13b-logout\n", std::string("2b-seqnum-too-high"));
  ASSERT_EQ(p.cases.size(), 1u);
  EXPECT_STREQ(p.cases[0].definition->id, "2b-seqnum-too-high");
  const auto issues = issuesOf("", std::string("4b-test-request,9z-nonsense"));
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].file, "--cases");
  EXPECT_NE(issues[0].message.find("\"9z-nonsense\""), std::string::npos) << issues[0].message;
}

TEST(CertificationPlan, EveryBadLineIsReportedWithFileLineAndKey) {
  // [CERTIFICATION] is line 13; its keys start on line 14.
  const auto issues = issuesOf(
      "Cases=4b-test-request,no-such-case\n"          // 14
      "Case.4b-test-request.Deadline=soon\n"          // 15
      "Case.4b-test-request.Colour=blue\n"            // 16
      "Case.9z-nothing.Deadline=1s\n"                 // 17
      "Case.4a-heartbeat-when-idle.Tolerance=150%\n"  // 18
      "Case.1a-valid-logon.HeartBtInt=60..2\n"        // 19
      "Case.14b-required-field-missing.Field=35\n"    // 20
      "Colour=blue\n"                                 // 21
      "LogonTimeout=0\n");                            // 22
  ASSERT_EQ(issues.size(), 9u);
  std::vector<int> lines;
  for (const ConfigIssue& i : issues) {
    EXPECT_EQ(i.file, "cert.cfg");
    EXPECT_EQ(i.section, "CERTIFICATION");
    lines.push_back(i.line);
  }
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<int>{14, 15, 16, 17, 18, 19, 20, 21, 22}));
  auto find = [&](int line) {
    for (const ConfigIssue& i : issues)
      if (i.line == line) return i;
    return ConfigIssue{};
  };
  EXPECT_EQ(find(15).key, "Case.4b-test-request.Deadline");
  EXPECT_NE(find(15).message.find("duration"), std::string::npos) << find(15).message;
  EXPECT_NE(find(15).message.find("\"soon\""), std::string::npos) << find(15).message;
  EXPECT_NE(find(16).message.find("has no parameter \"Colour\"; it has Deadline"),
            std::string::npos)
      << find(16).message;
  EXPECT_NE(find(17).message.find("unknown case \"9z-nothing\""), std::string::npos);
  EXPECT_NE(find(18).message.find("fraction"), std::string::npos);
  EXPECT_NE(find(19).message.find("LOW..HIGH"), std::string::npos);
  EXPECT_NE(find(20).message.find("one of 49,52,56"), std::string::npos) << find(20).message;
  EXPECT_NE(find(21).message.find("unknown key in [CERTIFICATION]"), std::string::npos);
  EXPECT_NE(find(14).describe().find("cert.cfg:14: [CERTIFICATION] Cases:"), std::string::npos)
      << find(14).describe();
}

TEST(CertificationPlan, AnUnknownMemberNamesTheKnownOnes) {
  const auto issues = issuesOf("", std::nullopt, "BANK99");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].key, "--member");
  EXPECT_NE(issues[0].message.find("BANK99"), std::string::npos);
  EXPECT_NE(issues[0].message.find("BANK01"), std::string::npos);
}

TEST(CertificationPlan, TheConfigLoaderKeepsTheSectionAndRejectsASecondOne) {
  const MonitorConfig config = parseConfig(
      std::string(kSession) + "[CERTIFICATION]\nCases=all\n# note\nReportDir=out\n", "c.cfg");
  EXPECT_EQ(config.certificationLine, 13);
  ASSERT_EQ(config.certification.size(), 2u);
  EXPECT_EQ(config.certification[0].key, "Cases");
  EXPECT_EQ(config.certification[0].line, 14);
  EXPECT_EQ(config.certification[1].value, "out");
  EXPECT_EQ(config.certification[1].line, 16);
  try {
    parseConfig(std::string(kSession) + "[CERTIFICATION]\n[CERTIFICATION]\n", "c.cfg");
    FAIL() << "a second [CERTIFICATION] block was accepted";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.issues().size(), 1u);
    EXPECT_EQ(e.issues()[0].line, 14);
  }
}

TEST(CertificationParams, ParseTheirFormsAndRefuseTheRest) {
  std::string expected;
  const ParamSpec duration{"D", ParamType::kDuration, "1s", "", 10, 60000};
  EXPECT_EQ(parseParam(duration, "250ms", expected)->number, 250);
  EXPECT_FALSE(parseParam(duration, "5ms", expected));  // below the minimum
  EXPECT_FALSE(parseParam(duration, "2m", expected));   // above the maximum
  const ParamSpec fraction{"F", ParamType::kFraction, "20%", "", 0, 0};
  EXPECT_DOUBLE_EQ(parseParam(fraction, "25%", expected)->fraction, 0.25);
  EXPECT_FALSE(parseParam(fraction, "-0.1", expected));
  EXPECT_FALSE(parseParam(fraction, "x%", expected));
  const ParamSpec range{"R", ParamType::kRange, "1..60", "", 1, 100};
  const auto r = parseParam(range, "2..30", expected);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->number, 2);
  EXPECT_EQ(r->high, 30);
  EXPECT_FALSE(parseParam(range, "0..30", expected));
  EXPECT_FALSE(parseParam(range, "30", expected));
  const ParamSpec choice{"C", ParamType::kChoice, "any", "", 0, 0, "ANY|Y|N"};
  EXPECT_EQ(parseParam(choice, "y", expected)->choice, "Y");
  EXPECT_FALSE(parseParam(choice, "maybe", expected));
}

}  // namespace
}  // namespace linkwatch::cert
