#include "cert/certification_progress.hpp"

namespace linkwatch::cert {

void CertificationProgress::begin(std::string memberId, Nanos wall) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_.memberId = std::move(memberId);
  state_.runStartedWall = wall;
  state_.results.clear();
}

void CertificationProgress::record(const CaseVerdict& verdict) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_.results.emplace_back(verdict.caseId, value(verdict.verdict));
}

CertificationProgress::Snapshot CertificationProgress::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_;
}

}  // namespace linkwatch::cert
