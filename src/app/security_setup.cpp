#include "app/security_setup.hpp"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <optional>

namespace linkwatch {

std::unique_ptr<LogonGuard> makeLogonGuard(const MonitorConfig& config) {
  LogonGuardOptions options;
  options.secrets = config.security.secrets;
  options.failureLimit = config.security.logonFailureLimit;
  options.failureWindow = config.security.logonFailureWindow;
  options.blockDuration = config.security.logonBlockDuration;
  for (const LinkConfig& link : config.links) {
    LogonRuleSpec rule;
    rule.memberId = link.memberId;
    rule.sessionKey = link.sessionKey;
    for (const std::string& text : link.allowedSourceAddresses) {
      CidrRange range;
      if (parseCidr(text, range)) rule.allowedSources.push_back(range);  // validated already
    }
    options.links.push_back(std::move(rule));
  }
  return std::make_unique<LogonGuard>(std::move(options));
}

namespace {

class LogonRefusalMetrics : public prometheus::Collectable {
 public:
  LogonRefusalMetrics(const LogonGuard& guard, ElsewhereLogonCounts elsewhere)
      : guard_(guard), elsewhere_(std::move(elsewhere)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::optional<WorkerCounterTotals> more;
    if (elsewhere_) more = elsewhere_();
    const auto refusals = [&](LinkIndex link, LogonRefusal why) {
      return guard_.refusals(link, why) +
             (more ? more->refusals(link, static_cast<std::size_t>(why)) : 0);
    };
    prometheus::MetricFamily all{"linkwatch_logon_refusals_total",
                                 "Logons refused by linkwatch's checks (source address, "
                                 "credentials, per-address limit, TLS handshake), all members",
                                 prometheus::MetricType::Counter,
                                 {}};
    prometheus::MetricFamily perMember{
        "linkwatch_logons_refused_total",
        "Logons refused by linkwatch's checks, per member and reason (present once non-zero)",
        prometheus::MetricType::Counter,
        {}};
    for (int r = 0; r < kLogonRefusalCount; ++r) {
      const auto why = static_cast<LogonRefusal>(r);
      std::uint64_t total = refusals(kNoLink, why);
      for (LinkIndex i = 0; i < guard_.linkCount(); ++i) {
        const std::uint64_t n = refusals(i, why);
        if (n == 0) continue;
        total += n;
        prometheus::ClientMetric m;
        m.label = {{"member", guard_.link(i).memberId},
                   {"reason", toString(why)},
                   {"session", guard_.link(i).sessionKey}};
        m.counter.value = static_cast<double>(n);
        perMember.metric.push_back(std::move(m));
      }
      prometheus::ClientMetric m;
      m.label = {{"reason", toString(why)}};
      m.counter.value = static_cast<double>(total);
      all.metric.push_back(std::move(m));
    }
    prometheus::MetricFamily blocked{
        "linkwatch_logon_blocked_addresses_total",
        "Times an address was blocked after too many refused logons (LogonFailureLimit)",
        prometheus::MetricType::Counter,
        {}};
    prometheus::ClientMetric b;
    b.counter.value =
        static_cast<double>(guard_.blockedAddresses() + (more ? more->blockedAddresses() : 0));
    blocked.metric.push_back(std::move(b));
    prometheus::MetricFamily idle{
        "linkwatch_fix_idle_connections_closed_total",
        "Accepted FIX connections shut down for sending nothing within FixIdleConnectionTimeout",
        prometheus::MetricType::Counter,
        {}};
    prometheus::ClientMetric i;
    i.counter.value = static_cast<double>(guard_.idleConnectionsClosed() +
                                          (more ? more->idleConnectionsClosed() : 0));
    idle.metric.push_back(std::move(i));
    std::vector<prometheus::MetricFamily> out;
    out.push_back(std::move(all));
    if (!perMember.metric.empty()) out.push_back(std::move(perMember));
    out.push_back(std::move(blocked));
    out.push_back(std::move(idle));
    return out;
  }

 private:
  const LogonGuard& guard_;
  ElsewhereLogonCounts elsewhere_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> logonRefusalMetrics(const LogonGuard& guard,
                                                             ElsewhereLogonCounts elsewhere) {
  return std::make_shared<LogonRefusalMetrics>(guard, std::move(elsewhere));
}

}  // namespace linkwatch
