// Embedded overhead (issue "Performance", item 2): what linkwatch's decorators add to the FIX
// thread of a QuickFIX gateway that embeds them. The same inbound message stream goes through
// two real QuickFIX acceptor sessions in one process, each logged on and fed with
// Session::next(text, UtcTimeStamp()) exactly as QuickFIX's socket thread feeds it:
//   plain:     the gateway's Application, no log factory (QuickFIX's null log);
//   monitored: the same Application wrapped by MonitoringApplication, with a LogonGuard on
//              every link as `linkwatch run` has, and MonitoringLogFactory (wrapping no log)
//              publishing into an EventHub drained by another thread.
// The difference is the decorators' cost: a clock read, a scan of the raw message and a queue
// push per message, plus a forwarding call per callback.
//
// BM_Decorator_Paired is the figure to read: each iteration runs a block of messages through
// one session and then the same block through the other (the order alternating), timed with
// the thread's CPU clock, and reports the median of the per-block differences. Neighbours'
// load moves both halves of a pair alike, which separate Plain/Monitored runs cannot promise.
//
// QuickFIX's headers only compile as C++14: this file is built as C++14, like src/fix.
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <quickfix/Application.h>
#include <quickfix/Dictionary.h>
#include <quickfix/FieldConvertors.h>
#include <quickfix/MessageStore.h>
#include <quickfix/Mutex.h>
#include <quickfix/Parser.h>
#include <quickfix/Responder.h>
#include <quickfix/Session.h>
#include <quickfix/SessionFactory.h>
#include <quickfix/SessionID.h>

#include <benchmark/benchmark.h>

#include <linkwatch/clock.hpp>
#include <linkwatch/event_hub.hpp>

#include "fix/logon_guard.hpp"
#include "fix/monitoring_application.hpp"
#include "fix/monitoring_log.hpp"
#include "fix/session_directory.hpp"

namespace linkwatch {
namespace bench {
namespace {

constexpr char kBeginString[] = "FIX.4.4";
constexpr char kGateway[] = "LINKWATCH";
constexpr char kPlainMember[] = "M001";
constexpr char kMonitoredMember[] = "M002";  // same length: the same bytes to parse
// The same pair for a gateway that has a log of its own (NoopLogFactory).
constexpr char kPlainLoggedMember[] = "M003";
constexpr char kMonitoredLoggedMember[] = "M004";
// Quiet links served by one thread (QuickFIX's SocketAcceptor serves every session on one):
// as many plain sessions (P101...) as monitored ones (Q101...), names of the same length.
constexpr std::size_t kQuietLinks = 8;
std::string quietMember(bool monitored, std::size_t i) {
  return (monitored ? "Q" : "P") + std::to_string(101 + i);
}

// Messages per block in the paired benchmark, and in the ring the others cycle through.
constexpr std::size_t kBlock = 512;
constexpr std::size_t kSpacedBlock = 64;  // messages 100 us apart
constexpr std::size_t kRing = 4096;
// QuickFIX rejects a SendingTime more than 120 s (MaxLatency) from its clock: rebuild the
// messages before they get that old.
constexpr Nanos kRebuildAfter = 60 * kNanosPerSecond;

// Stands in for the socket: QuickFIX's replies (the logon answer) go nowhere.
class NullResponder : public FIX::Responder {
 public:
  bool send(const std::string& text) override {
    // QuickFIX's own Heartbeats and TestRequests (HeartBtInt 30 s) are part of its work; a
    // Reject, ResendRequest, SequenceReset or Logout means the stream was not accepted.
    const bool unexpected = text.find(
                                "\x01"
                                "35=3\x01") != std::string::npos ||
                            text.find(
                                "\x01"
                                "35=2\x01") != std::string::npos ||
                            text.find(
                                "\x01"
                                "35=4\x01") != std::string::npos ||
                            text.find(
                                "\x01"
                                "35=5\x01") != std::string::npos;
    if (unexpected) {
      ++rejected;
      last = text;
    }
    return true;
  }
  void disconnect() override { ++disconnects; }
  int rejected = 0;
  int disconnects = 0;
  std::string last;
};

// An application with nothing to do: what wrapping it costs is the decorators' alone.
class EmptyApplication : public FIX::Application {
 public:
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID&) override {}
  void onLogout(const FIX::SessionID&) override {}
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}
  void fromAdmin(const FIX::Message&,
                 const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                              FIX::IncorrectTagValue, FIX::RejectLogon) override {}
  void fromApp(const FIX::Message&,
               const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                            FIX::IncorrectTagValue,
                                            FIX::UnsupportedMessageType) override {}
};

// The gateway's own application: looks at each order's ClOrdID, as any order handler would.
class GatewayApplication : public EmptyApplication {
 public:
  void fromAdmin(const FIX::Message&,
                 const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                              FIX::IncorrectTagValue, FIX::RejectLogon) override {
    ++adminMessages;
  }
  void fromApp(const FIX::Message& message,
               const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                            FIX::IncorrectTagValue,
                                            FIX::UnsupportedMessageType) override {
    orderBytes += message.getField(11).size();
    ++orders;
  }
  std::uint64_t adminMessages = 0;
  std::uint64_t orders = 0;
  std::uint64_t orderBytes = 0;
};

// How the consumer waits when the hub is empty.
enum class ConsumerMode {
  // As LinkMonitor's loop: spin 20 us, then sleep on the futex, which every publish then
  // pays a FUTEX_WAKE system call to end.
  kLinkMonitor = 0,
  // Never announces that it sleeps: drains, then naps 50 us. Producers never make a system
  // call; what is left is the cost of the push itself and its cache lines.
  kPolling = 1,
};

// The monitor's side of the hub, on its own thread, doing a token of work per event.
class DrainThread {
 public:
  static constexpr std::size_t kDrainMax = 4096;  // LinkMonitor's events a pass

  explicit DrainThread(EventHub& hub) : hub_(hub), thread_([this] { run(); }) {}
  ~DrainThread() {
    running_.store(false, std::memory_order_release);
    hub_.wakeConsumer();
    thread_.join();
  }
  DrainThread(const DrainThread&) = delete;
  DrainThread& operator=(const DrainThread&) = delete;
  void setMode(ConsumerMode mode) {
    mode_.store(mode, std::memory_order_release);
    hub_.wakeConsumer();
  }

 private:
  void run() {
    std::uint64_t seqSum = 0;
    Nanos nextTallyRead = 0;
    while (running_.load(std::memory_order_acquire)) {
      // As LinkMonitor does for a link that is up after each event other than a routine
      // message, and its reads of the tallies every 100 ms.
      const Nanos drainedAt = monotonicNow();
      const std::size_t n = hub_.drain(
          [&](const SessionEvent& e) {
            seqSum += e.seqNum;
            if (!isRoutineMessage(e)) hub_.setTallyAllowed(e.link, true);
          },
          kDrainMax);
      if (monotonicNow() >= nextTallyRead) {
        nextTallyRead = monotonicNow() + 100 * kNanosPerMilli;
        for (LinkIndex link = 0; link < hub_.linkCount(); ++link)
          seqSum += hub_.readTally(link).messagesIn;
      }
      if (mode_.load(std::memory_order_acquire) == ConsumerMode::kLinkMonitor) {
        if (n == kDrainMax) continue;  // as LinkMonitor: a full pass goes on at once
        hub_.waitForEvents(monotonicNow() + 10 * kNanosPerMilli, EventHub::kIdleSpin,
                           n != 0 ? drainedAt + EventHub::kDrainPacing : 0);
      } else if (n != 0) {
        continue;
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    }
    benchmark::DoNotOptimize(seqSum);
  }

  EventHub& hub_;
  std::atomic<bool> running_{true};
  std::atomic<ConsumerMode> mode_{ConsumerMode::kLinkMonitor};
  std::thread thread_;
};

// A gateway's own log of record that writes nothing: QuickFIX takes the session's log mutex
// around every Log call once a session has any log, so a gateway with a log pays that lock
// already and the decorators add only their own work to it.
class NoopLog : public FIX::Log {
 public:
  void clear() override {}
  void backup() override {}
  void onIncoming(const std::string& text) override { bytes += text.size(); }
  void onOutgoing(const std::string& text) override { bytes += text.size(); }
  void onEvent(const std::string& text) override { bytes += text.size(); }
  std::size_t bytes = 0;
};

class NoopLogFactory : public FIX::LogFactory {
 public:
  FIX::Log* create() override { return new NoopLog; }
  FIX::Log* create(const FIX::SessionID&) override { return new NoopLog; }
  void destroy(FIX::Log* log) override { delete log; }
};

// ---- the message stream ----------------------------------------------------------------

enum class Stream { kHeartbeat = 0, kNewOrderSingle = 1, kMixed = 2 };

// 8=...|9=...|<body>10=...| with body length and checksum computed.
std::string frame(const std::string& body) {
  std::string head =
      std::string("8=") + kBeginString + "\x01" + "9=" + std::to_string(body.size()) + "\x01";
  std::string text = head + body;
  unsigned sum = 0;
  for (const char c : text) sum += static_cast<unsigned char>(c);
  char trailer[16];
  std::snprintf(trailer, sizeof trailer, "10=%03u\x01", sum % 256);
  return text + trailer;
}

std::string header(const char* msgType, int seq, const std::string& member,
                   const std::string& sendingTime) {
  return std::string("35=") + msgType + "\x01" + "34=" + std::to_string(seq) + "\x01" +
         "49=" + member + "\x01" + "52=" + sendingTime + "\x01" + "56=" + kGateway + "\x01";
}

std::string heartbeat(int seq, const std::string& member, const std::string& sendingTime) {
  return frame(header("0", seq, member, sendingTime));
}

// A FIX 4.4 NewOrderSingle as a member's order entry sends it: 19 body fields with a
// one-entry party group, about 250 bytes. (A second party entry would repeat tags, which
// QuickFIX without a data dictionary rejects.)
std::string newOrderSingle(int seq, const std::string& member, const std::string& sendingTime) {
  char clOrdId[32];
  std::snprintf(clOrdId, sizeof clOrdId, "ORD%s-%09d", member.c_str(), seq);
  const std::string body =
      header("D", seq, member, sendingTime) + "11=" + clOrdId + "\x01" + "1=ACCT-4711\x01" +
      "21=1\x01" + "55=DBK\x01" + "48=DE0005140008\x01" + "22=4\x01" + "207=XETR\x01" +
      "54=" + (seq % 2 == 0 ? "1" : "2") + "\x01" + "60=" + sendingTime + "\x01" +
      "38=" + std::to_string(100 + seq % 900) + "\x01" + "40=2\x01" +
      "44=" + std::to_string(10 + seq % 7) + ".125\x01" + "59=0\x01" + "15=EUR\x01" + "528=A\x01" +
      "453=1\x01" + "448=TRDR01\x01" + "447=D\x01" + "452=11\x01" + "58=bench order\x01";
  return frame(body);
}

std::string nowText() { return FIX::UtcTimeStampConvertor::convert(FIX::UtcTimeStamp(), 3); }

// One logged-on acceptor session and the ring of messages it is fed.
class Rig {
 public:
  Rig(const std::string& member, FIX::Application& application, FIX::LogFactory* logFactory)
      : member_(member),
        id_(kBeginString, kGateway, member),
        factory_(application, store_, logFactory) {
    FIX::Dictionary settings;
    settings.setString("ConnectionType", "acceptor");
    settings.setString("StartTime", "00:00:00");
    settings.setString("EndTime", "00:00:00");
    settings.setString("UseDataDictionary", "N");
    session_ = factory_.create(id_, settings);
    session_->setResponder(&responder_);
    session_->next(
        frame(std::string("35=A\x01") + "34=1\x01" + "49=" + member + "\x01" + "52=" + nowText() +
              "\x01" + "56=" + kGateway + "\x01" + "98=0\x01" + "108=30\x01"),
        FIX::UtcTimeStamp());
    if (!session_->isLoggedOn()) {
      std::fprintf(stderr, "decorator_bench: %s did not log on\n", member.c_str());
      std::abort();
    }
  }
  ~Rig() { factory_.destroy(session_); }
  Rig(const Rig&) = delete;
  Rig& operator=(const Rig&) = delete;

  // Builds the ring for `stream` (MsgSeqNum 2 onwards) and rewinds the session to it.
  // `framed`: each message is cut from the byte stream by QuickFIX's Parser, which is given
  // the stream in reads of up to BUFSIZ bytes, as QuickFIX's socket thread does after each
  // recv() (SocketConnection, ThreadedSocketConnection); otherwise the prebuilt message goes
  // straight to Session::next.
  void prepare(Stream stream, bool framed) {
    stream_ = stream;
    framed_ = framed;
    rebuild();
  }

  // Feeds the next message of the ring to the session.
  void feedOne() {
    if (next_ == ring_.size()) wrap();
    if (!framed_) {
      session_->next(ring_[next_++], FIX::UtcTimeStamp());
      return;
    }
    // The ring's bytes end exactly at its last message, so the parser always finds one.
    while (!parser_.readFixMessage(framedMessage_)) {
      const std::size_t n = std::min<std::size_t>(BUFSIZ, wire_.size() - wireRead_);
      parser_.addToStream(wire_.data() + wireRead_, n);
      wireRead_ += n;
    }
    ++next_;
    session_->next(framedMessage_, FIX::UtcTimeStamp());
  }

  // Rewinds between blocks, outside any timed region: the paired benchmark calls this.
  void ensureRoom(std::size_t messages) {
    if (next_ + messages > ring_.size()) wrap();
  }

  // Logged on, and QuickFIX answered nothing with a Reject, ResendRequest or Logout: the
  // stream is what a healthy session sees.
  bool healthy() {
    const bool ok =
        session_->isLoggedOn() && responder_.rejected == 0 && responder_.disconnects == 0;
    if (!ok) {
      std::fprintf(stderr, "decorator_bench: %s: %d unexpected answers, %d disconnects; last: %s\n",
                   member_.c_str(), responder_.rejected, responder_.disconnects,
                   responder_.last.c_str());
    }
    return ok;
  }

 private:
  void rebuild() {
    const std::string sendingTime = nowText();
    ring_.clear();
    for (std::size_t i = 0; i < kRing; ++i) {
      const int seq = static_cast<int>(i) + 2;
      const bool isHeartbeat =
          stream_ == Stream::kHeartbeat || (stream_ == Stream::kMixed && i % 5 == 0);
      ring_.push_back(isHeartbeat ? heartbeat(seq, member_, sendingTime)
                                  : newOrderSingle(seq, member_, sendingTime));
    }
    wire_.clear();
    for (const std::string& message : ring_) wire_ += message;
    builtAt_ = monotonicNow();
    rewind();
  }
  void rewind() {
    session_->setNextTargetMsgSeqNum(2);
    next_ = 0;
    parser_ = FIX::Parser();  // drops what an earlier read left of the ring
    wireRead_ = 0;
  }
  void wrap() {
    if (monotonicNow() - builtAt_ > kRebuildAfter) {
      rebuild();
    } else {
      rewind();
    }
  }

  std::string member_;
  FIX::SessionID id_;
  FIX::MemoryStoreFactory store_;
  FIX::SessionFactory factory_;
  NullResponder responder_;
  FIX::Session* session_ = nullptr;
  Stream stream_ = Stream::kHeartbeat;
  std::vector<std::string> ring_;
  std::size_t next_ = 0;
  bool framed_ = false;
  std::string wire_;  // the ring's messages back to back, as they come off the socket
  std::size_t wireRead_ = 0;
  FIX::Parser parser_;
  std::string framedMessage_;
  Nanos builtAt_ = 0;
};

// `linkwatch run` checks every member's Logon (makeLogonGuard: each link is guarded even with
// no address rule or secret), so its MonitoringApplication looks at every admin message.
LogonGuardOptions guardEveryLink(const std::vector<std::string>& sessionKeys) {
  LogonGuardOptions options;
  for (const std::string& key : sessionKeys) {
    LogonRuleSpec rule;
    rule.memberId = key;
    rule.sessionKey = key;
    options.links.push_back(rule);
  }
  return options;
}

MonitoringApplication& withLogonGuard(MonitoringApplication& app, LogonGuard& guard) {
  app.setLogonGuard(&guard);
  return app;
}

// Both sessions, the hub and its consumer: built once, shared by every benchmark.
std::vector<std::string> monitoredKeys() {
  std::vector<std::string> keys{
      FIX::SessionID(kBeginString, kGateway, kMonitoredMember).toString(),
      FIX::SessionID(kBeginString, kGateway, kMonitoredLoggedMember).toString()};
  for (std::size_t i = 0; i < kQuietLinks; ++i)
    keys.push_back(FIX::SessionID(kBeginString, kGateway, quietMember(true, i)).toString());
  return keys;
}

struct World {
  World()
      : hub(2 + kQuietLinks, 65536),
        keys(monitoredKeys()),
        directory(keys),
        guard(guardEveryLink(keys)),
        drain(hub),
        monitoringApp(hub, directory, &monitoredInner),
        monitoringLogs(hub, directory, nullptr),
        monitoringLoggedLogs(hub, directory, &gatewayLogs),
        plain(kPlainMember, plainApp, nullptr),
        monitored(kMonitoredMember, withLogonGuard(monitoringApp, guard), &monitoringLogs),
        plainLogged(kPlainLoggedMember, plainLoggedApp, &gatewayLogs),
        monitoredLogged(kMonitoredLoggedMember, monitoringApp, &monitoringLoggedLogs) {
    // The sessions are logged on: LinkMonitor marks an up link's routine messages as not
    // needing a prompt wake-up of the core (EventHub::setPromptWake); do as it does.
    for (LinkIndex link = 0; link < hub.linkCount(); ++link) hub.setPromptWake(link, false);
    for (std::size_t i = 0; i < kQuietLinks; ++i) {
      quietPlain.push_back(std::make_unique<Rig>(quietMember(false, i), plainApp, nullptr));
      quietMonitored.push_back(
          std::make_unique<Rig>(quietMember(true, i), monitoringApp, &monitoringLogs));
    }
  }

  EventHub hub;
  std::vector<std::string> keys;
  SessionDirectory directory;
  LogonGuard guard;
  DrainThread drain;
  GatewayApplication plainApp;
  GatewayApplication monitoredInner;
  MonitoringApplication monitoringApp;
  MonitoringLogFactory monitoringLogs;
  NoopLogFactory gatewayLogs;
  MonitoringLogFactory monitoringLoggedLogs;
  GatewayApplication plainLoggedApp;
  Rig plain;
  Rig monitored;
  Rig plainLogged;
  Rig monitoredLogged;
  std::vector<std::unique_ptr<Rig>> quietPlain;
  std::vector<std::unique_ptr<Rig>> quietMonitored;
};

World& world() {
  static World w;
  return w;
}

const char* streamName(Stream s) {
  switch (s) {
    case Stream::kHeartbeat:
      return "Heartbeat";
    case Stream::kNewOrderSingle:
      return "NewOrderSingle";
    case Stream::kMixed:
      return "Mixed";
  }
  return "?";
}

void checkHealthy(benchmark::State& state, Rig& rig) {
  if (!rig.healthy()) state.SkipWithError("QuickFIX answered the stream (see stderr)");
}

// One message per iteration through one session.
void feedBenchmark(benchmark::State& state, bool monitored) {
  World& w = world();
  Rig& rig = monitored ? w.monitored : w.plain;
  const auto stream = static_cast<Stream>(state.range(0));
  rig.prepare(stream, false);
  const std::uint64_t droppedBefore = w.hub.dropped();
  for (auto _ : state) rig.feedOne();
  checkHealthy(state, rig);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel(streamName(stream));
  state.counters["dropped"] = static_cast<double>(w.hub.dropped() - droppedBefore);
}

void BM_QuickFix_Plain(benchmark::State& state) { feedBenchmark(state, false); }
void BM_QuickFix_Monitored(benchmark::State& state) { feedBenchmark(state, true); }

Nanos threadCpuNow() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<Nanos>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Per-message cost of one block. Back to back (gap 0): the block's thread CPU time over its
// messages. Spaced: the thread sleeps `gap` before each message, as a FIX thread waits in
// select() on a quiet link, and each message is timed on its own (CLOCK_MONOTONIC); the
// block's figure is their median, which a preempted message cannot move.
// Several rigs take the block's messages in turn, as one thread serving several links does.
double timedBlock(const std::vector<Rig*>& rigs, std::size_t messages, Nanos gap,
                  std::vector<double>& scratch) {
  const std::size_t n = rigs.size();
  for (Rig* rig : rigs) rig->ensureRoom(messages / n + 1);
  if (gap == 0) {
    const Nanos start = threadCpuNow();
    // A wrapping index rather than i % n: a division per message would be timed with it.
    for (std::size_t i = 0, k = 0; i < messages; ++i, k = k + 1 == n ? 0 : k + 1)
      rigs[k]->feedOne();
    return static_cast<double>(threadCpuNow() - start) / static_cast<double>(messages);
  }
  scratch.clear();
  for (std::size_t i = 0; i < messages; ++i) {
    std::this_thread::sleep_for(std::chrono::nanoseconds(gap));
    Rig& rig = *rigs[i % n];
    const Nanos start = monotonicNow();
    rig.feedOne();
    scratch.push_back(static_cast<double>(monotonicNow() - start));
  }
  return median(scratch);
}

// Pairs of blocks, plain then monitored or the reverse; per-message cost of each half.
void pairedBlocks(benchmark::State& state, Stream stream, Nanos gap, ConsumerMode mode, bool framed,
                  const std::vector<Rig*>& plainRigs, const std::vector<Rig*>& monitoredRigs) {
  World& w = world();
  const std::size_t messages = gap == 0 ? kBlock : kSpacedBlock;
  w.drain.setMode(mode);
  for (Rig* rig : plainRigs) rig->prepare(stream, framed);
  for (Rig* rig : monitoredRigs) rig->prepare(stream, framed);
  std::vector<double> plainNs, monitoredNs, addedNs, scratch;
  const std::uint64_t droppedBefore = w.hub.dropped();
  bool plainFirst = true;
  for (auto _ : state) {
    double plain = 0, monitored = 0;
    if (plainFirst) {
      plain = timedBlock(plainRigs, messages, gap, scratch);
      monitored = timedBlock(monitoredRigs, messages, gap, scratch);
    } else {
      monitored = timedBlock(monitoredRigs, messages, gap, scratch);
      plain = timedBlock(plainRigs, messages, gap, scratch);
    }
    plainFirst = !plainFirst;
    plainNs.push_back(plain);
    monitoredNs.push_back(monitored);
    addedNs.push_back(monitored - plain);
  }
  w.drain.setMode(ConsumerMode::kLinkMonitor);
  for (Rig* rig : plainRigs) checkHealthy(state, *rig);
  for (Rig* rig : monitoredRigs) checkHealthy(state, *rig);
  const double plainMedian = median(plainNs);
  const double added = median(addedNs);
  state.counters["plain_ns"] = plainMedian;
  state.counters["monitored_ns"] = median(monitoredNs);
  state.counters["added_ns"] = added;
  state.counters["added_pct"] = plainMedian > 0 ? 100.0 * added / plainMedian : 0;
  state.counters["dropped"] = static_cast<double>(w.hub.dropped() - droppedBefore);
  state.SetItemsProcessed(state.iterations() * 2 * static_cast<std::int64_t>(messages));
  state.SetLabel(streamName(stream));
}

// One link each side. Arguments: stream, gap between messages in us, consumer mode, whether
// the gateway has a log of its own (1: both sessions log to NoopLogFactory, the monitored one
// through MonitoringLogFactory), and whether messages are framed by QuickFIX's Parser
// (Rig::prepare).
void BM_Decorator_Paired(benchmark::State& state) {
  World& w = world();
  const bool gatewayLog = state.range(3) != 0;
  pairedBlocks(state, static_cast<Stream>(state.range(0)), state.range(1) * kNanosPerMicro,
               static_cast<ConsumerMode>(state.range(2)), state.range(4) != 0,
               {gatewayLog ? &w.plainLogged : &w.plain},
               {gatewayLog ? &w.monitoredLogged : &w.monitored});
}

// Several quiet links on one FIX thread, as QuickFIX's SocketAcceptor serves them: a block's
// messages go to kQuietLinks sessions in turn, so each message finds the decorators' code
// warm from the link before but its own link's objects (its log, its tally slot, QuickFIX's
// session) as cold as that link's last message left them. Arguments: stream, gap in us.
void BM_Decorator_PairedLinks(benchmark::State& state) {
  World& w = world();
  std::vector<Rig*> plainRigs, monitoredRigs;
  for (const auto& rig : w.quietPlain) plainRigs.push_back(rig.get());
  for (const auto& rig : w.quietMonitored) monitoredRigs.push_back(rig.get());
  pairedBlocks(state, static_cast<Stream>(state.range(0)), state.range(1) * kNanosPerMicro,
               ConsumerMode::kLinkMonitor, false, plainRigs, monitoredRigs);
  state.counters["links"] = static_cast<double>(kQuietLinks);
}

// One up link's decorators outside QuickFIX, for the own-work benchmarks: the monitored
// member's MonitoringLog and MonitoringApplication (with a LogonGuard, forwarding to an
// application that does nothing), and one message of `stream`, raw and parsed.
struct DecoratorsAlone {
  explicit DecoratorsAlone(Stream s)
      : stream(s),
        key(FIX::SessionID(kBeginString, kGateway, kMonitoredMember).toString()),
        hub(1, 1024),
        directory({key}),
        guard(guardEveryLink({key})),
        application(hub, directory, &inner),
        log(new MonitoringLog(hub, 0, nullptr)),  // allocated as MonitoringLogFactory does
        text(s == Stream::kHeartbeat ? heartbeat(2, kMonitoredMember, nowText())
                                     : newOrderSingle(2, kMonitoredMember, nowText())),
        id(kBeginString, kGateway, kMonitoredMember) {
    application.setLogonGuard(&guard);
    hub.setTallyAllowed(0, true);  // up, as the core grants it after the Logon
    message.setString(text, false);
    log->onIncoming(text);  // the first message is read in full (its SendingTime sample)
  }
  // What Session::next calls for an inbound message, QuickFIX's log mutex left out.
  void receive() {
    log->onIncoming(text);
    if (stream == Stream::kHeartbeat)
      application.fromAdmin(message, id);
    else
      application.fromApp(message, id);
  }
  bool tallied() const { return hub.readTally(0).heartbeatsIn + hub.readTally(0).messagesIn != 0; }

  Stream stream;
  std::string key;
  EventHub hub;
  SessionDirectory directory;
  LogonGuard guard;
  EmptyApplication inner;
  MonitoringApplication application;
  std::unique_ptr<MonitoringLog> log;
  std::string text;
  FIX::Message message;
  FIX::SessionID id;
};

// The decorators' own work on one inbound message of an up link, without QuickFIX around it,
// in a loop. For finding where the paired rows' nanoseconds go; no target of its own.
void BM_Decorators_OwnWork(benchmark::State& state) {
  DecoratorsAlone d(static_cast<Stream>(state.range(0)));
  for (auto _ : state) {
    d.receive();
    benchmark::ClobberMemory();
  }
  if (!d.tallied()) state.SkipWithError("nothing was tallied: the link was not up");
  state.SetLabel(streamName(d.stream));
}

// The same from cold caches, as a quiet link's FIX thread meets them after select() returns:
// before each message `evict_kib` of other data is written (1 MiB: this vCPU's L1 and L2; 64
// MiB: the L3 too), then the message's text and its parsed header are read and the clock is
// read (QuickFIX has just received, stamped and parsed it), and only the decorators'
// callbacks are timed. `own_ns` is the median less the median of the same timing around
// nothing.
void BM_Decorators_OwnWorkCold(benchmark::State& state) {
  DecoratorsAlone d(static_cast<Stream>(state.range(0)));
  const std::size_t evictBytes = static_cast<std::size_t>(state.range(1)) * 1024;
  std::vector<std::uint64_t> other(evictBytes / sizeof(std::uint64_t), 1);
  std::uint64_t sink = 0;
  const auto coldThenTime = [&](bool decorators) {
    for (std::uint64_t& word : other) word += sink;
    for (const char c : d.text) sink += static_cast<unsigned char>(c);
    sink += d.message.getHeader().getField(FIX::FIELD::MsgType).size();
    const FIX::UtcTimeStamp receivedAt;  // as QuickFIX's socket thread stamps each message
    sink += static_cast<std::uint64_t>(receivedAt.getFraction(9));
    const Nanos start = monotonicNow();
    if (decorators) d.receive();
    benchmark::ClobberMemory();
    return static_cast<double>(monotonicNow() - start);
  };
  std::vector<double> timed, empty;
  for (auto _ : state) {
    timed.push_back(coldThenTime(true));
    empty.push_back(coldThenTime(false));
  }
  benchmark::DoNotOptimize(sink);
  if (!d.tallied()) state.SkipWithError("nothing was tallied: the link was not up");
  state.counters["own_ns"] = median(timed) - median(empty);
  state.counters["clock_ns"] = median(empty);
  state.SetLabel(streamName(d.stream));
}

// What QuickFIX pays around every Log call once a session has any log (SessionState's
// FIX::Locker on its own mutex), uncontended: the part of the paired rows' cost that a gateway
// with a log of its own pays already.
void BM_QuickFix_LogMutex(benchmark::State& state) {
  FIX::Mutex mutex;
  for (auto _ : state) {
    FIX::Locker lock(mutex);
    benchmark::ClobberMemory();
  }
}

void streams(benchmark::internal::Benchmark* b) {
  b->ArgName("stream");
  for (const Stream s : {Stream::kHeartbeat, Stream::kNewOrderSingle, Stream::kMixed})
    b->Arg(static_cast<int>(s));
}

BENCHMARK(BM_QuickFix_Plain)->Apply(streams);
BENCHMARK(BM_QuickFix_Monitored)->Apply(streams);
BENCHMARK(BM_Decorators_OwnWork)->Arg(0)->Arg(1);
BENCHMARK(BM_QuickFix_LogMutex);
BENCHMARK(BM_Decorators_OwnWorkCold)
    ->ArgNames({"stream", "evict_kib"})
    ->Args({0, 1024})
    ->Args({1, 1024})
    ->Iterations(2000);
BENCHMARK(BM_Decorators_OwnWorkCold)
    ->ArgNames({"stream", "evict_kib"})
    ->Args({0, 65536})
    ->Args({1, 65536})
    ->Iterations(150);
// 300 pairs of 512-message blocks, back to back.
BENCHMARK(BM_Decorator_Paired)
    ->ArgNames({"stream", "gap_us", "consumer", "gateway_log", "framed"})
    // Each stream, LinkMonitor's consumer.
    ->Args({0, 0, 0, 0, 0})
    ->Args({1, 0, 0, 0, 0})
    ->Args({2, 0, 0, 0, 0})
    // The mixed stream with the consumer that never sleeps on the futex.
    ->Args({2, 0, 1, 0, 0})
    // A gateway that has a log of its own: QuickFIX's log mutex is then paid with or without
    // the decorators, and the difference is their own work.
    ->Args({0, 0, 0, 1, 0})
    ->Args({1, 0, 0, 1, 0})
    ->Args({2, 0, 0, 1, 0})
    // As QuickFIX's socket thread has it: each message cut from BUFSIZ reads of the stream by
    // QuickFIX's Parser, part of QuickFIX's own cost for every message off a socket.
    ->Args({0, 0, 0, 0, 1})
    ->Args({1, 0, 0, 0, 1})
    ->Args({2, 0, 0, 0, 1})
    ->Iterations(300);
// On a quiet link (one message every 100 us) with either consumer: 100 pairs of 64-message
// blocks.
BENCHMARK(BM_Decorator_Paired)
    ->ArgNames({"stream", "gap_us", "consumer", "gateway_log", "framed"})
    ->Args({2, 100, 0, 0, 0})
    ->Args({2, 100, 1, 0, 0})
    ->Iterations(100);
// Eight quiet links on one thread, each message to the next link: 100 pairs of 64-message
// blocks, eight messages a link.
BENCHMARK(BM_Decorator_PairedLinks)
    ->ArgNames({"stream", "gap_us"})
    ->Args({2, 100})
    ->Iterations(100);

}  // namespace
}  // namespace bench
}  // namespace linkwatch

BENCHMARK_MAIN();
