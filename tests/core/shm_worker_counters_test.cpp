#include <linkwatch/shm_worker_counters.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <linkwatch/shm_event_channel.hpp>

namespace linkwatch {
namespace {

TEST(WorkerCounterTotals, PlacesAWorkersLocalRowsAtTheirGlobalLinks) {
  ShmRegion region = ShmRegion::create(1, 6);
  ShmShard& shard = region.shard(0);
  shard.linkCount = 2;
  shard.links[0] = 4;
  shard.links[1] = 1;
  shard.counters.refusals[0][3].store(2);
  shard.counters.refusals[1][0].store(5);
  shard.counters.refusals[ShmWorkerCounters::kNoMemberRow][5].store(7);
  shard.counters.blockedAddresses.store(1);
  shard.counters.idleConnectionsClosed.store(9);

  WorkerCounterTotals totals(6);
  totals.add(shard.counters, shard.links, shard.linkCount);
  EXPECT_EQ(totals.refusals(4, 3), 2u);
  EXPECT_EQ(totals.refusals(1, 0), 5u);
  EXPECT_EQ(totals.refusals(0, 3), 0u);
  EXPECT_EQ(totals.refusals(kNoLink, 5), 7u);
  EXPECT_EQ(totals.blockedAddresses(), 1u);
  EXPECT_EQ(totals.idleConnectionsClosed(), 9u);
  // Out of range asks answer 0 rather than read past the rows.
  EXPECT_EQ(totals.refusals(6, 5), 0u);
  EXPECT_EQ(totals.refusals(99, 0), 0u);
  EXPECT_EQ(totals.refusals(4, ShmWorkerCounters::kReasons), 0u);
}

TEST(WorkerCounterTotals, ALinkIndexBeyondTheConfigurationIsIgnored) {
  ShmWorkerCounters block;
  block.refusals[0][0].store(3);
  const LinkIndex links[] = {10};
  WorkerCounterTotals totals(2);
  totals.add(block, links, 1);
  for (LinkIndex l = 0; l < 2; ++l) EXPECT_EQ(totals.refusals(l, 0), 0u);
  EXPECT_EQ(totals.refusals(kNoLink, 0), 0u);
}

// The core's pattern across a restart: retired totals plus the live block, the dead block
// moved into the totals and cleared before the next worker counts. Never backwards.
TEST(WorkerCounterTotals, RetiringADeadWorkersBlockKeepsEveryCount) {
  ShmWorkerCounters block;
  const LinkIndex links[] = {0};
  WorkerCounterTotals retired(1);
  const auto scrape = [&] {
    WorkerCounterTotals t = retired;
    t.add(block, links, 1);
    return t.refusals(0, 1);
  };
  block.refusals[0][1].fetch_add(3);
  EXPECT_EQ(scrape(), 3u);
  retired.add(block, links, 1);  // the worker died
  clearWorkerCounters(block);
  EXPECT_EQ(scrape(), 3u);
  block.refusals[0][1].fetch_add(1);  // its successor counts from zero
  EXPECT_EQ(scrape(), 4u);
}

// A worker process counts into the region; the core reads the counts through its own mapping,
// including what the worker counted just before it died.
TEST(ShmWorkerCounters, CountsOfAnotherProcessReachTheCoresMapping) {
  ShmRegion region = ShmRegion::create(1, 3);
  region.shard(0).linkCount = 1;
  region.shard(0).links[0] = 2;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ShmRegion mine = ShmRegion::attach(dup(region.fd()));
    ShmWorkerCounters& c = mine.shard(0).counters;
    for (int i = 0; i < 1000; ++i) c.refusals[0][2].fetch_add(1, std::memory_order_relaxed);
    c.idleConnectionsClosed.fetch_add(4, std::memory_order_relaxed);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  WorkerCounterTotals totals(3);
  totals.add(region.shard(0).counters, region.shard(0).links, region.shard(0).linkCount);
  EXPECT_EQ(totals.refusals(2, 2), 1000u);
  EXPECT_EQ(totals.idleConnectionsClosed(), 4u);
}

}  // namespace
}  // namespace linkwatch
