// The application messages a member sent, kept by MsgSeqNum so that a ResendRequest can be
// answered with PossDupFlag=Y resends; everything else in the range is gap-filled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/fix_wire.hpp"

namespace linkwatch::sim {

struct StoredMessage {
  std::string msgType;
  std::vector<FixField> body;  // after the standard header
  std::string sendingTime;     // becomes OrigSendingTime(122) on a resend
};

// One step of the answer to a ResendRequest, in MsgSeqNum order.
struct ResendStep {
  std::int64_t seq = 0;
  // SequenceReset-GapFill at `seq` with NewSeqNo `newSeqNo`; otherwise a resend of `message`.
  bool gapFill = true;
  std::int64_t newSeqNo = 0;
  const StoredMessage* message = nullptr;  // valid until the store changes
};

// Thread-safety: none; owned by one member.
class SentMessageStore {
 public:
  // Keeps at most `capacity` messages: older ones are gap-filled like admin messages.
  explicit SentMessageStore(std::size_t capacity = 10000) : capacity_(capacity) {}

  void add(std::int64_t seq, StoredMessage message);
  const StoredMessage* find(std::int64_t seq) const;
  void clear() noexcept { messages_.clear(); }
  std::size_t size() const noexcept { return messages_.size(); }

  // How to answer a ResendRequest for [begin, end] (both inclusive, end >= begin): stored
  // messages are resent, every run of other numbers becomes one GapFill whose NewSeqNo is the
  // number after the run.
  std::vector<ResendStep> plan(std::int64_t begin, std::int64_t end) const;

 private:
  std::size_t capacity_;
  std::map<std::int64_t, StoredMessage> messages_;
};

}  // namespace linkwatch::sim
