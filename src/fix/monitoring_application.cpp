#include "fix/monitoring_application.hpp"

#include "fix/event_stamp.hpp"
#include "fix/logon_check.hpp"

namespace linkwatch {

void MonitoringApplication::publish(EventKind kind, const FIX::SessionID& id) noexcept {
  const LinkIndex link = directory_.find(id);
  if (link == kNoLink) return;
  hub_.publish(stampEvent(kind, link));
}

void MonitoringApplication::onCreate(const FIX::SessionID& id) {
  if (inner_ != nullptr) inner_->onCreate(id);
}

void MonitoringApplication::onLogon(const FIX::SessionID& id) {
  publish(EventKind::kLogon, id);
  if (inner_ != nullptr) inner_->onLogon(id);
}

void MonitoringApplication::onLogout(const FIX::SessionID& id) {
  publish(EventKind::kLogout, id);
  if (inner_ != nullptr) inner_->onLogout(id);
}

void MonitoringApplication::toAdmin(FIX::Message& message, const FIX::SessionID& id) {
  if (inner_ != nullptr) inner_->toAdmin(message, id);
}

void MonitoringApplication::toApp(FIX::Message& message,
                                  const FIX::SessionID& id) throw(FIX::DoNotSend) {
  if (inner_ != nullptr) inner_->toApp(message, id);
}

// Hot: every inbound admin message and order of an up link (monitoring_log.cpp says why).
[[gnu::hot]] void MonitoringApplication::fromAdmin(
    const FIX::Message& message,
    const FIX::SessionID& id) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                    FIX::IncorrectTagValue, FIX::RejectLogon) {
  // Refused logons throw FIX::RejectLogon before the wrapped application sees them. Every
  // inbound Heartbeat comes here too: the session is looked up (a hash of its name) for
  // Logons only.
  if (guard_ != nullptr && isLogon(message))
    enforceLogonChecks(*guard_, message, id, directory_.find(id));
  if (inner_ != nullptr) inner_->fromAdmin(message, id);
}

[[gnu::hot]] void MonitoringApplication::fromApp(
    const FIX::Message& message,
    const FIX::SessionID& id) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                    FIX::IncorrectTagValue, FIX::UnsupportedMessageType) {
  if (inner_ != nullptr) inner_->fromApp(message, id);
}

}  // namespace linkwatch
