// The simulator's wire parser. The first byte seeds the chunking and the body-length limit;
// the rest is a byte stream, fed to one FixStreamParser in random chunk sizes (as TCP would
// deliver it) and to another at once. Properties:
//  - every byte is accounted for: in a message, counted as garbage, or still buffered;
//  - every message is framed, summed and split as FIX says, and re-encodes to itself;
//  - the chunking changes nothing (unless a body length overflowed, which drops the buffer).
// The same bytes also go through FixMessage::assign and parseFault (formatFault round trip).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "sim/fault.hpp"
#include "sim/fix_wire.hpp"

namespace {

using linkwatch::sim::FixMessage;
using linkwatch::sim::FixStreamParser;

struct Parsed {
  std::vector<std::string> messages;
  std::size_t messageBytes = 0;
};

void checkMessage(const FixMessage& m) {
  const std::string_view raw = m.raw();
  const auto& fields = m.fields();
  LW_FUZZ_CHECK(fields.size() >= 4, "a message has 8, 9, 35 and 10");
  LW_FUZZ_CHECK(fields[0].tag == 8 && fields[1].tag == 9 && fields[2].tag == 35, "header order");
  LW_FUZZ_CHECK(fields.back().tag == 10 && fields.back().size == 3, "trailer");
  LW_FUZZ_CHECK(raw.substr(0, 2) == "8=", "starts with 8=");
  const std::size_t trailerStart = fields.back().offset - 3;  // "10="
  const std::size_t bodyStart = fields[2].offset - 3;         // "35="
  LW_FUZZ_CHECK(m.getInt(9) && static_cast<std::size_t>(*m.getInt(9)) == trailerStart - bodyStart,
                "BodyLength matches the body");
  // The trailer's value, not get(10): a body may carry another tag 10 inside its length.
  const std::string_view claimed = raw.substr(fields.back().offset, 3);
  const unsigned sum = linkwatch::sim::fixChecksum(raw.substr(0, trailerStart));
  LW_FUZZ_CHECK(static_cast<unsigned>(std::stoi(std::string(claimed))) == sum, "CheckSum");
  for (const auto& f : fields) {
    LW_FUZZ_CHECK(f.offset >= 2 && f.offset + f.size < raw.size() + 1, "field inside raw");
    LW_FUZZ_CHECK(raw[f.offset - 1] == '=' && raw[f.offset + f.size] == linkwatch::sim::kSoh,
                  "field delimited by = and SOH");
  }

  // A copy re-points its views into its own text.
  const FixMessage copy = m;
  LW_FUZZ_CHECK(copy.raw() == raw && copy.msgType() == m.msgType(), "copy differs");
  LW_FUZZ_CHECK(copy.msgType().data() >= copy.raw().data() &&
                    copy.msgType().data() < copy.raw().data() + copy.raw().size(),
                "copy's views point into another message");

  // The encoder writes tags and BodyLength without leading zeros: where the wire did the same,
  // encoding the parsed fields must give the same bytes back.
  std::vector<linkwatch::sim::FixField> body;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::size_t tagStart = i == 0 ? 0 : fields[i - 1].offset + fields[i - 1].size + 1;
    if (raw.substr(tagStart, fields[i].offset - 1 - tagStart) != std::to_string(fields[i].tag))
      return;
    if (i >= 3 && i + 1 < fields.size())
      body.push_back({fields[i].tag, std::string(raw.substr(fields[i].offset, fields[i].size))});
  }
  if (m.get(9)->size() > 1 && m.get(9)->front() == '0') return;
  const std::string encoded = linkwatch::sim::encodeFixMessage(*m.get(8), *m.get(35), body);
  LW_FUZZ_CHECK(encoded == raw, "encodeFixMessage(parsed fields) differs from the wire");
}

void drain(FixStreamParser& parser, Parsed& out) {
  FixMessage m;
  while (parser.next(m)) {
    checkMessage(m);
    out.messageBytes += m.raw().size();
    out.messages.emplace_back(m.raw());
  }
}

void checkAccounting(const FixStreamParser& parser, const Parsed& parsed, std::size_t fed) {
  LW_FUZZ_CHECK(parser.garbageBytes() + parsed.messageBytes + parser.buffered() == fed,
                "bytes lost or counted twice");
}

void checkFault(std::string_view spec) {
  std::string error;
  const auto fault = linkwatch::sim::parseFault(spec, &error);
  LW_FUZZ_CHECK(fault.has_value() == linkwatch::sim::parseFault(spec).has_value(),
                "the error out-parameter changes the result");
  if (!fault) {
    LW_FUZZ_CHECK(!error.empty(), "parseFault failed without saying why");
    return;
  }
  const std::string text = linkwatch::sim::formatFault(*fault);
  const auto again = linkwatch::sim::parseFault(text);
  LW_FUZZ_CHECK(again && *again == *fault, "parseFault(formatFault(f)) != f: " + text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t seed = data[0];
  const std::string_view stream = linkwatch::fuzz::asText(data + 1, size - 1);
  // A small limit reaches the overflow path with short inputs.
  const std::size_t maxBody =
      (seed & 1) != 0 ? std::size_t{64} : FixStreamParser::kDefaultMaxBodyLength;

  FixStreamParser chunked(maxBody);
  Parsed byChunks;
  linkwatch::fuzz::SplitMix rng(seed);
  for (std::size_t pos = 0; pos < stream.size();) {
    // Mostly small chunks, sometimes a large one.
    const std::uint64_t r = rng.next();
    std::size_t n = (r & 7) == 0 ? static_cast<std::size_t>(r >> 8) % 512 + 1
                                 : static_cast<std::size_t>(r >> 8) % 8 + 1;
    if (n > stream.size() - pos) n = stream.size() - pos;
    chunked.feed(stream.data() + pos, n);
    pos += n;
    drain(chunked, byChunks);
    checkAccounting(chunked, byChunks, pos);
  }

  FixStreamParser whole(maxBody);
  Parsed atOnce;
  whole.feed(stream);
  drain(whole, atOnce);
  checkAccounting(whole, atOnce, stream.size());

  if (chunked.overflows() == 0 && whole.overflows() == 0) {
    LW_FUZZ_CHECK(byChunks.messages == atOnce.messages, "chunking changed the messages");
    LW_FUZZ_CHECK(chunked.garbageBytes() == whole.garbageBytes(), "chunking changed the garbage");
    LW_FUZZ_CHECK(chunked.buffered() == whole.buffered(), "chunking changed what is buffered");
  }

  // One message as a whole: every field `digits=value<SOH>`, nothing else.
  FixMessage single;
  if (single.assign(std::string(stream))) {
    LW_FUZZ_CHECK(!single.fields().empty() && single.raw() == stream, "assign changed the text");
    for (const auto& f : single.fields()) {
      LW_FUZZ_CHECK(f.offset + f.size < stream.size() && stream[f.offset + f.size] == '\x01',
                    "field not ended by SOH");
    }
  } else {
    LW_FUZZ_CHECK(single.raw().empty() && single.fields().empty(), "failed assign kept data");
  }

  checkFault(stream);
  return 0;
}
