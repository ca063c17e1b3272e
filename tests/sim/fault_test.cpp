#include "sim/fault.hpp"

#include <gtest/gtest.h>

#include <linkwatch/config.hpp>

#include "sim/simulator.hpp"

namespace linkwatch::sim {
namespace {

std::string errorOf(std::string_view spec) {
  std::string error;
  EXPECT_FALSE(parseFault(spec, &error).has_value()) << spec;
  return error;
}

TEST(FaultSpec, ParsesEveryKind) {
  EXPECT_EQ(parseFault("silence:5000"), (Fault{FaultKind::kSilence, 5000, 0}));
  EXPECT_EQ(parseFault("close"), (Fault{FaultKind::kClose, 0, 0}));
  EXPECT_EQ(parseFault("reset"), (Fault{FaultKind::kReset, 0, 0}));
  EXPECT_EQ(parseFault("logout"), (Fault{FaultKind::kLogout, 0, 0}));
  EXPECT_EQ(parseFault("skip_seq:5"), (Fault{FaultKind::kSkipSeq, 0, 5}));
  EXPECT_EQ(parseFault("late_heartbeats:300:20000"),
            (Fault{FaultKind::kLateHeartbeats, 20000, 300}));
  EXPECT_EQ(parseFault("garbage:64"), (Fault{FaultKind::kGarbage, 0, 64}));
  EXPECT_EQ(parseFault("reconnect_storm:5"), (Fault{FaultKind::kReconnectStorm, 0, 5}));
  EXPECT_EQ(parseFault(" ignore_test_requests:8000\n"),
            (Fault{FaultKind::kIgnoreTestRequests, 8000, 0}));
}

TEST(FaultSpec, FormatRoundTripsThroughParse) {
  for (const char* spec :
       {"silence:5000", "close", "reset", "logout", "skip_seq:5", "late_heartbeats:300:20000",
        "garbage:64", "reconnect_storm:5", "ignore_test_requests:8000"}) {
    const auto fault = parseFault(spec);
    ASSERT_TRUE(fault.has_value()) << spec;
    EXPECT_EQ(formatFault(*fault), spec);
  }
}

TEST(FaultSpec, RejectsUnknownKindListingTheKnownOnes) {
  const std::string error = errorOf("explode:5");
  EXPECT_NE(error.find("unknown fault kind 'explode'"), std::string::npos) << error;
  EXPECT_NE(error.find("late_heartbeats:DELAY_MS:DURATION_MS"), std::string::npos) << error;
}

TEST(FaultSpec, RejectsMissingOrExtraArguments) {
  EXPECT_NE(errorOf("silence").find("silence takes 1 argument, got 0 (expected "
                                    "silence:DURATION_MS)"),
            std::string::npos);
  EXPECT_NE(errorOf("close:5").find("close takes 0 arguments, got 1"), std::string::npos);
  EXPECT_NE(errorOf("late_heartbeats:300").find("expected late_heartbeats:DELAY_MS:DURATION_MS"),
            std::string::npos);
}

TEST(FaultSpec, RejectsNonNumbersAndOutOfRangeValues) {
  EXPECT_NE(errorOf("skip_seq:five").find("N must be a whole number, got 'five'"),
            std::string::npos);
  EXPECT_NE(errorOf("silence:-1").find("between 1 and"), std::string::npos);
  EXPECT_NE(errorOf("garbage:0").find("BYTES must be between 1 and 65536, got 0"),
            std::string::npos);
  EXPECT_NE(errorOf("silence:10s").find("whole number"), std::string::npos);
  EXPECT_NE(errorOf("").find("empty fault spec"), std::string::npos);
}

TEST(FaultSchedule, IsDeterministicForASeedAndRespectsKindsAndMembers) {
  FaultScheduleConfig config;
  config.seed = 7;
  config.meanInterval = std::chrono::milliseconds(2000);
  config.kinds = {FaultKind::kSilence, FaultKind::kLateHeartbeats};
  config.members = {"B", "C"};
  const std::vector<std::pair<std::string, int>> members = {{"A", 1}, {"B", 2}, {"C", 30}};
  FaultSchedule first(config, members);
  FaultSchedule second(config, members);
  Nanos total = 0;
  for (int i = 0; i < 200; ++i) {
    const auto a = first.next();
    const auto b = second.next();
    EXPECT_EQ(a.memberId, b.memberId);
    EXPECT_EQ(a.fault, b.fault);
    EXPECT_EQ(a.delay, b.delay);
    EXPECT_NE(a.memberId, "A");
    EXPECT_TRUE(a.fault.kind == FaultKind::kSilence || a.fault.kind == FaultKind::kLateHeartbeats);
    const std::int64_t hbMs = a.memberId == "B" ? 2000 : 30000;
    if (a.fault.kind == FaultKind::kSilence) {
      // Long enough for QuickFIX's 2.4 x HeartBtInt timeout to fire.
      EXPECT_GE(a.fault.durationMs, hbMs * 3);
    }
    total += a.delay;
  }
  // Mean 2 s over 200 draws: well within [1 s, 3 s].
  EXPECT_GT(total / 200, 1 * kNanosPerSecond);
  EXPECT_LT(total / 200, 3 * kNanosPerSecond);
}

TEST(FaultSchedule, RejectsUnknownMembers) {
  FaultScheduleConfig config;
  config.members = {"NOPE"};
  EXPECT_THROW(FaultSchedule(config, {{"A", 1}}), std::invalid_argument);
}

LinkConfig acceptorLink(std::string member, int port) {
  LinkConfig link;
  link.memberId = member;
  link.connectionType = ConnectionType::kAcceptor;
  link.beginString = "FIX.4.4";
  link.senderCompId = "EXCH";
  link.targetCompId = member;
  link.socketHost = "0.0.0.0";
  link.socketPort = port;
  return link;
}

TEST(MembersFromMonitorConfig, SwapsCompIdsAndDefaultsHostAndHeartBtInt) {
  MonitorConfig config;
  config.links.push_back(acceptorLink("BANK01", 9876));
  config.links.back().heartBtIntSeconds = 0;
  config.links.push_back(acceptorLink("BANK02", 9876));
  config.links.back().heartBtIntSeconds = 5;
  config.links.back().socketHost = "";
  const auto members = membersFromMonitorConfig(config);
  ASSERT_EQ(members.size(), 2U);
  EXPECT_EQ(members[0].memberId, "BANK01");
  EXPECT_EQ(members[0].senderCompId, "BANK01");
  EXPECT_EQ(members[0].targetCompId, "EXCH");
  EXPECT_EQ(members[0].beginString, "FIX.4.4");
  EXPECT_EQ(members[0].host, "127.0.0.1");
  EXPECT_EQ(members[0].port, 9876);
  EXPECT_EQ(members[0].heartBtIntSeconds, 30);
  EXPECT_EQ(members[1].heartBtIntSeconds, 5);
  EXPECT_EQ(members[1].host, "127.0.0.1");
}

TEST(MembersFromMonitorConfig, SkipsInitiatorSessionsAndReportsThem) {
  MonitorConfig config;
  config.links.push_back(acceptorLink("BANK01", 9876));
  config.links.push_back(acceptorLink("BANK02", 9876));
  config.links.back().connectionType = ConnectionType::kInitiator;
  std::vector<std::string> skipped;
  const auto members = membersFromMonitorConfig(config, {}, &skipped);
  ASSERT_EQ(members.size(), 1U);
  EXPECT_EQ(members[0].memberId, "BANK01");
  ASSERT_EQ(skipped.size(), 1U);
  EXPECT_NE(skipped[0].find("BANK02"), std::string::npos) << skipped[0];
}

TEST(MembersFromMonitorConfig, FiltersMembersAndRejectsUnknownNames) {
  MonitorConfig config;
  config.links.push_back(acceptorLink("BANK01", 9876));
  config.links.push_back(acceptorLink("BANK02", 9876));
  const auto members = membersFromMonitorConfig(config, {"BANK02"});
  ASSERT_EQ(members.size(), 1U);
  EXPECT_EQ(members[0].memberId, "BANK02");
  EXPECT_THROW(membersFromMonitorConfig(config, {"BANK99"}), std::invalid_argument);
}

}  // namespace
}  // namespace linkwatch::sim
