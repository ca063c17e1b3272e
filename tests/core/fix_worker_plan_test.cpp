#include <linkwatch/fix_worker_plan.hpp>

#include <algorithm>
#include <map>

#include <gtest/gtest.h>

namespace linkwatch {
namespace {

// `perPort[i]` acceptor sessions on port 9000+i, then `initiators` initiator sessions.
std::string settings(const std::vector<int>& perPort, int initiators,
                     const std::string& linkwatch = "") {
  std::string text =
      "[DEFAULT]\nBeginString=FIX.4.4\nSenderCompID=X\nNonStopSession=Y\n"
      "[LINKWATCH]\nHttpListen=127.0.0.1:9745\n" +
      linkwatch;
  int n = 0;
  for (std::size_t p = 0; p < perPort.size(); ++p)
    for (int i = 0; i < perPort[p]; ++i, ++n)
      text += "[SESSION]\nConnectionType=acceptor\nSocketAcceptPort=" + std::to_string(9000 + p) +
              "\nTargetCompID=T" + std::to_string(n) + "\nMemberId=M" + std::to_string(n) + "\n";
  for (int i = 0; i < initiators; ++i, ++n)
    text +=
        "[SESSION]\nConnectionType=initiator\nSocketConnectHost=127.0.0.1\n"
        "SocketConnectPort=9999\nHeartBtInt=30\nTargetCompID=T" +
        std::to_string(n) + "\nMemberId=M" + std::to_string(n) + "\n";
  return text;
}

TEST(FixWorkerPlan, StaysInProcessWhileTheBudgetFits) {
  const MonitorConfig config = parseConfig(settings({100, 100}, 0), "t.cfg");
  EXPECT_FALSE(usesFixWorkers(config));
  MonitorConfig forced = config;
  forced.fixWorkerMode = FixWorkerMode::kProcesses;
  EXPECT_TRUE(usesFixWorkers(forced));
}

TEST(FixWorkerPlan, SplitsByPortWhenOverTheBudgetAndKeepsEachPortInOneShard) {
  const MonitorConfig config = parseConfig(settings({600, 600, 600, 100}, 3), "t.cfg");
  EXPECT_TRUE(usesFixWorkers(config));
  const std::vector<FixShard> shards = planFixShards(config);
  ASSERT_GE(shards.size(), 3u);
  std::vector<int> seen(config.links.size(), 0);
  std::map<int, std::size_t> shardOfPort;
  for (std::size_t s = 0; s < shards.size(); ++s) {
    EXPECT_LE(shards[s].descriptors, DescriptorBudget::kLimit);
    EXPECT_TRUE(std::is_sorted(shards[s].links.begin(), shards[s].links.end()));
    for (LinkIndex i : shards[s].links) {
      ++seen[i];
      const LinkConfig& link = config.links[i];
      if (link.connectionType != ConnectionType::kAcceptor) continue;
      auto [it, inserted] = shardOfPort.emplace(link.socketPort, s);
      EXPECT_EQ(it->second, s) << "port " << link.socketPort << " split over shards";
    }
  }
  for (int count : seen) EXPECT_EQ(count, 1);
}

TEST(FixWorkerPlan, FixWorkersSpreadsPortsOverThatManyProcesses) {
  MonitorConfig config = parseConfig(settings({3, 3, 3, 3}, 0, "FixWorkers=2\n"), "t.cfg");
  EXPECT_TRUE(usesFixWorkers(config));
  const std::vector<FixShard> shards = planFixShards(config);
  ASSERT_EQ(shards.size(), 2u);
  EXPECT_EQ(shards[0].links.size(), 6u);
  EXPECT_EQ(shards[1].links.size(), 6u);
  EXPECT_EQ(shards[0].acceptPorts.size(), 2u);
  // More workers than ports: one port each, no empty worker.
  config.fixWorkers = 8;
  EXPECT_EQ(planFixShards(config).size(), 4u);
}

TEST(FixWorkerPlan, APortGroupOverTheBudgetIsRefusedAtLoadWithItsPortAndLine) {
  try {
    parseConfig(settings({10, 990}, 0), "t.cfg");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.issues().size(), 1u) << e.what();
    EXPECT_NE(e.issues()[0].message.find("990 sessions on SocketAcceptPort 9001"),
              std::string::npos)
        << e.what();
    EXPECT_GT(e.issues()[0].line, 0);
  }
  // Forced into one process, the whole file has to fit.
  EXPECT_THROW(parseConfig(settings({500, 500}, 0, "FixWorkerMode=in-process\n"), "t.cfg"),
               ConfigError);
}

TEST(FixWorkerPlan, BadFixWorkerKeysNameTheExpectedValues) {
  try {
    parseConfig(settings({1}, 0, "FixWorkers=many\nFixWorkerMode=sometimes\n"), "t.cfg");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    const std::string text = e.what();
    EXPECT_NE(text.find("FixWorkers"), std::string::npos) << text;
    EXPECT_NE(text.find("auto, in-process or processes"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace linkwatch
