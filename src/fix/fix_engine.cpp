#include <linkwatch/fix_engine.hpp>

#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/SocketInitiator.h>
#include <quickfix/ThreadedSocketAcceptor.h>
#include <quickfix/ThreadedSocketInitiator.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <linkwatch/fix_scan.hpp>

#include "fix/connection_guard.hpp"
#include "fix/fix_transport.hpp"
#include "fix/monitoring_application.hpp"
#include "fix/monitoring_log.hpp"
#include "fix/redacting_log.hpp"

namespace linkwatch {

FixEngine::~FixEngine() {}

namespace {

std::vector<std::string> sessionKeys(const FixEngineOptions& options) {
  std::vector<std::string> keys;
  keys.reserve(options.links.size());
  for (const FixLinkSpec& spec : options.links) keys.push_back(spec.sessionKey);
  return keys;
}

bool hasSessionsOfType(const FIX::SessionSettings& settings, const std::string& type) {
  for (const FIX::SessionID& id : settings.getSessions()) {
    const FIX::Dictionary& d = settings.get(id);
    if (d.has(FIX::CONNECTION_TYPE) && d.getString(FIX::CONNECTION_TYPE) == type) return true;
  }
  return false;
}

// Only the sessions of one connection type: QuickFIX's Acceptor and Initiator each refuse
// a settings file that holds none of theirs, and ignore the others.
FIX::SessionSettings sessionsOfType(const FIX::SessionSettings& all, const std::string& type) {
  FIX::SessionSettings out;
  out.set(all.get());
  for (const FIX::SessionID& id : all.getSessions()) {
    const FIX::Dictionary& d = all.get(id);
    if (d.has(FIX::CONNECTION_TYPE) && d.getString(FIX::CONNECTION_TYPE) == type) out.set(id, d);
  }
  return out;
}

// Only the sessions of the directory: a QuickFIX worker process runs its shard of the file.
FIX::SessionSettings listedSessions(const FIX::SessionSettings& all,
                                    const SessionDirectory& directory) {
  FIX::SessionSettings out;
  out.set(all.get());
  for (const FIX::SessionID& id : all.getSessions())
    if (directory.find(id) != kNoLink) out.set(id, all.get(id));
  return out;
}

class QuickfixEngine : public FixEngine {
 public:
  QuickfixEngine(const FixEngineOptions& options, EventHub& hub)
      : options_(options),
        directory_(sessionKeys(options)),
        application_(hub, directory_),
        settings_(loadSettings(options.settingsPath)),
        logFactory_(hub, directory_, innerLogFactory()),
        redactingLogs_(logFactory_, options.logonGuard) {
    application_.setLogonGuard(options.logonGuard);
    if (options.onlyListedSessions) settings_ = listedSessions(settings_, directory_);
    sessionIds_.resize(options.links.size());
    for (const FIX::SessionID& id : settings_.getSessions()) {
      const LinkIndex link = directory_.find(id);
      if (link != kNoLink) sessionIds_[link] = id;
    }
    if (settings_.get().has(FIX::FILE_STORE_PATH)) {
      store_.reset(new FIX::FileStoreFactory(settings_));
    } else {
      store_.reset(new FIX::MemoryStoreFactory());
    }
  }

  ~QuickfixEngine() override { stop(); }

  void start() override {
    capDescriptorsForSelect();
    try {
      if (hasSessionsOfType(settings_, "acceptor")) {
        acceptorSettings_.reset(new FIX::SessionSettings(sessionsOfType(settings_, "acceptor")));
        acceptor_ =
            makeAcceptor(transport(), application_, *store_, *acceptorSettings_, redactingLogs_);
        startReaper(*acceptorSettings_);
        acceptor_->start();
      }
      if (hasSessionsOfType(settings_, "initiator")) {
        initiatorSettings_.reset(new FIX::SessionSettings(sessionsOfType(settings_, "initiator")));
        initiator_ =
            makeInitiator(transport(), application_, *store_, *initiatorSettings_, redactingLogs_);
        initiator_->start();
      }
    } catch (const FIX::Exception& e) {
      stop();
      throw std::runtime_error(std::string("QuickFIX: ") + e.what());
    }
    startProber();
  }

  void stop() override {
    stopProber();
    reaper_.reset();
    if (initiator_) {
      initiator_->stop();
      initiator_.reset();
    }
    if (acceptor_) {
      acceptor_->stop();
      acceptor_.reset();
    }
  }

  bool sendTestRequest(LinkIndex link, std::uint64_t id) override {
    if (link >= sessionIds_.size()) return false;
    FIX::Session* session = FIX::Session::lookupSession(sessionIds_[link]);
    if (session == nullptr || !session->isLoggedOn()) return false;
    FIX::Message request;
    request.getHeader().setField(FIX::MsgType(FIX::MsgType_TestRequest));
    request.setField(FIX::TestReqID(std::string(kProbeTestReqIdPrefix) + std::to_string(id)));
    return session->send(request);
  }

  bool isLoggedOn(LinkIndex link) const override {
    if (link >= sessionIds_.size()) return false;
    FIX::Session* session = FIX::Session::lookupSession(sessionIds_[link]);
    return session != nullptr && session->isLoggedOn();
  }

 private:
  static FIX::SessionSettings loadSettings(const std::string& path) {
    try {
      // Session-level monitoring needs no data dictionary, and none ships with Debian's
      // QuickFIX: validate framing and session fields only. SessionSettings can't replace a
      // session's dictionary, so copy into a fresh one.
      const FIX::SessionSettings read(path);
      FIX::SessionSettings out;
      out.set(read.get());
      for (const FIX::SessionID& id : read.getSessions()) out.set(id, forQuickfix(read.get(id)));
      return out;
    } catch (const FIX::Exception& e) {
      throw std::runtime_error(path + ": QuickFIX: " + e.what());
    }
  }

  // QuickFIX 1.15.1 knows neither NonStopSession nor TimeZone: it always applies StartTime/
  // EndTime, in UTC or the machine's local time. For such sessions QuickFIX gets an
  // always-open window (StartTime == EndTime) and linkwatch's own TradingSchedule says when
  // the link is expected up.
  static FIX::Dictionary forQuickfix(const FIX::Dictionary& in) {
    const auto yes = [&](const char* key) {
      return in.has(key) && (in.getString(key) == "Y" || in.getString(key) == "y");
    };
    const bool ownSchedule =
        yes("NonStopSession") || (in.has("TimeZone") && in.getString("TimeZone") != "UTC");
    FIX::Dictionary out;
    for (FIX::Dictionary::iterator i = in.begin(); i != in.end(); ++i) {
      const std::string& key = i->first;
      if (ownSchedule && (key == "STARTDAY" || key == "ENDDAY")) continue;
      out.setString(key, i->second);
    }
    if (ownSchedule) {
      out.setString(FIX::START_TIME, "00:00:00");
      out.setString(FIX::END_TIME, "00:00:00");
    }
    out.setBool(FIX::USE_DATA_DICTIONARY, false);
    return out;
  }

  // QuickFIX's select() aborts on descriptors >= FD_SETSIZE; idle connections are never
  // closed by it (src/fix/connection_guard.hpp).
  void startReaper(const FIX::SessionSettings& acceptors) {
    std::set<int> ports;
    for (const FIX::SessionID& id : acceptors.getSessions()) {
      const FIX::Dictionary& d = acceptors.get(id);
      if (d.has(FIX::SOCKET_ACCEPT_PORT))
        ports.insert(static_cast<int>(d.getInt(FIX::SOCKET_ACCEPT_PORT)));
    }
    // The single-threaded SocketAcceptor bounds a connection's wait for its first message by
    // itself (1 s, measured), and shutting one down under it was measured to stall its one
    // thread past a HeartBtInt of 1 s: the logon deadline is for the threaded (and TLS) ones.
    const std::int64_t logonDeadlineMs =
        (options_.threaded || options_.tls) ? options_.logonDeadlineMs : 0;
    reaper_.reset(
        new IdleConnectionReaper(ports, std::chrono::milliseconds(options_.idleConnectionTimeoutMs),
                                 options_.logonGuard, std::chrono::milliseconds(logonDeadlineMs)));
    reaper_->start();
  }

  FixTransport transport() const {
    FixTransport t;
    t.tls = options_.tls;
    t.threaded = options_.threaded;
    return t;
  }

  FIX::LogFactory* innerLogFactory() {
    if (settings_.get().has(FIX::FILE_LOG_PATH)) fileLog_.reset(new FIX::FileLogFactory(settings_));
    return fileLog_.get();
  }

  // RTT probes: a TestRequest with our own TestReqID per link at its interval. Sending takes
  // the session's mutex, so it runs here and never on the core thread.
  void startProber() {
    bool any = false;
    for (const FixLinkSpec& spec : options_.links) any = any || spec.rttProbeIntervalMs > 0;
    if (!any) return;
    proberRunning_ = true;
    prober_ = std::thread([this] { probeLoop(); });
  }

  void stopProber() {
    {
      std::lock_guard<std::mutex> lock(proberMutex_);
      proberRunning_ = false;
    }
    proberWake_.notify_all();
    if (prober_.joinable()) prober_.join();
  }

  void probeLoop() {
    using Clock = std::chrono::steady_clock;
    std::vector<Clock::time_point> due(options_.links.size(), Clock::now());
    std::uint64_t nextId = 1;
    std::unique_lock<std::mutex> lock(proberMutex_);
    while (proberRunning_) {
      const Clock::time_point now = Clock::now();
      Clock::time_point wake = now + std::chrono::seconds(1);
      for (std::size_t i = 0; i < options_.links.size(); ++i) {
        const std::int64_t interval = options_.links[i].rttProbeIntervalMs;
        if (interval <= 0) continue;
        if (due[i] <= now) {
          lock.unlock();
          sendTestRequest(static_cast<LinkIndex>(i), nextId++);
          lock.lock();
          due[i] = now + std::chrono::milliseconds(interval);
        }
        if (due[i] < wake) wake = due[i];
      }
      proberWake_.wait_until(lock, wake, [this] { return !proberRunning_; });
    }
  }

  FixEngineOptions options_;
  SessionDirectory directory_;
  MonitoringApplication application_;
  FIX::SessionSettings settings_;
  std::unique_ptr<FIX::FileLogFactory> fileLog_;
  MonitoringLogFactory logFactory_;
  RedactingLogFactory redactingLogs_;  // in front of logFactory_: no password reaches a log
  std::unique_ptr<IdleConnectionReaper> reaper_;
  std::unique_ptr<FIX::MessageStoreFactory> store_;
  std::unique_ptr<FIX::SessionSettings> acceptorSettings_;
  std::unique_ptr<FIX::SessionSettings> initiatorSettings_;
  std::unique_ptr<FIX::Acceptor> acceptor_;
  std::unique_ptr<FIX::Initiator> initiator_;
  std::vector<FIX::SessionID> sessionIds_;

  std::thread prober_;
  std::mutex proberMutex_;
  std::condition_variable proberWake_;
  bool proberRunning_ = false;
};

}  // namespace

std::unique_ptr<FixEngine> FixEngine::create(const FixEngineOptions& options, EventHub& hub) {
  return std::unique_ptr<FixEngine>(new QuickfixEngine(options, hub));
}

}  // namespace linkwatch
