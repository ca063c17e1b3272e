// What a certification run produces: a verdict per case with its evidence, and the run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <linkwatch/clock.hpp>

#include "cert/cert_session.hpp"

namespace linkwatch::cert {

enum class Verdict : std::uint8_t { kPass, kFail, kSkipped };
std::string_view toString(Verdict v) noexcept;  // "pass", "fail", "skipped"

struct CaseVerdict {
  std::string caseId;
  std::string purpose;
  std::string behaviour;
  Verdict verdict = Verdict::kPass;
  // Fail: every finding, each "expected ...; seen ..." quoting the offending message.
  // Skipped: why, in the first entry.
  std::vector<std::string> findings;
  std::vector<std::pair<std::string, std::string>> measurements;  // e.g. ("rtt_ms", "0.41")
  std::vector<std::pair<std::string, std::string>> parameters;    // effective, as text
  Nanos startedWall = 0;
  Nanos durationNs = 0;
  std::vector<RecordedMessage> messages;  // everything in and out while the case ran

  const std::string& reason() const {
    static const std::string kNone;
    return findings.empty() ? kNone : findings.front();
  }
};

struct CertificationReport {
  std::string memberId;
  std::string memberName;
  std::string sessionKey;
  std::string mode;      // "acceptor" (the member connects) or "initiator"
  std::string endpoint;  // host:port
  std::string version;   // linkwatch's
  Nanos startedWall = 0;
  Nanos finishedWall = 0;
  std::vector<CaseVerdict> cases;

  std::size_t count(Verdict v) const;
  // Every case that was not skipped passed.
  bool passed() const { return count(Verdict::kFail) == 0; }
};

}  // namespace linkwatch::cert
