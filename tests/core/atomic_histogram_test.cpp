#include <linkwatch/atomic_histogram.hpp>
#include <linkwatch/link_stats.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace linkwatch {
namespace {

TEST(AtomicHistogram, CountsEachValueInTheFirstBucketWhoseBoundHoldsIt) {
  AtomicHistogram h(std::vector<std::int64_t>{10, 20, 30});
  for (std::int64_t v : {5, 10, 11, 30, 31, 1000}) h.observe(v);
  EXPECT_EQ(h.bucketCount(0), 2u);  // 5, 10: a bound is inclusive
  EXPECT_EQ(h.bucketCount(1), 1u);  // 11
  EXPECT_EQ(h.bucketCount(2), 1u);  // 30
  EXPECT_EQ(h.bucketCount(3), 2u);  // +Inf: 31, 1000
  EXPECT_EQ(h.count(), 6u);
  EXPECT_EQ(h.sumNs(), 5 + 10 + 11 + 30 + 31 + 1000);
}

// Every link's histograms read one copy of their bounds, which stays in cache.
TEST(AtomicHistogram, LinksShareOneCopyOfTheirBounds) {
  const LinkStats a;
  const LinkStats b;
  EXPECT_EQ(&a.rtt.boundsNs(), &b.rtt.boundsNs());
  EXPECT_EQ(&a.heartbeatInterval.boundsNs(), &b.heartbeatInterval.boundsNs());
  EXPECT_EQ(a.heartbeatInterval.boundsNs(), buckets::heartbeatInterval());
  EXPECT_EQ(a.rtt.boundsNs(), buckets::rtt());
}

TEST(AtomicHistogram, RefusesBoundsThatDoNotAscendOrDoNotFit) {
  EXPECT_THROW(AtomicHistogram(std::vector<std::int64_t>{2, 1}), std::invalid_argument);
  std::vector<std::int64_t> many(AtomicHistogram::kMaxBuckets);
  for (std::size_t i = 0; i < many.size(); ++i) many[i] = static_cast<std::int64_t>(i);
  EXPECT_THROW(AtomicHistogram{many}, std::invalid_argument);
  many.pop_back();
  EXPECT_NO_THROW(AtomicHistogram{many});
  EXPECT_THROW(AtomicHistogram(AtomicHistogram::Bounds{}), std::invalid_argument);
}

}  // namespace
}  // namespace linkwatch
