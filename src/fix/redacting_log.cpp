#include "fix/redacting_log.hpp"

#include <cstring>

#include "fix/logon_guard.hpp"

namespace linkwatch {
namespace {

constexpr char kSoh = '\x01';
constexpr const char* kSecretTags[] = {"554=", "925="};

bool startsWith(const std::string& s, const char* prefix) {
  return s.compare(0, std::strlen(prefix), prefix) == 0;
}

// Where the value of a secret field starts at or after `from`, or npos.
std::size_t nextSecretValue(const std::string& text, std::size_t from) {
  std::size_t best = std::string::npos;
  for (const char* tag : kSecretTags) {
    const std::size_t tagLength = std::strlen(tag);
    if (from == 0 && text.compare(0, tagLength, tag) == 0) return tagLength;
    std::size_t at = from;
    while ((at = text.find(tag, at)) != std::string::npos) {
      if (at > 0 && text[at - 1] == kSoh) break;
      ++at;
    }
    if (at != std::string::npos && (best == std::string::npos || at + tagLength < best))
      best = at + tagLength;
  }
  return best;
}

}  // namespace

bool hasSecretField(const std::string& text) noexcept {
  return nextSecretValue(text, 0) != std::string::npos;
}

std::string redactSecretFields(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  std::size_t value;
  while ((value = nextSecretValue(text, pos)) != std::string::npos) {
    out.append(text, pos, value - pos);
    out += "***";
    std::size_t end = text.find(kSoh, value);
    if (end == std::string::npos) end = text.size();
    pos = end;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

void RedactingLog::clear() {
  if (inner_ != nullptr) inner_->clear();
}

void RedactingLog::backup() {
  if (inner_ != nullptr) inner_->backup();
}

void RedactingLog::onIncoming(const std::string& message) {
  if (inner_ == nullptr) return;
  if (hasSecretField(message)) {
    inner_->onIncoming(redactSecretFields(message));
  } else {
    inner_->onIncoming(message);
  }
}

void RedactingLog::onOutgoing(const std::string& message) {
  if (inner_ == nullptr) return;
  if (hasSecretField(message)) {
    inner_->onOutgoing(redactSecretFields(message));
  } else {
    inner_->onOutgoing(message);
  }
}

void RedactingLog::onEvent(const std::string& text) {
  // QuickFIX's SSL acceptor writes these on its acceptor-wide log when a handshake fails (a
  // missing or untrusted client certificate among them); "SSL failure reason: ..." lines
  // follow the first and are not counted again.
  if (global_ && guard_ != nullptr &&
      (startsWith(text, "SSL handshake failed") ||
       startsWith(text, "SSL client authentication failed") ||
       startsWith(text, "No acceptable peer certificate available"))) {
    try {
      guard_->recordRefusal(kNoLink, nullptr, LogonRefusal::kTlsHandshake);
    } catch (...) {
      // Out of memory while recording: the handshake is refused all the same.
    }
  }
  if (inner_ == nullptr) return;
  if (hasSecretField(text)) {
    inner_->onEvent(redactSecretFields(text));
  } else {
    inner_->onEvent(text);
  }
}

FIX::Log* RedactingLogFactory::create() { return new RedactingLog(inner_.create(), guard_, true); }

FIX::Log* RedactingLogFactory::create(const FIX::SessionID& id) {
  return new RedactingLog(inner_.create(id), guard_, false);
}

void RedactingLogFactory::destroy(FIX::Log* log) {
  RedactingLog* ours = dynamic_cast<RedactingLog*>(log);
  if (ours == nullptr) {
    delete log;
    return;
  }
  if (ours->inner() != nullptr) inner_.destroy(ours->inner());
  delete ours;
}

}  // namespace linkwatch
