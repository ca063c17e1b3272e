// QuickFIX's SSL connection classes are declared only with HAVE_SSL (Debian's library is
// built with it; its headers don't say so).
#ifndef HAVE_SSL
#define HAVE_SSL 1
#endif

#include "fix/logon_check.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <typeinfo>

#include <quickfix/SSLSocketConnection.h>
#include <quickfix/Session.h>
#include <quickfix/SocketConnection.h>
#include <quickfix/ThreadedSSLSocketConnection.h>
#include <quickfix/ThreadedSocketConnection.h>

namespace linkwatch {
namespace {

// Finding the peer of an acceptor connection in QuickFIX 1.15.1.
//
// QuickFIX offers no API for it: the only trace is the acceptor-wide log line "Accepted
// connection from A on port P", written on the accepting thread (ThreadedSocketAcceptor)
// before the connection's own thread exists, and with no key that a later Logon could be
// matched on when several members connect at once. What does tie a Logon to its socket is
// the session's Responder: every acceptor connection class (SocketConnection,
// ThreadedSocketConnection and their SSL twins) calls Session::setResponder(this) before it
// hands the first message to Session::next(), on the same thread that then calls
// fromAdmin(Logon). Session keeps it in the private m_pResponder, and the connection
// classes inherit Responder privately, so:
//   1. the member pointer is taken through an explicit template instantiation, where the
//      standard waives access checking ([temp.spec]/6): no #define private, no offsets;
//      if a QuickFIX release renames the member, this stops compiling instead of misreading;
//   2. the dynamic type is told by typeid, and the C-style cast below is the one cast that
//      may convert to a derived class through an inaccessible base ([expr.cast]/4);
//   3. getSocket() on the connection, then getpeername().
// Exact for concurrent connections, one syscall per Logon, and it fails closed: an unknown
// responder type gives "peer unknown", which AllowedSourceAddresses refuses.
template <typename Tag, typename Tag::type kMember>
struct PrivateMember {
  friend typename Tag::type memberPointer(Tag) { return kMember; }
};
struct SessionResponder {
  using type = FIX::Responder* FIX::Session::*;
  friend type memberPointer(SessionResponder);
};
template struct PrivateMember<SessionResponder, &FIX::Session::m_pResponder>;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
int responderSocket(FIX::Responder* r) noexcept {
  if (r == nullptr) return -1;
  const std::type_info& type = typeid(*r);
  if (type == typeid(FIX::ThreadedSocketConnection))
    return ((FIX::ThreadedSocketConnection*)r)->getSocket();
  if (type == typeid(FIX::SocketConnection)) return ((FIX::SocketConnection*)r)->getSocket();
  if (type == typeid(FIX::ThreadedSSLSocketConnection))
    return ((FIX::ThreadedSSLSocketConnection*)r)->getSocket();
  if (type == typeid(FIX::SSLSocketConnection)) return ((FIX::SSLSocketConnection*)r)->getSocket();
  return -1;
}
#pragma GCC diagnostic pop

bool field(const FIX::Message& message, int tag, std::string& out) {
  if (!message.isSetField(tag)) return false;
  out = message.getField(tag);
  return true;
}

}  // namespace

bool socketPeerAddress(int fd, IpAddress& out) noexcept {
  if (fd < 0) return false;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return false;
  out = IpAddress{};
  if (ss.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    out.bytes[10] = 0xff;
    out.bytes[11] = 0xff;
    std::memcpy(out.bytes.data() + 12, &in->sin_addr, 4);
    return true;
  }
  if (ss.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    std::memcpy(out.bytes.data(), &in6->sin6_addr, 16);
    return true;
  }
  return false;
}

bool sessionPeerAddress(const FIX::SessionID& id, IpAddress& out) noexcept {
  FIX::Session* session = FIX::Session::lookupSession(id);
  if (session == nullptr) return false;
  return socketPeerAddress(responderSocket(session->*memberPointer(SessionResponder())), out);
}

void enforceLogonChecks(LogonGuard& guard, const FIX::Message& message, const FIX::SessionID& id,
                        LinkIndex link) {
  if (!guard.guards(link) || !isLogon(message)) return;
  IpAddress peer;
  const bool peerKnown = guard.needsPeerAddress(link) && sessionPeerAddress(id, peer);
  std::string username;
  std::string password;
  const bool hasUser = field(message, FIX::FIELD::Username, username);
  const bool hasPassword = field(message, FIX::FIELD::Password, password);
  LogonRefusal why = LogonRefusal::kSourceAddress;
  const bool accepted =
      guard.check(link, peerKnown ? &peer : nullptr, hasUser ? &username : nullptr,
                  hasPassword ? &password : nullptr, why);
  // Overwrite our copy before it goes back to the allocator.
  std::fill(password.begin(), password.end(), '\0');
  if (!accepted) throw FIX::RejectLogon(toString(why));
}

}  // namespace linkwatch
