// The report writers: JUnit XML a CI can read, JSON with every message, HTML that escapes
// whatever a member or its engine put in a name or a message.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>
#include <sstream>

#include "cert/certification_report.hpp"
#include "cert_support.hpp"

namespace linkwatch::cert {
namespace {

constexpr Nanos kStart = 1795000000LL * kNanosPerSecond;

RecordedMessage message(Direction d, std::string text, Nanos offset) {
  RecordedMessage m;
  m.direction = d;
  m.text = std::move(text);
  m.wall = kStart + offset;
  m.monotonic = offset;
  return m;
}

CertificationReport sampleReport() {
  CertificationReport r;
  r.memberId = "BANK01";
  r.memberName = "Evil <script>alert('x')</script> & Co";
  r.sessionKey = "FIX.4.4:EXCH->BANK01";
  r.mode = "acceptor";
  r.endpoint = "0.0.0.0:9890";
  r.version = "0.0.0-test";
  r.startedWall = kStart;
  r.finishedWall = kStart + 3 * kNanosPerSecond;

  CaseVerdict pass;
  pass.caseId = "4b-test-request";
  pass.purpose = "A TestRequest is answered";
  pass.behaviour = "FIX 4b";
  pass.verdict = Verdict::kPass;
  pass.durationNs = 12 * kNanosPerMilli;
  pass.startedWall = kStart;
  pass.parameters = {{"Deadline", "2s"}};
  pass.measurements = {{"rtt_ms", "0.4"}};
  pass.messages = {
      message(Direction::kOut, "8=FIX.4.4|9=60|35=1|34=5|49=EXCH|112=CERT1|10=001|", 1000),
      message(Direction::kIn, "8=FIX.4.4|9=60|35=0|34=7|49=BANK01|112=CERT1|10=002|", 2000)};

  CaseVerdict fail;
  fail.caseId = "2b-seqnum-too-high";
  fail.purpose = "A gap makes the member ask for it";
  fail.behaviour = "FIX 2b";
  fail.verdict = Verdict::kFail;
  fail.findings = {"ResendRequest for 3..0, expected 3..7: \"8=FIX.4.4|35=2|58=<b>&\"",
                   "second finding"};
  fail.durationNs = 2 * kNanosPerSecond;
  fail.messages = {message(Direction::kNote, "skipping MsgSeqNum 3..7 <&>", 3000),
                   message(Direction::kOut, "8=FIX.4.4|35=0|34=8|10=003|", 4000),
                   message(Direction::kIn, "8=FIX.4.4|35=2|58=\\x01</system-out>|", 5000)};

  CaseVerdict skipped;
  skipped.caseId = "1c-invalid-compid";
  skipped.purpose = "A wrong CompID is refused";
  skipped.verdict = Verdict::kSkipped;
  skipped.findings = {"needs linkwatch to initiate \"the\" session"};
  r.cases = {pass, fail, skipped};
  return r;
}

// Every tag opened is closed in order, attributes are quoted, and no bare '<' or '&' is left.
void expectWellFormedXml(const std::string& xml) {
  std::vector<std::string> stack;
  std::size_t pos = xml.find("?>");
  ASSERT_NE(pos, std::string::npos);
  pos += 2;
  const std::regex tag(
      R"(<(/?)([A-Za-z_][\w.-]*)((?:\s+[\w.-]+="[^"<&]*(?:&(?:amp|lt|gt|quot|apos);[^"<&]*)*")*)\s*(/?)>)");
  while (true) {
    const std::size_t lt = xml.find('<', pos);
    const std::string text =
        xml.substr(pos, lt == std::string::npos ? std::string::npos : lt - pos);
    for (std::size_t amp = text.find('&'); amp != std::string::npos;
         amp = text.find('&', amp + 1)) {
      const std::string entity = text.substr(amp, 6);
      EXPECT_TRUE(entity.rfind("&amp;", 0) == 0 || entity.rfind("&lt;", 0) == 0 ||
                  entity.rfind("&gt;", 0) == 0 || entity.rfind("&quot;", 0) == 0 ||
                  entity.rfind("&apos;", 0) == 0)
          << "bare & in text: " << text;
    }
    if (lt == std::string::npos) break;
    std::smatch m;
    const std::string rest = xml.substr(lt);
    ASSERT_TRUE(std::regex_search(rest, m, tag, std::regex_constants::match_continuous))
        << "malformed tag at: " << rest.substr(0, 80);
    if (m[1] == "/") {
      ASSERT_FALSE(stack.empty()) << "close without open: " << m[2];
      EXPECT_EQ(stack.back(), m[2]);
      stack.pop_back();
    } else if (m[4] != "/") {
      stack.push_back(m[2]);
    }
    pos = lt + static_cast<std::size_t>(m.length(0));
  }
  EXPECT_TRUE(stack.empty()) << "unclosed: " << stack.back();
}

TEST(CertificationReport, JunitXmlIsWellFormedAndCountsFailuresAndSkips) {
  const std::string xml = junitXml(sampleReport());
  expectWellFormedXml(xml);
  EXPECT_NE(xml.find("<testsuite name=\"linkwatch certification BANK01\" tests=\"3\" "
                     "failures=\"1\" errors=\"0\" skipped=\"1\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testcase classname=\"certification.BANK01\" name=\"4b-test-request\""),
            std::string::npos);
  EXPECT_NE(xml.find("<failure message=\"ResendRequest for 3..0, expected 3..7: "
                     "&quot;8=FIX.4.4|35=2|58=&lt;b&gt;&amp;&quot;\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<skipped message=\"needs linkwatch to initiate &quot;the&quot; session\"/>"),
            std::string::npos);
  // A message text that looks like a closing tag stays text.
  EXPECT_NE(xml.find("&lt;/system-out&gt;"), std::string::npos);
}

TEST(CertificationReport, JsonHasEveryMessageOfEveryCaseWithTimeAndDirection) {
  const CertificationReport r = sampleReport();
  const auto doc = nlohmann::json::parse(jsonReport(r));
  EXPECT_EQ(doc["member"], "BANK01");
  EXPECT_EQ(doc["passed"], false);
  EXPECT_EQ(doc["counts"]["fail"], 1);
  ASSERT_EQ(doc["cases"].size(), 3u);
  for (std::size_t i = 0; i < r.cases.size(); ++i) {
    const auto& c = doc["cases"][i];
    EXPECT_EQ(c["id"], r.cases[i].caseId);
    EXPECT_EQ(c["verdict"], std::string(toString(r.cases[i].verdict)));
    ASSERT_EQ(c["messages"].size(), r.cases[i].messages.size());
    for (std::size_t k = 0; k < r.cases[i].messages.size(); ++k) {
      const RecordedMessage& m = r.cases[i].messages[k];
      EXPECT_EQ(c["messages"][k]["text"], m.text);
      EXPECT_EQ(c["messages"][k]["direction"], std::string(toString(m.direction)));
      EXPECT_EQ(c["messages"][k]["time_unix_ns"], m.wall);
      EXPECT_EQ(c["messages"][k]["time"], isoTime(m.wall));
    }
  }
  EXPECT_EQ(doc["cases"][1]["reason"], r.cases[1].findings[0]);
  EXPECT_EQ(doc["cases"][1]["findings"].size(), 2u);
  EXPECT_EQ(doc["cases"][0]["measurements"]["rtt_ms"], "0.4");
  EXPECT_EQ(doc["cases"][0]["parameters"]["Deadline"], "2s");
}

TEST(CertificationReport, HtmlEscapesEverythingAndLoadsNothingFromOutside) {
  const std::string html = htmlReport(sampleReport());
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("Evil &lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; Co"),
            std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_NE(html.find("NOT CERTIFIED"), std::string::npos);
  EXPECT_NE(html.find("8=FIX.4.4|9=60|35=1|34=5|49=EXCH|112=CERT1|10=001|"), std::string::npos);
}

TEST(CertificationReport, SummaryHasOneLinePerCaseWithTheFirstReason) {
  std::ostringstream out;
  writeSummary(out, sampleReport());
  const std::string text = out.str();
  EXPECT_NE(text.find("PASS  4b-test-request"), std::string::npos) << text;
  EXPECT_NE(text.find("FAIL  2b-seqnum-too-high"), std::string::npos);
  EXPECT_NE(text.find("2.000s  ResendRequest for 3..0"), std::string::npos) << text;
  EXPECT_EQ(text.find("second finding"), std::string::npos);
  EXPECT_NE(text.find("SKIP  1c-invalid-compid"), std::string::npos);
  EXPECT_NE(text.find("1 passed, 1 failed, 1 skipped"), std::string::npos);
  EXPECT_NE(text.find("NOT CERTIFIED"), std::string::npos);
}

TEST(CertificationReport, WritesTheThreeFilesIntoANewDirectory) {
  test::TempDir dir;
  const auto paths = writeReports(sampleReport(), dir.file("a/b"));
  ASSERT_EQ(paths.size(), 3u);
  EXPECT_EQ(test::readFile(paths[0]), junitXml(sampleReport()));
  EXPECT_NE(test::readFile(paths[1]).find("\"member\": \"BANK01\""), std::string::npos);
  EXPECT_NE(test::readFile(paths[2]).find("<!DOCTYPE html>"), std::string::npos);
  EXPECT_THROW(writeReports(sampleReport(), "/proc/no-such-dir/x"), std::runtime_error);
}

TEST(CertificationReport, RenderedFixShowsSeparatorsAndEscapesControlBytes) {
  EXPECT_EQ(renderFix(std::string("8=FIX.4.4\x01"
                                  "35=0\x01"
                                  "58=a\x02\xff\x01")),
            "8=FIX.4.4|35=0|58=a\\x02\\xff|");
}

}  // namespace
}  // namespace linkwatch::cert
