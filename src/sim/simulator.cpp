#include "sim/simulator.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <set>
#include <stdexcept>
#include <system_error>

namespace linkwatch::sim {
namespace {

// epoll_data.u64 = tag << 32 | value: members by index, control clients by fd.
constexpr std::uint64_t kTagMember = 1;
constexpr std::uint64_t kTagWake = 2;
constexpr std::uint64_t kTagControlListen = 3;
constexpr std::uint64_t kTagControlClient = 4;

constexpr int kMaxEvents = 512;
constexpr std::size_t kReadBufferSize = 64 * 1024;
constexpr std::size_t kMaxControlLine = 4096;
// Wake at least this often even with nothing scheduled, to notice stop requests cheaply.
constexpr int kMaxWaitMs = 1000;

std::uint64_t tagged(std::uint64_t tag, std::uint64_t value) noexcept { return tag << 32 | value; }

[[noreturn]] void throwErrno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void raiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);  // best effort: the members report EMFILE otherwise
  }
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view nextWord(std::string_view& rest) noexcept {
  rest = trim(rest);
  const std::size_t end = rest.find_first_of(" \t");
  const std::string_view word = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  return word;
}

double unitInterval(std::mt19937_64& rng) noexcept {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

std::int64_t uniformInt(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) noexcept {
  const auto span = static_cast<std::uint64_t>(hi - lo + 1);
  return lo + static_cast<std::int64_t>(rng() % span);
}

std::int64_t scaled(std::int64_t base, double lo, double hi, std::mt19937_64& rng) noexcept {
  return static_cast<std::int64_t>(static_cast<double>(base) *
                                   (lo + (hi - lo) * unitInterval(rng)));
}

}  // namespace

std::vector<SimMemberConfig> membersFromMonitorConfig(const MonitorConfig& config,
                                                      const std::vector<std::string>& onlyMembers,
                                                      std::vector<std::string>* skipped) {
  std::set<std::string> wanted(onlyMembers.begin(), onlyMembers.end());
  std::set<std::string> known;
  for (const LinkConfig& link : config.links) known.insert(link.memberId);
  std::string unknown;
  for (const std::string& name : wanted) {
    if (known.count(name) == 0) unknown += (unknown.empty() ? "'" : ", '") + name + "'";
  }
  if (!unknown.empty()) {
    throw std::invalid_argument("unknown member " + unknown + " (not a MemberId in " +
                                (config.file.empty() ? std::string("the config") : config.file) +
                                ")");
  }
  std::vector<SimMemberConfig> members;
  for (const LinkConfig& link : config.links) {
    if (!wanted.empty() && wanted.count(link.memberId) == 0) continue;
    try {
      members.push_back(memberConfigFromLink(link));
    } catch (const std::invalid_argument& e) {
      if (skipped) skipped->push_back(e.what());
    }
  }
  return members;
}

FaultSchedule::FaultSchedule(FaultScheduleConfig config,
                             std::vector<std::pair<std::string, int>> members)
    : config_(std::move(config)), rng_(config_.seed) {
  if (config_.members.empty()) {
    members_ = std::move(members);
  } else {
    for (const std::string& name : config_.members) {
      const auto it = std::find_if(members.begin(), members.end(),
                                   [&](const auto& m) { return m.first == name; });
      if (it == members.end()) {
        throw std::invalid_argument("fault schedule: unknown member '" + name + "'");
      }
      members_.push_back(*it);
    }
  }
  if (members_.empty()) throw std::invalid_argument("fault schedule: no members to fault");
  kinds_ = config_.kinds;
  if (kinds_.empty()) kinds_.assign(kAllFaultKinds.begin(), kAllFaultKinds.end());
  if (config_.meanInterval.count() <= 0) {
    throw std::invalid_argument("fault schedule: the mean interval must be positive");
  }
}

FaultSchedule::Item FaultSchedule::next() {
  Item item;
  const double mean = static_cast<double>(config_.meanInterval.count()) * 1e6;
  item.delay = static_cast<Nanos>(-mean * std::log(1.0 - unitInterval(rng_)));
  const auto& member = members_[static_cast<std::size_t>(
      uniformInt(rng_, 0, static_cast<std::int64_t>(members_.size()) - 1))];
  item.memberId = member.first;
  const std::int64_t hbMs = std::int64_t{1000} * (member.second > 0 ? member.second : 30);
  Fault& f = item.fault;
  f.kind = kinds_[static_cast<std::size_t>(
      uniformInt(rng_, 0, static_cast<std::int64_t>(kinds_.size()) - 1))];
  switch (f.kind) {
    case FaultKind::kSilence:
      // QuickFIX disconnects after 2.4 HeartBtInt (whole seconds, ~1 s poll): outlast it.
      f.durationMs = scaled(hbMs, 3.5, 6.0, rng_);
      break;
    case FaultKind::kClose:
    case FaultKind::kReset:
    case FaultKind::kLogout:
      break;
    case FaultKind::kSkipSeq:
      f.amount = uniformInt(rng_, 1, 10);
      break;
    case FaultKind::kLateHeartbeats:
      // Beyond the monitor's default grace (20 % of HeartBtInt), short of a TestRequest.
      f.amount = std::max<std::int64_t>(1, scaled(hbMs, 0.3, 0.8, rng_));
      f.durationMs = scaled(hbMs, 5.0, 10.0, rng_);
      break;
    case FaultKind::kGarbage:
      f.amount = uniformInt(rng_, 16, 128);
      break;
    case FaultKind::kReconnectStorm:
      f.amount = uniformInt(rng_, 2, 5);
      break;
    case FaultKind::kIgnoreTestRequests:
      f.durationMs = scaled(hbMs, 4.0, 8.0, rng_);
      break;
  }
  return item;
}

const Clock& Simulator::defaultClock() {
  static const SystemClock clock;
  return clock;
}

Simulator::Simulator(std::vector<SimMemberConfig> members, SimulatorOptions options,
                     const Clock& clock)
    : clock_(clock),
      options_(std::move(options)),
      rng_(options_.seed),
      readBuffer_(kReadBufferSize) {
  members_.reserve(members.size());
  std::vector<std::pair<std::string, int>> scheduleMembers;
  for (SimMemberConfig& config : members) {
    const auto index = static_cast<std::uint32_t>(members_.size());
    if (!index_.emplace(config.memberId, index).second) {
      throw std::invalid_argument("duplicate member id '" + config.memberId + "'");
    }
    scheduleMembers.emplace_back(config.memberId, config.heartBtIntSeconds);
    members_.push_back(std::make_unique<SimMember>(index, std::move(config),
                                                   static_cast<MemberHost&>(*this), clock_));
  }
  scheduledAt_.assign(members_.size(), SimMember::kNever);
  if (options_.schedule) schedule_.emplace(*options_.schedule, std::move(scheduleMembers));
  // Both descriptors live as long as the Simulator, so that inject() from any thread can
  // always write the eventfd.
  epollFd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epollFd_ < 0) throwErrno("epoll_create1");
  wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakeFd_ < 0) {
    const int err = errno;
    ::close(epollFd_);
    throw std::system_error(err, std::generic_category(), "eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tagged(kTagWake, 0);
  epoll_ctl(epollFd_, EPOLL_CTL_ADD, wakeFd_, &ev);
}

Simulator::~Simulator() {
  stop();
  // Members close their sockets in their destructors; the loop is gone by now.
  members_.clear();
  ::close(wakeFd_);
  ::close(epollFd_);
}

void Simulator::start() {
  if (running()) return;
  raiseFileLimit();
  {
    std::lock_guard lock(membersMutex_);
    const Nanos now = clock_.monotonic();
    const Nanos spacing =
        options_.connectsPerSecond > 0 ? kNanosPerSecond / options_.connectsPerSecond : 0;
    for (std::uint32_t i = 0; i < members_.size(); ++i) {
      members_[i]->start(now + static_cast<Nanos>(i) * spacing);
      reschedule(i);
    }
    if (schedule_) {
      pendingFault_ = schedule_->next();
      nextScheduledFaultAt_ = now + pendingFault_->delay;
    }
  }
  stopRequested_.store(false, std::memory_order_release);
  running_.store(true, std::memory_order_release);
  thread_ = std::thread([this] { run(); });
}

void Simulator::stop() {
  if (!thread_.joinable()) return;
  stopRequested_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wakeFd_, &one, sizeof(one));
  thread_.join();
  for (auto& [fd, client] : controlClients_) ::close(fd);
  controlClients_.clear();
  if (controlFd_ >= 0) {
    epoll_ctl(epollFd_, EPOLL_CTL_DEL, controlFd_, nullptr);
    ::close(controlFd_);
  }
  controlFd_ = -1;
  running_.store(false, std::memory_order_release);
}

std::optional<std::uint32_t> Simulator::findMember(std::string_view memberId,
                                                   std::string* error) const {
  const auto it = index_.find(std::string(memberId));
  if (it == index_.end()) {
    if (error) *error = "unknown member '" + std::string(memberId) + "'";
    return std::nullopt;
  }
  return it->second;
}

bool Simulator::inject(std::string_view memberId, const Fault& fault, std::string* error) {
  const auto i = findMember(memberId, error);
  if (!i) return false;
  post([this, i = *i, fault] {
    members_[i]->inject(fault, clock_.monotonic());
    reschedule(i);
  });
  return true;
}

bool Simulator::logout(std::string_view memberId, std::string text, std::string* error) {
  const auto i = findMember(memberId, error);
  if (!i) return false;
  post([this, i = *i, text = std::move(text)]() mutable {
    members_[i]->initiateLogout(std::move(text), clock_.monotonic());
    reschedule(i);
  });
  return true;
}

bool Simulator::sendApplication(std::string_view memberId, int count, std::string* error) {
  const auto i = findMember(memberId, error);
  if (!i) return false;
  post([this, i = *i, count] {
    members_[i]->sendApplication(count, clock_.monotonic());
    reschedule(i);
  });
  return true;
}

std::vector<SimMemberSnapshot> Simulator::snapshot() const {
  std::lock_guard lock(membersMutex_);
  const Nanos now = clock_.monotonic();
  std::vector<SimMemberSnapshot> out;
  out.reserve(members_.size());
  for (const auto& m : members_) out.push_back(m->snapshot(now));
  return out;
}

std::vector<SimRecordEntry> Simulator::record() const {
  std::lock_guard lock(recordMutex_);
  return {record_.begin(), record_.end()};
}

std::vector<SimRecordEntry> Simulator::lastRecords(SimAction action, std::size_t count) const {
  std::vector<SimRecordEntry> out;
  std::lock_guard lock(recordMutex_);
  for (auto e = record_.rbegin(); e != record_.rend() && out.size() < count; ++e)
    if (e->action == action) out.push_back(*e);
  std::reverse(out.begin(), out.end());
  return out;
}

std::uint64_t Simulator::recordDropped() const {
  std::lock_guard lock(recordMutex_);
  return recordSequence_ - record_.size();
}

void Simulator::post(std::function<void()> command) {
  {
    std::lock_guard lock(commandsMutex_);
    commands_.push_back(std::move(command));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wakeFd_, &one, sizeof(one));
}

void Simulator::drainCommands() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(commandsMutex_);
    batch.swap(commands_);
  }
  for (auto& command : batch) command();
}

// MemberHost -------------------------------------------------------------------------------

void Simulator::watch(int fd, std::uint32_t member, bool wantWrite) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (wantWrite ? EPOLLOUT : 0U);
  ev.data.u64 = tagged(kTagMember, member);
  if (epoll_ctl(epollFd_, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT) {
    epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev);
  }
}

void Simulator::unwatch(int fd) { epoll_ctl(epollFd_, EPOLL_CTL_DEL, fd, nullptr); }

void Simulator::record(std::uint32_t member, SimAction action, std::string detail) {
  SimRecordEntry entry;
  entry.monotonic = clock_.monotonic();
  entry.wall = clock_.wall();
  entry.memberId = members_[member]->config().memberId;
  entry.action = action;
  entry.detail = std::move(detail);
  std::lock_guard lock(recordMutex_);
  entry.sequence = recordSequence_++;
  record_.push_back(std::move(entry));
  while (record_.size() > options_.recordCapacity) record_.pop_front();
}

void Simulator::loggedOnChanged(int delta) {
  loggedOn_.fetch_add(delta, std::memory_order_relaxed);
}

std::uint64_t Simulator::random() { return rng_(); }

std::span<char> Simulator::readBuffer() { return readBuffer_; }

// The loop ---------------------------------------------------------------------------------

void Simulator::reschedule(std::uint32_t member) {
  const Nanos at = members_[member]->nextWakeup();
  if (at < scheduledAt_[member]) {
    scheduledAt_[member] = at;
    heap_.push_back({at, member});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>{});
  }
}

void Simulator::runTimers(Nanos now) {
  while (!heap_.empty() && heap_.front().at <= now) {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>{});
    const TimerEntry entry = heap_.back();
    heap_.pop_back();
    if (scheduledAt_[entry.member] != entry.at) continue;  // superseded by an earlier entry
    scheduledAt_[entry.member] = SimMember::kNever;
    SimMember& m = *members_[entry.member];
    // The member acts at the time it actually does, not at the start of this pass: with
    // thousands of members a pass takes milliseconds, and members that all sent a Heartbeat
    // "at the pass's start" would all be due again together. Every Heartbeat would then
    // gather into one burst a HeartBtInt, a load no real membership makes (measured at 5,000
    // members: passes of 30-440 ms, with control commands waiting behind them).
    const Nanos memberNow = clock_.monotonic();
    m.onTimer(memberNow);
    Nanos at = m.nextWakeup();
    // A deadline the member did not act on must not spin the loop.
    if (at <= memberNow) at = memberNow + kNanosPerMilli;
    if (at != SimMember::kNever) {
      scheduledAt_[entry.member] = at;
      heap_.push_back({at, entry.member});
      std::push_heap(heap_.begin(), heap_.end(), std::greater<>{});
    }
  }
}

void Simulator::runSchedule(Nanos now) {
  while (pendingFault_ && nextScheduledFaultAt_ <= now) {
    const auto it = index_.find(pendingFault_->memberId);
    if (it != index_.end()) {
      members_[it->second]->inject(pendingFault_->fault, now);
      reschedule(it->second);
    }
    pendingFault_ = schedule_->next();
    nextScheduledFaultAt_ += pendingFault_->delay;
  }
}

void Simulator::run() {
  std::vector<epoll_event> events(kMaxEvents);
  std::vector<epoll_event> controlEvents;
  while (!stopRequested_.load(std::memory_order_acquire)) {
    int timeoutMs = kMaxWaitMs;
    {
      std::lock_guard lock(membersMutex_);
      Nanos next =
          std::min(heap_.empty() ? SimMember::kNever : heap_.front().at, nextScheduledFaultAt_);
      if (next != SimMember::kNever) {
        const Nanos wait = next - clock_.monotonic();
        // Round up: waking a little early would only go round the loop for nothing.
        const Nanos ms = wait <= 0 ? 0 : (wait + kNanosPerMilli - 1) / kNanosPerMilli;
        timeoutMs = static_cast<int>(std::min<Nanos>(ms, kMaxWaitMs));
      }
    }
    const int n = epoll_wait(epollFd_, events.data(), kMaxEvents, timeoutMs);
    if (n < 0 && errno != EINTR) break;
    controlEvents.clear();
    {
      std::lock_guard lock(membersMutex_);
      const Nanos now = clock_.monotonic();
      for (int i = 0; i < n; ++i) {
        const epoll_event& ev = events[static_cast<std::size_t>(i)];
        const std::uint64_t tag = ev.data.u64 >> 32;
        const auto value = static_cast<std::uint32_t>(ev.data.u64 & 0xffffffffU);
        if (tag == kTagMember) {
          // Each member's own time, as in runTimers: what it sends now sets when it is due.
          const Nanos memberNow = clock_.monotonic();
          SimMember& m = *members_[value];
          if ((ev.events & EPOLLOUT) != 0) m.onWritable(memberNow);
          if ((ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0)
            m.onReadable(memberNow);
          reschedule(value);
        } else if (tag == kTagWake) {
          std::uint64_t count = 0;
          [[maybe_unused]] const ssize_t r = ::read(wakeFd_, &count, sizeof(count));
        } else {
          controlEvents.push_back(ev);
        }
      }
      drainCommands();
      runTimers(now);
      runSchedule(now);
    }
    // Control lines may take snapshots, which lock the members: handle them unlocked.
    for (const epoll_event& ev : controlEvents) {
      const std::uint64_t tag = ev.data.u64 >> 32;
      if (tag == kTagControlListen) {
        acceptControl(static_cast<int>(ev.data.u64 & 0xffffffffU));
      } else if (tag == kTagControlClient) {
        onControlEvent(static_cast<int>(ev.data.u64 & 0xffffffffU), ev.events);
      }
    }
  }
  std::lock_guard lock(membersMutex_);
  drainCommands();
  const Nanos now = clock_.monotonic();
  for (auto& m : members_) m->stop(now);
  heap_.clear();
  std::fill(scheduledAt_.begin(), scheduledAt_.end(), SimMember::kNever);
}

// Control channel ----------------------------------------------------------------------------

std::uint16_t Simulator::startControl(const std::string& host, std::uint16_t port) {
  if (!running()) throw std::logic_error("Simulator::startControl before start()");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  const std::string name = host.empty() ? "127.0.0.1" : host;
  if (inet_pton(AF_INET, name.c_str(), &addr.sin_addr) != 1) {
    throw std::invalid_argument("control address '" + name + "' is not an IPv4 address");
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throwErrno("socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd, 16) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::system_error(err, std::generic_category(),
                            "control channel on " + name + ":" + std::to_string(port));
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (controlFd_ >= 0) {
    epoll_ctl(epollFd_, EPOLL_CTL_DEL, controlFd_, nullptr);
    ::close(controlFd_);
  }
  controlFd_ = fd;
  // The loop takes the fd from the event, never from controlFd_ (owned by this thread).
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tagged(kTagControlListen, static_cast<std::uint32_t>(fd));
  if (epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev) != 0) throwErrno("epoll_ctl(control)");
  return ntohs(addr.sin_port);
}

void Simulator::acceptControl(int listenFd) {
  for (;;) {
    const int fd = ::accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = tagged(kTagControlClient, static_cast<std::uint32_t>(fd));
    if (epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      continue;
    }
    controlClients_[fd] = ControlClient{};
  }
}

void Simulator::closeControlClient(int fd) {
  epoll_ctl(epollFd_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  controlClients_.erase(fd);
}

void Simulator::onControlEvent(int fd, std::uint32_t events) {
  const auto it = controlClients_.find(fd);
  if (it == controlClients_.end()) return;
  ControlClient& client = it->second;
  bool peerClosed = false;
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n > 0) {
        client.in.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) peerClosed = true;
      break;
    }
    std::size_t newline;
    while (!client.closing && (newline = client.in.find('\n')) != std::string::npos) {
      const std::string line = client.in.substr(0, newline);
      client.in.erase(0, newline + 1);
      if (trim(line) == "quit") {
        client.out += "ok bye\n";
        client.closing = true;
        break;
      }
      client.out += handleControlLine(line);
    }
    if (client.in.size() > kMaxControlLine) {
      client.out += "error line too long\n";
      client.closing = true;
    }
  }
  while (!client.out.empty()) {
    const ssize_t n = ::send(fd, client.out.data(), client.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      client.out.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    peerClosed = true;
    break;
  }
  if (peerClosed || (client.closing && client.out.empty())) {
    closeControlClient(fd);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (client.out.empty() ? 0U : EPOLLOUT);
  ev.data.u64 = tagged(kTagControlClient, static_cast<std::uint32_t>(fd));
  epoll_ctl(epollFd_, EPOLL_CTL_MOD, fd, &ev);
}

namespace {

// COUNT arguments of control commands: a whole number from 1 to 100,000.
bool parseCount(std::string_view text, int& count) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
  return ec == std::errc{} && end == text.data() + text.size() && count >= 1 && count <= 100000;
}

std::string badCount(std::string_view text) {
  return "error COUNT must be a whole number from 1 to 100000, got '" + std::string(text) + "'\n";
}

}  // namespace

std::string Simulator::handleControlLine(std::string_view line) {
  std::string_view rest = trim(line);
  const std::string_view command = nextWord(rest);
  if (command.empty()) return "error empty command (try help)\n";
  if (command == "help") {
    return "fault MEMBER SPEC  inject a fault, SPEC one of: " + faultSyntaxHelp() +
           "\nlogout MEMBER [TEXT]  the member logs out (and reconnects after its delay)"
           "\napp MEMBER [COUNT]    the member sends COUNT (default 1) News messages"
           "\nfaults [COUNT]     the last COUNT (default 100) faults injected, oldest first:"
           " UNIX_TIME MEMBER SPEC"
           "\nstatus             one line per member\nhelp               this text\n"
           "quit               close this connection\nok\n";
  }
  if (command == "status") {
    std::string text;
    std::size_t loggedOn = 0;
    for (const SimMemberSnapshot& s : snapshot()) {
      if (s.loggedOn) ++loggedOn;
      std::uint64_t faults = 0;
      for (std::uint64_t f : s.counters.faults) faults += f;
      text +=
          s.memberId + " " + std::string(toString(s.state)) +
          " seq_out=" + std::to_string(s.nextSenderSeq) +
          " seq_in=" + std::to_string(s.nextTargetSeq) +
          " logons=" + std::to_string(s.counters.logons) +
          " disconnects=" + std::to_string(s.counters.disconnects) +
          " faults=" + std::to_string(faults) +
          (s.profile != SimProfile::kWellBehaved ? " profile=" + std::string(toString(s.profile))
                                                 : std::string()) +
          (s.silent ? " silent" : "") + (s.lateHeartbeats ? " late_heartbeats" : "") +
          (s.ignoringTestRequests ? " ignoring_test_requests" : "") + "\n";
    }
    return text + "ok " + std::to_string(memberCount()) + " members, " + std::to_string(loggedOn) +
           " logged on\n";
  }
  if (command == "fault") {
    const std::string_view member = nextWord(rest);
    const std::string_view spec = trim(rest);
    if (member.empty() || spec.empty()) return "error usage: fault MEMBER SPEC\n";
    std::string error;
    const auto fault = parseFault(spec, &error);
    if (!fault) return "error " + error + "\n";
    if (!inject(member, *fault, &error)) return "error " + error + "\n";
    return "ok\n";
  }
  if (command == "logout") {
    const std::string_view member = nextWord(rest);
    const std::string_view text = trim(rest);
    if (member.empty()) return "error usage: logout MEMBER [TEXT]\n";
    std::string error;
    if (!logout(member, text.empty() ? "logout requested" : std::string(text), &error)) {
      return "error " + error + "\n";
    }
    return "ok\n";
  }
  if (command == "app") {
    const std::string_view member = nextWord(rest);
    const std::string_view countText = nextWord(rest);
    if (member.empty() || !trim(rest).empty()) return "error usage: app MEMBER [COUNT]\n";
    int count = 1;
    if (!countText.empty() && !parseCount(countText, count)) return badCount(countText);
    std::string error;
    if (!sendApplication(member, count, &error)) return "error " + error + "\n";
    return "ok\n";
  }
  if (command == "faults") {
    // When each fault was injected, to the nanosecond: what a benchmark measures a
    // monitor's reaction from, since the fault command itself only queues the fault.
    const std::string_view countText = nextWord(rest);
    if (!trim(rest).empty()) return "error usage: faults [COUNT]\n";
    int count = 100;
    if (!countText.empty() && !parseCount(countText, count)) return badCount(countText);
    // This runs on the members' loop: read the record's tail, never copy all of it.
    const std::vector<SimRecordEntry> injected =
        lastRecords(SimAction::kFaultInjected, static_cast<std::size_t>(count));
    std::string text;
    for (const SimRecordEntry& e : injected) {
      char wall[32];
      std::snprintf(wall, sizeof wall, "%lld.%09lld",
                    static_cast<long long>(e.wall / kNanosPerSecond),
                    static_cast<long long>(e.wall % kNanosPerSecond));
      text += std::string(wall) + " " + e.memberId + " " + e.detail + "\n";
    }
    return text + "ok " + std::to_string(injected.size()) + " faults\n";
  }
  return "error unknown command '" + std::string(command) + "' (try help)\n";
}

// linkwatch simulate ------------------------------------------------------------------------

int runSimulateCommand(const SimulateOptions& options) {
  std::vector<SimMemberConfig> members;
  std::vector<std::string> skipped;
  try {
    members = membersFromMonitorConfig(options.config, options.members, &skipped);
  } catch (const std::invalid_argument& e) {
    std::cerr << "linkwatch simulate: " << e.what() << "\n";
    return 2;
  }
  for (const std::string& why : skipped)
    std::cerr << "linkwatch simulate: skipping " << why << "\n";
  for (SimMemberConfig& m : members) m.profile = options.profile;
  if (members.empty()) {
    std::cerr << "linkwatch simulate: no monitor acceptor session to play in "
              << options.config.file << "\n";
    return 2;
  }

  SimulatorOptions simOptions;
  simOptions.seed = options.seed;
  simOptions.connectsPerSecond = options.connectsPerSecond;
  if (options.faultSchedule) {
    FaultScheduleConfig schedule;
    schedule.seed = options.seed;
    schedule.meanInterval = options.meanFaultInterval;
    schedule.kinds = options.faultKinds;
    simOptions.schedule = schedule;
  }

  // Signals are taken synchronously by this thread: block them before the loop thread
  // starts so that it inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  struct RestoreMask {
    sigset_t mask;
    ~RestoreMask() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
  } restore{previous};

  if (options.controlPort > 65535) {
    std::cerr << "linkwatch simulate: control port " << options.controlPort
              << " is not a TCP port (0-65535)\n";
    return 2;
  }
  std::optional<Simulator> sim;
  try {
    sim.emplace(std::move(members), simOptions);
    sim->start();
    if (options.controlPort >= 0) {
      const std::uint16_t port =
          sim->startControl(options.controlHost, static_cast<std::uint16_t>(options.controlPort));
      std::cout << "control channel on " << options.controlHost << ":" << port
                << " (try: echo help | nc " << options.controlHost << " " << port << ")\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "linkwatch simulate: " << e.what() << "\n";
    return 2;
  }
  std::cout << "simulating " << sim->memberCount() << " members"
            << (options.profile != SimProfile::kWellBehaved
                    ? " (profile " + std::string(toString(options.profile)) + ": " +
                          std::string(describe(options.profile)) + ")"
                    : std::string())
            << (options.faultSchedule
                    ? ", random faults every " + std::to_string(options.meanFaultInterval.count()) +
                          " ms on average (seed " + std::to_string(options.seed) + ")"
                    : std::string())
            << "\n"
            << std::flush;

  auto printStatus = [&](Nanos elapsed) {
    std::uint64_t logons = 0, disconnects = 0, faults = 0, gapFills = 0;
    for (const SimMemberSnapshot& s : sim->snapshot()) {
      logons += s.counters.logons;
      disconnects += s.counters.disconnects;
      gapFills += s.counters.gapFillsSent;
      for (std::uint64_t f : s.counters.faults) faults += f;
    }
    std::cout << "t=" << elapsed / kNanosPerSecond << "s members=" << sim->memberCount()
              << " logged_on=" << sim->loggedOnCount() << " logons=" << logons
              << " disconnects=" << disconnects << " faults=" << faults << " gap_fills=" << gapFills
              << "\n"
              << std::flush;
  };

  const Nanos started = monotonicNow();
  const Nanos end = options.duration.count() > 0
                        ? started + static_cast<Nanos>(options.duration.count()) * kNanosPerSecond
                        : SimMember::kNever;
  const Nanos statusEvery = static_cast<Nanos>(options.statusInterval.count()) * kNanosPerSecond;
  Nanos nextStatus = statusEvery > 0 ? started + statusEvery : SimMember::kNever;
  for (;;) {
    const Nanos now = monotonicNow();
    if (now >= end) break;
    if (now >= nextStatus) {
      printStatus(now - started);
      nextStatus += statusEvery;
      continue;
    }
    const Nanos wait = std::min(end, nextStatus) - now;
    const Nanos capped = std::min<Nanos>(wait, 3600 * kNanosPerSecond);
    timespec timeout{static_cast<time_t>(capped / kNanosPerSecond),
                     static_cast<long>(capped % kNanosPerSecond)};
    const int sig = sigtimedwait(&signals, nullptr, &timeout);
    if (sig == SIGINT || sig == SIGTERM) {
      std::cout << "stopping (" << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ")\n";
      break;
    }
  }
  printStatus(monotonicNow() - started);
  sim->stop();
  // The simulator's own account of every member once all is closed, for checks such as
  // scripts/soak: a stopped member's connection counts as a disconnect.
  for (const SimMemberSnapshot& s : sim->snapshot())
    std::cout << "final " << s.memberId << " logons=" << s.counters.logons
              << " disconnects=" << s.counters.disconnects
              << " logons_refused=" << s.counters.logonsRefused << "\n";
  std::cout << std::flush;
  return 0;
}

}  // namespace linkwatch::sim
