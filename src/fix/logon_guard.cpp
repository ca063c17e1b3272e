#include "fix/logon_guard.hpp"

#include <cstdio>

#include <linkwatch/clock.hpp>

namespace linkwatch {

const char* toString(LogonRefusal r) noexcept {
  switch (r) {
    case LogonRefusal::kSourceAddress:
      return "source_address";
    case LogonRefusal::kPeerUnknown:
      return "peer_unknown";
    case LogonRefusal::kMissingCredentials:
      return "missing_credentials";
    case LogonRefusal::kBadCredentials:
      return "bad_credentials";
    case LogonRefusal::kRateLimited:
      return "rate_limited";
    case LogonRefusal::kTlsHandshake:
      return "tls_handshake";
    case LogonRefusal::kLogonDeadline:
      return "logon_deadline";
  }
  return "unknown";
}

LogonGuard::LogonGuard(LogonGuardOptions options)
    : options_(std::move(options)), counters_(new Counters[options_.links.size() + 1]) {
  for (std::size_t i = 0; i <= options_.links.size(); ++i)
    for (auto& c : counters_[i]) c.store(0, std::memory_order_relaxed);
  credentials_.resize(options_.links.size(), nullptr);
  if (options_.secrets)
    for (std::size_t i = 0; i < options_.links.size(); ++i)
      credentials_[i] = options_.secrets->fixCredential(options_.links[i].memberId);
}

bool LogonGuard::guards(LinkIndex link) const noexcept { return link < options_.links.size(); }

bool LogonGuard::needsPeerAddress(LinkIndex link) const noexcept {
  // The per-address limit needs the peer of every Logon, not only of address-checked ones.
  return guards(link);
}

bool LogonGuard::check(LinkIndex link, const IpAddress* peer, const std::string* username,
                       const std::string* password, LogonRefusal& why) {
  if (!guards(link)) return true;
  const auto now = std::chrono::steady_clock::now();
  if (peer != nullptr) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (isBlocked(peer->toString(), now)) {
      why = LogonRefusal::kRateLimited;
      counters_[link][static_cast<std::size_t>(why)].fetch_add(1, std::memory_order_relaxed);
      if (observer_ != nullptr) observer_->refusalCounted(link, why);
      return false;  // counted, not logged: the block itself was logged once
    }
  }
  const LogonRuleSpec& rule = options_.links[link];
  bool ok = true;
  if (!rule.allowedSources.empty()) {
    if (peer == nullptr) {
      why = LogonRefusal::kPeerUnknown;
      ok = false;
    } else {
      bool inside = false;
      for (const CidrRange& r : rule.allowedSources) inside = inside || r.contains(*peer);
      if (!inside) {
        why = LogonRefusal::kSourceAddress;
        ok = false;
      }
    }
  }
  if (ok && credentials_[link] != nullptr) {
    const FixCredential& c = *credentials_[link];
    if (username == nullptr || password == nullptr) {
      why = LogonRefusal::kMissingCredentials;
      ok = false;
    } else {
      // Both compared every time: which of the two was wrong is not told, by text or timing.
      const bool userOk = constantTimeEquals(c.username, *username);
      const bool passwordOk = constantTimeEquals(c.password, *password);
      if (!(userOk && passwordOk)) {
        why = LogonRefusal::kBadCredentials;
        ok = false;
      }
    }
  }
  if (!ok) refuse(link, peer, why);
  return ok;
}

void LogonGuard::recordRefusal(LinkIndex link, const IpAddress* peer, LogonRefusal why) {
  if (link != kNoLink && link >= options_.links.size()) link = kNoLink;
  refuse(link, peer, why);
}

bool LogonGuard::isBlocked(const std::string& address, std::chrono::steady_clock::time_point now) {
  auto it = addresses_.find(address);
  return it != addresses_.end() && now < it->second.blockedUntil;
}

void LogonGuard::refuse(LinkIndex link, const IpAddress* peer, LogonRefusal why) {
  const std::size_t row = link == kNoLink ? options_.links.size() : link;
  counters_[row][static_cast<std::size_t>(why)].fetch_add(1, std::memory_order_relaxed);
  if (observer_ != nullptr) observer_->refusalCounted(link, why);

  const auto now = std::chrono::steady_clock::now();
  const std::string address = peer != nullptr ? peer->toString() : std::string();
  const char* member = link == kNoLink ? "-" : options_.links[link].memberId.c_str();
  bool log = true;
  bool nowBlocked = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    LogonRefusalRecord record;
    record.wallNs = wallFromMonotonic(monotonicNow());
    record.link = link;
    record.reason = why;
    record.address = address;
    recent_.push_back(std::move(record));
    if (recent_.size() > kRecentRefusals) recent_.pop_front();

    if (!address.empty()) {
      if (addresses_.find(address) == addresses_.end() && addresses_.size() >= kMaxTrackedAddresses)
        evictOldest();
      AddressHistory& h = addresses_[address];
      h.lastSeen = now;
      if (now < h.blockedUntil) {
        log = false;  // already blocked and logged
      } else {
        while (!h.refusals.empty() && now - h.refusals.front() > options_.failureWindow)
          h.refusals.pop_front();
        h.refusals.push_back(now);
        if (static_cast<int>(h.refusals.size()) >= options_.failureLimit) {
          h.blockedUntil = now + options_.blockDuration;
          h.refusals.clear();
          nowBlocked = true;
          blocked_.fetch_add(1, std::memory_order_relaxed);
          if (observer_ != nullptr) observer_->addressBlocked();
        }
      }
    }
  }
  if (log) {
    // One line per refusal until the address is blocked; never a credential.
    std::fprintf(stderr, "linkwatch: logon refused: member %s%s%s from %s: %s\n", member,
                 link == kNoLink ? "" : " session ",
                 link == kNoLink ? "" : options_.links[link].sessionKey.c_str(),
                 address.empty() ? "an unknown address" : address.c_str(), toString(why));
  }
  if (nowBlocked) {
    std::fprintf(stderr,
                 "linkwatch: logon refused: %s blocked for %lld ms after %d refused logons "
                 "within %lld ms; its logons are refused unchecked until then\n",
                 address.c_str(), static_cast<long long>(options_.blockDuration.count()),
                 options_.failureLimit, static_cast<long long>(options_.failureWindow.count()));
  }
}

void LogonGuard::evictOldest() {
  // Bounded memory under a flood from many addresses: forget the least recently seen one
  // that is not blocked (or, failing that, the least recently seen).
  auto victim = addresses_.end();
  const auto now = std::chrono::steady_clock::now();
  for (auto it = addresses_.begin(); it != addresses_.end(); ++it) {
    const bool blocked = now < it->second.blockedUntil;
    if (victim == addresses_.end()) {
      victim = it;
      continue;
    }
    const bool victimBlocked = now < victim->second.blockedUntil;
    if ((victimBlocked && !blocked) ||
        (victimBlocked == blocked && it->second.lastSeen < victim->second.lastSeen))
      victim = it;
  }
  if (victim != addresses_.end()) addresses_.erase(victim);
}

std::uint64_t LogonGuard::refusals(LinkIndex link, LogonRefusal why) const noexcept {
  const std::size_t row = link == kNoLink ? options_.links.size() : link;
  if (row > options_.links.size()) return 0;
  return counters_[row][static_cast<std::size_t>(why)].load(std::memory_order_relaxed);
}

std::uint64_t LogonGuard::blockedAddresses() const noexcept {
  return blocked_.load(std::memory_order_relaxed);
}

std::vector<LogonRefusalRecord> LogonGuard::recentRefusals(std::size_t limit) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<LogonRefusalRecord> out;
  for (auto it = recent_.rbegin(); it != recent_.rend() && out.size() < limit; ++it)
    out.push_back(*it);
  return out;
}

}  // namespace linkwatch
