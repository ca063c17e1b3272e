#include "sim/sent_message_store.hpp"

namespace linkwatch::sim {

void SentMessageStore::add(std::int64_t seq, StoredMessage message) {
  messages_[seq] = std::move(message);
  while (messages_.size() > capacity_) messages_.erase(messages_.begin());
}

const StoredMessage* SentMessageStore::find(std::int64_t seq) const {
  const auto it = messages_.find(seq);
  return it == messages_.end() ? nullptr : &it->second;
}

std::vector<ResendStep> SentMessageStore::plan(std::int64_t begin, std::int64_t end) const {
  std::vector<ResendStep> steps;
  if (end < begin) return steps;
  std::int64_t next = begin;  // first number not yet covered
  for (auto it = messages_.lower_bound(begin); it != messages_.end() && it->first <= end; ++it) {
    if (it->first > next) steps.push_back({next, true, it->first, nullptr});
    steps.push_back({it->first, false, 0, &it->second});
    next = it->first + 1;
  }
  if (next <= end) steps.push_back({next, true, end + 1, nullptr});
  return steps;
}

}  // namespace linkwatch::sim
