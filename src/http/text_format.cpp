#include "http/text_format.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

#include <prometheus/client_metric.h>
#include <prometheus/metric_type.h>

namespace linkwatch {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// TextSerializer prints doubles through an ostream with precision digits10 + 1 (16) in the
// default float format, i.e. printf("%.16g"); to_chars with a precision is specified to
// give exactly that, without the locale and stream machinery.
constexpr int kDoublePrecision = std::numeric_limits<double>::digits10 + 1;

void appendDouble(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "Nan";
  } else if (std::isinf(v)) {
    out += v < 0 ? "-Inf" : "+Inf";
  } else {
    char buf[32];
    const auto r =
        std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, kDoublePrecision);
    out.append(buf, r.ptr);
  }
}

template <class Int>
void appendInt(std::string& out, Int v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Label values escape \, " and newline; most values have none of them.
void appendEscaped(std::string& out, std::string_view v) {
  if (v.find_first_of("\\\"\n") == std::string_view::npos) {
    out += v;
    return;
  }
  for (const char c : v) {
    if (c == '\n') {
      out += "\\n";
    } else {
      if (c == '\\' || c == '"') out += '\\';
      out += c;
    }
  }
}

// "name<suffix>{labels<,extraName="extraValue">} " -- extraValue is already formatted.
void appendHead(std::string& out, const MetricFamily& family, const ClientMetric& metric,
                std::string_view suffix = {}, std::string_view extraName = {},
                std::string_view extraValue = {}) {
  out += family.name;
  out += suffix;
  if (!metric.label.empty() || !extraName.empty()) {
    out += '{';
    bool first = true;
    for (const auto& label : metric.label) {
      if (!first) out += ',';
      first = false;
      out += label.name;
      out += "=\"";
      appendEscaped(out, label.value);
      out += '"';
    }
    if (!extraName.empty()) {
      if (!first) out += ',';
      out += extraName;
      out += "=\"";
      out += extraValue;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
}

void appendTail(std::string& out, const ClientMetric& metric) {
  if (metric.timestamp_ms != 0) {
    out += ' ';
    appendInt(out, metric.timestamp_ms);
  }
  out += '\n';
}

std::string formatDouble(double v) {
  std::string s;
  appendDouble(s, v);
  return s;
}

void appendHistogram(std::string& out, const MetricFamily& family, const ClientMetric& metric) {
  const auto& h = metric.histogram;
  appendHead(out, family, metric, "_count");
  appendInt(out, h.sample_count);
  appendTail(out, metric);
  appendHead(out, family, metric, "_sum");
  appendDouble(out, h.sample_sum);
  appendTail(out, metric);
  double last = -std::numeric_limits<double>::infinity();
  for (const auto& b : h.bucket) {
    appendHead(out, family, metric, "_bucket", "le", formatDouble(b.upper_bound));
    last = b.upper_bound;
    appendInt(out, b.cumulative_count);
    appendTail(out, metric);
  }
  if (last != std::numeric_limits<double>::infinity()) {
    appendHead(out, family, metric, "_bucket", "le", "+Inf");
    appendInt(out, h.sample_count);
    appendTail(out, metric);
  }
}

void appendSummary(std::string& out, const MetricFamily& family, const ClientMetric& metric) {
  const auto& s = metric.summary;
  appendHead(out, family, metric, "_count");
  appendInt(out, s.sample_count);
  appendTail(out, metric);
  appendHead(out, family, metric, "_sum");
  appendDouble(out, s.sample_sum);
  appendTail(out, metric);
  for (const auto& q : s.quantile) {
    appendHead(out, family, metric, {}, "quantile", formatDouble(q.quantile));
    appendDouble(out, q.value);
    appendTail(out, metric);
  }
}

}  // namespace

std::string_view typeName(MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Summary:
      return "summary";
    case MetricType::Histogram:
      return "histogram";
    case MetricType::Untyped:
      break;
  }
  return "untyped";
}

void appendSampleValue(std::string& out, double value) { appendDouble(out, value); }
void appendSampleValue(std::string& out, std::uint64_t value) { appendInt(out, value); }
void appendLabelValue(std::string& out, std::string_view value) { appendEscaped(out, value); }

void appendTextFormat(const std::vector<MetricFamily>& families, std::string& out) {
  for (const MetricFamily& family : families) {
    if (!family.help.empty()) {
      out += "# HELP ";
      out += family.name;
      out += ' ';
      out += family.help;
      out += '\n';
    }
    out += "# TYPE ";
    out += family.name;
    out += ' ';
    out += typeName(family.type);
    out += '\n';
    for (const ClientMetric& metric : family.metric) {
      switch (family.type) {
        case MetricType::Counter:
          appendHead(out, family, metric);
          appendDouble(out, metric.counter.value);
          appendTail(out, metric);
          break;
        case MetricType::Gauge:
          appendHead(out, family, metric);
          appendDouble(out, metric.gauge.value);
          appendTail(out, metric);
          break;
        case MetricType::Untyped:
          appendHead(out, family, metric);
          appendDouble(out, metric.untyped.value);
          appendTail(out, metric);
          break;
        case MetricType::Summary:
          appendSummary(out, family, metric);
          break;
        case MetricType::Histogram:
          appendHistogram(out, family, metric);
          break;
      }
    }
  }
}

}  // namespace linkwatch
