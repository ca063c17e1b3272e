#include <linkwatch/link_stats.hpp>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace linkwatch {

AtomicHistogram::AtomicHistogram(Bounds boundsNs) : bounds_(std::move(boundsNs)) {
  if (bounds_ == nullptr) throw std::invalid_argument("AtomicHistogram: no bounds");
  if (!std::is_sorted(bounds_->begin(), bounds_->end()))
    throw std::invalid_argument("AtomicHistogram: bounds must ascend");
  if (bounds_->size() + 1 > kMaxBuckets)
    throw std::invalid_argument("AtomicHistogram: more than " + std::to_string(kMaxBuckets - 1) +
                                " bounds");
  for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
}

AtomicHistogram::AtomicHistogram(const std::vector<std::int64_t>& boundsNs)
    : AtomicHistogram(std::make_shared<const std::vector<std::int64_t>>(boundsNs)) {}

namespace buckets {
namespace {
constexpr std::int64_t us(std::int64_t n) { return n * kNanosPerMicro; }
constexpr std::int64_t ms(std::int64_t n) { return n * kNanosPerMilli; }
constexpr std::int64_t s(std::int64_t n) { return n * kNanosPerSecond; }
}  // namespace

// Loopback round trips are ~100 us; WAN member links tens of ms.
std::vector<std::int64_t> rtt() {
  return {us(100), us(250), us(500), ms(1),   ms(2),   ms(5), ms(10),
          ms(25),  ms(50),  ms(100), ms(250), ms(500), s(1),  s(5)};
}

// HeartBtInt is typically 1-60 s; late heartbeats show as the buckets beyond it.
std::vector<std::int64_t> heartbeatInterval() {
  return {ms(100), ms(500), ms(900), s(1),  ms(1100), ms(1500), s(2),  s(3),  s(5),
          s(10),   s(15),   s(20),   s(30), s(35),    s(45),    s(60), s(90), s(120)};
}

// Push on the FIX thread to applied on the core thread: microseconds when awake, ~30 us
// more after a futex wake-up.
std::vector<std::int64_t> applyDelay() {
  return {us(1),   us(2),   us(5), us(10), us(25), us(50), us(100),
          us(250), us(500), ms(1), ms(5),  ms(10), ms(100)};
}

const AtomicHistogram::Bounds& sharedRtt() {
  static const AtomicHistogram::Bounds bounds =
      std::make_shared<const std::vector<std::int64_t>>(rtt());
  return bounds;
}

const AtomicHistogram::Bounds& sharedHeartbeatInterval() {
  static const AtomicHistogram::Bounds bounds =
      std::make_shared<const std::vector<std::int64_t>>(heartbeatInterval());
  return bounds;
}
}  // namespace buckets

LinkStats::LinkStats()
    : rtt(buckets::sharedRtt()), heartbeatInterval(buckets::sharedHeartbeatInterval()) {}

MonitorStats::MonitorStats() : applyDelay(buckets::applyDelay()) {}

}  // namespace linkwatch
