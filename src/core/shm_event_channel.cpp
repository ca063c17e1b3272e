#include <linkwatch/shm_event_channel.hpp>

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>

namespace linkwatch {
namespace {

constexpr std::size_t shardOffset() noexcept {
  return (sizeof(ShmRegionHeader) + alignof(ShmShard) - 1) / alignof(ShmShard) * alignof(ShmShard);
}

std::size_t regionBytes(std::uint32_t shardCount) noexcept {
  return shardOffset() + static_cast<std::size_t>(shardCount) * sizeof(ShmShard);
}

[[noreturn]] void throwErrno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

ShmRegion ShmRegion::create(std::uint32_t shardCount, std::uint32_t linkTotal) {
  const int fd = static_cast<int>(syscall(SYS_memfd_create, "linkwatch-fix-workers", MFD_CLOEXEC));
  if (fd < 0) throwErrno("memfd_create");
  const std::size_t bytes = regionBytes(shardCount);
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    const int saved = errno;
    close(fd);
    errno = saved;
    throwErrno("ftruncate of the shared-memory region");
  }
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    const int saved = errno;
    close(fd);
    errno = saved;
    throwErrno("mmap of the shared-memory region");
  }
  ShmRegion region(fd, base, bytes);
  auto* header = new (base) ShmRegionHeader();
  header->shardBytes = sizeof(ShmShard);
  header->shardCount = shardCount;
  header->linkTotal = linkTotal;
  for (std::uint32_t i = 0; i < shardCount; ++i)
    new (static_cast<char*>(base) + shardOffset() + i * sizeof(ShmShard)) ShmShard();
    // Last: an attacher that sees the magic sees the shards constructed. (GCC's TSan rejects
    // fences; the region is handed to the worker through exec, which orders it anyway.)
#if !defined(__SANITIZE_THREAD__)
  std::atomic_thread_fence(std::memory_order_release);
#endif
  header->magic = ShmRegionHeader::kMagic;
  return region;
}

ShmRegion ShmRegion::attach(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) throwErrno("fstat of shared-memory descriptor " + std::to_string(fd));
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size < sizeof(ShmRegionHeader))
    throw std::runtime_error("descriptor " + std::to_string(fd) + " is not a linkwatch region");
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) throwErrno("mmap of shared-memory descriptor " + std::to_string(fd));
  ShmRegion region(fd, base, size);
  const ShmRegionHeader& h = region.header();
#if !defined(__SANITIZE_THREAD__)
  std::atomic_thread_fence(std::memory_order_acquire);
#endif
  if (h.magic != ShmRegionHeader::kMagic || h.shardBytes != sizeof(ShmShard) ||
      regionBytes(h.shardCount) != size)
    throw std::runtime_error("descriptor " + std::to_string(fd) +
                             " is not a region of this linkwatch build");
  return region;
}

ShmRegion::ShmRegion(ShmRegion&& other) noexcept
    : fd_(other.fd_), base_(other.base_), bytes_(other.bytes_) {
  other.fd_ = -1;
  other.base_ = nullptr;
  other.bytes_ = 0;
}

ShmRegion& ShmRegion::operator=(ShmRegion&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    base_ = other.base_;
    bytes_ = other.bytes_;
    other.fd_ = -1;
    other.base_ = nullptr;
    other.bytes_ = 0;
  }
  return *this;
}

ShmRegion::~ShmRegion() { release(); }

void ShmRegion::release() noexcept {
  if (base_ != nullptr) munmap(base_, bytes_);
  if (fd_ >= 0) close(fd_);
  base_ = nullptr;
  fd_ = -1;
}

ShmShard& ShmRegion::shard(std::uint32_t i) const noexcept {
  return *reinterpret_cast<ShmShard*>(static_cast<char*>(base_) + shardOffset() +
                                      static_cast<std::size_t>(i) * sizeof(ShmShard));
}

std::size_t shmPushEvents(ShmShard& shard, const SessionEvent* events, std::size_t count) noexcept {
  return shard.events.push(events, count);
}

void shmWakeCore(ShmRegionHeader& header) noexcept {
  // Pairs with EventHub::waitForEvents: it sets the word, then re-checks every source; we
  // pushed, then read the word. A full barrier on each side: one of us sees the other.
#if defined(__SANITIZE_THREAD__)
  // TSan models no fences: a sequentially consistent RMW on the word gives the same order.
  const bool asleep = header.coreSleeping.fetch_add(0, std::memory_order_seq_cst) != 0;
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const bool asleep = header.coreSleeping.load(std::memory_order_relaxed) != 0;
#endif
  if (asleep && header.coreSleeping.exchange(0, std::memory_order_acq_rel) != 0) {
    // Not FUTEX_PRIVATE: the word is in memory shared with another process.
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&header.coreSleeping), FUTEX_WAKE, 1,
            nullptr, nullptr, 0);
  }
}

}  // namespace linkwatch
