#include "http/http_server.hpp"

#include <CivetServer.h>
#include <malloc.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "http/basic_auth.hpp"
#include "http/civetweb_tls.hpp"
#include "http/json_api.hpp"
#include "http/metrics_collector.hpp"
#include "http/status_page.hpp"
#include "http/text_format.hpp"

namespace linkwatch {
namespace {

constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";
constexpr std::string_view kHtmlContentType = "text/html; charset=utf-8";
constexpr std::string_view kLinksPrefix = "/api/v1/links/";

// Civetweb reports why mg_start failed only through the log callback, on the thread that
// called it: collect those lines while start() runs so the exception can name the cause.
thread_local std::string* tStartErrors = nullptr;

int logMessage(const mg_connection*, const char* message) {
  if (tStartErrors != nullptr) {
    if (!tStartErrors->empty()) *tStartErrors += "; ";
    *tStartErrors += message;
  } else {
    std::fprintf(stderr, "linkwatch: http: %s\n", message);
  }
  return 1;  // handled: civetweb writes no log of its own
}

// Civetweb's init_ssl callback: runs in mg_start once civetweb has loaded OpenSSL and before
// it accepts a connection, the one moment its function table can be completed (see
// civetweb_tls.hpp). 0: civetweb then loads the certificate and key itself; -1 fails start.
int completeTls(void*, void*) noexcept try {
  const std::string missing = repairCivetwebTls();
  if (missing.empty()) return 0;
  if (tStartErrors != nullptr) {
    if (!tStartErrors->empty()) *tStartErrors += "; ";
    *tStartErrors += "TLS unavailable: " + missing;
  }
  return -1;
} catch (...) {
  return -1;  // out of memory: no TLS rather than an exception through civetweb's C code
}

std::string listeningPort(const std::string& host, std::uint16_t port) {
  if (host.empty()) return std::to_string(port);  // every interface
  // An IPv6 literal needs brackets in civetweb's listening_ports syntax.
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

// Where a client on this host reaches a server bound to `host`: a wildcard via loopback.
std::string reachableHost(const std::string& host) {
  if (host.empty() || host == "0.0.0.0") return "127.0.0.1";
  if (host == "::" || host == "[::]") return "::1";
  return host;
}

// Opens and drops one TCP connection to the server's own listening address.
void poke(const std::string& host, std::uint16_t port) noexcept try {
  const std::string target = reachableHost(host);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(target.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const bool connected = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0;
    ::close(fd);
    if (connected) break;
  }
  freeaddrinfo(found);
} catch (...) {
  // Out of memory: stop() then just waits for civetweb's own poll timeout.
}

// Process-wide, like gmtime()'s buffer: see send().
std::mutex gDateHeaderMutex;

enum class Route { kMetrics, kLinks, kLink, kMaintenance, kEvents, kHealth, kWall, kNotFound };

constexpr std::string_view kMaintenanceSuffix = "/maintenance";
constexpr std::size_t kMaxRequestBody = 4096;
// About 3 MB of JSON and its DOM for the links list; below, what glibc keeps does not matter.
constexpr std::size_t kTrimHeapFromLinks = 1000;

bool isLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

}  // namespace

const Clock& systemClock() noexcept {
  static const SystemClock clock;
  return clock;
}

struct HttpServer::Impl {
  // One handler for every path ("**"): routing, 404 and 405 stay ours rather than
  // civetweb's HTML pages.
  class Router : public CivetHandler {
   public:
    explicit Router(Impl& impl) : impl_(impl) {}
    using CivetHandler::handleDelete;
    using CivetHandler::handleGet;
    using CivetHandler::handleHead;
    using CivetHandler::handleOptions;
    using CivetHandler::handlePatch;
    using CivetHandler::handlePost;
    using CivetHandler::handlePut;
    bool handleGet(CivetServer*, mg_connection* c) override { return impl_.serve(c, true); }
    bool handleHead(CivetServer*, mg_connection* c) override { return impl_.serve(c, false); }
    bool handlePost(CivetServer*, mg_connection* c) override { return impl_.write(c, false); }
    bool handlePut(CivetServer*, mg_connection* c) override { return impl_.reject(c); }
    bool handleDelete(CivetServer*, mg_connection* c) override { return impl_.write(c, true); }
    bool handleOptions(CivetServer*, mg_connection* c) override { return impl_.reject(c); }
    bool handlePatch(CivetServer*, mg_connection* c) override { return impl_.reject(c); }

   private:
    Impl& impl_;
  };

  Impl(LinkMonitor& m, std::string h, std::uint16_t p, const Clock& c)
      : monitor(m), clock(c), collector(m), host(std::move(h)), configuredPort(p), router(*this) {
    callbacks.log_message = &logMessage;
    callbacks.init_ssl = &completeTls;
  }

  static Route route(std::string_view path, std::string* member) {
    if (path == "/metrics") return Route::kMetrics;
    if (path == "/api/v1/links" || path == kLinksPrefix) return Route::kLinks;
    if (path.starts_with(kLinksPrefix)) {
      std::string_view rest = path.substr(kLinksPrefix.size());
      if (rest.ends_with(kMaintenanceSuffix)) {
        *member = std::string(rest.substr(0, rest.size() - kMaintenanceSuffix.size()));
        return Route::kMaintenance;
      }
      *member = std::string(rest);
      return Route::kLink;
    }
    if (path == "/" || path == "/index.html") return Route::kWall;
    if (path == "/api/v1/events") return Route::kEvents;
    if (path == "/healthz") return Route::kHealth;
    return Route::kNotFound;
  }

  static void send(mg_connection* c, int status, std::string_view contentType,
                   std::string_view body, bool withBody, bool allowHeader = false) {
    const std::string length = std::to_string(body.size());
    mg_response_header_start(c, status);
    mg_response_header_add(c, "Content-Type", contentType.data(),
                           static_cast<int>(contentType.size()));
    mg_response_header_add(c, "Content-Length", length.c_str(), static_cast<int>(length.size()));
    mg_response_header_add(c, "Cache-Control", "no-store", -1);
    // Member names are configuration, not trusted markup: never let a browser sniff HTML.
    mg_response_header_add(c, "X-Content-Type-Options", "nosniff", -1);
    if (allowHeader) mg_response_header_add(c, "Allow", "GET, HEAD", -1);
    {
      // Civetweb 1.15 formats the Date header with gmtime(), whose static buffer is shared
      // by every worker (TSan reports the race): one header block at a time. The block is
      // small and goes to an empty socket buffer, so the lock is held only briefly.
      const std::lock_guard<std::mutex> lock(gDateHeaderMutex);
      mg_response_header_send(c);
    }
    if (withBody && !body.empty()) mg_write(c, body.data(), body.size());
  }

  static void sendJson(mg_connection* c, const JsonResponse& r, bool withBody,
                       bool allowHeader = false) {
    // A name in the settings file need not be UTF-8: replace bad bytes rather than throw.
    const std::string body =
        r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    send(c, r.status, kJsonContentType, body, withBody, allowHeader);
  }

  // A response that grows with the links (the links list, /metrics as one string) leaves
  // megabytes of freed heap at thousands of links, which glibc keeps as its high-water mark:
  // hand it back to the kernel, here on a worker thread, never on the core's.
  void trimHeap() const noexcept {
    if (monitor.linkCount() >= kTrimHeapFromLinks) malloc_trim(0);
  }

  // /metrics goes out in chunks (Transfer-Encoding: chunked) as MetricsCollector writes it,
  // rather than as one string: 5,000 links are ~25 MB of text, and glibc keeps the heap's
  // high-water mark of a whole-string scrape. HEAD and HTTP/1.0, which take no chunks, get
  // the text whole with its Content-Length. True when the text went out whole.
  bool serveMetrics(mg_connection* c, const mg_request_info* ri, bool withBody) {
    std::string extras;  // alert pushes, workers...: a few families
    for (const auto& extra : collectables) appendTextFormat(extra->Collect(), extras);
    const std::string_view version = ri->http_version != nullptr ? ri->http_version : "";
    if (!withBody || version == "1.0") {
      std::string text = collector.serialize();
      text += extras;
      send(c, 200, kMetricsContentType, text, withBody);
      return true;
    }
    mg_response_header_start(c, 200);
    mg_response_header_add(c, "Content-Type", kMetricsContentType.data(),
                           static_cast<int>(kMetricsContentType.size()));
    mg_response_header_add(c, "Transfer-Encoding", "chunked", -1);
    mg_response_header_add(c, "Cache-Control", "no-store", -1);
    mg_response_header_add(c, "X-Content-Type-Options", "nosniff", -1);
    {
      const std::lock_guard<std::mutex> lock(gDateHeaderMutex);  // see send()
      mg_response_header_send(c);
    }
    const auto sendChunk = [c](std::string_view chunk) {
      return mg_send_chunk(c, chunk.data(), static_cast<unsigned>(chunk.size())) > 0;
    };
    // A client that went away stops the scrape; its connection is closed, not ended.
    if (collector.write(sendChunk) && (extras.empty() || sendChunk(extras)))
      mg_send_chunk(c, "", 0);
    return false;
  }

  bool serve(mg_connection* c, bool withBody) noexcept {
    // Exceptions must not unwind into civetweb's C code.
    try {
      const mg_request_info* ri = mg_get_request_info(c);
      const std::string_view path = ri->local_uri != nullptr ? ri->local_uri : "";
      const std::string_view query = ri->query_string != nullptr ? ri->query_string : "";
      std::string member;
      const Route r = route(path, &member);
      if (r != Route::kHealth && !authorized(c)) {
        sendUnauthorized(c, withBody);
        return true;
      }
      switch (r) {
        case Route::kMetrics: {
          const Nanos begin = monotonicNow();
          const bool whole = serveMetrics(c, ri, withBody);
          collector.recordScrapeDuration(monotonicNow() - begin);
          if (whole) trimHeap();
          break;
        }
        case Route::kLinks:
          sendJson(c, linksResponse(monitor, query), withBody);
          trimHeap();
          break;
        case Route::kLink:
          sendJson(c, linkResponse(monitor, member), withBody);
          break;
        case Route::kMaintenance:
          sendJson(c, methodNotAllowed(ri->request_method, "POST or DELETE"), withBody, true);
          break;
        case Route::kWall:
          send(c, 200, kHtmlContentType, statusPageHtml(), withBody);
          break;
        case Route::kEvents:
          sendJson(c, eventsResponse(monitor, query, history), withBody);
          break;
        case Route::kHealth:
          sendJson(c, healthResponse(monitor, clock.wall()), withBody);
          break;
        case Route::kNotFound:
          sendJson(c, notFound(path), withBody);
          break;
      }
    } catch (const std::exception& e) {
      sendJson(c, errorResponse(500, std::string("internal error: ") + e.what()), withBody);
    } catch (...) {
      sendJson(c, errorResponse(500, "internal error"), withBody);
    }
    return true;
  }

  // POST or DELETE on /api/v1/links/{member}/maintenance.
  bool write(mg_connection* c, bool isDelete) noexcept {
    try {
      const mg_request_info* ri = mg_get_request_info(c);
      const std::string_view path = ri->local_uri != nullptr ? ri->local_uri : "";
      std::string member;
      if (route(path, &member) != Route::kMaintenance) return reject(c);
      if (authRequired()) {
        if (!authorized(c)) {
          sendUnauthorized(c, true);
          return true;
        }
      } else if (!isLoopback(host)) {
        sendJson(c,
                 errorResponse(403,
                               "write endpoints are served only on a loopback listener "
                               "unless HTTP users are configured (SecretsFile)"),
                 true);
        return true;
      }
      std::string body;
      char buffer[1024];
      int n = 0;
      while (body.size() <= kMaxRequestBody && (n = mg_read(c, buffer, sizeof buffer)) > 0)
        body.append(buffer, static_cast<std::size_t>(n));
      if (body.size() > kMaxRequestBody) {
        sendJson(c, errorResponse(413, "body: at most 4096 bytes"), true);
        return true;
      }
      sendJson(c, maintenanceResponse(monitor, member, isDelete, body, clock.wall()), true);
    } catch (const std::exception& e) {
      sendJson(c, errorResponse(500, std::string("internal error: ") + e.what()), true);
    } catch (...) {
      sendJson(c, errorResponse(500, "internal error"), true);
    }
    return true;
  }

  bool authRequired() const noexcept { return secrets && secrets->hasHttpUsers(); }

  bool authorized(mg_connection* c) const {
    return !authRequired() || basicAuthAccepts(*secrets, mg_get_header(c, "Authorization"));
  }

  static void sendUnauthorized(mg_connection* c, bool withBody) {
    const std::string body =
        "{\"error\":\"authentication required (HTTP basic auth)\",\"status\":401}\n";
    mg_response_header_start(c, 401);
    mg_response_header_add(c, "Content-Type", kJsonContentType.data(),
                           static_cast<int>(kJsonContentType.size()));
    mg_response_header_add(c, "Content-Length", std::to_string(body.size()).c_str(), -1);
    mg_response_header_add(c, "WWW-Authenticate", kBasicAuthChallenge.data(),
                           static_cast<int>(kBasicAuthChallenge.size()));
    mg_response_header_add(c, "Cache-Control", "no-store", -1);
    {
      const std::lock_guard<std::mutex> lock(gDateHeaderMutex);  // see send()
      mg_response_header_send(c);
    }
    if (withBody) mg_write(c, body.data(), body.size());
  }

  static JsonResponse methodNotAllowed(const char* method, const char* expected) {
    return errorResponse(405,
                         std::string("method ") + method + " not allowed: expected " + expected);
  }

  bool reject(mg_connection* c) noexcept {
    try {
      const mg_request_info* ri = mg_get_request_info(c);
      const std::string_view path = ri->local_uri != nullptr ? ri->local_uri : "";
      std::string member;
      const Route r = route(path, &member);
      if (r == Route::kNotFound) {
        sendJson(c, notFound(path), true);
      } else if (r == Route::kMaintenance) {
        sendJson(c, methodNotAllowed(ri->request_method, "POST or DELETE"), true);
      } else {
        sendJson(c,
                 errorResponse(405, std::string("method ") + ri->request_method +
                                        " not allowed: expected GET or HEAD"),
                 true, true);
      }
    } catch (...) {
      // Nothing sensible left to send; civetweb closes the connection.
    }
    return true;
  }

  static JsonResponse notFound(std::string_view path) {
    return errorResponse(404, "no such endpoint: " + std::string(path) +
                                  " (expected /metrics, /api/v1/links, /api/v1/links/{member}, "
                                  "/api/v1/events or /healthz)");
  }

  LinkMonitor& monitor;
  const Clock& clock;
  MetricsCollector collector;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables;
  const EventHistory* history = nullptr;   // the journal, when configured
  std::shared_ptr<const Secrets> secrets;  // basic auth when it has `http` users
  std::string tlsCertificate;              // HTTPS when not empty
  std::string host;
  std::uint16_t configuredPort;
  std::atomic<std::uint16_t> boundPort{0};
  CivetCallbacks callbacks;
  Router router;
  std::unique_ptr<CivetServer> server;
};

HttpServer::HttpServer(LinkMonitor& monitor, std::string host, std::uint16_t port,
                       const Clock& clock)
    : impl_(std::make_unique<Impl>(monitor, std::move(host), port, clock)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::setEventHistory(const EventHistory* history) {
  impl_->history = history;
  impl_->collector.setEventHistory(history);
}

void HttpServer::setSecurity(std::shared_ptr<const Secrets> secrets, std::string tlsCertificate) {
  impl_->secrets = std::move(secrets);
  impl_->tlsCertificate = std::move(tlsCertificate);
}

void HttpServer::addCollectable(std::shared_ptr<prometheus::Collectable> collectable) {
  impl_->collectables.push_back(std::move(collectable));
}

void HttpServer::start() {
  if (impl_->server) return;
  const bool tls = !impl_->tlsCertificate.empty();
  // mg_check_feature(2): civetweb was built with TLS (Debian's is, against OpenSSL).
  if (tls && mg_check_feature(2) == 0)
    throw std::runtime_error(
        "HTTP server: HttpTlsCertificate is set but civetweb was built "
        "without TLS support");
  if (tls) initCivetwebTlsLibrary();
  // A trailing "s" makes civetweb's port a TLS one.
  const std::string where = listeningPort(impl_->host, impl_->configuredPort) + (tls ? "s" : "");
  std::vector<std::string> options = {
      "listening_ports",
      where,
      "num_threads",
      std::to_string(kWorkerThreads),
      // Keep-alive would pin a worker per idle client; with four workers, close instead.
      "enable_keep_alive",
      "no",
      "request_timeout_ms",
      "10000",
  };
  if (tls) {
    // ssl_protocol_version 4: TLS 1.2 and 1.3 only.
    options.insert(options.end(),
                   {"ssl_certificate", impl_->tlsCertificate, "ssl_protocol_version", "4"});
  }
  std::string errors;
  tStartErrors = &errors;
  try {
    impl_->server = std::make_unique<CivetServer>(options, &impl_->callbacks);
  } catch (const std::exception& e) {
    tStartErrors = nullptr;
    throw std::runtime_error("HTTP server cannot listen on " + where + ": " +
                             (errors.empty() ? std::string(e.what()) : errors));
  }
  tStartErrors = nullptr;

  const std::vector<int> ports = impl_->server->getListeningPorts();
  if (ports.empty() || ports.front() <= 0 || ports.front() > 0xFFFF) {
    impl_->server.reset();
    throw std::runtime_error("HTTP server on " + where + " reports no listening port");
  }
  impl_->boundPort.store(static_cast<std::uint16_t>(ports.front()), std::memory_order_release);
  impl_->server->addHandler("**", impl_->router);
}

void HttpServer::stop() {
  if (!impl_->server) return;
  // Civetweb's master thread sees the stop flag only when poll() on the listening socket
  // returns: up to 2 s later (SOCKET_TIMEOUT_QUANTUM) on an idle server. A connection
  // arriving after the flag is set wakes it at once; poke until close() has returned.
  std::atomic<bool> closed{false};
  std::thread waker([this, &closed] {
    while (!closed.load(std::memory_order_acquire)) {
      poke(impl_->host, port());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  impl_->server->close();
  closed.store(true, std::memory_order_release);
  waker.join();
  impl_->server.reset();
  impl_->boundPort.store(0, std::memory_order_release);
}

bool HttpServer::running() const noexcept { return impl_->server != nullptr; }

std::uint16_t HttpServer::port() const noexcept {
  const std::uint16_t bound = impl_->boundPort.load(std::memory_order_acquire);
  return bound != 0 ? bound : impl_->configuredPort;
}

const std::string& HttpServer::host() const noexcept { return impl_->host; }

std::string HttpServer::url() const {
  const std::string h = reachableHost(impl_->host);
  const std::string hostPart = h.find(':') != std::string::npos ? "[" + h + "]" : h;
  return (impl_->tlsCertificate.empty() ? "http://" : "https://") + hostPart + ":" +
         std::to_string(port());
}

}  // namespace linkwatch
