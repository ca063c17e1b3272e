// The live state of a certification run for /metrics: which cases ran with which verdict, and
// when the run started. Written by the runner's hooks, read by HTTP threads.
//
// Thread-safety: every member function may be called from any thread.
#pragma once

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <linkwatch/clock.hpp>

#include "cert/certification_verdict.hpp"

namespace linkwatch::cert {

class CertificationProgress {
 public:
  struct Snapshot {
    std::string memberId;
    Nanos runStartedWall = 0;  // 0 before begin()
    // (case id, 1 pass / 0 fail / -1 skipped), for the cases that have run, in order.
    std::vector<std::pair<std::string, int>> results;
  };

  void begin(std::string memberId, Nanos wall);
  void record(const CaseVerdict& verdict);
  Snapshot snapshot() const;

  static int value(Verdict v) noexcept {
    return v == Verdict::kPass ? 1 : (v == Verdict::kFail ? 0 : -1);
  }

 private:
  mutable std::mutex mutex_;
  Snapshot state_;
};

}  // namespace linkwatch::cert
