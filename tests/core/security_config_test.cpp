// The secrets file, address ranges and the security keys of the settings file.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include <linkwatch/cidr.hpp>
#include <linkwatch/config.hpp>
#include <linkwatch/secrets.hpp>

namespace linkwatch {
namespace {

const char* const kSession =
    "[SESSION]\nConnectionType=acceptor\nBeginString=FIX.4.4\nSenderCompID=EXCH\n"
    "TargetCompID=BANK01\nMemberId=BANK01\nSocketAcceptPort=9876\nStartTime=00:00:00\n"
    "EndTime=00:00:00\n";

std::vector<ConfigIssue> issuesOf(const std::string& text) {
  try {
    parseConfig(text, "t.cfg");
  } catch (const ConfigError& e) {
    return e.issues();
  }
  return {};
}

std::string describeAll(const std::vector<ConfigIssue>& issues) {
  std::string out;
  for (const ConfigIssue& i : issues) out += i.describe() + "\n";
  return out;
}

TEST(Secrets, ParsesFixAndHttpEntriesWithPasswordsHoldingSpaces) {
  std::vector<SecretsProblem> problems;
  const Secrets s = parseSecrets(
      "# comment\n\nfix BANK01 user1  pass with spaces \nhttp prom  pw:colon\n", "s", problems);
  ASSERT_TRUE(problems.empty());
  ASSERT_NE(s.fixCredential("BANK01"), nullptr);
  EXPECT_EQ(s.fixCredential("BANK01")->username, "user1");
  EXPECT_EQ(s.fixCredential("BANK01")->password, "pass with spaces");
  EXPECT_EQ(s.fixCredential("BANK02"), nullptr);
  EXPECT_TRUE(s.checkHttpUser("prom", "pw:colon"));
  EXPECT_FALSE(s.checkHttpUser("prom", "pw:colo"));
  EXPECT_FALSE(s.checkHttpUser("other", "pw:colon"));
}

TEST(Secrets, ReportsBadLinesByNumberWithoutThePassword) {
  std::vector<SecretsProblem> problems;
  parseSecrets("fix BANK01 onlyuser\nsmtp x hunter2\nfix B u p\nfix B u hunter2\n", "s", problems);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0].line, 1);
  EXPECT_EQ(problems[1].line, 2);
  EXPECT_EQ(problems[2].line, 4);  // a second entry for B
  for (const SecretsProblem& p : problems)
    EXPECT_EQ(p.message.find("hunter2"), std::string::npos) << p.message;
}

TEST(Secrets, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(constantTimeEquals("abc", "abc"));
  EXPECT_FALSE(constantTimeEquals("abc", "abd"));
  EXPECT_FALSE(constantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(constantTimeEquals("", "a"));
  EXPECT_TRUE(constantTimeEquals("", ""));
}

TEST(Secrets, LoadRefusesAFileOthersMayRead) {
  char path[] = "/tmp/linkwatch-secrets-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "http a b\n", 9), 9);
  ::close(fd);
  std::vector<SecretsProblem> problems;
  ::chmod(path, 0640);
  loadSecrets(path, problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].message.find("mode 0640"), std::string::npos) << problems[0].message;
  problems.clear();
  ::chmod(path, 0600);
  EXPECT_TRUE(loadSecrets(path, problems).hasHttpUsers());
  EXPECT_TRUE(problems.empty());
  std::remove(path);
}

TEST(Cidr, MatchesIpv4Ipv6AndMappedAddresses) {
  CidrRange net;
  ASSERT_TRUE(parseCidr("10.1.0.0/16", net));
  IpAddress a;
  ASSERT_TRUE(parseIpAddress("10.1.200.3", a));
  EXPECT_TRUE(net.contains(a));
  ASSERT_TRUE(parseIpAddress("10.2.0.1", a));
  EXPECT_FALSE(net.contains(a));
  ASSERT_TRUE(parseIpAddress("::ffff:10.1.0.9", a));  // IPv4-mapped peer of a dual-stack socket
  EXPECT_TRUE(net.contains(a));
  EXPECT_EQ(a.toString(), "10.1.0.9");
  CidrRange host;
  ASSERT_TRUE(parseCidr("127.0.0.1", host));
  ASSERT_TRUE(parseIpAddress("127.0.0.2", a));
  EXPECT_FALSE(host.contains(a));
  CidrRange v6;
  ASSERT_TRUE(parseCidr("2001:db8::/32", v6));
  ASSERT_TRUE(parseIpAddress("2001:db8:1::5", a));
  EXPECT_TRUE(v6.contains(a));
  for (const char* bad : {"10.0.0.0/33", "10.0.0/8", "::1/129", "10.0.0.0/", "x", ""})
    EXPECT_FALSE(parseCidr(bad, net)) << bad;
}

TEST(SecurityConfig, ReadsTheKeysOfLinkwatchAndSessions) {
  const MonitorConfig c = parseConfig(
      std::string("[LINKWATCH]\nSecretsFile=/etc/linkwatch/secrets\nLogonFailureLimit=3\n"
                  "LogonFailureWindow=30s\nLogonBlockDuration=5m\nFixIdleConnectionTimeout=0\n") +
          kSession + "AllowedSourceAddresses=10.0.0.0/8, 192.0.2.7\n",
      "t.cfg");
  EXPECT_EQ(c.security.secretsFile, "/etc/linkwatch/secrets");
  EXPECT_EQ(c.security.secretsFileLine, 2);
  EXPECT_EQ(c.security.logonFailureLimit, 3);
  EXPECT_EQ(c.security.logonFailureWindow, std::chrono::seconds(30));
  EXPECT_EQ(c.security.logonBlockDuration, std::chrono::minutes(5));
  EXPECT_EQ(c.security.idleConnectionTimeout.count(), 0);
  EXPECT_EQ(c.links.at(0).allowedSourceAddresses,
            (std::vector<std::string>{"10.0.0.0/8", "192.0.2.7"}));
  EXPECT_FALSE(c.security.fixTls);
}

TEST(SecurityConfig, ReadsHttpTlsCertificateAndFixLogonDeadline) {
  const MonitorConfig c =
      parseConfig(std::string("[LINKWATCH]\nHttpTlsCertificate=/etc/lw/https.pem\n"
                              "FixLogonDeadline=2s\n") +
                      kSession,
                  "t.cfg");
  EXPECT_EQ(c.security.httpTlsCertificate, "/etc/lw/https.pem");
  EXPECT_EQ(c.security.httpTlsCertificateLine, 2);
  EXPECT_EQ(c.security.logonDeadline, std::chrono::seconds(2));
  EXPECT_EQ(c.security.files.size(), 1u);  // loadConfig checks it exists and is readable
  EXPECT_EQ(parseConfig(std::string("[LINKWATCH]\nFixLogonDeadline=0\n") + kSession, "t.cfg")
                .security.logonDeadline.count(),
            0);
  for (const char* bad : {"50ms", "11m", "soon", "-1s"}) {
    const std::string text = describeAll(
        issuesOf(std::string("[LINKWATCH]\nFixLogonDeadline=") + bad + "\n" + kSession));
    EXPECT_NE(text.find("t.cfg:2: [LINKWATCH] FixLogonDeadline: expected 0 (never) or a duration "
                        "from 100ms to 10m"),
              std::string::npos)
        << bad << ": " << text;
  }
}

TEST(SecurityConfig, LoadConfigChecksTheHttpTlsCertificateHoldsACertificateAndItsKey) {
  char dir[] = "/tmp/linkwatch-seccfg-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string d = dir;
  const std::string cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const std::string key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
  const std::string encrypted =
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIE\n-----END ENCRYPTED PRIVATE KEY-----\n";
  // What loadConfig says of each file, "" when it accepts it.
  auto verdict = [&](const std::string& name, const std::string* text) {
    const std::string pem = d + "/" + name;
    if (text != nullptr) std::ofstream(pem) << *text;
    const std::string cfg = d + "/l.cfg";
    std::ofstream(cfg) << "[LINKWATCH]\nHttpTlsCertificate=" << pem << "\n" << kSession;
    try {
      loadConfig(cfg);
      return std::string();
    } catch (const ConfigError& e) {
      return describeAll(e.issues());
    }
  };
  const std::string both = cert + key;
  const std::string certOnly = cert;
  const std::string keyOnly = key;
  const std::string locked = cert + encrypted;
  const std::string junk = "hello\n";
  EXPECT_EQ(verdict("both.pem", &both), "");
  const std::string where = d + "/l.cfg:2: [LINKWATCH] HttpTlsCertificate: ";
  const std::string expected =
      "expected a PEM file with the certificate (chain) and its unencrypted private key; ";
  EXPECT_EQ(
      verdict("cert.pem", &certOnly),
      where + expected + d + "/cert.pem has no private key (append it: cat cert.pem key.pem)\n");
  EXPECT_EQ(verdict("key.pem", &keyOnly), where + expected + d + "/key.pem has no certificate\n");
  EXPECT_EQ(verdict("locked.pem", &locked),
            where + expected + d + "/locked.pem's private key is encrypted\n");
  EXPECT_EQ(verdict("junk.pem", &junk), where + expected + d + "/junk.pem is not PEM\n");
  EXPECT_NE(verdict("missing.pem", nullptr).find(where + "cannot use " + d + "/missing.pem"),
            std::string::npos);
  std::system(("rm -rf " + d).c_str());
}

TEST(SecurityConfig, ReportsBadAddressesAndTlsKeysOutsideDefaultWithLines) {
  const auto issues = issuesOf(std::string(kSession) +
                               "AllowedSourceAddresses=10.0.0.0/8, 300.1.1.1\n"
                               "SSLProtocol=TLSv1_2\n");
  const std::string text = describeAll(issues);
  EXPECT_NE(text.find("t.cfg:10: [SESSION #1 (BANK01)] AllowedSourceAddresses:"), std::string::npos)
      << text;
  EXPECT_NE(text.find("\"300.1.1.1\""), std::string::npos) << text;
  EXPECT_NE(text.find("t.cfg:11: [SESSION #1 (BANK01)] SSLProtocol: TLS settings apply to every "
                      "session"),
            std::string::npos)
      << text;
}

TEST(SecurityConfig, ValidatesTlsSettingsInDefault) {
  const auto issues = issuesOf(
      std::string("[DEFAULT]\nSocketUseSSL=Y\nCertificateVerifyLevel=1\nSSLProtocol=TLSv1_3\n") +
      kSession);
  const std::string text = describeAll(issues);
  EXPECT_NE(text.find("[DEFAULT] ServerCertificateFile: missing"), std::string::npos) << text;
  EXPECT_NE(text.find("t.cfg:3: [DEFAULT] CertificateVerifyLevel: verifying client certificates "
                      "needs CertificationAuthoritiesFile"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("t.cfg:4: [DEFAULT] SSLProtocol: expected protocols from"), std::string::npos)
      << text;
  const MonitorConfig ok =
      parseConfig(std::string("[DEFAULT]\nSocketUseSSL=Y\nServerCertificateFile=s.pem\n"
                              "CertificationAuthoritiesFile=ca.pem\nCertificateVerifyLevel=1\n"
                              "SSLProtocol=-all +TLSv1_2\n") +
                      kSession,
                  "t.cfg");
  EXPECT_TRUE(ok.security.fixTls);
  EXPECT_EQ(ok.security.files.size(), 2u);
}

TEST(SecurityConfig, LoadConfigChecksThatTheNamedFilesExist) {
  char dir[] = "/tmp/linkwatch-seccfg-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string cfg = std::string(dir) + "/l.cfg";
  std::ofstream(cfg) << "[DEFAULT]\nSocketUseSSL=Y\nServerCertificateFile=" << dir
                     << "/missing.pem\n"
                     << kSession;
  try {
    loadConfig(cfg);
    FAIL() << "a missing certificate was accepted";
  } catch (const ConfigError& e) {
    const std::string text = describeAll(e.issues());
    EXPECT_NE(text.find(cfg + ":3: [DEFAULT] ServerCertificateFile: cannot use"), std::string::npos)
        << text;
  }
  std::remove(cfg.c_str());
  ::rmdir(dir);
}

}  // namespace
}  // namespace linkwatch
