// Protects QuickFIX 1.15.1's acceptors from connection floods.
//
// QuickFIX waits on sockets with select(): an accepted socket numbered 1024 or above aborts
// the whole process ("bit out of range 0 - FD_SETSIZE", measured: 1,100 idle TCP connections
// to the FIX port kill linkwatch). And it never closes a connection that sends nothing, so a
// flood of idle connections would hold descriptors forever. Two defences:
//   - capDescriptorsForSelect(): the soft RLIMIT_NOFILE is lowered to FD_SETSIZE, so accept()
//     fails with EMFILE (QuickFIX drops that attempt) instead of returning a fatal number;
//   - IdleConnectionReaper: a thread that shuts down (shutdown(), never close(): the
//     descriptor stays QuickFIX's) accepted connections to the FIX ports that have not sent
//     a single byte within the timeout; QuickFIX then sees end-of-file and closes them.
// Established sessions are never touched: they have sent their Logon.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace linkwatch {

// Lowers the soft RLIMIT_NOFILE to FD_SETSIZE when it is higher. Returns the limit in force.
long capDescriptorsForSelect() noexcept;

class IdleConnectionReaper {
 public:
  // `ports`: the acceptor ports; connections idle (no byte received) longer than `timeout`
  // are shut down.
  // `guard` (may be null) counts the connections shut down.
  IdleConnectionReaper(std::set<int> ports, std::chrono::milliseconds timeout,
                       class LogonGuard* guard);
  ~IdleConnectionReaper();
  IdleConnectionReaper(const IdleConnectionReaper&) = delete;
  IdleConnectionReaper& operator=(const IdleConnectionReaper&) = delete;

  void start();
  void stop();
  // Runs one scan now (tests); returns connections shut down by it.
  int scanOnce();

  std::uint64_t closed() const noexcept { return closed_.load(std::memory_order_relaxed); }

 private:
  void run();

  const std::set<int> ports_;
  const std::chrono::milliseconds timeout_;
  LogonGuard* guard_;
  // fd -> (peer "addr:port", first seen idle): a reused descriptor has another peer.
  std::map<int, std::pair<std::string, std::chrono::steady_clock::time_point>> idle_;
  std::atomic<std::uint64_t> closed_{0};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool running_ = false;
};

}  // namespace linkwatch
