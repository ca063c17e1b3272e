// Routing, status codes, headers and binding of HttpServer, over a real loopback socket.
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/http_server.hpp"
#include "http/http_test_support.hpp"

namespace linkwatch {
namespace {

using nlohmann::json;
using testing::httpRequest;
using testing::HttpResult;
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

TEST_F(HttpServerTest, StartThrowsForAnAddressThisHostDoesNotHave) {
  HttpServer elsewhere(scenario.monitor, "203.0.113.7", 0);  // TEST-NET-3: never local
  try {
    elsewhere.start();
    FAIL() << "start() on a foreign address did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("203.0.113.7:0"), std::string::npos) << e.what();
  }
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
  for (const char* path : {"/favicon.ico", "/metrics/extra", "/api/v1", "/api/v2/links"}) {
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

TEST(HttpServer, ReplacesInvalidUtf8InNamesInsteadOfFailing) {
  MonitorConfig config = testing::makeConfig();
  config.links[0].memberName = "Caf\xe9 Securities";  // Latin-1, not UTF-8
  ManualClock clock;
  LinkMonitor monitor(std::move(config), clock);
  HttpServer server(monitor, "127.0.0.1", 0);
  server.start();
  const HttpResult r = httpRequest(server.url() + "/api/v1/links/M1");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["name"], "Caf\xef\xbf\xbd Securities");  // U+FFFD
}

// Scrapes run on civetweb threads while the core thread writes the stats: under TSan this
// checks that the published state is really safe to read from anywhere.
TEST(HttpServer, ServesConcurrentScrapesWhileTheCoreThreadApplies) {
  ManualClock clock;
  LinkMonitor monitor(testing::makeConfig(), clock);
  HttpServer server(monitor, "127.0.0.1", 0, clock);
  server.start();
  monitor.start();

  constexpr int kEvents = 5000;
  int published = 0;
  std::thread producer([&] {
    for (int i = 0; i < kEvents; ++i) {
      SessionEvent e{};
      e.link = Scenario::kM1;
      e.kind = EventKind::kMessageIn;
      e.messageClass = MessageClass::kHeartbeat;
      e.monotonic = clock.monotonic();
      e.wall = clock.wall();
      if (monitor.hub().publish(e)) ++published;
      if (i % 64 == 0) std::this_thread::yield();
    }
  });
  std::vector<std::thread> scrapers;
  for (int t = 0; t < 2; ++t) {
    scrapers.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(httpRequest(server.url() + "/metrics").status, 200);
        EXPECT_EQ(httpRequest(server.url() + "/api/v1/links").status, 200);
      }
    });
  }
  for (auto& t : scrapers) t.join();
  producer.join();
  monitor.stop();
  // stop() drains only one round (at most ~241 events a lane), so apply what is left here,
  // on this thread, now that the core thread is gone.
  while (monitor.runOnce() != 0) {
  }

  const auto samples = testing::parseSamples(httpRequest(server.url() + "/metrics").body);
  EXPECT_EQ(samples.at(testing::linkSeries("linkwatch_heartbeats_received_total", "M1")),
            published);
}

}  // namespace
}  // namespace linkwatch

namespace linkwatch {
namespace {

class MaintenanceEndpoint : public ::testing::Test {
 protected:
  MaintenanceEndpoint() : server(scenario.monitor, "127.0.0.1", 0, scenario.clock) {}
  void SetUp() override { server.start(); }
  testing::HttpResult call(const std::string& method, const std::string& path,
                           const std::string& body = "") {
    return testing::httpRequest(server.url() + path, method, body);
  }
  testing::Scenario scenario;
  HttpServer server;
};

TEST_F(MaintenanceEndpoint, PostPutsTheLinkInMaintenanceAndDeleteEndsIt) {
  auto r = call("POST", "/api/v1/links/M2/maintenance", R"({"duration_seconds": 600})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(nlohmann::json::parse(r.body)["maintenance_until"].is_null());
  scenario.monitor.runOnce();  // the test plays the core thread
  EXPECT_EQ(scenario.monitor.stats(testing::Scenario::kM2).state.load(), LinkState::kMaintenance);
  const auto link = nlohmann::json::parse(call("GET", "/api/v1/links/M2").body);
  EXPECT_EQ(link["state"], "maintenance");
  EXPECT_FALSE(link["maintenance_until"].is_null());

  r = call("DELETE", "/api/v1/links/M2/maintenance");
  ASSERT_EQ(r.status, 200) << r.body;
  scenario.monitor.runOnce();
  EXPECT_EQ(scenario.monitor.stats(testing::Scenario::kM2).state.load(), LinkState::kDown);
}

TEST_F(MaintenanceEndpoint, RefusesBadBodiesUnknownMembersAndOtherMethods) {
  EXPECT_EQ(call("POST", "/api/v1/links/M2/maintenance", "not json").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/links/M2/maintenance", R"({"until": "yesterday"})").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/links/M2/maintenance", R"({"until": 1})").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/links/M2/maintenance", R"({"duration_seconds": -5})").status,
            400);
  EXPECT_EQ(call("POST", "/api/v1/links/NOPE/maintenance", R"({"duration_seconds": 5})").status,
            404);
  EXPECT_EQ(call("GET", "/api/v1/links/M2/maintenance").status, 405);
  EXPECT_EQ(call("POST", "/api/v1/links", R"({})").status, 405);
  EXPECT_EQ(call("POST", "/api/v1/links/M2/maintenance", std::string(5000, 'x')).status, 413);
  scenario.monitor.runOnce();
  EXPECT_NE(scenario.monitor.stats(testing::Scenario::kM2).state.load(), LinkState::kMaintenance);
}

TEST_F(MaintenanceEndpoint, ServesTheStatusWallOnRoot) {
  const auto r = call("GET", "/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("/api/v1/links"), std::string::npos);
  EXPECT_EQ(r.body.find("http://"), std::string::npos);  // no external assets
  EXPECT_EQ(r.body.find("https://"), std::string::npos);
}

}  // namespace
}  // namespace linkwatch
