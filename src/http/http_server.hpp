// One HTTP port for everything an operator or Prometheus asks of linkwatch:
//   GET /metrics                  text format 0.0.4 (MetricsCollector)
//   GET /api/v1/links             every link; ?member=ID, ?state=down
//   GET /api/v1/links/{member}    one link by MemberId or session key
//   GET /api/v1/events            transitions, newest first; ?limit=N, ?member=ID, ?since=T
//   GET /healthz                  liveness
//   GET /                         the status wall (a self-contained page)
//   POST, DELETE /api/v1/links/{member}/maintenance
//                                 start (body {"until": T} or {"duration_seconds": N}) or end
//                                 a maintenance window; with HTTP users it needs one (401),
//                                 without any it is refused (403) unless the listener is on
//                                 loopback (TLS is not authentication)
// Anything else is a JSON 404; another method on a known path is a 405 (HEAD is served).
//
// Built on civetweb rather than prometheus::Exposer so that the API shares the metrics port.
// Civetweb's headers stay out of this one: the command line includes it.
//
// Thread-safety: start()/stop() from one control thread; port() from any. Requests are
// served on a few civetweb threads that only read the monitor's published state.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <linkwatch/clock.hpp>
#include <linkwatch/event_history.hpp>
#include <linkwatch/link_monitor.hpp>
#include <linkwatch/secrets.hpp>

namespace prometheus {
class Collectable;
}  // namespace prometheus

namespace linkwatch {

// The process-wide SystemClock, for callers that do not inject one.
const Clock& systemClock() noexcept;

class HttpServer {
 public:
  static constexpr int kWorkerThreads = 4;

  // port 0 binds an ephemeral port: read it back with port() after start(). `clock` gives
  // the wall time /healthz reports uptime against.
  HttpServer(LinkMonitor& monitor, std::string host, std::uint16_t port,
             const Clock& clock = systemClock());
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // More metrics on /metrics (alert pushes, ...). Call before start().
  void addCollectable(std::shared_ptr<prometheus::Collectable> collectable);

  // /api/v1/events from the durable journal (with paging) and its metrics on /metrics.
  // Call before start(); `history` must outlive the server.
  void setEventHistory(const EventHistory* history);

  // Basic auth for every path but /healthz when `secrets` has `http` users (and then the
  // maintenance endpoints on any listener; without users, on loopback only), and TLS with
  // the certificate and key of the PEM file `tlsCertificate` when not empty. Call before
  // start(); start() throws if TLS is asked of a civetweb built without it, or one whose
  // OpenSSL table cannot be completed (civetweb_tls.hpp), or for a file OpenSSL refuses.
  void setSecurity(std::shared_ptr<const Secrets> secrets, std::string tlsCertificate);

  // Binds and starts serving. Throws std::runtime_error naming host:port and the cause
  // (e.g. "Address already in use") when it cannot listen. No effect when already running.
  void start();
  // Stops accepting, finishes requests in flight and joins the worker threads. Idempotent.
  void stop();

  bool running() const noexcept;
  // The bound port once started (the ephemeral one for port 0), else the configured one.
  std::uint16_t port() const noexcept;
  const std::string& host() const noexcept;
  // "http://127.0.0.1:9745" ("https://" with TLS); a wildcard host (0.0.0.0, ::) is given
  // as loopback.
  std::string url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace linkwatch
