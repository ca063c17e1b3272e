#include <linkwatch/thread_scheduling.hpp>

#include <gtest/gtest.h>

#include <thread>

namespace linkwatch {
namespace {

// Kernels before 6.12 accept the request and ignore it; this machine's kernel keeps it.
TEST(ThreadScheduling, ATimeSliceIsKeptAndInheritedByThreadsStartedAfter) {
  const Nanos before = threadTimeSlice();
  ASSERT_EQ(setThreadTimeSlice(200 * kNanosPerMicro), "");
  const Nanos mine = threadTimeSlice();
  if (mine == 0) GTEST_SKIP() << "this kernel does not keep a fair task's time slice";
  EXPECT_EQ(mine, 200 * kNanosPerMicro);
  Nanos child = -1;
  std::thread([&] { child = threadTimeSlice(); }).join();
  EXPECT_EQ(child, 200 * kNanosPerMicro);
  ASSERT_EQ(setThreadTimeSlice(before), "");
  EXPECT_NE(threadTimeSlice(), 200 * kNanosPerMicro);
}

}  // namespace
}  // namespace linkwatch
