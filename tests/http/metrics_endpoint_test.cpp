// /metrics over a real socket: what the core applied must come out of a scrape.
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "http/http_server.hpp"
#include "http/http_test_support.hpp"
#include "http/metrics_collector.hpp"

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
  EXPECT_NE(r.body.find("# TYPE linkwatch_heartbeat_interval_seconds histogram"), std::string::npos)
      << r.body;
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
  EXPECT_EQ(bucket("90"), 2);
  EXPECT_FALSE(s.contains(linkSeries("linkwatch_heartbeat_interval_seconds_bucket", "M1",
                                     "le=\"120\"")));  // not exported: see metrics_collector.cpp
  EXPECT_EQ(bucket("+Inf"), 2);
  EXPECT_EQ(s.at(linkSeries("linkwatch_heartbeat_interval_seconds_count", "M1")), 2);
  EXPECT_DOUBLE_EQ(s.at(linkSeries("linkwatch_heartbeat_interval_seconds_sum", "M1")), 60);
  // No probe answered yet, no heartbeat interval for M2 and M3: no histogram until then.
  EXPECT_FALSE(s.contains(linkSeries("linkwatch_rtt_seconds_count", "M1")));
  EXPECT_FALSE(s.contains(linkSeries("linkwatch_heartbeat_interval_seconds_count", "M3")));
  EXPECT_TRUE(s.contains("linkwatch_event_apply_delay_seconds_bucket{le=\"+Inf\"}"));
}

// HTTP/1.0 cannot take chunks: the same text, whole, with its Content-Length.
HttpResult getHttp10(const std::string& url) {
  HttpResult result;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_0);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &testing::appendBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, &testing::appendHeader);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &result.headers);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  EXPECT_EQ(curl_easy_perform(curl.get()), CURLE_OK);
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &result.status);
  return result;
}

// The scrape duration differs from one scrape to the next; everything else must not.
std::string withoutScrapeDuration(std::string text) {
  const std::string key = "\nlinkwatch_scrape_duration_seconds ";
  const std::size_t at = text.find(key);
  if (at != std::string::npos)
    text.erase(at + key.size(), text.find('\n', at + 1) - at - key.size());
  return text;
}

// 2,000 links are ~70 chunks: HTTP/1.1 gets them as they are written, HTTP/1.0 and HEAD the
// whole text with its length, and all three agree.
TEST(MetricsEndpointScale, StreamsLargeScrapesInChunksAsTheWholeText) {
  MonitorConfig config;
  config.historySize = 16;
  config.eventQueueCapacity = 1024;
  for (int i = 0; i < 2000; ++i)
    config.links.push_back(testing::makeLink(
        "MBR" + std::to_string(i), "Member " + std::to_string(i), Criticality::kStandard));
  ManualClock clock;
  LinkMonitor monitor(std::move(config), clock);
  HttpServer server(monitor, "127.0.0.1", 0);
  server.start();

  const HttpResult chunked = httpRequest(server.url() + "/metrics");
  ASSERT_EQ(chunked.status, 200);
  EXPECT_EQ(chunked.header("transfer-encoding"), "chunked");
  EXPECT_EQ(chunked.header("content-length"), "");
  EXPECT_EQ(chunked.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_GT(chunked.body.size(), 20 * MetricsCollector::kChunkBytes);
  EXPECT_EQ(parseSamples(chunked.body).count("linkwatch_links{state=\"down\"}"), 1u);
  EXPECT_TRUE(chunked.body.ends_with("\n"));

  const HttpResult whole = getHttp10(server.url() + "/metrics");
  ASSERT_EQ(whole.status, 200);
  EXPECT_EQ(whole.header("transfer-encoding"), "");
  EXPECT_EQ(whole.header("content-length"), std::to_string(whole.body.size()));
  EXPECT_EQ(withoutScrapeDuration(whole.body), withoutScrapeDuration(chunked.body));

  const HttpResult head = httpRequest(server.url() + "/metrics", "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_FALSE(head.header("content-length").empty());

  // A second streamed scrape after the whole ones: the same text again.
  EXPECT_EQ(withoutScrapeDuration(httpRequest(server.url() + "/metrics").body),
            withoutScrapeDuration(chunked.body));
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
