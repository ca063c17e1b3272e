#include <linkwatch/shm_worker_counters.hpp>

namespace linkwatch {

void clearWorkerCounters(ShmWorkerCounters& block) noexcept {
  for (auto& row : block.refusals)
    for (auto& c : row) c.store(0, std::memory_order_relaxed);
  block.blockedAddresses.store(0, std::memory_order_relaxed);
  block.idleConnectionsClosed.store(0, std::memory_order_relaxed);
  block.progress.store(0, std::memory_order_relaxed);
}

void WorkerCounterTotals::add(const ShmWorkerCounters& block, const LinkIndex* links,
                              std::uint32_t linkCount) {
  constexpr std::size_t kReasons = ShmWorkerCounters::kReasons;
  const auto addRow = [&](std::size_t to, std::size_t from) {
    for (std::size_t r = 0; r < kReasons; ++r)
      refusals_[to * kReasons + r] += block.refusals[from][r].load(std::memory_order_relaxed);
  };
  const std::size_t local =
      linkCount < ShmWorkerCounters::kMaxLinks ? linkCount : ShmWorkerCounters::kMaxLinks;
  for (std::size_t i = 0; i < local; ++i)
    if (links[i] < linkTotal_) addRow(links[i], i);
  addRow(linkTotal_, ShmWorkerCounters::kNoMemberRow);
  blockedAddresses_ += block.blockedAddresses.load(std::memory_order_relaxed);
  idleConnectionsClosed_ += block.idleConnectionsClosed.load(std::memory_order_relaxed);
}

std::uint64_t WorkerCounterTotals::refusals(LinkIndex link, std::size_t reason) const noexcept {
  if (reason >= ShmWorkerCounters::kReasons) return 0;
  if (link != kNoLink && link >= linkTotal_) return 0;
  const std::size_t row = link == kNoLink ? linkTotal_ : link;
  return refusals_[row * ShmWorkerCounters::kReasons + reason];
}

}  // namespace linkwatch
