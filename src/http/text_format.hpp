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

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

namespace linkwatch {

void appendTextFormat(const std::vector<prometheus::MetricFamily>& families, std::string& out);

// The pieces appendTextFormat is made of, for writers that produce the same bytes without
// building MetricFamily first (MetricsCollector::write streams /metrics with them).
void appendSampleValue(std::string& out, double value);         // a double as TextSerializer has it
void appendSampleValue(std::string& out, std::uint64_t value);  // histogram counts
void appendLabelValue(std::string& out, std::string_view value);  // escapes \, " and newline
std::string_view typeName(prometheus::MetricType type);           // "counter", "gauge", ...

inline std::string toTextFormat(const std::vector<prometheus::MetricFamily>& families) {
  std::string out;
  appendTextFormat(families, out);
  return out;
}

}  // namespace linkwatch
