// Runs a CertificationPlan against a member over one CertSession: the cases in catalogue
// order, each with a verdict, its evidence and its timings.
#pragma once

#include <functional>
#include <ostream>
#include <string>

#include <linkwatch/clock.hpp>
#include <linkwatch/event_hub.hpp>

#include "cert/cert_session.hpp"
#include "cert/certification_catalogue.hpp"
#include "cert/certification_verdict.hpp"

namespace linkwatch::cert {

// What one case's logic sees: the session, its parameters, and where findings go.
class CaseContext {
 public:
  CaseContext(CertSession& session, const PlannedCase& planned, const CertificationPlan& plan,
              CaseVerdict& verdict)
      : session_(session), planned_(planned), plan_(plan), verdict_(verdict) {}

  CertSession& session() { return session_; }
  const CertificationPlan& plan() const { return plan_; }
  const LinkConfig& link() const { return plan_.link; }
  bool acceptorMode() const { return plan_.link.connectionType == ConnectionType::kAcceptor; }

  const ParamValue& param(const std::string& name) const;
  Nanos durationParam(const std::string& name) const { return param(name).number * kNanosPerMilli; }
  Nanos now() const { return session_.clock().monotonic(); }

  // A finding makes the case fail; the first one is its reason.
  void fail(std::string finding);
  void skip(std::string why);
  void measure(std::string key, std::string value);
  void note(const std::string& text) { session_.note(text); }
  bool failed() const { return verdict_.verdict == Verdict::kFail; }

  // Logged on, waiting for the member to (re)connect up to LogonTimeout. On failure the case
  // fails with the reason and false is returned.
  bool requireSession();

 private:
  CertSession& session_;
  const PlannedCase& planned_;
  const CertificationPlan& plan_;
  CaseVerdict& verdict_;
};

struct RunHooks {
  // Before each case starts (live status, progress lines).
  std::function<void(const CaseVerdict&)> onCaseStart;
  // Each verdict as soon as it is known: metrics, the journal, a terminal line.
  std::function<void(const CaseVerdict&)> onVerdict;
  EventHub* hub = nullptr;  // live status: the session's events go here
  LinkIndex link = kNoLink;
};

// Thread-safety: none; runs on the caller's thread until every case is done.
class CertificationRunner {
 public:
  CertificationRunner(const CertificationPlan& plan, const Clock& clock, RunHooks hooks = {});

  // Acceptor mode: binds the test port. Throws std::runtime_error when it cannot.
  void open();
  std::uint16_t port() const noexcept { return session_.boundPort(); }

  CertificationReport run();

 private:
  const CertificationPlan& plan_;
  const Clock& clock_;
  RunHooks hooks_;
  CertSession session_;
};

// Quotes a message for a finding: the FIX text with '|' separators, cut to a readable length.
std::string quote(const FixMessage& message);

}  // namespace linkwatch::cert
