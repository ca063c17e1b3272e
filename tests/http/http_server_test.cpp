// Routing, status codes, headers and binding of HttpServer, over a real loopback socket.
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/http_server.hpp"
#include "http/http_test_support.hpp"

namespace linkwatch {
namespace {

using nlohmann::json;
using testing::HttpResult;
using testing::httpRequest;
using testing::Scenario;

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() : server(scenario.monitor, "127.0.0.1", 0, scenario.clock) {}
  void SetUp() override { server.start(); }

  HttpResult get(const std::string& path, const std::string& method = "GET") {
    return httpRequest(server.url() + path, method);
  }
  static json body(const HttpResult& r) { return json::parse(r.body); }

  Scenario scenario;
  HttpServer server;
};

TEST_F(HttpServerTest, BindsAnEphemeralPortForPortZero) {
  EXPECT_TRUE(server.running());
  EXPECT_NE(server.port(), 0);
  EXPECT_EQ(server.url(), "http://127.0.0.1:" + std::to_string(server.port()));
}

TEST_F(HttpServerTest, StartThrowsNamingTheAddressWhenThePortIsTaken) {
  HttpServer second(scenario.monitor, "127.0.0.1", server.port());
  try {
    second.start();
    FAIL() << "start() on a port in use did not throw";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("127.0.0.1:" + std::to_string(server.port())), std::string::npos) << what;
    EXPECT_NE(what.find("in use"), std::string::npos) << what;
  }
  EXPECT_FALSE(second.running());
}

TEST_F(HttpServerTest, StopReleasesThePortAndIsIdempotent) {
  const std::uint16_t port = server.port();
  server.stop();
  server.stop();
  EXPECT_FALSE(server.running());
  HttpServer again(scenario.monitor, "127.0.0.1", port);
  EXPECT_NO_THROW(again.start());
}

TEST_F(HttpServerTest, ServesLinksAsJson) {
  const HttpResult r = get("/api/v1/links");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  const json links = body(r);
  ASSERT_EQ(links.size(), 3u);
  EXPECT_EQ(links[0]["state"], "up");
  EXPECT_EQ(links[1]["state"], "down");
}

TEST_F(HttpServerTest, AppliesQueryFiltersAndAnswers400ToBadOnes) {
  HttpResult r = get("/api/v1/links?state=down");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body(r).size(), 2u);

  r = get("/api/v1/links?state=bogus");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  EXPECT_NE(body(r)["error"].get<std::string>().find("state"), std::string::npos);

  r = get("/api/v1/events?limit=2");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body(r)["events"].size(), 2u);

  r = get("/api/v1/events?limit=abc");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(body(r)["error"].get<std::string>().find("limit"), std::string::npos);
}

TEST_F(HttpServerTest, ServesOneLinkByMemberOrEncodedSessionKey) {
  HttpResult r = get("/api/v1/links/M2");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body(r)["member"], "M2");
  EXPECT_EQ(body(r)["reason"], "disconnected");

  r = get("/api/v1/links/FIX.4.4%3AEXCH-%3EM1");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body(r)["member"], "M1");
}

TEST_F(HttpServerTest, AnswersUnknownMemberWithJson404) {
  const HttpResult r = get("/api/v1/links/NOBODY");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  EXPECT_NE(body(r)["error"].get<std::string>().find("NOBODY"), std::string::npos);
}

TEST_F(HttpServerTest, AnswersUnknownPathsWithJson404) {
  for (const char* path : {"/", "/index.html", "/metrics/extra", "/api/v1", "/api/v2/links"}) {
    const HttpResult r = get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8") << path;
    EXPECT_TRUE(body(r).contains("error")) << path;
  }
}

TEST_F(HttpServerTest, AnswersOtherMethodsWith405AndAllow) {
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    for (const char* path : {"/metrics", "/api/v1/links", "/api/v1/links/M1", "/healthz"}) {
      const HttpResult r = get(path, method);
      EXPECT_EQ(r.status, 405) << method << " " << path;
      EXPECT_EQ(r.header("allow"), "GET, HEAD") << method << " " << path;
      EXPECT_NE(body(r)["error"].get<std::string>().find(method), std::string::npos);
    }
  }
  EXPECT_EQ(get("/nowhere", "POST").status, 404);
}

TEST_F(HttpServerTest, ServesHeadWithoutABody) {
  const HttpResult r = get("/healthz", "HEAD");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  EXPECT_NE(r.header("content-length"), "0");
}

TEST_F(HttpServerTest, ReportsHealthWithUptimeFromTheInjectedClock) {
  const HttpResult r = get("/healthz");
  ASSERT_EQ(r.status, 200);
  const json health = body(r);
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["links"], 3);
  EXPECT_DOUBLE_EQ(health["uptime_seconds"].get<double>(), 70);
}

TEST_F(HttpServerTest, ServesEventsNewestFirst) {
  const HttpResult r = get("/api/v1/events?member=M2");
  ASSERT_EQ(r.status, 200);
  const json events = body(r)["events"];
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["to"], "down");
  EXPECT_EQ(events[1]["to"], "up");
}

TEST_F(HttpServerTest, EscapesHostileMemberNamesInJson) {
  const HttpResult r = get("/api/v1/links/M2");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("name":"Bank \"Best\" <script>alert('x')</script> \\ Ltd")"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(body(r)["name"], testing::kHostileName);
}

}  // namespace
}  // namespace linkwatch
