// Makes Debian 12's libcivetweb 1.15 serve TLS against OpenSSL 3.
//
// Why it needs repairing (measured with a bare civetweb program, gdb and openssl s_client):
// civetweb 1.15 is built to load OpenSSL at run time. It dlopen()s the unversioned names
// "libssl.so" and "libcrypto.so" and resolves each function it uses with dlsym() into a
// private table, written for the OpenSSL 1.1 API. OpenSSL 3 no longer exports
// SSL_get_peer_certificate (it became a macro for SSL_get1_peer_certificate, the same
// function under its new name), so that one table entry stays NULL. Civetweb logs nothing
// (mg_init_library(MG_FEATURES_TLS) merely returns 0), mg_start succeeds, the handshake
// completes, and then the worker calls the NULL entry to read the client's certificate:
// SIGSEGV, the whole process dies, and the client sees "connection reset by peer".
//
// Second, when civetweb loads OpenSSL matters: the first mg_start of a process initialises
// civetweb's library state, and a TLS context started after another context has come and
// gone loads OpenSSL itself and, finding the function missing, fails ("load_tls_dll:
// libssl.so: cannot find SSL_get_peer_certificate") once, then works. Calling
// mg_init_library(MG_FEATURES_TLS) once, before any TLS context, loads it at library level
// for the whole process (it returns 0 for the same missing function, and keeps OpenSSL
// loaded all the same): every TLS start after that succeeds (measured with a bare program).
//
// The repair runs in civetweb's init_ssl callback, after civetweb has filled its table and
// before it accepts a connection: it finds the one entry named "SSL_get_peer_certificate"
// whose function is NULL and stores OpenSSL 3's SSL_get1_peer_certificate there (same
// signature, same reference counting). Anything unexpected leaves the table alone and
// refuses TLS with the reason, so a changed civetweb fails at start, never at a connection.
#pragma once

#include <string>

namespace linkwatch {

// Empty when civetweb may serve TLS (repaired, or nothing to repair because libssl.so
// exports SSL_get_peer_certificate); otherwise why it may not. Call only after civetweb
// has loaded libssl.so (from its init_ssl callback).
std::string repairCivetwebTls() noexcept;

// mg_init_library(MG_FEATURES_TLS), once per process: call before starting a TLS context.
void initCivetwebTlsLibrary() noexcept;

}  // namespace linkwatch
