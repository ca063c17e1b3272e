#include <linkwatch/shm_event_channel.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include <linkwatch/event_hub.hpp>

namespace linkwatch {
namespace {

SessionEvent eventFor(LinkIndex link, std::uint32_t seq) {
  SessionEvent e{};
  e.kind = EventKind::kMessageIn;
  e.messageClass = MessageClass::kHeartbeat;
  e.link = link;
  e.seqNum = seq;
  e.monotonic = monotonicNow();
  return e;
}

TEST(ShmRegion, AttachSeesTheSameShardsThroughAnotherMapping) {
  ShmRegion region = ShmRegion::create(2, 10);
  region.shard(1).linkCount = 3;
  region.shard(1).links[2] = 7;
  ShmRegion again = ShmRegion::attach(dup(region.fd()));
  EXPECT_EQ(again.shardCount(), 2u);
  EXPECT_EQ(again.header().linkTotal, 10u);
  EXPECT_EQ(again.shard(1).links[2], 7u);
  const SessionEvent e = eventFor(4, 11);
  ASSERT_EQ(shmPushEvents(again.shard(1), &e, 1), 1u);
  ShmEventSource source(region.shard(1));
  EXPECT_FALSE(source.empty());
  SessionEvent out{};
  ASSERT_EQ(source.pop(&out, 1), 1u);
  EXPECT_EQ(out.seqNum, 11u);
  EXPECT_EQ(out.link, 4u);
  EXPECT_TRUE(source.empty());
}

TEST(ShmRegion, AttachRefusesADescriptorThatIsNotARegion) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  EXPECT_THROW(ShmRegion::attach(fds[0]), std::exception);
  close(fds[1]);
}

TEST(ShmRegion, AFullLaneTakesWhatFitsAndNoMore) {
  ShmRegion region = ShmRegion::create(1, 1);
  std::vector<SessionEvent> many(ShmShard::kEventCapacity + 10, eventFor(0, 1));
  const std::size_t pushed = shmPushEvents(region.shard(0), many.data(), many.size());
  EXPECT_LT(pushed, many.size());
  EXPECT_GE(pushed, ShmShard::kEventCapacity - 1);
  EXPECT_EQ(shmPushEvents(region.shard(0), many.data(), 1), 0u);
}

// A child process publishes into the region; the hub's consumer, asleep on the shared futex
// word, is woken and drains the events in order.
TEST(ShmEventChannel, EventsFromAnotherProcessWakeAndReachTheHubInOrder) {
  constexpr std::uint32_t kEvents = 50000;
  ShmRegion region = ShmRegion::create(1, 4);
  EventHub hub(4, 1024);
  ShmEventSource source(region.shard(0));
  hub.addSource(source);
  hub.shareWakeWord(region.header().coreSleeping);

  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ShmShard& shard = region.shard(0);
    for (std::uint32_t i = 1; i <= kEvents;) {
      const SessionEvent e = eventFor(i % 4, i);
      if (shmPushEvents(shard, &e, 1) == 1) {
        ++i;
        if (i % 1000 == 0) shmWakeCore(region.header());
      }
    }
    shmWakeCore(region.header());
    _exit(0);
  }
  std::uint32_t expected = 1;
  const Nanos deadline = monotonicNow() + 30 * kNanosPerSecond;
  bool ordered = true;
  while (expected <= kEvents && monotonicNow() < deadline) {
    hub.waitForEvents(monotonicNow() + kNanosPerSecond, 0);
    hub.drain(
        [&](const SessionEvent& e) {
          ordered = ordered && e.seqNum == expected && e.link == expected % 4;
          ++expected;
        },
        4096);
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(expected, kEvents + 1);
  EXPECT_TRUE(ordered);
  EXPECT_TRUE(hub.empty());
}

}  // namespace
}  // namespace linkwatch
