// A FIX::Application decorator: publishes logons and logouts to the monitor, then forwards
// every callback unchanged to the wrapped application (if any). A QuickFIX gateway embeds
// linkwatch by wrapping its own Application in this.
#pragma once

#include <quickfix/Application.h>

#include <linkwatch/event_hub.hpp>

#include "fix/session_directory.hpp"

namespace linkwatch {

class LogonGuard;

class MonitoringApplication : public FIX::Application {
 public:
  // `inner` may be null; neither argument is owned and both must outlive this object.
  MonitoringApplication(EventHub& hub, const SessionDirectory& directory,
                        FIX::Application* inner = nullptr)
      : hub_(hub), directory_(directory), inner_(inner) {}

  // Logon checks beyond CompIDs (src/fix/logon_guard.hpp) for the Logons members send us;
  // null (the default) checks nothing. Set before QuickFIX starts; not owned.
  void setLogonGuard(LogonGuard* guard) noexcept { guard_ = guard; }

  void onCreate(const FIX::SessionID& id) override;
  // onLogout runs under the session's mutex: publishing must never wait.
  void onLogon(const FIX::SessionID& id) override;
  void onLogout(const FIX::SessionID& id) override;
  void toAdmin(FIX::Message& message, const FIX::SessionID& id) override;
  void toApp(FIX::Message& message, const FIX::SessionID& id) throw(FIX::DoNotSend) override;
  void fromAdmin(const FIX::Message& message,
                 const FIX::SessionID& id) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                 FIX::IncorrectTagValue, FIX::RejectLogon) override;
  void fromApp(const FIX::Message& message,
               const FIX::SessionID& id) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                               FIX::IncorrectTagValue,
                                               FIX::UnsupportedMessageType) override;

 private:
  void publish(EventKind kind, const FIX::SessionID& id) noexcept;

  EventHub& hub_;
  const SessionDirectory& directory_;
  FIX::Application* inner_;
  LogonGuard* guard_ = nullptr;
};

}  // namespace linkwatch
