// A stand-in for Alertmanager's POST /api/v2/alerts on 127.0.0.1 (port 0): records every
// request, can answer 500 for a while, and can hold requests unanswered (a hung peer).
#pragma once

#include <CivetServer.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace linkwatch::testing {

struct ReceivedPush {
  std::chrono::steady_clock::time_point at;  // arrival
  std::string method;
  std::string uri;
  std::string contentType;
  std::string body;
  int status = 0;  // what the fake answered

  nlohmann::json alerts() const { return nlohmann::json::parse(body); }
};

class FakeAlertmanager : public CivetHandler {
 public:
  FakeAlertmanager()
      // A short request timeout also bounds how long civetweb's idle workers hold up close().
      : server_({"listening_ports", "127.0.0.1:0", "num_threads", "4", "enable_keep_alive", "yes",
                 "request_timeout_ms", "100"}) {
    server_.addHandler("/api/v2/alerts", this);
    port_ = server_.getListeningPorts().at(0);
  }
  ~FakeAlertmanager() override {
    release();
    // civetweb's master thread sees a stop only between its 2 s polls of the listening socket,
    // and a connection ends a poll: knock until close() is through.
    std::atomic<bool> closed{false};
    std::thread knocker([&] {
      while (!closed.load()) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<std::uint16_t>(port_));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
        ::close(fd);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    server_.close();
    closed.store(true);
    knocker.join();
  }
  FakeAlertmanager(const FakeAlertmanager&) = delete;
  FakeAlertmanager& operator=(const FakeAlertmanager&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The next `n` requests get a 500.
  void failNext(int n) {
    std::lock_guard<std::mutex> lock(mutex_);
    failuresLeft_ = n;
  }
  // Requests arrive (and are counted) but get no answer until release().
  void hold() {
    std::lock_guard<std::mutex> lock(mutex_);
    held_ = true;
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      held_ = false;
    }
    changed_.notify_all();
  }

  // Until `n` requests were answered, or the deadline passed.
  bool waitForAnswered(std::size_t n, std::chrono::milliseconds within = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, within, [&] { return answered_.size() >= n; });
  }
  bool waitForArrived(std::size_t n, std::chrono::milliseconds within = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, within, [&] { return arrived_ >= n; });
  }
  std::vector<ReceivedPush> answered() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return answered_;
  }

  bool handlePost(CivetServer*, mg_connection* conn) override {
    ReceivedPush r;
    r.at = std::chrono::steady_clock::now();
    const mg_request_info* info = mg_get_request_info(conn);
    r.method = info->request_method;
    r.uri = info->local_uri != nullptr ? info->local_uri : "";
    const char* type = mg_get_header(conn, "Content-Type");
    r.contentType = type != nullptr ? type : "";
    r.body = CivetServer::getPostData(conn);
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ++arrived_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return !held_; });
      r.status = 200;
      if (failuresLeft_ > 0) {
        --failuresLeft_;
        r.status = 500;
      }
    }
    mg_printf(conn, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n",
              r.status, r.status == 200 ? "OK" : "Internal Server Error");
    {
      std::lock_guard<std::mutex> lock(mutex_);
      answered_.push_back(std::move(r));
    }
    changed_.notify_all();
    return true;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<ReceivedPush> answered_;
  std::size_t arrived_ = 0;
  int failuresLeft_ = 0;
  bool held_ = false;
  CivetServer server_;  // last: its threads stop before the state they use goes
  int port_ = 0;
};

}  // namespace linkwatch::testing
