// HttpServer over TLS (HttpTlsCertificate) on Debian's civetweb 1.15 and OpenSSL 3: /metrics,
// the API and the wall over HTTPS verified against a throw-away CA, plain HTTP refused on the
// TLS port, basic auth and the write rule over TLS, and a clear error for a bad certificate.
// Before src/http/civetweb_tls.cpp, the first request killed the process (SIGSEGV).
#include <curl/curl.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <linkwatch/secrets.hpp>

#include "http/http_server.hpp"
#include "http/http_test_support.hpp"
#include "security/test_certificates.hpp"

namespace linkwatch {
namespace {

using testing::appendBody;
using testing::appendHeader;
using testing::HttpResult;
using testing::Scenario;
using testing::TestCertificates;

struct HttpsResult : HttpResult {
  CURLcode code = CURLE_OK;
};

// One request; `caFile` empty: the system's CAs (which do not know the test CA).
HttpsResult request(const std::string& url, const std::string& caFile,
                    const std::string& method = "GET", const std::string& userPassword = "",
                    const std::string& body = "") {
  HttpsResult r;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &appendBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, &appendHeader);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  if (!caFile.empty()) curl_easy_setopt(curl.get(), CURLOPT_CAINFO, caFile.c_str());
  if (method != "GET") curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty()) curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
  if (!userPassword.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl.get(), CURLOPT_USERPWD, userPassword.c_str());
  }
  r.code = curl_easy_perform(curl.get());
  if (r.code == CURLE_OK) curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

std::shared_ptr<const Secrets> oneHttpUser() {
  auto secrets = std::make_shared<Secrets>();
  secrets->http.push_back({"ops", "tls-pw", 1});
  return secrets;
}

class HttpTls : public ::testing::Test {
 protected:
  // EC keys: generated in milliseconds, and civetweb takes them as OpenSSL does.
  HttpTls() : certs({"ca", "other-ca"}, {{"server", "ca"}}, TestCertificates::kEc) {}

  void SetUp() override { ASSERT_TRUE(certs.ok()) << "openssl failed: see " << certs.dir(); }

  std::unique_ptr<HttpServer> tlsServer(const std::string& host,
                                        std::shared_ptr<const Secrets> secrets = nullptr) {
    auto server = std::make_unique<HttpServer>(scenario.monitor, host, 0, scenario.clock);
    server->setSecurity(std::move(secrets), certs.file("server-with-key.pem"));
    server->start();
    return server;
  }

  std::string ca() const { return certs.file("ca.pem"); }

  TestCertificates certs;
  Scenario scenario;
};

TEST_F(HttpTls, ServesMetricsApiAndWallOverHttpsVerifiedAgainstTheCa) {
  {
    // A plain server before: civetweb 1.15 then failed the first TLS start of the process
    // ("cannot find SSL_get_peer_certificate") unless its library was initialised for TLS.
    HttpServer plain(scenario.monitor, "127.0.0.1", 0, scenario.clock);
    plain.start();
  }
  auto server = tlsServer("127.0.0.1");
  // Twice: civetweb loads OpenSSL again at each start, and its table must be completed again.
  for (int round = 0; round < 2; ++round) {
    const std::string base = server->url();
    ASSERT_EQ(base.rfind("https://127.0.0.1:", 0), 0u) << base;
    const HttpsResult metrics = request(base + "/metrics", ca());
    ASSERT_EQ(metrics.code, CURLE_OK) << curl_easy_strerror(metrics.code);
    EXPECT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("linkwatch_link_up{"), std::string::npos) << metrics.body;
    const HttpsResult links = request(base + "/api/v1/links", ca());
    EXPECT_EQ(links.status, 200);
    EXPECT_EQ(nlohmann::json::parse(links.body).size(), 3u);
    const HttpsResult wall = request(base + "/", ca());
    EXPECT_EQ(wall.status, 200);
    EXPECT_NE(wall.header("content-type").find("text/html"), std::string::npos);
    server->stop();
    server->start();
  }
}

TEST_F(HttpTls, ClientsThatDoNotTrustTheCaAndPlainHttpAreRefused) {
  auto server = tlsServer("127.0.0.1");
  const std::string port = std::to_string(server->port());
  // The system's CAs do not know the throw-away one: the server really presents it.
  EXPECT_EQ(request(server->url() + "/metrics", "").code, CURLE_PEER_FAILED_VERIFICATION);
  // Neither does another CA.
  EXPECT_EQ(request(server->url() + "/metrics", certs.file("other-ca.pem")).code,
            CURLE_PEER_FAILED_VERIFICATION);
  // Plain HTTP to the TLS port gets no HTTP answer.
  const HttpsResult plain = request("http://127.0.0.1:" + port + "/metrics", "");
  EXPECT_NE(plain.code, CURLE_OK);
  EXPECT_EQ(plain.status, 0);
  // And the server is still there for the next TLS client.
  EXPECT_EQ(request(server->url() + "/healthz", ca()).status, 200);
}

TEST_F(HttpTls, BasicAuthWorksOverTls) {
  auto server = tlsServer("127.0.0.1", oneHttpUser());
  const std::string metrics = server->url() + "/metrics";
  const HttpsResult anonymous = request(metrics, ca());
  ASSERT_EQ(anonymous.code, CURLE_OK) << curl_easy_strerror(anonymous.code);
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.header("www-authenticate").rfind("Basic realm=\"linkwatch\"", 0), 0u);
  EXPECT_EQ(request(metrics, ca(), "GET", "ops:wrong").status, 401);
  EXPECT_EQ(request(metrics, ca(), "GET", "ops:tls-pw").status, 200);
  EXPECT_EQ(request(server->url() + "/healthz", ca()).status, 200);  // liveness stays open
}

TEST_F(HttpTls, MaintenanceWritesOffLoopbackNeedAuthOverTlsToo) {
  const std::string body = R"({"duration_seconds": 60})";
  {
    // TLS is not authentication: with no users, a wildcard listener still refuses writes.
    auto server = tlsServer("0.0.0.0");
    const std::string url = server->url() + "/api/v1/links/M1/maintenance";
    EXPECT_EQ(request(url, ca(), "POST", "", body).status, 403);
  }
  auto server = tlsServer("0.0.0.0", oneHttpUser());
  const std::string url = server->url() + "/api/v1/links/M1/maintenance";
  EXPECT_EQ(request(url, ca(), "POST", "", body).status, 401);
  EXPECT_EQ(request(url, ca(), "POST", "ops:tls-pw", body).status, 200);
  EXPECT_EQ(request(url, ca(), "DELETE", "ops:tls-pw").status, 200);
}

TEST_F(HttpTls, StartNamesTheCauseWhenTheFileHasNoKey) {
  HttpServer server(scenario.monitor, "127.0.0.1", 0, scenario.clock);
  server.setSecurity(nullptr, certs.file("server.pem"));  // the certificate alone
  try {
    server.start();
    FAIL() << "a certificate without its key was served";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:0s"), std::string::npos) << e.what();
    std::printf("%s\n", e.what());
  }
  EXPECT_FALSE(server.running());
}

}  // namespace
}  // namespace linkwatch
