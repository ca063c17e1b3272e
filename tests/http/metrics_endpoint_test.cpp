// /metrics over a real socket: what the core applied must come out of a scrape.
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "http/http_server.hpp"
#include "http/http_test_support.hpp"

namespace linkwatch {
namespace {

using testing::httpRequest;
using testing::HttpResult;
using testing::kStartUnix;
using testing::linkSeries;
using testing::parseSamples;
using testing::Scenario;

class MetricsEndpoint : public ::testing::Test {
 protected:
  MetricsEndpoint() : server(scenario.monitor, "127.0.0.1", 0) {}
  void SetUp() override { server.start(); }

  HttpResult scrape() { return httpRequest(server.url() + "/metrics"); }
  std::map<std::string, double> samples() { return parseSamples(scrape().body); }

  Scenario scenario;
  HttpServer server;
};

TEST_F(MetricsEndpoint, ServesTextFormatWithVersionedContentType) {
  const HttpResult r = scrape();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("# HELP linkwatch_link_up "), std::string::npos);
  EXPECT_NE(r.body.find("# TYPE linkwatch_link_up gauge"), std::string::npos);
  EXPECT_NE(r.body.find("# TYPE linkwatch_rtt_seconds histogram"), std::string::npos) << r.body;
}

TEST_F(MetricsEndpoint, PassesPromtoolCheckMetrics) {
  const auto promtool = testing::findOnPath("promtool");
  ASSERT_TRUE(promtool.has_value())
      << "promtool not found on PATH: run scripts/setup (Debian package 'prometheus')";
  const HttpResult r = scrape();
  ASSERT_EQ(r.status, 200);
  const auto check = testing::runWithInput(*promtool + " check metrics", r.body,
                                           ::testing::TempDir() + "linkwatch_metrics.txt");
  EXPECT_EQ(check.exitCode, 0) << "promtool check metrics:\n" << check.output;
}

TEST_F(MetricsEndpoint, ReportsStateAndReasonOfEachLink) {
  const auto s = samples();
  EXPECT_EQ(s.at(linkSeries("linkwatch_link_up", "M1")), 1);
  EXPECT_EQ(s.at(linkSeries("linkwatch_link_up", "M2")), 0);
  EXPECT_EQ(s.at(linkSeries("linkwatch_link_up", "M3")), 0);
  EXPECT_EQ(s.at(linkSeries("linkwatch_link_state", "M1", "state=\"up\"")), 1);
  EXPECT_EQ(s.at(linkSeries("linkwatch_link_state", "M2", "state=\"down\"")), 1);
  EXPECT_EQ(s.at(linkSeries("linkwatch_link_state", "M3", "state=\"down\"")), 1);
  EXPECT_EQ(s.at(linkSeries("linkwatch_link_reason", "M1", "reason=\"logged_on\"")), 1);
  EXPECT_EQ(s.at(linkSeries("linkwatch_link_reason", "M2", "reason=\"disconnected\"")), 1);
  EXPECT_EQ(s.at(linkSeries("linkwatch_link_reason", "M3", "reason=\"never_connected\"")), 1);
  EXPECT_EQ(s.at("linkwatch_links{state=\"up\"}"), 1);
  EXPECT_EQ(s.at("linkwatch_links{state=\"down\"}"), 2);
  EXPECT_EQ(s.at("linkwatch_links{state=\"degraded\"}"), 0);
  EXPECT_EQ(s.at("linkwatch_links{state=\"offhours\"}"), 0);
}

TEST_F(MetricsEndpoint, HasExactlyOneStateAtOnePerLink) {
  const auto s = samples();
  const std::string prefix = "linkwatch_link_state{member=\"";
  std::map<std::string, std::pair<int, double>> perMember;  // series count, sum of values
  for (const auto& [series, value] : s) {
    if (series.rfind(prefix, 0) != 0) continue;
    const std::string member =
        series.substr(prefix.size(), series.find('"', prefix.size()) - prefix.size());
    perMember[member].first += 1;
    perMember[member].second += value;
    EXPECT_TRUE(value == 0 || value == 1) << series;
  }
  ASSERT_EQ(perMember.size(), 3u);
  for (const auto& [member, countAndSum] : perMember) {
    EXPECT_EQ(countAndSum.first, kLinkStateCount) << member;
    EXPECT_EQ(countAndSum.second, 1) << member;
  }
}

TEST_F(MetricsEndpoint, CountsMessagesLogonsAndDisconnects) {
  const auto s = samples();
  EXPECT_EQ(s.at(linkSeries("linkwatch_messages_received_total", "M1", "msg_type=\"heartbeat\"")),
            3);
  EXPECT_EQ(s.at(linkSeries("linkwatch_messages_received_total", "M1", "msg_type=\"logon\"")), 1);
  EXPECT_EQ(s.at(linkSeries("linkwatch_messages_received_total", "M1", "msg_type=\"garbled\"")), 0);
  EXPECT_EQ(s.at(linkSeries("linkwatch_messages_sent_total", "M1", "msg_type=\"heartbeat\"")), 1);
  EXPECT_EQ(s.at(linkSeries("linkwatch_heartbeats_received_total", "M1")), 3);
  EXPECT_EQ(s.at(linkSeries("linkwatch_logons_total", "M1")), 1);
  EXPECT_EQ(s.at(linkSeries("linkwatch_logons_total", "M2")), 1);
  EXPECT_EQ(s.at(linkSeries("linkwatch_logons_total", "M3")), 0);
  EXPECT_EQ(s.at(linkSeries("linkwatch_disconnects_total", "M2", "reason=\"disconnected\"")), 1);
  EXPECT_EQ(s.at(linkSeries("linkwatch_disconnects_total", "M1", "reason=\"disconnected\"")), 0);
  EXPECT_EQ(s.at(linkSeries("linkwatch_resend_requests_total", "M1", "direction=\"sent\"")), 0);
  EXPECT_EQ(s.at(linkSeries("linkwatch_session_rejects_total", "M1", "direction=\"received\"")), 0);
  EXPECT_EQ(s.at("linkwatch_link_transitions_total"), 3);
  EXPECT_EQ(s.at("linkwatch_events_applied_total"), 8);
  EXPECT_EQ(s.at("linkwatch_events_dropped_total"), 0);
}

TEST_F(MetricsEndpoint, ExportsEverySessionEndReasonEvenAtZero) {
  const auto s = samples();
  for (const char* reason : {"disconnected", "logout", "logon_rejected", "logon_timeout",
                             "heartbeat_timeout", "sequence_too_low"}) {
    const std::string label = std::string("reason=\"") + reason + "\"";
    EXPECT_TRUE(s.contains(linkSeries("linkwatch_disconnects_total", "M3", label))) << reason;
  }
  EXPECT_FALSE(
      s.contains(linkSeries("linkwatch_disconnects_total", "M3", "reason=\"never_connected\"")));
}

TEST_F(MetricsEndpoint, ExportsTimestampsInUnixSecondsAndOmitsUnknownOnes) {
  const auto s = samples();
  EXPECT_DOUBLE_EQ(s.at(linkSeries("linkwatch_last_message_received_timestamp_seconds", "M1")),
                   kStartUnix + 70);
  EXPECT_DOUBLE_EQ(s.at(linkSeries("linkwatch_link_state_since_timestamp_seconds", "M2")),
                   kStartUnix + 1);
  EXPECT_DOUBLE_EQ(s.at(linkSeries("linkwatch_last_logon_timestamp_seconds", "M2")), kStartUnix);
  EXPECT_DOUBLE_EQ(s.at("linkwatch_start_time_seconds"), kStartUnix);
  EXPECT_FALSE(s.contains(linkSeries("linkwatch_last_message_received_timestamp_seconds", "M3")));
  EXPECT_FALSE(s.contains(linkSeries("linkwatch_last_logon_timestamp_seconds", "M3")));
  EXPECT_FALSE(s.contains(linkSeries("linkwatch_rtt_last_seconds", "M1")));  // no probe yet
  EXPECT_EQ(s.at(linkSeries("linkwatch_heartbeat_interval_setting_seconds", "M1")), 30);
  EXPECT_NEAR(s.at(linkSeries("linkwatch_sending_time_skew_seconds", "M1")), 0.005, 1e-9);
  EXPECT_FALSE(s.contains(linkSeries("linkwatch_sending_time_skew_seconds", "M3")));
}

TEST_F(MetricsEndpoint, HistogramBucketsAreCumulativeAndInSeconds) {
  // M1's heartbeats arrived 30 s apart twice (the first heartbeat has no predecessor).
  const auto s = samples();
  const auto bucket = [&](const char* le) {
    return s.at(linkSeries("linkwatch_heartbeat_interval_seconds_bucket", "M1",
                           std::string("le=\"") + le + "\""));
  };
  EXPECT_EQ(bucket("20"), 0);
  EXPECT_EQ(bucket("30"), 2);
  EXPECT_EQ(bucket("120"), 2);
  EXPECT_EQ(bucket("+Inf"), 2);
  EXPECT_EQ(s.at(linkSeries("linkwatch_heartbeat_interval_seconds_count", "M1")), 2);
  EXPECT_DOUBLE_EQ(s.at(linkSeries("linkwatch_heartbeat_interval_seconds_sum", "M1")), 60);
  EXPECT_EQ(s.at(linkSeries("linkwatch_rtt_seconds_bucket", "M1", "le=\"0.0001\"")), 0);
  EXPECT_EQ(s.at(linkSeries("linkwatch_rtt_seconds_count", "M1")), 0);
  EXPECT_TRUE(s.contains("linkwatch_event_apply_delay_seconds_bucket{le=\"+Inf\"}"));
}

TEST_F(MetricsEndpoint, EscapesQuotesAndBackslashesInLabelValues) {
  const std::string body = scrape().body;
  // Text format 0.0.4 escapes \ and " in label values; < and > pass through untouched.
  EXPECT_NE(body.find("name=\"Bank \\\"Best\\\" <script>alert('x')</script> \\\\ Ltd\""),
            std::string::npos)
      << body.substr(body.find("linkwatch_member_info{member=\"M2\""), 300);
}

TEST_F(MetricsEndpoint, DescribesEachMemberInAnInfoSeries) {
  const auto s = samples();
  EXPECT_EQ(s.at("linkwatch_member_info{member=\"M1\",session=\"FIX.4.4:EXCH->M1\","
                 "name=\"Alpha Securities\",criticality=\"critical\","
                 "connection_type=\"acceptor\",sender_comp_id=\"EXCH\",target_comp_id=\"M1\"}"),
            1);
  EXPECT_EQ(s.at("linkwatch_build_info{version=\"0.1.0\"}"), 1);
}

TEST_F(MetricsEndpoint, ReportsTheDurationOfThePreviousScrape) {
  EXPECT_EQ(samples().at("linkwatch_scrape_duration_seconds"), 0);  // no scrape before
  const double previous = samples().at("linkwatch_scrape_duration_seconds");
  EXPECT_GT(previous, 0);
  EXPECT_LT(previous, 5);
}

}  // namespace
}  // namespace linkwatch
