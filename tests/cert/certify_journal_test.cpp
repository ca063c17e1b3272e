// Certification verdicts are durable: with JournalPath set, `linkwatch certify` appends each
// verdict to a journal of its own under <JournalPath>/certify, which a running monitor (holding
// the lock on JournalPath itself) does not contend for.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "cert_support.hpp"
#include "journal/journal_reader.hpp"

namespace linkwatch::cert {
namespace {

using namespace std::chrono_literals;
using test::Process;
using test::TempDir;

TEST(CertifyJournal, EveryVerdictOfARunIsInTheCertificationJournal) {
  TempDir dir;
  const std::string journalDir = dir.file("journal");
  const std::string cfg = dir.write(
      "c.cfg", "[LINKWATCH]\nJournalPath=" + journalDir +
                   "\nJournalSync=every\n"
                   "[DEFAULT]\nBeginString=FIX.4.4\nSenderCompID=EXCH\nUseDataDictionary=N\n"
                   "StartTime=00:00:00\nEndTime=00:00:00\n"
                   "[SESSION]\nMemberId=BANK01\nTargetCompID=BANK01\nConnectionType=acceptor\n"
                   "SocketAcceptHost=127.0.0.1\nSocketAcceptPort=" +
                   std::to_string(test::freePort()) +
                   "\nHeartBtInt=1\n"
                   "[CERTIFICATION]\nLogonTimeout=300ms\nCase.1a-valid-logon.Deadline=300ms\n");
  // Nobody connects: both cases fail fast, each with a verdict to keep.
  Process certify({LINKWATCH_BINARY, "certify", "--config", cfg, "--member", "BANK01", "--cases",
                   "1a-valid-logon,13b-logout"},
                  dir.file("log"));
  const auto code = certify.wait(30s);
  ASSERT_TRUE(code.has_value()) << certify.output();
  EXPECT_EQ(*code, 1) << certify.output();

  std::vector<HistoryEvent> verdicts;
  const journal::JournalScan scan =
      journal::readJournal(journalDir + "/certify", [&](HistoryEvent&& e) {
        if (e.kind == HistoryEventKind::kCertification) verdicts.push_back(std::move(e));
      });
  EXPECT_EQ(scan.corruptRecords, 0u);
  ASSERT_EQ(verdicts.size(), 2u) << certify.output();
  std::set<std::string> cases;
  for (const HistoryEvent& v : verdicts) {
    cases.insert(v.caseId);
    EXPECT_EQ(v.member, "BANK01");
    EXPECT_EQ(v.verdict, "fail");
    EXPECT_FALSE(v.reason.empty());
    EXPECT_FALSE(v.runId.empty());
    EXPECT_EQ(v.runId, verdicts.front().runId) << "one run, one id";
  }
  EXPECT_EQ(cases, (std::set<std::string>{"1a-valid-logon", "13b-logout"}));
}

}  // namespace
}  // namespace linkwatch::cert
