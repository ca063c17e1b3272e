// QuickFIX's SSL classes are declared only with HAVE_SSL (Debian's library is built with it;
// its headers don't say so).
#ifndef HAVE_SSL
#define HAVE_SSL 1
#endif

#include "fix/fix_transport.hpp"

#include <quickfix/SocketAcceptor.h>
#include <quickfix/SocketInitiator.h>
#include <quickfix/ThreadedSSLSocketAcceptor.h>
#include <quickfix/ThreadedSSLSocketInitiator.h>
#include <quickfix/ThreadedSocketAcceptor.h>
#include <quickfix/ThreadedSocketInitiator.h>

namespace linkwatch {

std::unique_ptr<FIX::Acceptor> makeAcceptor(FixTransport transport, FIX::Application& application,
                                            FIX::MessageStoreFactory& store,
                                            const FIX::SessionSettings& settings,
                                            FIX::LogFactory& logs) {
  if (transport.tls)
    return std::unique_ptr<FIX::Acceptor>(
        new FIX::ThreadedSSLSocketAcceptor(application, store, settings, logs));
  if (transport.threaded)
    return std::unique_ptr<FIX::Acceptor>(
        new FIX::ThreadedSocketAcceptor(application, store, settings, logs));
  return std::unique_ptr<FIX::Acceptor>(
      new FIX::SocketAcceptor(application, store, settings, logs));
}

std::unique_ptr<FIX::Initiator> makeInitiator(FixTransport transport, FIX::Application& application,
                                              FIX::MessageStoreFactory& store,
                                              const FIX::SessionSettings& settings,
                                              FIX::LogFactory& logs) {
  if (transport.tls)
    return std::unique_ptr<FIX::Initiator>(
        new FIX::ThreadedSSLSocketInitiator(application, store, settings, logs));
  if (transport.threaded)
    return std::unique_ptr<FIX::Initiator>(
        new FIX::ThreadedSocketInitiator(application, store, settings, logs));
  return std::unique_ptr<FIX::Initiator>(
      new FIX::SocketInitiator(application, store, settings, logs));
}

}  // namespace linkwatch
