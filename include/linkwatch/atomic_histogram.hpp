// A fixed-bucket histogram written by one thread (the core thread) and read by any.
// Unlike prometheus::Histogram it takes no lock: the writer does relaxed load+store on
// counters nobody else writes, so an observation costs a few plain stores.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

namespace linkwatch {

class AtomicHistogram {
 public:
  // Bounds plus the +Inf bucket; the counts live in the object itself.
  static constexpr std::size_t kMaxBuckets = 24;
  using Bounds = std::shared_ptr<const std::vector<std::int64_t>>;

  // Upper bounds in nanoseconds, ascending, at most kMaxBuckets - 1; an implicit +Inf bucket
  // follows. Histograms of the same kind share one Bounds (buckets::sharedRtt() and the
  // like): 10,000 links' histograms then read one copy, which stays in cache, instead of
  // each its own.
  explicit AtomicHistogram(Bounds boundsNs);
  explicit AtomicHistogram(const std::vector<std::int64_t>& boundsNs);

  // Single writer only.
  void observe(std::int64_t valueNs) noexcept {
    const std::vector<std::int64_t>& bounds = *bounds_;
    std::size_t i = 0;
    while (i < bounds.size() && valueNs > bounds[i]) ++i;
    bump(counts_[i]);
    sumNs_.store(sumNs_.load(std::memory_order_relaxed) + valueNs, std::memory_order_relaxed);
    bump(count_);
  }

  const std::vector<std::int64_t>& boundsNs() const noexcept { return *bounds_; }
  // Non-cumulative count of bucket i (i == bounds().size() is +Inf).
  std::uint64_t bucketCount(std::size_t i) const noexcept {
    return counts_[i].load(std::memory_order_relaxed);
  }
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  std::int64_t sumNs() const noexcept { return sumNs_.load(std::memory_order_relaxed); }

 private:
  static void bump(std::atomic<std::uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // What an observation writes, together: the count and sum first, then the buckets.
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::int64_t> sumNs_{0};
  std::array<std::atomic<std::uint64_t>, kMaxBuckets> counts_{};
  Bounds bounds_;
};

}  // namespace linkwatch
