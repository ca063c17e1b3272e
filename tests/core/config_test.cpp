#include <linkwatch/config.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace linkwatch {
namespace {

using std::chrono::milliseconds;

// Nine lines; a case's extra lines start at line 10, inside BANK01's [SESSION].
std::string baseConfig(const std::string& sessionExtra = "") {
  return "[DEFAULT]\n"
         "BeginString=FIX.4.4\n"
         "SenderCompID=LINKWATCH\n"
         "ConnectionType=acceptor\n"
         "SocketAcceptPort=9880\n"
         "NonStopSession=Y\n"
         "[SESSION]\n"
         "MemberId=BANK01\n"
         "TargetCompID=BANK01\n" +
         sessionExtra;
}

std::vector<ConfigIssue> issuesOf(const std::string& text) {
  try {
    parseConfig(text, "test.cfg");
  } catch (const ConfigError& e) {
    return e.issues();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << text;
  return {};
}

std::string describeAll(const std::vector<ConfigIssue>& issues) {
  std::string out;
  for (const ConfigIssue& i : issues) out += i.describe() + "\n";
  return out;
}

std::string demoPath() { return std::string(LINKWATCH_SOURCE_DIR) + "/config/demo.cfg"; }
std::string examplePath() { return std::string(LINKWATCH_SOURCE_DIR) + "/config/example.cfg"; }

TEST(ConfigLoader, ParsesMinimalAcceptorWithDefaults) {
  MonitorConfig config = parseConfig(baseConfig(), "test.cfg");
  EXPECT_EQ(config.file, "test.cfg");
  ASSERT_EQ(config.links.size(), 1u);
  const LinkConfig& link = config.links[0];
  EXPECT_EQ(link.memberId, "BANK01");
  EXPECT_EQ(link.memberName, "BANK01");  // defaults to the MemberId
  EXPECT_EQ(link.criticality, Criticality::kStandard);
  EXPECT_EQ(link.connectionType, ConnectionType::kAcceptor);
  EXPECT_EQ(link.sessionKey, "FIX.4.4:LINKWATCH->BANK01");
  EXPECT_EQ(link.socketPort, 9880);
  EXPECT_EQ(link.heartBtIntSeconds, 0);
  EXPECT_EQ(link.rttProbeInterval, milliseconds{0});
  EXPECT_TRUE(link.schedule.spec().nonStop);
  EXPECT_EQ(link.file, "test.cfg");
  EXPECT_EQ(link.line, 7);
}

TEST(ConfigLoader, LinkwatchSectionDefaults) {
  MonitorConfig config = parseConfig(baseConfig(), "test.cfg");
  EXPECT_EQ(config.httpHost, "127.0.0.1");
  EXPECT_EQ(config.httpPort, 9745);
  EXPECT_DOUBLE_EQ(config.heartbeatGrace, 0.2);
  EXPECT_EQ(config.testRequestTimeout, milliseconds{1000});
  EXPECT_EQ(config.flapWindow, std::chrono::seconds{300});
  EXPECT_EQ(config.eventQueueCapacity, 65536u);
  EXPECT_EQ(config.historySize, 10000u);
  EXPECT_TRUE(config.alertmanagerUrls.empty());  // no pushes unless asked for
  EXPECT_FALSE(config.alertOnDegraded);
  EXPECT_EQ(config.alertResendInterval, milliseconds{60000});
  EXPECT_EQ(config.alertRunbookUrl, "https://runbooks.invalid/linkwatch/{alertname}");
  EXPECT_EQ(config.alertTimeout, milliseconds{2000});
}

TEST(ConfigLoader, ReadsAlertKeysWithAnHaPairOfAlertmanagers) {
  MonitorConfig config = parseConfig(
      "[LINKWATCH]\n"
      "AlertmanagerUrl = http://127.0.0.1:9093 , http://am2.example:9093/alertmanager/\n"
      "AlertOnDegraded=Y\n"
      "AlertResendInterval=30s\n"
      "AlertRunbookUrl=https://wiki.example/runbooks/{alertname}?member={member}\n"
      "AlertTimeout=500ms\n" +
          baseConfig(),
      "test.cfg");
  ASSERT_EQ(config.alertmanagerUrls.size(), 2u);
  EXPECT_EQ(config.alertmanagerUrls[0], "http://127.0.0.1:9093");
  // The trailing '/' goes: the pusher appends /api/v2/alerts.
  EXPECT_EQ(config.alertmanagerUrls[1], "http://am2.example:9093/alertmanager");
  EXPECT_TRUE(config.alertOnDegraded);
  EXPECT_EQ(config.alertResendInterval, milliseconds{30000});
  EXPECT_EQ(config.alertRunbookUrl, "https://wiki.example/runbooks/{alertname}?member={member}");
  EXPECT_EQ(config.alertTimeout, milliseconds{500});
  EXPECT_EQ(config.alertStartupGrace, milliseconds{30000});
}

TEST(ConfigLoader, AcceptsIpv6AndPortlessAlertmanagerUrls) {
  MonitorConfig config = parseConfig(
      "[LINKWATCH]\nAlertmanagerUrl=http://[::1]:9093,http://am.example\n" + baseConfig(),
      "test.cfg");
  EXPECT_EQ(config.alertmanagerUrls,
            (std::vector<std::string>{"http://[::1]:9093", "http://am.example"}));
}

TEST(ConfigLoader, ReadsEveryLinkwatchKey) {
  MonitorConfig config = parseConfig(
      "[LINKWATCH]\n"
      "HttpListen = [::1]:0\n"
      "HeartbeatGrace=35%\n"
      "TestRequestTimeout=250ms\n"
      "FlapWindow=2m\n"
      "eventqueuecapacity=4096\n"
      "EventHistorySize=500\n" +
          baseConfig(),
      "test.cfg");
  EXPECT_EQ(config.httpHost, "::1");
  EXPECT_EQ(config.httpPort, 0);
  EXPECT_DOUBLE_EQ(config.heartbeatGrace, 0.35);
  EXPECT_EQ(config.testRequestTimeout, milliseconds{250});
  EXPECT_EQ(config.flapWindow, std::chrono::seconds{120});
  EXPECT_EQ(config.eventQueueCapacity, 4096u);
  EXPECT_EQ(config.historySize, 500u);
  EXPECT_EQ(config.threadTimeSlice, std::chrono::microseconds{100});  // the default
}

TEST(ConfigLoader, ReadsTheThreadTimeSliceInMicrosecondsOrAnyDuration) {
  const auto slice = [](const std::string& value) {
    return parseConfig("[LINKWATCH]\nThreadTimeSlice=" + value + "\n" + baseConfig(), "test.cfg")
        .threadTimeSlice;
  };
  EXPECT_EQ(slice("250us"), std::chrono::microseconds{250});
  EXPECT_EQ(slice("2ms"), std::chrono::microseconds{2000});
  EXPECT_EQ(slice("0"), std::chrono::microseconds{0});
}

TEST(ConfigLoader, SessionInheritsDefaultAndOverridesIt) {
  MonitorConfig config = parseConfig(
      "[DEFAULT]\n"
      "BeginString=FIX.4.2\n"
      "SenderCompID=EXCH\n"
      "ConnectionType=acceptor\n"
      "SocketAcceptPort=9880\n"
      "NonStopSession=Y\n"
      "Criticality=critical\n"
      "FileStorePath=/var/lib/store\n"
      "\n"
      "[SESSION]\n"
      "MemberId=A\n"
      "TargetCompID=A\n"
      "\n"
      "[SESSION]\n"
      "MemberId=B\n"
      "TargetCompID=B\n"
      "BeginString=FIX.4.4\n"
      "Criticality=test\n"
      "SocketAcceptPort=9881\n",
      "test.cfg");
  ASSERT_EQ(config.links.size(), 2u);
  const LinkConfig& a = config.links[0];
  const LinkConfig& b = config.links[1];
  EXPECT_EQ(a.sessionKey, "FIX.4.2:EXCH->A");
  EXPECT_EQ(a.criticality, Criticality::kCritical);
  EXPECT_EQ(a.socketPort, 9880);
  EXPECT_EQ(b.sessionKey, "FIX.4.4:EXCH->B");
  EXPECT_EQ(b.criticality, Criticality::kTest);
  EXPECT_EQ(b.socketPort, 9881);
  EXPECT_EQ(b.line, 14);
  // Every merged key is kept as written, QuickFIX's own included.
  EXPECT_EQ(b.settings.at("FileStorePath"), "/var/lib/store");
  EXPECT_EQ(b.settings.at("BeginString"), "FIX.4.4");
  EXPECT_EQ(b.settings.at("MemberId"), "B");
  EXPECT_EQ(b.settings.size(), 9u);
  EXPECT_EQ(findSetting(b, "filestorepath"), "/var/lib/store");
  EXPECT_EQ(findSetting(b, "FileLogPath"), std::nullopt);
}

TEST(ConfigLoader, TrimsWhitespaceAndIgnoresCommentsAndCrLf) {
  MonitorConfig config = parseConfig(
      "# a comment\r\n"
      "   [DEFAULT]  \r\n"
      "  BeginString =  FIX.4.4 \r\n"
      "\tSenderCompID\t=\tLINKWATCH\r\n"
      "ConnectionType=acceptor\r\n"
      "SocketAcceptPort=9880\r\n"
      "NonStopSession=Y\r\n"
      "\r\n"
      "  # indented comment\r\n"
      "[SESSION]\r\n"
      "memberid=BANK01\r\n"
      "MemberName = Northbridge Capital \r\n"
      "TargetCompID=BANK01",
      "test.cfg");
  ASSERT_EQ(config.links.size(), 1u);
  EXPECT_EQ(config.links[0].memberId, "BANK01");
  EXPECT_EQ(config.links[0].memberName, "Northbridge Capital");
  EXPECT_EQ(config.links[0].sessionKey, "FIX.4.4:LINKWATCH->BANK01");
}

TEST(ConfigLoader, InitiatorNeedsHostPortAndHeartBtInt) {
  MonitorConfig config = parseConfig(
      "[SESSION]\n"
      "MemberId=VENUE-A\n"
      "BeginString=FIXT.1.1\n"
      "SenderCompID=EXCH\n"
      "TargetCompID=VENUEA\n"
      "SessionQualifier=DC\n"
      "ConnectionType=initiator\n"
      "SocketConnectHost=venue-a.example.net\n"
      "SocketConnectPort=9123\n"
      "HeartBtInt=10\n"
      "StartTime=06:30:00\n"
      "EndTime=22:15:00\n"
      "TimeZone=America/New_York\n"
      "RttProbeInterval=500ms\n",
      "test.cfg");
  const LinkConfig& link = config.links.at(0);
  EXPECT_EQ(link.connectionType, ConnectionType::kInitiator);
  EXPECT_EQ(link.sessionKey, "FIXT.1.1:EXCH->VENUEA:DC");
  EXPECT_EQ(link.socketHost, "venue-a.example.net");
  EXPECT_EQ(link.socketPort, 9123);
  EXPECT_EQ(link.heartBtIntSeconds, 10);
  EXPECT_EQ(link.rttProbeInterval, milliseconds{500});
  EXPECT_FALSE(link.schedule.spec().nonStop);
  EXPECT_EQ(link.schedule.spec().startSecond, 6 * 3600 + 30 * 60);
  EXPECT_EQ(link.schedule.spec().endSecond, 22 * 3600 + 15 * 60);
  EXPECT_EQ(link.schedule.spec().timeZone, "America/New_York");
}

TEST(ConfigLoader, AcceptorHeartBtIntIsParsedWhenPresent) {
  MonitorConfig config =
      parseConfig(baseConfig("HeartBtInt=5\nSocketAcceptHost=127.0.0.1\n"), "test.cfg");
  EXPECT_EQ(config.links[0].heartBtIntSeconds, 5);
  EXPECT_EQ(config.links[0].socketHost, "127.0.0.1");
}

TEST(ConfigLoader, ReadsWeeklyScheduleWithDayNamesInAnyForm) {
  struct Case {
    const char* start;
    const char* end;
    int startDay;
    int endDay;
  } cases[] = {{"Sunday", "Friday", 0, 5},
               {"sun", "FRI", 0, 5},
               {"Su", "fr", 0, 5},
               {"Thurs", "tue", 4, 2},
               {"SATURDAY", "wed", 6, 3}};
  for (const Case& c : cases) {
    MonitorConfig config = parseConfig(
        baseConfig(std::string("NonStopSession=N\n") + "StartTime=22:00:00\nEndTime=21:00:00\n" +
                   "StartDay=" + c.start + "\nEndDay=" + c.end + "\n"),
        "test.cfg");
    const ScheduleSpec& spec = config.links[0].schedule.spec();
    EXPECT_EQ(spec.startDay, c.startDay) << c.start;
    EXPECT_EQ(spec.endDay, c.endDay) << c.end;
  }
}

TEST(ConfigLoader, UseLocalTimeMeansTheMachineZone) {
  MonitorConfig config = parseConfig(
      baseConfig("NonStopSession=N\nStartTime=08:00:00\nEndTime=17:00:00\nUseLocalTime=Y\n"),
      "test.cfg");
  EXPECT_EQ(config.links[0].schedule.spec().timeZone, "local");
}

TEST(ConfigLoader, ParsesDurations) {
  struct Case {
    const char* text;
    std::optional<milliseconds> expected;
  } cases[] = {
      {"250ms", milliseconds{250}},
      {"5s", milliseconds{5000}},
      {"2m", milliseconds{120000}},
      {"1h", milliseconds{3600000}},
      {"7", milliseconds{7000}},
      {"0", milliseconds{0}},
      {"24h", milliseconds{86400000}},
      {"25h", std::nullopt},
      {"", std::nullopt},
      {"5 s", std::nullopt},
      {"-5s", std::nullopt},
      {"1.5s", std::nullopt},
      {"5d", std::nullopt},
      {"ms", std::nullopt},
      {"99999999999999s", std::nullopt},
  };
  for (const Case& c : cases) EXPECT_EQ(parseDuration(c.text), c.expected) << c.text;
}

TEST(ConfigLoader, CriticalityNamesRoundTrip) {
  for (Criticality c : {Criticality::kCritical, Criticality::kStandard, Criticality::kTest}) {
    EXPECT_EQ(parseCriticality(toString(c)), c);
  }
  EXPECT_EQ(parseCriticality("CRITICAL"), Criticality::kCritical);
  EXPECT_EQ(parseCriticality("urgent"), std::nullopt);
}

// Every kind of problem names the file, the line, the section and the key.
struct ErrorCase {
  const char* name;
  std::string text;
  int line;
  std::string section;
  std::string key;
  std::string message;  // a fragment of the message
};

// CTest lists the case by name rather than by its bytes.
void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

std::vector<ErrorCase> errorCases() {
  const std::string s1 = "SESSION #1 (BANK01)";
  return {
      {"UnknownCriticality", baseConfig("Criticality=urgent\n"), 10, s1, "Criticality",
       "expected one of critical, standard, test; got \"urgent\""},
      {"MissingMemberId",
       "[SESSION]\nBeginString=FIX.4.4\nSenderCompID=A\nTargetCompID=B\nConnectionType=acceptor\n"
       "SocketAcceptPort=1\nNonStopSession=Y\n",
       1, "SESSION #1", "MemberId", "missing"},
      {"BadMemberIdCharacters", baseConfig("[SESSION]\nMemberId=BANK/02\nTargetCompID=X\n"), 11,
       "SESSION #2", "MemberId", "got \"BANK/02\""},
      {"MemberIdTooLong",
       baseConfig("[SESSION]\nMemberId=ABCDEFGHIJABCDEFGHIJABCDEFGHIJABC\nTargetCompID=X\n"), 11,
       "SESSION #2", "MemberId", "at most 32"},
      {"MemberIdInDefault", "[DEFAULT]\nMemberId=X\n" + baseConfig(), 2, "DEFAULT", "MemberId",
       "set it in each [SESSION]"},
      {"BadBeginString", baseConfig("BeginString=FIX.5.0\n"), 10, s1, "BeginString",
       "FIXT.1.1; got \"FIX.5.0\""},
      {"BadBeginStringInheritedFromDefault",
       "[DEFAULT]\nBeginString=FIX44\n[SESSION]\nMemberId=A\nSenderCompID=S\nTargetCompID=T\n"
       "ConnectionType=acceptor\nSocketAcceptPort=1\nNonStopSession=Y\n",
       2, "DEFAULT", "BeginString", "got \"FIX44\""},
      {"MissingTargetCompId",
       "[SESSION]\nMemberId=A\nBeginString=FIX.4.4\nSenderCompID=S\nConnectionType=acceptor\n"
       "SocketAcceptPort=1\nNonStopSession=Y\n",
       1, "SESSION #1 (A)", "TargetCompID", "missing"},
      {"BadConnectionType", baseConfig("ConnectionType=server\n"), 10, s1, "ConnectionType",
       "acceptor or initiator"},
      {"MissingAcceptPort",
       "[SESSION]\nMemberId=A\nBeginString=FIX.4.4\nSenderCompID=S\nTargetCompID=T\n"
       "ConnectionType=acceptor\nNonStopSession=Y\n",
       1, "SESSION #1 (A)", "SocketAcceptPort", "missing"},
      {"PortOutOfRange", baseConfig("SocketAcceptPort=70000\n"), 10, s1, "SocketAcceptPort",
       "1 to 65535"},
      {"InitiatorWithoutHeartBtInt",
       "[SESSION]\nMemberId=A\nBeginString=FIX.4.4\nSenderCompID=S\nTargetCompID=T\n"
       "ConnectionType=initiator\nSocketConnectHost=h\nSocketConnectPort=9\nNonStopSession=Y\n",
       1, "SESSION #1 (A)", "HeartBtInt", "missing"},
      {"InitiatorWithoutHost",
       "[SESSION]\nMemberId=A\nBeginString=FIX.4.4\nSenderCompID=S\nTargetCompID=T\n"
       "ConnectionType=initiator\nSocketConnectPort=9\nHeartBtInt=5\nNonStopSession=Y\n",
       1, "SESSION #1 (A)", "SocketConnectHost", "missing"},
      {"ZeroHeartBtInt", baseConfig("HeartBtInt=0\n"), 10, s1, "HeartBtInt", "from 1"},
      {"MissingStartTime", baseConfig("NonStopSession=N\nEndTime=17:00:00\n"), 7, s1, "StartTime",
       "missing"},
      {"BadStartTime", baseConfig("NonStopSession=N\nStartTime=25:00:00\nEndTime=17:00:00\n"), 11,
       s1, "StartTime", "HH:MM:SS"},
      {"StartDayWithoutEndDay",
       baseConfig("NonStopSession=N\nStartTime=08:00:00\nEndTime=17:00:00\nStartDay=Mon\n"), 13, s1,
       "StartDay", "needs EndDay"},
      {"BadDayName",
       baseConfig("NonStopSession=N\nStartTime=08:00:00\nEndTime=17:00:00\nStartDay=Funday\n"
                  "EndDay=Fri\n"),
       13, s1, "StartDay", "day name"},
      {"SameDayWeeklyThatQuickFixWouldKeepOpen",
       baseConfig("NonStopSession=N\nStartTime=08:00:00\nEndTime=17:00:00\nStartDay=Mon\n"
                  "EndDay=Mon\n"),
       14, s1, "EndDay", "open all week"},
      {"UnknownTimeZone", baseConfig("TimeZone=Mars/Olympus\n"), 10, s1, "TimeZone",
       "Mars/Olympus"},
      {"TimeZoneWithUseLocalTime", baseConfig("UseLocalTime=Y\nTimeZone=Europe/London\n"), 11, s1,
       "TimeZone", "UseLocalTime"},
      {"BadYesNo", baseConfig("UseLocalTime=yes\n"), 10, s1, "UseLocalTime", "Y or N"},
      {"BadRttProbeInterval", baseConfig("RttProbeInterval=fast\n"), 10, s1, "RttProbeInterval",
       "got \"fast\""},
      {"TooFastRttProbeInterval", baseConfig("RttProbeInterval=10ms\n"), 10, s1, "RttProbeInterval",
       "at least 100ms"},
      {"UnknownLinkwatchKey", "[LINKWATCH]\nHttpPort=80\n" + baseConfig(), 2, "LINKWATCH",
       "HttpPort", "unknown key"},
      {"GraceOutOfRange", "[LINKWATCH]\nHeartbeatGrace=6\n" + baseConfig(), 2, "LINKWATCH",
       "HeartbeatGrace", "from 0 to 5"},
      {"TimeSliceTooShort", "[LINKWATCH]\nThreadTimeSlice=50us\n" + baseConfig(), 2, "LINKWATCH",
       "ThreadTimeSlice", "from 100us to 100ms"},
      {"TimeSliceNotADuration", "[LINKWATCH]\nThreadTimeSlice=short\n" + baseConfig(), 2,
       "LINKWATCH", "ThreadTimeSlice", "got \"short\""},
      {"BadHttpListen", "[LINKWATCH]\nHttpListen=localhost\n" + baseConfig(), 2, "LINKWATCH",
       "HttpListen", "HOST:PORT"},
      {"QueueCapacityTooSmall", "[LINKWATCH]\nEventQueueCapacity=100\n" + baseConfig(), 2,
       "LINKWATCH", "EventQueueCapacity", "1024 to 16777216"},
      {"HistoryTooSmall", "[LINKWATCH]\nEventHistorySize=5\n" + baseConfig(), 2, "LINKWATCH",
       "EventHistorySize", "10 to 1000000"},
      {"BadTestRequestTimeout", "[LINKWATCH]\nTestRequestTimeout=1x\n" + baseConfig(), 2,
       "LINKWATCH", "TestRequestTimeout", "duration"},
      {"FractionalFlapWindow", "[LINKWATCH]\nFlapWindow=1500ms\n" + baseConfig(), 2, "LINKWATCH",
       "FlapWindow", "whole number of seconds"},
      {"HttpsAlertmanagerUrl", "[LINKWATCH]\nAlertmanagerUrl=https://am:9093\n" + baseConfig(), 2,
       "LINKWATCH", "AlertmanagerUrl", "http://HOST:PORT"},
      {"EmptyItemInAlertmanagerUrls",
       "[LINKWATCH]\nAlertmanagerUrl=http://a:9093,,http://b:9093\n" + baseConfig(), 2, "LINKWATCH",
       "AlertmanagerUrl", "got \"\""},
      {"AlertmanagerUrlWithBadPort", "[LINKWATCH]\nAlertmanagerUrl=http://a:0\n" + baseConfig(), 2,
       "LINKWATCH", "AlertmanagerUrl", "got \"http://a:0\""},
      {"AlertmanagerUrlWithQuery",
       "[LINKWATCH]\nAlertmanagerUrl=http://a:9093/?x=1\n" + baseConfig(), 2, "LINKWATCH",
       "AlertmanagerUrl", "comma-separated"},
      {"DuplicateAlertmanagerUrl",
       "[LINKWATCH]\nAlertmanagerUrl=http://a:9093,http://a:9093/\n" + baseConfig(), 2, "LINKWATCH",
       "AlertmanagerUrl", "listed twice"},
      {"BadAlertOnDegraded", "[LINKWATCH]\nAlertOnDegraded=yes\n" + baseConfig(), 2, "LINKWATCH",
       "AlertOnDegraded", "Y or N"},
      {"TooShortAlertResendInterval", "[LINKWATCH]\nAlertResendInterval=500ms\n" + baseConfig(), 2,
       "LINKWATCH", "AlertResendInterval", "from 1s to 1h"},
      {"TooLongAlertResendInterval", "[LINKWATCH]\nAlertResendInterval=2h\n" + baseConfig(), 2,
       "LINKWATCH", "AlertResendInterval", "from 1s to 1h"},
      {"UnknownRunbookPlaceholder",
       "[LINKWATCH]\nAlertRunbookUrl=https://wiki/{session}\n" + baseConfig(), 2, "LINKWATCH",
       "AlertRunbookUrl", "placeholders"},
      {"RunbookUrlWithoutScheme", "[LINKWATCH]\nAlertRunbookUrl=wiki/{alertname}\n" + baseConfig(),
       2, "LINKWATCH", "AlertRunbookUrl", "http:// or https://"},
      {"ZeroAlertTimeout", "[LINKWATCH]\nAlertTimeout=0\n" + baseConfig(), 2, "LINKWATCH",
       "AlertTimeout", "from 10ms to 1m"},
      {"LongAlertStartupGrace", "[LINKWATCH]\nAlertStartupGrace=2h\n" + baseConfig(), 2,
       "LINKWATCH", "AlertStartupGrace", "from 0s to 1h"},
      {"UnknownSection", baseConfig("[SESSIONS]\nMemberId=X\n"), 10, "", "", "unknown section"},
      {"LowerCaseSection", "[session]\n" + baseConfig(), 1, "", "", "unknown section"},
      {"GarbageLine", baseConfig("this is not a setting\n"), 10, s1, "",
       "expected a [SECTION] header, KEY=VALUE or a # comment"},
      {"MissingKey", baseConfig("=value\n"), 10, s1, "", "key before '=' is missing"},
      {"DuplicateKeyInBlock", baseConfig("targetcompid=BANK99\n"), 10, s1, "targetcompid",
       "first set on line 9"},
      {"KeyBeforeAnySection", "BeginString=FIX.4.4\n" + baseConfig(), 1, "", "BeginString",
       "outside any section"},
      {"SecondDefault", baseConfig("[DEFAULT]\nHeartBtInt=5\n"), 10, "", "",
       "QuickFIX reads only the first"},
      {"DuplicateMemberId", baseConfig("[SESSION]\nMemberId=BANK01\nTargetCompID=BANK02\n"), 11,
       "SESSION #2 (BANK01)", "MemberId", "already used by SESSION #1 (BANK01) on line 7"},
      {"DuplicateCompIds", baseConfig("[SESSION]\nMemberId=BANK02\nTargetCompID=BANK01\n"), 12,
       "SESSION #2 (BANK02)", "TargetCompID", "SessionQualifier"},
      {"LineTooLong", baseConfig("MemberName=" + std::string(1100, 'x') + "\n"), 10, s1, "",
       "at most 1023"},
      {"NoSessions", "[LINKWATCH]\nHttpListen=127.0.0.1:1\n", 0, "SESSION", "",
       "at least one link"},
  };
}

class ConfigErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigErrorTest, NamesFileLineSectionAndKey) {
  const ErrorCase& c = GetParam();
  std::vector<ConfigIssue> issues = issuesOf(c.text);
  auto match = std::find_if(issues.begin(), issues.end(), [&](const ConfigIssue& i) {
    return i.line == c.line && i.section == c.section && i.key == c.key &&
           i.message.find(c.message) != std::string::npos;
  });
  EXPECT_NE(match, issues.end()) << "wanted line " << c.line << " [" << c.section << "] " << c.key
                                 << ": ..." << c.message << "...\ngot:\n"
                                 << describeAll(issues);
  for (const ConfigIssue& i : issues) EXPECT_EQ(i.file, "test.cfg");
}

INSTANTIATE_TEST_SUITE_P(ConfigLoader, ConfigErrorTest, testing::ValuesIn(errorCases()),
                         [](const testing::TestParamInfo<ErrorCase>& p) {
                           return std::string(p.param.name);
                         });

TEST(ConfigLoader, CollectsEveryProblemInOnePass) {
  std::vector<ConfigIssue> issues = issuesOf(
      "[LINKWATCH]\n"
      "HeartbeatGrace=lots\n"
      "[DEFAULT]\n"
      "BeginString=FIX.4.4\n"
      "[SESSION]\n"
      "MemberId=A\n"
      "Criticality=urgent\n"
      "TimeZone=Europe/Londn\n"
      "[SESSION]\n"
      "MemberId=A\n");
  std::set<std::string> keys;
  for (const ConfigIssue& i : issues) keys.insert(i.key);
  for (const char* key : {"HeartbeatGrace", "Criticality", "SenderCompID", "TargetCompID",
                          "ConnectionType", "StartTime", "TimeZone", "MemberId"}) {
    EXPECT_TRUE(keys.count(key)) << key << " missing from\n" << describeAll(issues);
  }
  // Sorted by line, so the report reads top to bottom.
  EXPECT_TRUE(std::is_sorted(issues.begin(), issues.end(),
                             [](const auto& a, const auto& b) { return a.line < b.line; }));
}

TEST(ConfigLoader, BadDefaultValueIsReportedOnceNotPerSession) {
  std::vector<ConfigIssue> issues =
      issuesOf("[DEFAULT]\nCriticality=urgent\n" + baseConfig("[SESSION]\nMemberId=B\n"
                                                              "TargetCompID=B\n"));
  EXPECT_EQ(std::count_if(issues.begin(), issues.end(),
                          [](const ConfigIssue& i) { return i.key == "Criticality"; }),
            1)
      << describeAll(issues);
}

TEST(ConfigLoader, DescribeReadsLikeACompilerMessage) {
  ConfigIssue issue{"demo.cfg", 42, "SESSION #3 (BANK07)", "Criticality",
                    "expected one of critical, standard, test; got \"urgent\""};
  EXPECT_EQ(issue.describe(),
            "demo.cfg:42: [SESSION #3 (BANK07)] Criticality: expected one of critical, standard, "
            "test; got \"urgent\"");
  ConfigIssue noLine{"demo.cfg", 0, "", "", "cannot open"};
  EXPECT_EQ(noLine.describe(), "demo.cfg: cannot open");
  ConfigError error({issue, noLine});
  EXPECT_NE(std::string(error.what()).find("2 problems"), std::string::npos);
  EXPECT_NE(std::string(error.what()).find(issue.describe()), std::string::npos);
}

TEST(ConfigLoader, UnreadableFileNamesPathAndReason) {
  const std::string path = "/nonexistent/linkwatch.cfg";
  try {
    loadConfig(path);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.issues().size(), 1u);
    EXPECT_EQ(e.issues()[0].file, path);
    EXPECT_NE(e.issues()[0].message.find(path), std::string::npos);
    EXPECT_NE(e.issues()[0].message.find("No such file or directory"), std::string::npos)
        << e.issues()[0].message;
  }
  try {
    loadConfig(LINKWATCH_SOURCE_DIR);
    FAIL() << "expected ConfigError for a directory";
  } catch (const ConfigError& e) {
    EXPECT_NE(e.issues().at(0).message.find("Is a directory"), std::string::npos)
        << e.issues()[0].message;
  }
}

std::string manySessions(int n, const std::string& extraDefault) {
  std::string text =
      "[DEFAULT]\nBeginString=FIX.4.4\nSenderCompID=X\nConnectionType=acceptor\n"
      "SocketAcceptPort=9880\nNonStopSession=Y\n" +
      extraDefault;
  for (int i = 0; i < n; ++i) {
    text +=
        "[SESSION]\nMemberId=M" + std::to_string(i) + "\nTargetCompID=T" + std::to_string(i) + "\n";
  }
  return text;
}

TEST(ConfigLoader, DescriptorBudgetCountsStoresLogsAndListeners) {
  MonitorConfig memory = parseConfig(manySessions(300, ""), "test.cfg");
  DescriptorBudget b = descriptorBudget(memory);
  EXPECT_EQ(b.sessions, 300);
  EXPECT_EQ(b.perSessionEstimate, 1);
  EXPECT_EQ(b.listeningSockets, 1);
  EXPECT_EQ(b.total, 300 + 1 + DescriptorBudget::kProcessReserve);
  EXPECT_TRUE(b.withinLimit());

  MonitorConfig files =
      parseConfig(manySessions(100, "FileStorePath=/s\nFileLogPath=/l\n"), "test.cfg");
  DescriptorBudget f = descriptorBudget(files);
  EXPECT_EQ(f.perSessionEstimate, 7);
  EXPECT_EQ(f.total, 700 + 1 + 2 + DescriptorBudget::kProcessReserve);
  EXPECT_TRUE(f.withinLimit());
  EXPECT_EQ(f.maxSessions(), (1000 - 64 - 1 - 2) / 7);
}

TEST(ConfigLoader, RejectsSessionsOverTheDescriptorBudget) {
  std::vector<ConfigIssue> issues =
      issuesOf(manySessions(170, "FileStorePath=/s\nFileLogPath=/l\n"));
  ASSERT_EQ(issues.size(), 1u) << describeAll(issues);
  EXPECT_EQ(issues[0].key, "FileLogPath");
  EXPECT_NE(issues[0].message.find("170 sessions"), std::string::npos) << issues[0].message;
  EXPECT_NE(issues[0].message.find("drop FileLogPath"), std::string::npos) << issues[0].message;
  EXPECT_NE(issues[0].message.find("at most 133"), std::string::npos) << issues[0].message;
}

TEST(ConfigLoader, DemoConfigLoads) {
  MonitorConfig config;
  ASSERT_NO_THROW(config = loadConfig(demoPath()));
  ASSERT_EQ(config.links.size(), 50u);
  EXPECT_EQ(config.httpHost, "127.0.0.1");
  EXPECT_EQ(config.httpPort, 9745);
  int critical = 0;
  int test = 0;
  std::set<std::string> members;
  std::set<int> heartbeats;
  int scheduled = 0;
  int probed = 0;
  for (const LinkConfig& link : config.links) {
    EXPECT_EQ(link.connectionType, ConnectionType::kAcceptor);
    EXPECT_EQ(link.socketPort, 9880);
    EXPECT_EQ(link.beginString, "FIX.4.4");
    EXPECT_EQ(link.senderCompId, "LINKWATCH");
    EXPECT_NE(link.memberName, link.memberId);
    EXPECT_GT(link.heartBtIntSeconds, 0);
    EXPECT_FALSE(findSetting(link, "FileStorePath").has_value());
    EXPECT_FALSE(findSetting(link, "FileLogPath").has_value());
    EXPECT_EQ(findSetting(link, "UseDataDictionary"), "N");
    critical += link.criticality == Criticality::kCritical ? 1 : 0;
    test += link.criticality == Criticality::kTest ? 1 : 0;
    members.insert(link.memberId);
    heartbeats.insert(link.heartBtIntSeconds);
    scheduled += link.schedule.spec().nonStop ? 0 : 1;
    probed += link.rttProbeInterval.count() > 0 ? 1 : 0;
  }
  EXPECT_EQ(critical, 10);
  EXPECT_EQ(test, 10);
  EXPECT_EQ(members.size(), 50u);
  EXPECT_EQ(heartbeats, (std::set<int>{1, 2, 5, 10, 30}));
  EXPECT_GE(scheduled, 3);
  EXPECT_LE(scheduled, 10);
  EXPECT_GE(probed, 3);
  EXPECT_TRUE(descriptorBudget(config).withinLimit());
}

TEST(ConfigLoader, ExampleConfigLoads) {
  MonitorConfig config;
  ASSERT_NO_THROW(config = loadConfig(examplePath()));
  ASSERT_EQ(config.links.size(), 3u);
  EXPECT_EQ(config.links[0].schedule.spec().timeZone, "Europe/London");
  EXPECT_EQ(config.links[0].schedule.spec().startDay, 0);
  EXPECT_EQ(config.links[1].connectionType, ConnectionType::kInitiator);
  EXPECT_EQ(config.links[1].sessionKey, "FIX.4.4:EXCH->VENUEA:DC");
  EXPECT_TRUE(config.links[2].schedule.spec().nonStop);
  // It documents the alert keys with their defaults and leaves AlertmanagerUrl commented out.
  EXPECT_TRUE(config.alertmanagerUrls.empty());
  EXPECT_EQ(config.alertResendInterval, milliseconds{60000});
  EXPECT_EQ(config.alertTimeout, milliseconds{2000});
}

// Not a fuzzer, but the same promise: any bytes in, a config or a ConfigError out.
TEST(ConfigLoader, NeverThrowsAnythingButConfigErrorOnMangledInput) {
  std::ifstream in(demoPath(), std::ios::binary);
  std::string demo((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(demo.empty());
  std::mt19937 rng(12345);
  const std::string alphabet =
      "[]=#\n\r :,.%-_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\t\xff";
  for (int round = 0; round < 300; ++round) {
    std::string text = demo;
    int edits = 1 + static_cast<int>(rng() % 20);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      std::size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          text.erase(at, 1 + rng() % 40);
          break;
        default:
          text.insert(at, 1, static_cast<char>(rng() % 256));
          break;
      }
    }
    try {
      parseConfig(text, "mangled.cfg");
    } catch (const ConfigError& e) {
      EXPECT_FALSE(e.issues().empty());
    }
  }
  for (int round = 0; round < 200; ++round) {
    std::string text(rng() % 400, '\0');
    for (char& c : text) c = alphabet[rng() % alphabet.size()];
    try {
      parseConfig(text, "random.cfg");
    } catch (const ConfigError&) {
    }
  }
}

}  // namespace
}  // namespace linkwatch
