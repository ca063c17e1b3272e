// Prometheus text exposition format 0.0.4, written straight into a std::string.
//
// The output is byte for byte what prometheus::TextSerializer (prometheus-cpp 1.0) writes for
// the same families (a differential test holds it to that), but TextSerializer streams each
// label character through std::ostream and costs ~125 ms for 1,000 links x ~80 series in a
// release build: more than a scrape should take. This writer appends whole strings, escapes
// only values that need it and formats numbers with std::to_chars.
//
// Thread-safety: stateless; call from any thread.
#pragma once

#include <string>
#include <vector>

#include <prometheus/metric_family.h>

namespace linkwatch {

void appendTextFormat(const std::vector<prometheus::MetricFamily>& families, std::string& out);

inline std::string toTextFormat(const std::vector<prometheus::MetricFamily>& families) {
  std::string out;
  appendTextFormat(families, out);
  return out;
}

}  // namespace linkwatch
