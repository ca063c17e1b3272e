// The JSON API as pure functions: no socket involved.
#include <string>

#include <gtest/gtest.h>

#include "http/http_test_support.hpp"
#include "http/json_api.hpp"

namespace linkwatch {
namespace {

using nlohmann::json;
using testing::kStartUnix;
using testing::Scenario;

TEST(Rfc3339, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(formatRfc3339(1767225600LL * kNanosPerSecond), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(formatRfc3339(1767225600LL * kNanosPerSecond + 123'456'789),
            "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(formatRfc3339(0), "1970-01-01T00:00:00.000Z");
}

TEST(Rfc3339, ParsesUnixSecondsAndRfc3339WithOffsets) {
  const Nanos t0 = 1767225600LL * kNanosPerSecond;
  EXPECT_EQ(parseTimestamp("1767225600"), t0);
  EXPECT_EQ(parseTimestamp("1767225600.25"), t0 + 250 * kNanosPerMilli);
  EXPECT_EQ(parseTimestamp("2026-01-01T00:00:00Z"), t0);
  EXPECT_EQ(parseTimestamp("2026-01-01T00:00:00.5Z"), t0 + 500 * kNanosPerMilli);
  EXPECT_EQ(parseTimestamp("2026-01-01T01:30:00+01:30"), t0);
  EXPECT_EQ(parseTimestamp("2025-12-31T23:00:00-01:00"), t0);
  // An unencoded '+' in a query string arrives as a space.
  EXPECT_EQ(parseTimestamp("2026-01-01T01:00:00 01:00"), t0);
  EXPECT_EQ(parseTimestamp(formatRfc3339(t0 + 42 * kNanosPerMilli)), t0 + 42 * kNanosPerMilli);
}

TEST(Rfc3339, RejectsMalformedTimes) {
  for (const char* bad : {"", "yesterday", "-5", "1.2.3", "2026-01-01", "2026-01-01T00:00:00",
                          "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-01-01T24:00:00Z",
                          "2026-01-01T00:00:00+0100", "2026-01-01T00:00:00Zjunk", "1e9"})
    EXPECT_FALSE(parseTimestamp(bad).has_value()) << bad;
}

TEST(QueryString, DecodesPercentEscapesAndPlus) {
  const auto q = parseQuery("member=FIX.4.4%3AEXCH-%3EM1&state=down&x=a+b&&flag");
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"member", "FIX.4.4:EXCH->M1"}));
  EXPECT_EQ(q[1], (std::pair<std::string, std::string>{"state", "down"}));
  EXPECT_EQ(q[2], (std::pair<std::string, std::string>{"x", "a b"}));
  EXPECT_EQ(q[3], (std::pair<std::string, std::string>{"flag", ""}));
}

class JsonApi : public ::testing::Test {
 protected:
  Scenario scenario;
  const LinkMonitor& monitor = scenario.monitor;
};

TEST_F(JsonApi, ListsEveryLinkWithStateReasonAndTimes) {
  const JsonResponse r = linksResponse(monitor, "");
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.body.is_array());
  ASSERT_EQ(r.body.size(), 3u);

  const json& m1 = r.body[0];
  EXPECT_EQ(m1["member"], "M1");
  EXPECT_EQ(m1["name"], "Alpha Securities");
  EXPECT_EQ(m1["criticality"], "critical");
  EXPECT_EQ(m1["session"], "FIX.4.4:EXCH->M1");
  EXPECT_EQ(m1["connection_type"], "acceptor");
  EXPECT_EQ(m1["state"], "up");
  EXPECT_EQ(m1["reason"], "logged_on");
  EXPECT_EQ(m1["since"], "2026-01-01T00:00:00.000Z");
  EXPECT_DOUBLE_EQ(m1["since_unix"].get<double>(), kStartUnix);
  EXPECT_EQ(m1["last_message_received"], "2026-01-01T00:01:10.000Z");
  EXPECT_EQ(m1["heartbeat_interval_seconds"], 30);
  EXPECT_TRUE(m1["last_rtt_seconds"].is_null());
  EXPECT_NEAR(m1["sending_time_skew_seconds"].get<double>(), 0.005, 1e-9);
  EXPECT_TRUE(m1["flaps_in_window"].is_number_unsigned());

  const json& m2 = r.body[1];
  EXPECT_EQ(m2["state"], "down");
  EXPECT_EQ(m2["reason"], "disconnected");
  EXPECT_EQ(m2["since"], "2026-01-01T00:00:01.000Z");

  const json& m3 = r.body[2];
  EXPECT_EQ(m3["reason"], "never_connected");
  EXPECT_TRUE(m3["last_message_received"].is_null());
  EXPECT_TRUE(m3["sending_time_skew_seconds"].is_null());
}

TEST_F(JsonApi, FiltersLinksByMemberOrSessionAndByState) {
  JsonResponse r = linksResponse(monitor, "member=M2");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.body.size(), 1u);
  EXPECT_EQ(r.body[0]["member"], "M2");

  r = linksResponse(monitor, "member=FIX.4.4%3AEXCH-%3EM3");
  ASSERT_EQ(r.body.size(), 1u);
  EXPECT_EQ(r.body[0]["member"], "M3");

  r = linksResponse(monitor, "state=down");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.body.size(), 2u);
  EXPECT_EQ(r.body[0]["member"], "M2");
  EXPECT_EQ(r.body[1]["member"], "M3");

  r = linksResponse(monitor, "state=down&member=M1");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());

  r = linksResponse(monitor, "state=offhours");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.is_array());
  EXPECT_TRUE(r.body.empty());
}

TEST_F(JsonApi, RejectsBadLinkFiltersWith400NamingTheParameter) {
  JsonResponse r = linksResponse(monitor, "state=sideways");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body["error"].get<std::string>().find("state"), std::string::npos);
  EXPECT_NE(r.body["error"].get<std::string>().find("up, degraded, down, offhours"),
            std::string::npos);

  r = linksResponse(monitor, "member=NOPE");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body["error"].get<std::string>().find("member"), std::string::npos);

  r = linksResponse(monitor, "stat=down");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body["error"].get<std::string>().find("'stat'"), std::string::npos);

  r = linksResponse(monitor, "state=down&state=up");
  EXPECT_EQ(r.status, 400);
}

TEST_F(JsonApi, FindsOneLinkByMemberOrSessionAnd404sOtherwise) {
  JsonResponse r = linkResponse(monitor, "M1");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["member"], "M1");
  r = linkResponse(monitor, "FIX.4.4:EXCH->M2");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["member"], "M2");
  r = linkResponse(monitor, "M9");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body["error"].get<std::string>().find("M9"), std::string::npos);
}

TEST_F(JsonApi, ListsEventsNewestFirst) {
  const JsonResponse r = eventsResponse(monitor, "");
  ASSERT_EQ(r.status, 200);
  const json& events = r.body["events"];
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["member"], "M2");
  EXPECT_EQ(events[0]["session"], "FIX.4.4:EXCH->M2");
  EXPECT_EQ(events[0]["from"], "up");
  EXPECT_EQ(events[0]["to"], "down");
  EXPECT_EQ(events[0]["reason"], "disconnected");
  EXPECT_EQ(events[0]["time"], "2026-01-01T00:00:01.000Z");
  EXPECT_DOUBLE_EQ(events[0]["time_unix"].get<double>(), kStartUnix + 1);
  EXPECT_DOUBLE_EQ(events[0]["detection_ms"].get<double>(),
                   static_cast<double>(Scenario::kDisconnectDetectionMs));
  EXPECT_EQ(events[1]["member"], "M2");
  EXPECT_EQ(events[1]["to"], "up");
  EXPECT_EQ(events[2]["member"], "M1");
  EXPECT_EQ(events[2]["from"], "down");
  EXPECT_EQ(events[2]["reason"], "logged_on");
}

TEST_F(JsonApi, LimitsFiltersByMemberAndBySince) {
  JsonResponse r = eventsResponse(monitor, "limit=1");
  ASSERT_EQ(r.body["events"].size(), 1u);
  EXPECT_EQ(r.body["events"][0]["to"], "down");

  r = eventsResponse(monitor, "limit=100000");  // capped at the history size, not an error
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["events"].size(), 3u);

  r = eventsResponse(monitor, "member=M1");
  ASSERT_EQ(r.body["events"].size(), 1u);
  EXPECT_EQ(r.body["events"][0]["member"], "M1");

  r = eventsResponse(monitor, "member=M2&limit=1");
  ASSERT_EQ(r.body["events"].size(), 1u);
  EXPECT_EQ(r.body["events"][0]["to"], "down");

  for (const char* since : {"since=1767225600.5", "since=2026-01-01T00%3A00%3A00.500Z",
                            "since=2026-01-01T01:00:00.5%2B01:00"}) {
    r = eventsResponse(monitor, since);
    ASSERT_EQ(r.status, 200) << since << ": " << r.body.dump();
    ASSERT_EQ(r.body["events"].size(), 1u) << since;
    EXPECT_EQ(r.body["events"][0]["to"], "down") << since;
  }
  r = eventsResponse(monitor, "since=1767225600");  // inclusive
  EXPECT_EQ(r.body["events"].size(), 3u);
}

TEST_F(JsonApi, RejectsBadEventParametersWith400) {
  for (const char* query : {"limit=0", "limit=-1", "limit=ten", "limit=", "limit=5x",
                            "since=yesterday", "since=", "member=NOPE", "order=asc"}) {
    const JsonResponse r = eventsResponse(monitor, query);
    EXPECT_EQ(r.status, 400) << query;
    ASSERT_TRUE(r.body.contains("error")) << query;
    const std::string name = std::string(query).substr(0, std::string(query).find('='));
    EXPECT_NE(r.body["error"].get<std::string>().find(name), std::string::npos)
        << query << ": " << r.body["error"];
  }
}

TEST_F(JsonApi, HealthReportsLinkCountAndUptime) {
  const JsonResponse r = healthResponse(monitor, scenario.clock.wall());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["status"], "ok");
  EXPECT_EQ(r.body["links"], 3);
  EXPECT_DOUBLE_EQ(r.body["uptime_seconds"].get<double>(), 70);
}

TEST_F(JsonApi, KeepsHostileMemberNamesIntactInJson) {
  const JsonResponse r = linkResponse(monitor, "M2");
  EXPECT_EQ(r.body["name"], testing::kHostileName);
  const std::string text = r.body.dump();
  EXPECT_NE(text.find(R"("Bank \"Best\" <script>alert('x')</script> \\ Ltd")"), std::string::npos)
      << text;
  EXPECT_EQ(json::parse(text)["name"], testing::kHostileName);
}

}  // namespace
}  // namespace linkwatch
