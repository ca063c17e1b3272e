// The fixed-size record that crosses from a FIX thread to the monitor's core thread.
//
// This header is included by the C++14 QuickFIX adapter: keep it C++14-clean.
#pragma once

#include <cstdint>
#include <type_traits>

#include <linkwatch/clock.hpp>

namespace linkwatch {

// Dense index of a configured link (0..N-1). The hot path carries this, never a string.
using LinkIndex = std::uint32_t;
constexpr LinkIndex kNoLink = 0xFFFFFFFFu;

enum class EventKind : std::uint8_t {
  kLogon,             // Application::onLogon: both logons exchanged
  kLogout,            // Application::onLogout: a logged-on session ended
  kDisconnect,        // QuickFIX "Disconnecting": the TCP connection is gone
  kMessageIn,         // a raw inbound message (Log::onIncoming)
  kMessageOut,        // a raw outbound message (Log::onOutgoing)
  kHeartbeatTimeout,  // "Timed out waiting for heartbeat"
  kLogonTimeout,      // "Timed out waiting for logon response"
  kLogonRefused,      // a logon refused by QuickFIX or by us (schedule, CompIDs, checks)
  kSeqTooHigh,        // "MsgSeqNum too high, expecting X but received Y": seqNum=Y, aux=X
  kSeqTooLow,         // "MsgSeqNum too low ...": QuickFIX logs out
  kSocketError,       // a receive or send failure reported by the socket layer
  kUnknownSession,    // "Session not found for incoming message" (link is kNoLink)
  kProbeSent,         // our own RTT TestRequest left (testReqId = probe id)
};

// What kind of FIX message a kMessageIn/kMessageOut carries. Admin types get their own
// value; application messages keep their MsgType text in SessionEvent::msgType.
enum class MessageClass : std::uint8_t {
  kHeartbeat,      // 0
  kTestRequest,    // 1
  kResendRequest,  // 2
  kReject,         // 3
  kSequenceReset,  // 4
  kLogout,         // 5
  kLogon,          // A
  kApplication,    // anything else
  kGarbled,        // not parseable as FIX
};
constexpr int kMessageClassCount = 9;

namespace event_flag {
constexpr std::uint8_t kPossDup = 1u << 0;
constexpr std::uint8_t kGapFill = 1u << 1;
constexpr std::uint8_t kHasTestReqId = 1u << 2;
// TestReqID is QuickFIX's own "TEST": it can't be matched to a particular request.
constexpr std::uint8_t kQuickfixTestReqId = 1u << 3;
// TestReqID is one of ours ("LW" + decimal id), parsed into testReqId.
constexpr std::uint8_t kProbeTestReqId = 1u << 4;
constexpr std::uint8_t kHasSendingTime = 1u << 5;
constexpr std::uint8_t kResetSeqNum = 1u << 6;
// On a kDisconnect: the QuickFIX worker process that ran the session died or hung.
constexpr std::uint8_t kFixWorkerLost = 1u << 7;
}  // namespace event_flag

struct SessionEvent {
  Nanos monotonic;          // stamped on the FIX thread
  Nanos wall;               // stamped on the FIX thread, for SendingTime skew
  Nanos sendingTime;        // tag 52 as Unix ns, when kHasSendingTime
  std::uint64_t testReqId;  // tag 112 when it is one of ours
  LinkIndex link;
  std::uint32_t seqNum;  // tag 34, or Y of "too high"
  std::uint32_t aux;     // NewSeqNo (36) / EndSeqNo (16) / HeartBtInt (108) / X of "too high"
  std::uint32_t aux2;    // BeginSeqNo (7)
  EventKind kind;
  MessageClass messageClass;
  std::uint8_t flags;
  char msgType[3];  // MsgType (35), NUL-padded; application types longer than 3 are cut
  std::uint8_t reserved[2];
};

// Copied by value through lock-free queues and overflow slots.
static_assert(std::is_trivially_copyable<SessionEvent>::value, "SessionEvent crosses queues");
static_assert(sizeof(SessionEvent) == 56, "keep SessionEvent small: it is copied per message");

}  // namespace linkwatch
