// HttpTlsCertificate end to end: the real linkwatch binary serves its HTTP port over TLS
// (certificate checked at load, basic auth over it), and refuses at start, naming the line,
// a file that lacks the private key.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "security/security_support.hpp"
#include "security/test_certificates.hpp"

namespace linkwatch::testing {
namespace {

using namespace std::chrono_literals;

TEST(HttpTlsOnTheBinary, ServesMetricsOverHttpsWithBasicAuth) {
  const TestCertificates certs({"ca"}, {{"server", "ca"}}, TestCertificates::kEc);
  ASSERT_TRUE(certs.ok()) << "openssl failed: see " << certs.dir();
  SecuredMonitor monitor("HttpTlsCertificate=" + certs.file("server-with-key.pem"));
  const std::string base = "https://127.0.0.1:" + std::to_string(monitor.httpPort);
  const std::string ca = certs.file("ca.pem");
  ASSERT_TRUE(waitFor([&] { return http(base + "/healthz", "", "GET", ca).status == 200; }, 20s))
      << monitor.log();
  const std::string user = std::string("ops:") + kHttpPassword;
  const HttpReply metrics = http(base + "/metrics", user, "GET", ca);
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("linkwatch_link_up{"), std::string::npos);
  EXPECT_EQ(http(base + "/metrics", "", "GET", ca).status, 401);
  EXPECT_EQ(http(base + "/api/v1/links", user, "GET", ca).status, 200);
  // Plain HTTP to the port gets no answer, and the monitor lives on.
  EXPECT_EQ(http(monitor.url("/healthz")).status, 0);
  EXPECT_EQ(http(base + "/healthz", "", "GET", ca).status, 200);
  EXPECT_TRUE(monitor.alive()) << monitor.log();
  EXPECT_EQ(monitor.log().find(kHttpPassword), std::string::npos);
}

TEST(HttpTlsOnTheBinary, RefusesToStartWithACertificateWithoutItsKey) {
  const TestCertificates certs({"ca"}, {{"server", "ca"}}, TestCertificates::kEc);
  ASSERT_TRUE(certs.ok()) << "openssl failed: see " << certs.dir();
  SecuredMonitor monitor("HttpTlsCertificate=" + certs.file("server.pem"));
  int status = 0;
  ASSERT_EQ(::waitpid(monitor.pid, &status, 0), monitor.pid);
  monitor.pid = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
  const std::string log = monitor.log();
  EXPECT_NE(log.find("[LINKWATCH] HttpTlsCertificate: expected a PEM file with the certificate "
                     "(chain) and its unencrypted private key; " +
                     certs.file("server.pem") + " has no private key"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace linkwatch::testing
