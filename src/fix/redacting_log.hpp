// A FIX::LogFactory decorator in front of everything that writes QuickFIX's logs: it blanks
// the values of Password (554) and NewPassword (925) in every logged message and event line
// (QuickFIX logs the raw Logon, and quotes whole messages in events such as "Session not
// found for incoming message: ..."), and tells the LogonGuard about refused TLS handshakes,
// which QuickFIX reports only as acceptor-wide log events.
#pragma once

#include <string>

#include <quickfix/Log.h>

namespace linkwatch {

class LogonGuard;

// True when `text` carries a 554= or 925= field (SOH-delimited, or at the very start).
bool hasSecretField(const std::string& text) noexcept;
// `text` with the value of every 554 and 925 field replaced by "***".
std::string redactSecretFields(const std::string& text);

class RedactingLog : public FIX::Log {
 public:
  // `guard` may be null; `global` is the acceptor-wide log (where TLS failures appear).
  RedactingLog(FIX::Log* inner, LogonGuard* guard, bool global) noexcept
      : inner_(inner), guard_(guard), global_(global) {}

  void clear() override;
  void backup() override;
  void onIncoming(const std::string& message) override;
  void onOutgoing(const std::string& message) override;
  void onEvent(const std::string& text) override;

  FIX::Log* inner() const noexcept { return inner_; }

 private:
  FIX::Log* inner_;  // owned by the inner factory
  LogonGuard* guard_;
  bool global_;
};

class RedactingLogFactory : public FIX::LogFactory {
 public:
  // Neither is owned; `guard` may be null.
  RedactingLogFactory(FIX::LogFactory& inner, LogonGuard* guard) noexcept
      : inner_(inner), guard_(guard) {}

  FIX::Log* create() override;
  FIX::Log* create(const FIX::SessionID& id) override;
  void destroy(FIX::Log* log) override;

 private:
  FIX::LogFactory& inner_;
  LogonGuard* guard_;
};

}  // namespace linkwatch
