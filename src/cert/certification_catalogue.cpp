// The cases: each a few lines of logic over the CertSession, the parameters in the table at the
// end. Findings say what was expected and what was seen, quoting the offending message.
#include "cert/certification_catalogue.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

#include <linkwatch/fix_scan.hpp>

#include "cert/certification_runner.hpp"

namespace linkwatch::cert {
namespace {

using Wait = CertSession::Wait;

std::string ms(Nanos ns, int decimals = 1) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, static_cast<double>(ns) / 1e6);
  return text;
}

std::string field(const FixMessage& m, int tag) {
  const auto v = m.get(tag);
  return v ? std::string(*v) : std::string("(absent)");
}

bool isType(const FixMessage& m, std::string_view type) { return m.msgType() == type; }

std::string percent(double fraction) {
  return std::to_string(static_cast<int>(fraction * 100.0 + 0.5)) + "%";
}

// ---- 1a: the member's Logon (or its answer to ours) is what the exchange expects. ----

void checkLogon(CaseContext& c, const FixMessage& logon, bool answerToOurs) {
  const LinkConfig& link = c.link();
  const std::string q = quote(logon);
  if (field(logon, 8) != link.beginString)
    c.fail("BeginString(8) " + field(logon, 8) + ", expected " + link.beginString + ": " + q);
  if (field(logon, 49) != link.targetCompId)
    c.fail("SenderCompID(49) " + field(logon, 49) + ", expected " + link.targetCompId + ": " + q);
  if (field(logon, 56) != link.senderCompId)
    c.fail("TargetCompID(56) " + field(logon, 56) + ", expected " + link.senderCompId + ": " + q);
  if (field(logon, 98) != "0")
    c.fail("EncryptMethod(98) " + field(logon, 98) + ", expected 0 (none): " + q);
  const ParamValue& range = c.param("HeartBtInt");
  const auto hb = logon.getInt(108);
  if (!hb || *hb < range.number || *hb > range.high) {
    c.fail("HeartBtInt(108) " + field(logon, 108) + ", expected " + std::to_string(range.number) +
           ".." + std::to_string(range.high) + " seconds: " + q);
  } else {
    c.measure("heartbtint_s", std::to_string(*hb));
  }
  const bool reset = field(logon, 141) == "Y";
  const std::string& want = c.param("ResetSeqNumFlag").choice;
  if (want == "Y" && !reset && !answerToOurs)
    c.fail("ResetSeqNumFlag(141) " + field(logon, 141) + ", expected Y (configured): " + q);
  if (want == "N" && reset)
    c.fail("ResetSeqNumFlag(141)=Y, expected no reset (configured N): " + q);
  if (reset && logon.getInt(34).value_or(0) != 1)
    c.fail("MsgSeqNum(34) " + field(logon, 34) + " with ResetSeqNumFlag=Y, expected 1: " + q);
}

void validLogon(CaseContext& c) {
  CertSession& s = c.session();
  const Nanos deadline = c.now() + c.durationParam("Deadline");
  if (s.connected()) s.disconnect("1a starts from a fresh connection");
  std::string why;
  if (!s.connect(deadline, why)) {
    c.fail("no connection within " + c.param("Deadline").text + ": " + why);
    return;
  }
  if (c.acceptorMode()) {
    const auto logon = s.awaitMessage(deadline);
    if (!logon) {
      c.fail(s.connected() ? "connected but sent no Logon within " + c.param("Deadline").text
                           : "closed the connection without sending a Logon");
      return;
    }
    if (!isType(*logon, "A")) {
      c.fail("first message is not a Logon(A): " + quote(*logon));
      s.disconnect("first message not a Logon");
      return;
    }
    checkLogon(c, *logon, false);
    s.acceptLogon(*logon);
    // A member that rejects our answer says so at once.
    FixMessage answer;
    if (s.waitFor(
            c.now() + std::min<Nanos>(s.heartBtIntNanos(), kNanosPerSecond),
            [](const FixMessage& m) { return isType(m, "5") || isType(m, "3"); },
            &answer) == Wait::kMessage) {
      c.fail("answered our Logon with " + quote(answer));
    }
    return;
  }
  s.sendLogon();
  FixMessage answer;
  const Wait w = s.waitFor(
      deadline, [](const FixMessage& m) { return isType(m, "A") || isType(m, "5"); }, &answer);
  if (w != Wait::kMessage) {
    c.fail(w == Wait::kTimeout ? "no Logon answer within " + c.param("Deadline").text
                               : "closed the connection instead of answering our Logon");
    return;
  }
  if (!isType(answer, "A")) {
    c.fail("refused our valid Logon: " + quote(answer));
    return;
  }
  checkLogon(c, answer, true);
  s.markLoggedOn(answer);
}

// ---- 1c: a Logon with a wrong CompID is refused (linkwatch initiates). ----

void invalidCompId(CaseContext& c) {
  CertSession& s = c.session();
  if (s.connected()) {
    s.sendLogout("linkwatch certification: next, a Logon with a wrong CompID");
    s.waitFor(c.now() + kNanosPerSecond, [](const FixMessage& m) { return isType(m, "5"); });
    s.disconnect("1c needs a new connection");
  }
  const Nanos deadline = c.now() + c.durationParam("Deadline");
  std::string why;
  if (!s.connect(deadline, why)) {
    c.fail("could not connect to the member: " + why);
    return;
  }
  const std::string wrong = "CERT" + c.link().senderCompId + "X";
  // The refused Logon must not move our numbers: the next real one continues them.
  SendOptions o;
  o.seq = s.nextOutSeq();
  o.advance = false;
  o.senderCompId = wrong;
  s.send("A", {{98, "0"}, {108, std::to_string(s.heartBtIntSeconds())}}, o);
  FixMessage answer;
  const Wait w = s.waitFor(
      deadline, [](const FixMessage& m) { return isType(m, "A") || isType(m, "5"); }, &answer);
  if (w == Wait::kTimeout) {
    c.fail("no reaction within " + c.param("Deadline").text + " to a Logon with SenderCompID " +
           wrong + ": expected a Logout or a disconnect");
  } else if (w == Wait::kMessage && isType(answer, "A")) {
    c.fail("accepted a Logon with SenderCompID " + wrong + ": " + quote(answer));
  } else if (w == Wait::kMessage) {
    c.measure("refused_with", "Logout");
  } else {
    c.measure("refused_with", "disconnect");
  }
  s.disconnect("end of 1c");
}

// ---- 4a: heartbeats every HeartBtInt when idle. ----

// The member's SendingTime, so that intervals measure the member and not our own scheduling;
// the receive time when it has none.
Nanos sentAt(const FixMessage& m, Nanos receivedWall) {
  const auto v = m.get(52);
  Nanos t = 0;
  if (v && parseUtcTimestamp(v->data(), v->size(), t)) return t;
  return receivedWall;
}

void heartbeatWhenIdle(CaseContext& c) {
  if (!c.requireSession()) return;
  CertSession& s = c.session();
  const int intervals = static_cast<int>(c.param("Intervals").number);
  const double tolerance = c.param("Tolerance").fraction;
  const Nanos hb = s.heartBtIntNanos();
  const Nanos late = hb + static_cast<Nanos>(static_cast<double>(hb) * tolerance);
  const Nanos early = hb - static_cast<Nanos>(static_cast<double>(hb) * tolerance);
  c.note("expecting " + std::to_string(intervals) + " intervals of " + ms(hb) + " ms +/- " +
         percent(tolerance) + " between the member's Heartbeats (by their SendingTime)");
  Nanos previous = c.now();  // the member's last message was sent at or before this
  Nanos previousSent = 0;    // SendingTime of the member's last message; 0 before the first
  std::string seen;
  for (int got = 0; got <= intervals;) {
    FixMessage m;
    const Wait w = s.waitFor(
        previous + late, [](const FixMessage&) { return true; }, &m);
    const Nanos at = c.now();
    if (w == Wait::kDisconnected) {
      c.fail("the connection ended while waiting for Heartbeats");
      return;
    }
    if (w == Wait::kTimeout) {
      c.fail("no Heartbeat within " + ms(late) + " ms of the " +
             (previousSent == 0 ? std::string("start of the idle period") : "previous message") +
             " (expected every " + ms(hb) + " ms +/- " + percent(tolerance) + ")");
      return;
    }
    const Nanos sent = sentAt(m, s.clock().wall());
    // A Heartbeat answering one of our TestRequests (ids CERT<n>, SYNC<n>) is traffic, not an
    // idle beat. Any other TestReqID is the engine's own decoration (jspurefix puts a date in
    // it) and the beat still counts.
    const auto reqId = m.get(112);
    const bool answer = reqId && (reqId->starts_with("CERT") || reqId->starts_with("SYNC"));
    const bool heartbeat = isType(m, "0") && !answer;
    if (heartbeat && previousSent != 0) {
      const Nanos interval = sent - previousSent;
      seen += (seen.empty() ? "" : ",") + ms(interval);
      if (interval < early) {
        c.fail("Heartbeat sent " + ms(interval) + " ms after the member's previous message, " +
               "expected " + ms(hb) + " ms +/- " + percent(tolerance) + ": " + quote(m));
        return;
      }
    }
    // Any traffic restarts the member's heartbeat timer; only Heartbeats count as intervals.
    previous = at;
    previousSent = sent;
    if (heartbeat) ++got;
  }
  c.measure("intervals_ms", seen);
}

// ---- 4b: a TestRequest is answered by a Heartbeat with its TestReqID. ----

void testRequest(CaseContext& c) {
  if (!c.requireSession()) return;
  CertSession& s = c.session();
  const std::string id = "CERT" + std::to_string(s.nextTestReqId());
  const Nanos sent = c.now();
  s.send("1", {{112, id}});
  FixMessage answer;
  const Wait w = s.waitFor(
      sent + c.durationParam("Deadline"),
      [&id](const FixMessage& m) { return isType(m, "0") && m.get(112).value_or("") == id; },
      &answer);
  if (w == Wait::kMessage) {
    c.measure("rtt_ms", ms(c.now() - sent, 3));
  } else if (w == Wait::kTimeout) {
    c.fail("no Heartbeat with TestReqID(112)=" + id + " within " + c.param("Deadline").text);
  } else {
    c.fail("the connection ended before a Heartbeat with TestReqID(112)=" + id);
  }
}

// ---- 2b: a MsgSeqNum too high gets a ResendRequest for exactly the gap. ----

void seqNumTooHigh(CaseContext& c) {
  if (!c.requireSession()) return;
  CertSession& s = c.session();
  const std::int64_t expected = s.nextOutSeq();
  const std::int64_t gap = c.param("Gap").number;
  SendOptions o;
  o.seq = expected + gap;
  o.note =
      "skipping MsgSeqNum " + std::to_string(expected) + ".." + std::to_string(expected + gap - 1);
  s.send("0", {}, o);
  FixMessage rr;
  const Wait w = s.waitFor(
      c.now() + c.durationParam("Deadline"), [](const FixMessage& m) { return isType(m, "2"); },
      &rr);
  if (w != Wait::kMessage) {
    c.fail("no ResendRequest within " + c.param("Deadline").text + " after MsgSeqNum " +
           std::to_string(expected + gap) + " when " + std::to_string(expected) +
           " was due (expected 7=" + std::to_string(expected) +
           " 16=" + std::to_string(expected + gap - 1) + ")" +
           (w == Wait::kDisconnected ? "; the connection ended" : ""));
    return;
  }
  const std::int64_t begin = rr.getInt(7).value_or(-1);
  const std::int64_t end = rr.getInt(16).value_or(-1);
  const bool openEnd = end == 0 && c.param("AllowOpenEnd").choice == "Y";
  if (begin != expected || (end != expected + gap - 1 && !openEnd)) {
    c.fail("ResendRequest for " + field(rr, 7) + ".." + field(rr, 16) + ", expected " +
           std::to_string(expected) + ".." + std::to_string(expected + gap - 1) +
           (c.param("AllowOpenEnd").choice == "Y" ? " (or EndSeqNo 0)" : "") + ": " + quote(rr));
  }
}

// ---- 8: a ResendRequest is answered with gap fills and/or PossDup resends. ----

void resendRequest(CaseContext& c) {
  if (!c.requireSession()) return;
  CertSession& s = c.session();
  const std::int64_t end = s.nextInSeq() - 1;
  const std::int64_t begin = std::max<std::int64_t>(1, end - c.param("Messages").number + 1);
  s.send("2", {{7, std::to_string(begin)}, {16, std::to_string(end)}});
  std::set<std::int64_t> missing;
  for (std::int64_t q = begin; q <= end; ++q) missing.insert(q);
  const Nanos deadline = c.now() + c.durationParam("Deadline");
  int answers = 0;
  while (!missing.empty()) {
    FixMessage m;
    const Wait w = s.waitFor(
        deadline,
        [&](const FixMessage& x) {
          const std::int64_t q = x.getInt(34).value_or(0);
          return q >= begin && q <= end;
        },
        &m);
    if (w != Wait::kMessage) break;
    ++answers;
    const std::int64_t q = m.getInt(34).value_or(0);
    if (isType(m, "4")) {
      const std::int64_t newSeq = m.getInt(36).value_or(0);
      if (m.get(123).value_or("N") != "Y") c.note("SequenceReset without GapFillFlag=Y");
      if (newSeq <= q) {
        c.fail("SequenceReset-GapFill with NewSeqNo(36) " + field(m, 36) +
               " not above its MsgSeqNum: " + quote(m));
        continue;
      }
      for (std::int64_t k = q; k < newSeq; ++k) missing.erase(k);
      continue;
    }
    if (m.get(43).value_or("N") != "Y") {
      c.fail("resent MsgSeqNum " + std::to_string(q) + " without PossDupFlag(43)=Y: " + quote(m));
    } else if (!m.get(122)) {
      c.fail("resent MsgSeqNum " + std::to_string(q) +
             " without OrigSendingTime(122): " + quote(m));
    }
    missing.erase(q);
  }
  c.measure("range", std::to_string(begin) + ".." + std::to_string(end));
  if (!missing.empty()) {
    c.fail(std::string(answers == 0 ? "no answer" : std::to_string(answers) + " answers") +
           " within " + c.param("Deadline").text + " to ResendRequest 7=" + std::to_string(begin) +
           " 16=" + std::to_string(end) + ": MsgSeqNum " + std::to_string(*missing.begin()) + ".." +
           std::to_string(*missing.rbegin()) + " neither resent nor gap-filled");
  }
}

// After something the member might object to: watch for ResendRequest, Reject or Logout.
void expectQuiet(CaseContext& c, Nanos window, const std::string& after) {
  CertSession& s = c.session();
  FixMessage m;
  const Wait w = s.waitFor(
      c.now() + window,
      [](const FixMessage& x) { return isType(x, "2") || isType(x, "3") || isType(x, "5"); }, &m);
  if (w == Wait::kMessage) {
    c.fail("answered " + after + " with " + quote(m));
  } else if (w == Wait::kDisconnected) {
    c.fail("closed the connection after " + after);
  }
}

// ---- 11a: SequenceReset-Reset to a higher number is accepted. ----

void sequenceReset(CaseContext& c) {
  if (!c.requireSession()) return;
  CertSession& s = c.session();
  const std::int64_t newSeq = s.nextOutSeq() + c.param("Jump").number;
  SendOptions reset;
  reset.advance = false;
  reset.seq = s.nextOutSeq();
  s.send("4", {{123, "N"}, {36, std::to_string(newSeq)}}, reset);
  SendOptions next;
  next.seq = newSeq;
  next.note = "continuing at the reset MsgSeqNum " + std::to_string(newSeq);
  s.send("0", {}, next);
  expectQuiet(c, c.durationParam("Window"),
              "a SequenceReset-Reset to " + std::to_string(newSeq) + " and a Heartbeat at it");
}

// ---- 14b / 2k: invalid messages get a Reject or a Logout, not silence. ----

void expectRejectOrLogout(CaseContext& c, const std::string& what) {
  CertSession& s = c.session();
  FixMessage m;
  const Wait w = s.waitFor(
      c.now() + c.durationParam("Deadline"),
      [](const FixMessage& x) { return isType(x, "3") || isType(x, "5"); }, &m);
  if (w == Wait::kMessage) {
    c.measure("answer", isType(m, "3") ? "Reject 373=" + field(m, 373) + " 58=" + field(m, 58)
                                       : "Logout 58=" + field(m, 58));
  } else if (w == Wait::kTimeout) {
    c.fail("no Reject(3) or Logout(5) within " + c.param("Deadline").text + " after " + what +
           ": the member ignored it");
  } else {
    c.fail("closed the connection after " + what + " without a Reject or Logout");
  }
}

void requiredFieldMissing(CaseContext& c) {
  if (!c.requireSession()) return;
  const int tag = static_cast<int>(std::stoi(c.param("Field").choice));
  SendOptions o;
  o.omitTag = tag;
  o.note = "a Heartbeat without header field " + std::to_string(tag);
  c.session().send("0", {}, o);
  expectRejectOrLogout(c, "a Heartbeat without required header field " + std::to_string(tag));
}

void compIdMismatch(CaseContext& c) {
  if (!c.requireSession()) return;
  SendOptions o;
  o.senderCompId = "CERT" + c.link().senderCompId + "X";
  o.note = "a Heartbeat with SenderCompID " + o.senderCompId;
  c.session().send("0", {}, o);
  expectRejectOrLogout(c, "a Heartbeat with SenderCompID " + o.senderCompId);
}

// ---- 2c: MsgSeqNum too low without PossDupFlag: Logout with a reason. ----

void seqNumTooLow(CaseContext& c) {
  if (!c.requireSession()) return;
  CertSession& s = c.session();
  const std::int64_t low = s.nextOutSeq() - 1;
  if (low < 1) {
    c.skip("no MsgSeqNum below the next one yet");
    return;
  }
  SendOptions o;
  o.seq = low;
  o.advance = false;
  o.note = "MsgSeqNum " + std::to_string(low) + " again, without PossDupFlag, when " +
           std::to_string(low + 1) + " is due";
  s.send("0", {}, o);
  FixMessage m;
  const Wait w = s.waitFor(
      c.now() + c.durationParam("Deadline"), [](const FixMessage& x) { return isType(x, "5"); },
      &m);
  if (w == Wait::kMessage) {
    if (c.param("RequireText").choice == "Y" && field(m, 58) == "(absent)")
      c.fail("Logout without Text(58) giving the reason: " + quote(m));
    return;
  }
  c.fail(w == Wait::kTimeout
             ? "no Logout within " + c.param("Deadline").text + " after MsgSeqNum " +
                   std::to_string(low) + " when " + std::to_string(low + 1) + " was due"
             : "closed the connection without a Logout after a MsgSeqNum too low");
}

// ---- 13b: our Logout is answered by a Logout. ----

void logout(CaseContext& c) {
  if (!c.requireSession()) return;
  CertSession& s = c.session();
  const Nanos sent = c.now();
  s.sendLogout("linkwatch certification: logout handshake");
  FixMessage m;
  const Wait w = s.waitFor(
      sent + c.durationParam("Deadline"), [](const FixMessage& x) { return isType(x, "5"); }, &m);
  if (w == Wait::kMessage) {
    c.measure("answer_ms", ms(c.now() - sent, 3));
  } else if (w == Wait::kTimeout) {
    c.fail("no Logout answer within " + c.param("Deadline").text);
  } else {
    c.fail("closed the connection without answering our Logout");
  }
  s.disconnect("end of 13b");
}

// ---- 13a: the member, asked by its operator, initiates a clean Logout. ----

// Asking a member to log out is outside FIX: its operator does it. A scripted run configures
// the command that does it (a simulator's control channel, a signal to the member's process);
// without one the case is skipped rather than failed.
void memberInitiatesLogout(CaseContext& c) {
  const std::string command = c.param("Command").text;
  if (command.empty()) {
    c.skip("no Case.13a-member-logout.Command configured to ask the member to log out");
    return;
  }
  if (!c.requireSession()) return;
  CertSession& s = c.session();
  s.autoAnswerLogout = false;  // we answer ourselves, then watch the member close
  c.note("asking the member to log out: " + command);
  const Nanos asked = c.now();
  // The command runs while the session is idle for at most its own duration; a long one would
  // let our heartbeats slip, so it should only signal the member and return.
  const int status = std::system(command.c_str());
  if (status != 0) {
    c.fail("the command asking the member to log out failed (status " + std::to_string(status) +
           "): " + command);
    return;
  }
  FixMessage m;
  const Wait w = s.waitFor(
      asked + c.durationParam("Deadline"), [](const FixMessage& x) { return isType(x, "5"); }, &m);
  if (w == Wait::kTimeout) {
    c.fail("no Logout from the member within " + c.param("Deadline").text + " of asking it");
    return;
  }
  if (w == Wait::kDisconnected) {
    c.fail("the member closed the connection without sending a Logout");
    return;
  }
  c.measure("logout_after_ms", ms(c.now() - asked, 3));
  // Our answer; the initiator of a Logout closes the connection once it has the answer.
  s.sendLogout("linkwatch certification: logout confirmed");
  const Nanos answered = c.now();
  const Wait closed = s.waitFor(
      answered + c.durationParam("Deadline"), [](const FixMessage&) { return false; }, nullptr);
  if (closed == Wait::kTimeout) {
    c.fail("the member kept the connection open " + c.param("Deadline").text +
           " after our Logout answer (it initiated the Logout, so it closes)");
  } else {
    c.measure("close_after_answer_ms", ms(c.now() - answered, 3));
  }
  s.disconnect("end of 13a");
}

// ---- After a disconnect the member logs on with the next sequence numbers. ----

void reconnectNextSeqNums(CaseContext& c) {
  if (!c.requireSession()) return;
  CertSession& s = c.session();
  const std::string& resetRule = c.param("ResetSeqNumFlag").choice;
  // Half-close and read to the end: what the member sent before it saw the close counts, so
  // the next MsgSeqNum expected is exact.
  s.disconnectGracefully(
      "dropping the connection (no Logout): the member must log on again "
      "with the next MsgSeqNum",
      c.now() + 2 * kNanosPerSecond);
  const std::int64_t expectIn = s.nextInSeq();
  c.note("expecting the member's Logon with MsgSeqNum " + std::to_string(expectIn));
  const Nanos deadline = c.now() + c.durationParam("Deadline");
  std::string why;
  if (!s.connect(deadline, why)) {
    c.fail("did not reconnect within " + c.param("Deadline").text + ": " + why);
    return;
  }
  FixMessage logon;
  if (c.acceptorMode()) {
    const auto m = s.awaitMessage(deadline);
    if (!m || !isType(*m, "A")) {
      c.fail(m ? "first message after reconnecting is not a Logon: " + quote(*m)
               : "no Logon after reconnecting");
      s.disconnect("no Logon");
      return;
    }
    logon = *m;
  } else {
    s.sendLogon();
    const Wait w = s.waitFor(
        deadline, [](const FixMessage& m) { return isType(m, "A") || isType(m, "5"); }, &logon);
    if (w != Wait::kMessage || !isType(logon, "A")) {
      c.fail(w == Wait::kMessage ? "refused our Logon on reconnect: " + quote(logon)
                                 : "no Logon answer after reconnecting");
      s.disconnect("no Logon answer");
      return;
    }
  }
  const bool reset = field(logon, 141) == "Y";
  const std::int64_t seq = logon.getInt(34).value_or(0);
  if (reset && resetRule == "N") {
    c.fail("reset its sequence numbers on reconnect (ResetSeqNumFlag=Y, MsgSeqNum " +
           field(logon, 34) + "), expected MsgSeqNum " + std::to_string(expectIn) + ": " +
           quote(logon));
  } else if (!reset && resetRule == "Y") {
    c.fail("did not reset on reconnect, expected ResetSeqNumFlag=Y (configured): " + quote(logon));
  } else if (!reset && seq != expectIn) {
    c.fail("Logon MsgSeqNum " + field(logon, 34) + ", expected " + std::to_string(expectIn) +
           " (the next after the last one received): " + quote(logon));
  }
  if (c.acceptorMode()) {
    s.acceptLogon(logon);
  } else {
    s.markLoggedOn(logon);
  }
  if (!reset) expectQuiet(c, c.durationParam("Window"), "the Logon that resumed the sequence");
}

// ---- Logon discipline: no tight retry loop after a refused logon. ----

void logonRetryDiscipline(CaseContext& c) {
  if (!c.requireSession()) return;
  CertSession& s = c.session();
  const Nanos minInterval = c.durationParam("MinInterval");
  const int refusals = static_cast<int>(c.param("Refusals").number);
  const Nanos perWait = c.durationParam("Deadline");
  s.disconnect("dropping the connection; the next " + std::to_string(refusals) +
               " Logon(s) will be refused");
  std::string intervals;
  std::string why;
  // Connections that never send a Logon do not count, but cannot keep the case going forever.
  const Nanos caseDeadline = c.now() + static_cast<Nanos>(refusals + 1) * perWait;
  for (int i = 0; i <= refusals; ++i) {
    const Nanos refusedAt = c.now();
    if (!s.connect(refusedAt + perWait, why)) {
      c.fail(i == 0 ? "did not reconnect within " + c.param("Deadline").text
                    : "did not try again within " + c.param("Deadline").text +
                          " after a refused Logon");
      return;
    }
    if (i > 0) {
      const Nanos interval = c.now() - refusedAt;
      intervals += (intervals.empty() ? "" : ",") + ms(interval);
      if (interval < minInterval) {
        c.fail("tried again " + ms(interval) + " ms after a refused Logon, expected at least " +
               c.param("MinInterval").text +
               " (venues lock a port after a handful of bad logons a minute)");
      }
    }
    const auto logon = s.awaitMessage(c.now() + perWait);
    if (!logon || !isType(*logon, "A")) {
      s.disconnect("no Logon on this connection");
      --i;  // a connection without a Logon is not an attempt to measure
      if (c.now() >= refusedAt + perWait || c.now() >= caseDeadline) {
        c.fail("no Logon within " + c.param("Deadline").text);
        return;
      }
      continue;
    }
    if (i < refusals) {
      s.refuseLogon("linkwatch certification: logon refused on purpose (retry discipline)");
    } else {
      s.acceptLogon(*logon);
    }
  }
  c.measure("retry_intervals_ms", intervals);
}

std::vector<CaseDefinition> makeCatalogue() {
  const ParamSpec deadline2s{"Deadline", ParamType::kDuration,
                             "2s",       "how long to wait for the member's answer",
                             10,         600000};
  const ParamSpec resetRule{"ResetSeqNumFlag",
                            ParamType::kChoice,
                            "any",
                            "ResetSeqNumFlag(141) the member must send: Y, N or any",
                            0,
                            0,
                            "ANY|Y|N"};
  return {
      {"1a-valid-logon",
       "The member logs on with the agreed BeginString, CompIDs, EncryptMethod and HeartBtInt",
       "FIX Session Layer Test Case 1a: valid Logon (BeginString, SenderCompID/TargetCompID, "
       "EncryptMethod(98)=0, HeartBtInt(108) in the allowed range, ResetSeqNumFlag(141) as "
       "agreed, MsgSeqNum 1 with a reset)",
       CaseModes::kBoth,
       "",
       {{"Deadline", ParamType::kDuration, "30s", "how long to wait for the member's Logon", 10,
         3600000},
        {"HeartBtInt", ParamType::kRange, "1..60", "allowed HeartBtInt(108), seconds", 1, 86400},
        resetRule},
       validLogon},
      {"1c-invalid-compid",
       "A Logon with a wrong SenderCompID is refused",
       "FIX Session Layer Test Case 1c: Logon with an invalid CompID is answered with a Logout "
       "and/or a disconnect, never a Logon",
       CaseModes::kInitiatorOnly,
       "needs linkwatch to initiate the session (ConnectionType=initiator): in acceptor mode the "
       "member sends the Logon",
       {{"Deadline", ParamType::kDuration, "5s", "how long to wait for the refusal", 10, 600000}},
       invalidCompId},
      {"4a-heartbeat-when-idle",
       "With no other traffic the member sends a Heartbeat every HeartBtInt",
       "FIX Session Layer Test Case 4a: Heartbeat(0) after HeartBtInt without outbound traffic",
       CaseModes::kBoth,
       "",
       {{"Intervals", ParamType::kCount, "3", "heartbeat intervals to measure", 1, 100},
        {"Tolerance", ParamType::kFraction, "20%", "allowed deviation from HeartBtInt", 0, 0}},
       heartbeatWhenIdle},
      {"4b-test-request",
       "A TestRequest is answered by a Heartbeat carrying its TestReqID",
       "FIX Session Layer Test Case 4b: Heartbeat(0) with the TestReqID(112) of the "
       "TestRequest(1); the round trip is recorded",
       CaseModes::kBoth,
       "",
       {deadline2s},
       testRequest},
      {"2b-seqnum-too-high",
       "A gap in linkwatch's sequence numbers makes the member ask for exactly the gap",
       "FIX Session Layer Test Case 2b: MsgSeqNum higher than expected: ResendRequest(2) with "
       "BeginSeqNo(7) the expected number and EndSeqNo(16) the last missing one (0: infinity)",
       CaseModes::kBoth,
       "",
       {{"Gap", ParamType::kCount, "5", "sequence numbers to skip", 1, 100000},
        deadline2s,
        {"AllowOpenEnd", ParamType::kChoice, "Y", "accept EndSeqNo(16)=0 (to infinity): Y or N", 0,
         0, "Y|N"}},
       seqNumTooHigh},
      {"8-resend-request",
       "The member answers a ResendRequest by covering the whole range",
       "FIX Session Layer Test Case 8: ResendRequest(2) answered with SequenceReset-GapFill(4) "
       "and/or resends with PossDupFlag(43)=Y and OrigSendingTime(122), covering "
       "BeginSeqNo..EndSeqNo",
       CaseModes::kBoth,
       "",
       {{"Messages", ParamType::kCount, "3", "how many of the member's last messages to ask for", 1,
         10000},
        deadline2s},
       resendRequest},
      {"11a-sequence-reset",
       "The member accepts a SequenceReset-Reset to a higher number",
       "FIX Session Layer Test Case 11a: SequenceReset(4) without GapFill, NewSeqNo(36) above "
       "the expected number: the expected number becomes NewSeqNo, no ResendRequest, no Reject",
       CaseModes::kBoth,
       "",
       {{"Jump", ParamType::kCount, "10", "how far above the next MsgSeqNum to reset", 1, 100000},
        {"Window", ParamType::kDuration, "1s", "how long the member must stay quiet about it", 10,
         600000}},
       sequenceReset},
      {"14b-required-field-missing",
       "A message missing a required header field gets a session-level Reject (or a Logout)",
       "FIX Session Layer Test Case 14b: required tag missing: Reject(3) with "
       "SessionRejectReason(373)=1, or Logout(5); not silence, not a crash",
       CaseModes::kBoth,
       "",
       {{"Field", ParamType::kChoice, "52", "the header tag to leave out: 49, 52 or 56", 0, 0,
         "49|52|56"},
        deadline2s},
       requiredFieldMissing},
      {"2k-compid-mismatch",
       "A message with a wrong SenderCompID gets a Reject and/or a Logout",
       "FIX Session Layer Test Case 2k: CompID mismatch: Reject(3) with SessionRejectReason(373)=9"
       " and/or Logout(5); not silence, not a crash",
       CaseModes::kBoth,
       "",
       {deadline2s},
       compIdMismatch},
      {"2c-seqnum-too-low",
       "A MsgSeqNum too low without PossDupFlag makes the member log out with a reason",
       "FIX Session Layer Test Case 2c: MsgSeqNum lower than expected without PossDupFlag(43)=Y:"
       " Logout(5) with Text(58) giving the reason, then disconnect",
       CaseModes::kBoth,
       "",
       {deadline2s,
        {"RequireText", ParamType::kChoice, "Y", "the Logout must carry Text(58): Y or N", 0, 0,
         "Y|N"}},
       seqNumTooLow},
      {"13b-logout",
       "The member answers linkwatch's Logout with a Logout",
       "FIX Session Layer Test Case 13b: a Logout(5) is answered with a Logout(5) before the "
       "connection closes",
       CaseModes::kBoth,
       "",
       {deadline2s},
       logout},
      {"13a-member-logout",
       "Asked by its operator, the member initiates a Logout and closes after our answer",
       "FIX Session Layer Test Case 13a: the engine initiates the logout with a Logout(5), "
       "waits for the answering Logout(5) and then disconnects",
       CaseModes::kBoth,
       "",
       {{"Command", ParamType::kCommand, "",
         "shell command that asks the member to log out (run with /bin/sh -c); empty: skipped", 0,
         0},
        deadline2s},
       memberInitiatesLogout},
      {"reconnect-next-seqnums",
       "After a disconnect the member logs on again with the next sequence numbers",
       "FIX session layer (test case 1a on reconnect): the Logon after a dropped connection "
       "carries the next MsgSeqNum, no ResetSeqNumFlag unless agreed, and the member asks for "
       "no resend",
       CaseModes::kBoth,
       "",
       {{"Deadline", ParamType::kDuration, "30s", "how long to wait for the member to come back",
         10, 3600000},
        {"ResetSeqNumFlag", ParamType::kChoice, "N",
         "ResetSeqNumFlag(141) expected on the new Logon: Y, N or any", 0, 0, "ANY|Y|N"},
        {"Window", ParamType::kDuration, "1s", "how long the member must stay quiet after it", 10,
         600000}},
       reconnectNextSeqNums},
      {"logon-retry-discipline",
       "After a refused Logon the member waits before trying again",
       "Venue logon discipline (no FIX test case): after a refused Logon the next attempt comes "
       "no sooner than MinLogonRetryInterval; the retry interval is measured",
       CaseModes::kAcceptorOnly,
       "needs the member to initiate (ConnectionType=acceptor): in initiator mode linkwatch "
       "retries, not the member",
       {{"MinInterval", ParamType::kDuration, "5s",
         "shortest acceptable time from a refused Logon to the next connection", 0, 3600000},
        {"Refusals", ParamType::kCount, "2", "Logons to refuse in a row", 1, 10},
        {"Deadline", ParamType::kDuration, "60s", "how long to wait for each retry", 10, 3600000}},
       logonRetryDiscipline},
  };
}

}  // namespace

const std::vector<CaseDefinition>& catalogue() {
  static const std::vector<CaseDefinition> cases = makeCatalogue();
  return cases;
}

const CaseDefinition* findCase(std::string_view id) {
  for (const CaseDefinition& d : catalogue()) {
    const std::string_view known = d.id;
    if (known.size() == id.size() &&
        std::equal(known.begin(), known.end(), id.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return &d;
    }
  }
  return nullptr;
}

}  // namespace linkwatch::cert
