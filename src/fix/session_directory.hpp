// Maps QuickFIX SessionIDs to dense link indexes. Built before QuickFIX starts and never
// changed afterwards, so FIX threads read it without a lock.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include <quickfix/SessionID.h>

#include <linkwatch/session_event.hpp>

namespace linkwatch {

class SessionDirectory {
 public:
  explicit SessionDirectory(const std::vector<std::string>& sessionKeys) {
    for (std::size_t i = 0; i < sessionKeys.size(); ++i)
      index_.emplace(sessionKeys[i], static_cast<LinkIndex>(i));
  }

  // No allocation: SessionID keeps its string form precomputed.
  LinkIndex find(const FIX::SessionID& id) const noexcept {
    const auto it = index_.find(id.toStringFrozen());
    return it == index_.end() ? kNoLink : it->second;
  }

 private:
  std::unordered_map<std::string, LinkIndex> index_;
};

}  // namespace linkwatch
