// LogonGuard's decisions and counters, and the redaction of passwords from QuickFIX's logs.
// C++14, like the adapter.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "fix/logon_guard.hpp"
#include "fix/redacting_log.hpp"

namespace linkwatch {
namespace {

IpAddress ip(const char* text) {
  IpAddress a;
  EXPECT_TRUE(parseIpAddress(text, a)) << text;
  return a;
}

LogonGuardOptions options() {
  auto secrets = std::make_shared<Secrets>();
  secrets->fix.push_back({"BANK02", "user2", "pw2", 1});
  LogonGuardOptions o;
  o.secrets = secrets;
  o.failureLimit = 3;
  LogonRuleSpec open;
  open.memberId = "BANK01";
  open.sessionKey = "FIX.4.4:EXCH->BANK01";
  LogonRuleSpec withPassword;
  withPassword.memberId = "BANK02";
  withPassword.sessionKey = "FIX.4.4:EXCH->BANK02";
  LogonRuleSpec fenced;
  fenced.memberId = "BANK03";
  fenced.sessionKey = "FIX.4.4:EXCH->BANK03";
  CidrRange range;
  EXPECT_TRUE(parseCidr("10.1.0.0/16", range));
  fenced.allowedSources.push_back(range);
  o.links = {open, withPassword, fenced};
  return o;
}

TEST(LogonGuard, ChecksAddressAndCredentialsPerLink) {
  LogonGuard guard(options());
  LogonRefusal why = LogonRefusal::kTlsHandshake;
  const std::string user = "user2";
  const std::string good = "pw2";
  const std::string bad = "pw3";
  const IpAddress inside = ip("10.1.2.3");
  const IpAddress outside = ip("10.2.0.1");
  EXPECT_TRUE(guard.check(0, &outside, nullptr, nullptr, why));
  EXPECT_TRUE(guard.check(1, &inside, &user, &good, why));
  EXPECT_FALSE(guard.check(1, &inside, &user, &bad, why));
  EXPECT_EQ(why, LogonRefusal::kBadCredentials);
  EXPECT_FALSE(guard.check(1, &inside, nullptr, nullptr, why));
  EXPECT_EQ(why, LogonRefusal::kMissingCredentials);
  EXPECT_TRUE(guard.check(2, &inside, nullptr, nullptr, why));
  EXPECT_FALSE(guard.check(2, nullptr, nullptr, nullptr, why));
  EXPECT_EQ(why, LogonRefusal::kPeerUnknown);
  EXPECT_EQ(guard.refusals(1, LogonRefusal::kBadCredentials), 1u);
  EXPECT_EQ(guard.refusals(1, LogonRefusal::kMissingCredentials), 1u);
  EXPECT_EQ(guard.refusals(2, LogonRefusal::kPeerUnknown), 1u);
  ASSERT_EQ(guard.recentRefusals(10).size(), 3u);
  EXPECT_EQ(guard.recentRefusals(10).back().address, "10.1.2.3");  // oldest last
}

TEST(LogonGuard, BlocksAnAddressAfterTheLimitButNotOthers) {
  LogonGuard guard(options());
  LogonRefusal why = LogonRefusal::kTlsHandshake;
  const IpAddress attacker = ip("192.0.2.9");
  const IpAddress member = ip("10.1.0.1");
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(guard.check(2, &attacker, nullptr, nullptr, why));
  EXPECT_EQ(guard.blockedAddresses(), 1u);
  // Blocked: even a logon that would pass its checks is refused unchecked.
  EXPECT_FALSE(guard.check(0, &attacker, nullptr, nullptr, why));
  EXPECT_EQ(why, LogonRefusal::kRateLimited);
  EXPECT_EQ(guard.refusals(0, LogonRefusal::kRateLimited), 1u);
  EXPECT_TRUE(guard.check(2, &member, nullptr, nullptr, why));
}

TEST(RedactingLog, BlanksPasswordFieldsOnly) {
  const std::string logon =
      "8=FIX.4.4\x01"
      "9=80\x01"
      "35=A\x01"
      "553=user\x01"
      "554=hunter2\x01"
      "925=new\x01"
      "10=000\x01";
  ASSERT_TRUE(hasSecretField(logon));
  const std::string out = redactSecretFields(logon);
  EXPECT_EQ(out.find("hunter2"), std::string::npos);
  EXPECT_EQ(out.find("=new"), std::string::npos);
  EXPECT_NE(out.find("\x01"
                     "553=user\x01"
                     "554=***\x01"
                     "925=***\x01"),
            std::string::npos)
      << out;
  EXPECT_FALSE(
      hasSecretField("8=FIX.4.4\x01"
                     "35=0\x01"
                     "1554=x\x01"));
  EXPECT_EQ(redactSecretFields("554=a\x01"
                               "58=b"),
            "554=***\x01"
            "58=b");
  EXPECT_EQ(redactSecretFields("Session not found for incoming message: 8=X\x01"
                               "554=pw"),
            "Session not found for incoming message: 8=X\x01"
            "554=***");
}

}  // namespace
}  // namespace linkwatch
