// Protects QuickFIX 1.15.1's acceptors from connection floods and from peers that never log on.
//
// QuickFIX waits on sockets with select(): an accepted socket numbered 1024 or above aborts
// the whole process ("bit out of range 0 - FD_SETSIZE", measured: 1,100 idle TCP connections
// to the FIX port kill linkwatch). It never closes a connection that sends nothing, so a
// flood of idle connections would hold descriptors forever. And until a connection's first
// message names a session, no Session (with its logon timeout) exists: QuickFIX buffers the
// bytes of an unfinished message without bound (a header announcing BodyLength=999999999,
// then a trickle), for as long as the peer keeps the connection open. Three defences:
//   - capDescriptorsForSelect(): the soft RLIMIT_NOFILE is lowered to FD_SETSIZE, so accept()
//     fails with EMFILE (QuickFIX drops that attempt) instead of returning a fatal number;
//   - IdleConnectionReaper, a thread that shuts down (shutdown(), never close(): the
//     descriptor stays QuickFIX's) accepted connections to the FIX ports that
//       * have not sent a single byte within the idle timeout (FixIdleConnectionTimeout), or
//       * have not been answered within the logon deadline (FixLogonDeadline), or have sent
//         more than kMaxBytesBeforeLogon without an answer, whatever they sent;
//     QuickFIX then sees end-of-file and closes them.
// "Answered" is the kernel's count of bytes we sent on the connection (TCP_INFO): a QuickFIX
// acceptor sends nothing before it accepts a Logon (its Logon reply is its first byte; a
// refused Logon gets a Logout and QuickFIX disconnects itself). So the reaper needs no hook in
// the FIX threads, and established sessions, which have been answered, are never touched.
// Under SocketUseSSL our TLS handshake is the first answer: there the deadline bounds a peer
// until its handshake completes (and QuickFIX asks for its client certificate first).
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
  // With a logon deadline, a connection that sent more than this unanswered is shut down at
  // the next scan, before its deadline: a Logon is a few hundred bytes, and a peer behind a
  // huge BodyLength must not fill memory at loopback speed until then.
  static constexpr std::uint64_t kMaxBytesBeforeLogon = 256 * 1024;

  // `ports`: the acceptor ports. Connections that have received nothing from their peer
  // after `idleTimeout`, or that we have not answered after `logonDeadline` (0: no bound),
  // are shut down. `guard` (may be null) counts them: idle ones with
  // noteIdleConnectionsClosed(), the others as LogonRefusal::kLogonDeadline.
  IdleConnectionReaper(std::set<int> ports, std::chrono::milliseconds idleTimeout,
                       class LogonGuard* guard,
                       std::chrono::milliseconds logonDeadline = std::chrono::milliseconds(0));
  ~IdleConnectionReaper();
  IdleConnectionReaper(const IdleConnectionReaper&) = delete;
  IdleConnectionReaper& operator=(const IdleConnectionReaper&) = delete;

  void start();
  void stop();
  // Runs one scan now (tests); returns connections shut down by it.
  int scanOnce();

  std::uint64_t closed() const noexcept { return closed_.load(std::memory_order_relaxed); }
  // Of closed(): those shut down for the logon deadline or the byte bound.
  std::uint64_t closedWithoutLogon() const noexcept {
    return closedWithoutLogon_.load(std::memory_order_relaxed);
  }

 private:
  struct Unanswered {
    std::string peer;  // "addr:port": a reused descriptor has another peer
    std::chrono::steady_clock::time_point since;
  };

  void run();

  const std::set<int> ports_;
  const std::chrono::milliseconds idleTimeout_;
  const std::chrono::milliseconds logonDeadline_;
  LogonGuard* guard_;
  // fd -> accepted connection we have not answered yet, first seen at `since`.
  std::map<int, Unanswered> unanswered_;
  std::atomic<std::uint64_t> closed_{0};
  std::atomic<std::uint64_t> closedWithoutLogon_{0};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool running_ = false;
};

}  // namespace linkwatch
