#include "cert/certification_runner.hpp"

#include <algorithm>
#include <stdexcept>

#include <linkwatch/version.hpp>

namespace linkwatch::cert {
namespace {

// How long a new session waits for the answer to its synchronising TestRequest.
constexpr Nanos kSettleTimeout = 1 * kNanosPerSecond;

}  // namespace

std::string_view toString(Verdict v) noexcept {
  switch (v) {
    case Verdict::kPass:
      return "pass";
    case Verdict::kFail:
      return "fail";
    case Verdict::kSkipped:
      return "skipped";
  }
  return "fail";
}

std::size_t CertificationReport::count(Verdict v) const {
  std::size_t n = 0;
  for (const CaseVerdict& c : cases) n += c.verdict == v ? 1 : 0;
  return n;
}

std::string quote(const FixMessage& message) {
  constexpr std::size_t kMaxQuote = 300;
  std::string text = renderFix(message.raw());
  if (text.size() > kMaxQuote) text = text.substr(0, kMaxQuote) + "...";
  return "\"" + text + "\"";
}

const ParamValue& CaseContext::param(const std::string& name) const {
  const auto it = planned_.params.find(name);
  if (it == planned_.params.end())
    throw std::logic_error(std::string(planned_.definition->id) + ": no parameter " + name);
  return it->second;
}

void CaseContext::fail(std::string finding) {
  if (verdict_.verdict == Verdict::kSkipped) return;
  verdict_.verdict = Verdict::kFail;
  session_.note("FAIL: " + finding);
  verdict_.findings.push_back(std::move(finding));
}

void CaseContext::skip(std::string why) {
  verdict_.verdict = Verdict::kSkipped;
  verdict_.findings.clear();
  verdict_.findings.push_back(std::move(why));
}

void CaseContext::measure(std::string key, std::string value) {
  verdict_.measurements.emplace_back(std::move(key), std::move(value));
}

bool CaseContext::requireSession() {
  if (session_.loggedOn()) return true;
  std::string why;
  const Nanos deadline = now() + static_cast<Nanos>(plan_.logonTimeout.count()) * kNanosPerMilli;
  if (session_.ensureLoggedOn(deadline, why)) {
    // A new logon may leave a gap either way (a Logout of ours the member never read): a
    // TestRequest answered proves both sides agree on the numbers before the case starts.
    const std::string id = "SYNC" + std::to_string(session_.nextTestReqId());
    session_.note("synchronising before the case: TestRequest " + id);
    session_.send("1", {{112, id}});
    const Nanos settle = std::min<Nanos>(session_.heartBtIntNanos(), kSettleTimeout);
    if (session_.waitFor(now() + settle, [&id](const FixMessage& m) {
          return m.msgType() == "0" && m.get(112).value_or("") == id;
        }) != CertSession::Wait::kMessage) {
      session_.note("no answer to " + id + " within " + std::to_string(settle / kNanosPerMilli) +
                    " ms; going on");
    }
    if (session_.loggedOn()) return true;
    why = "the session ended while synchronising";
  }
  fail("no logged-on session within LogonTimeout (" + std::to_string(plan_.logonTimeout.count()) +
       " ms): " + why);
  return false;
}

CertificationRunner::CertificationRunner(const CertificationPlan& plan, const Clock& clock,
                                         RunHooks hooks)
    : plan_(plan),
      clock_(clock),
      hooks_(std::move(hooks)),
      session_(
          [&plan] {
            CertSessionConfig c;
            c.mode = plan.link.connectionType;
            c.host = plan.link.socketHost;
            c.port = static_cast<std::uint16_t>(plan.link.socketPort);
            c.beginString = plan.link.beginString;
            c.senderCompId = plan.link.senderCompId;
            c.targetCompId = plan.link.targetCompId;
            c.heartBtIntSeconds =
                plan.link.heartBtIntSeconds > 0 ? plan.link.heartBtIntSeconds : 30;
            return c;
          }(),
          clock) {
  session_.setEventHub(hooks_.hub, hooks_.link);
}

void CertificationRunner::open() { session_.open(); }

CertificationReport CertificationRunner::run() {
  session_.open();
  CertificationReport report;
  report.memberId = plan_.link.memberId;
  report.memberName = plan_.link.memberName;
  report.sessionKey = plan_.link.sessionKey;
  report.mode = std::string(toString(plan_.link.connectionType));
  report.endpoint =
      (plan_.link.socketHost.empty() ? std::string("0.0.0.0") : plan_.link.socketHost) + ":" +
      std::to_string(plan_.link.socketPort);
  report.version = kLinkwatchVersion;
  report.startedWall = clock_.wall();

  // After a case found no session at all, the following ones do not wait for it again.
  std::string unavailable;
  for (const PlannedCase& planned : plan_.cases) {
    const CaseDefinition& def = *planned.definition;
    CaseVerdict verdict;
    verdict.caseId = def.id;
    verdict.purpose = def.purpose;
    verdict.behaviour = def.behaviour;
    for (const ParamSpec& spec : def.params)
      verdict.parameters.emplace_back(spec.name, planned.params.at(spec.name).text);
    verdict.startedWall = clock_.wall();
    const Nanos startedMono = clock_.monotonic();
    session_.setRecorder(
        [&verdict](RecordedMessage m) { verdict.messages.push_back(std::move(m)); });
    if (hooks_.onCaseStart) hooks_.onCaseStart(verdict);

    CaseContext context(session_, planned, plan_, verdict);
    const bool acceptor = plan_.link.connectionType == ConnectionType::kAcceptor;
    if ((def.modes == CaseModes::kInitiatorOnly && acceptor) ||
        (def.modes == CaseModes::kAcceptorOnly && !acceptor)) {
      context.skip(def.skipReason);
    } else if (!unavailable.empty() && !session_.loggedOn() && !session_.connected()) {
      context.fail("not run: no session with the member since case " + unavailable);
    } else {
      // Each case starts with the session's duties in their default state.
      session_.autoHeartbeat = true;
      session_.autoAnswerTestRequest = true;
      session_.autoGapFill = true;
      session_.autoAnswerLogout = true;
      try {
        def.run(context);
      } catch (const std::exception& e) {
        context.fail(std::string("internal error of the certification runner: ") + e.what());
      }
      if (context.failed() && !session_.loggedOn() && !session_.connected() &&
          verdict.reason().rfind("no logged-on session", 0) == 0) {
        unavailable = def.id;
      }
    }
    verdict.durationNs = clock_.monotonic() - startedMono;
    session_.setRecorder(nullptr);
    if (hooks_.onVerdict) hooks_.onVerdict(verdict);
    report.cases.push_back(std::move(verdict));
  }

  // Leave politely: a Logout, its answer or a short wait, then close.
  if (session_.loggedOn()) {
    session_.sendLogout("linkwatch certification finished");
    session_.waitFor(clock_.monotonic() + kNanosPerSecond,
                     [](const FixMessage& m) { return m.msgType() == "5"; });
  }
  session_.disconnect("certification finished");
  report.finishedWall = clock_.wall();
  return report;
}

}  // namespace linkwatch::cert
