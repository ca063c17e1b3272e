// The QuickFIX side of LogonGuard: called from MonitoringApplication::fromAdmin for every
// Logon a member sends us; finds the connection's peer address and refuses by throwing
// FIX::RejectLogon with the reason (QuickFIX then logs "Rejected Logon Attempt: <reason>",
// answers with a Logout carrying the reason, and disconnects).
#pragma once

#include <quickfix/Message.h>
#include <quickfix/SessionID.h>

#include <linkwatch/cidr.hpp>
#include <linkwatch/session_event.hpp>

#include "fix/logon_guard.hpp"

namespace linkwatch {

// Whether an admin message is a Logon. fromAdmin asks this of every Heartbeat a member sends,
// before it looks the session up: one walk to MsgType, the third field of a parsed header
// (FieldMap's own lookup costs two such walks and a length computation, ~70 instructions).
inline bool isLogon(const FIX::Message& message) noexcept {
  const FIX::FieldMap& header = message.getHeader();
  for (FIX::FieldMap::const_iterator it = header.begin(); it != header.end(); ++it) {
    if (it->getTag() != FIX::FIELD::MsgType) continue;
    const std::string& type = it->getString();
    return type.size() == 1 && type[0] == 'A';
  }
  return false;
}

// Throws FIX::RejectLogon when `guard` refuses the Logon. No effect for other messages.
void enforceLogonChecks(LogonGuard& guard, const FIX::Message& message, const FIX::SessionID& id,
                        LinkIndex link);

// The remote address of the TCP connection a session is being served on, from the
// session's Responder (see logon_check.cpp for how). False when it cannot be told.
bool sessionPeerAddress(const FIX::SessionID& id, IpAddress& out) noexcept;

// The remote address of a connected socket.
bool socketPeerAddress(int fd, IpAddress& out) noexcept;

}  // namespace linkwatch
