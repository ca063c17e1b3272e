// Which QuickFIX acceptor and initiator class runs the sessions: plain TCP or TLS, one thread
// for all or one per connection.
//
// TLS always uses QuickFIX's threaded SSL classes: the single-threaded SSLSocketAcceptor of
// 1.15.1 runs each TLS handshake to completion on its one thread (a loop of up to 10 s), so
// one client that connects and sends nothing would stall every other session's heartbeats.
// QuickFIX reads its TLS settings (ServerCertificateFile, CertificationAuthoritiesFile,
// CertificateVerifyLevel, SSLProtocol, SSLCipherSuite, ...) from [DEFAULT] only, for the whole
// acceptor or initiator: TLS is per process, not per session (config.cpp refuses TLS keys in
// a [SESSION]).
#pragma once

#include <memory>

#include <quickfix/Acceptor.h>
#include <quickfix/Application.h>
#include <quickfix/Initiator.h>
#include <quickfix/Log.h>
#include <quickfix/MessageStore.h>
#include <quickfix/SessionSettings.h>

namespace linkwatch {

struct FixTransport {
  bool tls = false;
  bool threaded = false;
};

std::unique_ptr<FIX::Acceptor> makeAcceptor(FixTransport transport, FIX::Application& application,
                                            FIX::MessageStoreFactory& store,
                                            const FIX::SessionSettings& settings,
                                            FIX::LogFactory& logs);
std::unique_ptr<FIX::Initiator> makeInitiator(FixTransport transport, FIX::Application& application,
                                              FIX::MessageStoreFactory& store,
                                              const FIX::SessionSettings& settings,
                                              FIX::LogFactory& logs);

}  // namespace linkwatch
