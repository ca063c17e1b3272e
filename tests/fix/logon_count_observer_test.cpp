// LogonCountObserver: a QuickFIX worker process mirrors every count of its LogonGuard into
// shared memory through it, so it must see each count the guard makes, exactly once.
// C++14, like the adapter.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "fix/logon_guard.hpp"

namespace linkwatch {
namespace {

class RecordingObserver : public LogonCountObserver {
 public:
  void refusalCounted(LinkIndex link, LogonRefusal why) noexcept override {
    ++refusals[std::make_pair(link, why)];
  }
  void addressBlocked() noexcept override { ++blocked; }
  void idleConnectionsClosed(std::uint64_t n) noexcept override { idle += n; }

  std::map<std::pair<LinkIndex, LogonRefusal>, std::uint64_t> refusals;
  std::uint64_t blocked = 0;
  std::uint64_t idle = 0;
};

TEST(LogonCountObserver, SeesEveryCountTheGuardMakes) {
  auto secrets = std::make_shared<Secrets>();
  secrets->fix.push_back({"BANK01", "user1", "pw1", 1});
  LogonGuardOptions options;
  options.secrets = secrets;
  options.failureLimit = 2;
  LogonRuleSpec rule;
  rule.memberId = "BANK01";
  rule.sessionKey = "FIX.4.4:EXCH->BANK01";
  options.links = {rule};
  LogonGuard guard(options);
  RecordingObserver observer;
  guard.setCountObserver(&observer);

  IpAddress peer;
  ASSERT_TRUE(parseIpAddress("10.0.0.9", peer));
  const std::string user = "user1";
  const std::string bad = "nope";
  const std::string good = "pw1";
  LogonRefusal why = LogonRefusal::kSourceAddress;
  EXPECT_FALSE(guard.check(0, &peer, &user, &bad, why));
  EXPECT_FALSE(guard.check(0, &peer, &user, &bad, why));   // the second blocks the address
  EXPECT_FALSE(guard.check(0, &peer, &user, &good, why));  // refused unchecked: rate limited
  EXPECT_EQ(why, LogonRefusal::kRateLimited);
  EXPECT_TRUE(guard.check(0, nullptr, &user, &good, why));
  guard.recordRefusal(kNoLink, &peer, LogonRefusal::kTlsHandshake);
  guard.noteIdleConnectionsClosed(3);

  const auto seen = [&](LinkIndex link, LogonRefusal r) {
    const auto it = observer.refusals.find(std::make_pair(link, r));
    return it == observer.refusals.end() ? 0u : it->second;
  };
  EXPECT_EQ(seen(0, LogonRefusal::kBadCredentials), 2u);
  EXPECT_EQ(seen(0, LogonRefusal::kRateLimited), 1u);
  EXPECT_EQ(seen(kNoLink, LogonRefusal::kTlsHandshake), 1u);
  EXPECT_EQ(observer.refusals.size(), 3u);
  EXPECT_EQ(observer.blocked, 1u);
  EXPECT_EQ(observer.idle, 3u);
  // The guard's own counters agree.
  EXPECT_EQ(guard.refusals(0, LogonRefusal::kBadCredentials), 2u);
  EXPECT_EQ(guard.refusals(kNoLink, LogonRefusal::kTlsHandshake), 1u);
  EXPECT_EQ(guard.blockedAddresses(), observer.blocked);
  EXPECT_EQ(guard.idleConnectionsClosed(), observer.idle);
}

}  // namespace
}  // namespace linkwatch
