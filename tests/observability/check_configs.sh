#!/usr/bin/env bash
# Static checks of the Prometheus and Alertmanager configuration:
#   promtool check config / check rules / test rules, amtool check-config, the routing tree
#   (amtool config routes test), and that every alert has its annotations, a severity and
#   unit tests both firing and not firing.
#
#   tests/observability/check_configs.sh [SOURCE_DIR]
#
# Exits non-zero on the first failing step.
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
promtool=${PROMTOOL:-promtool}
amtool=${AMTOOL:-amtool}
prom=$src/config/prometheus
am=$src/config/alertmanager/alertmanager.yml

step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

for tool in "$promtool" "$amtool" python3; do
  command -v "$tool" >/dev/null || fail "$tool not found (scripts/setup installs prometheus and prometheus-alertmanager)"
done

step "promtool check config"
"$promtool" check config "$prom/prometheus.yml"

step "promtool check rules"
"$promtool" check rules "$prom"/rules/*.yml

step "promtool test rules"
"$promtool" test rules "$prom"/tests/*.yml

step "amtool check-config"
"$amtool" check-config "$am"

step "alertmanager routes"
route() {  # route EXPECTED_RECEIVER LABEL=VALUE...
  local want=$1 got
  shift
  got=$("$amtool" config routes test --config.file="$am" "$@" 2>/dev/null)
  [[ $got == "$want" ]] || fail "alert {$*} goes to '$got', expected '$want'"
  echo "  {$*} -> $got"
}
route page alertname=LinkDown member=BANK01 session=S severity=page reason=disconnected
route ticket alertname=LinkDown member=BANK01 session=S severity=ticket reason=disconnected
route info alertname=LinkDown member=BANK01 session=S severity=info reason=disconnected
route page alertname=LinkDegraded member=BANK01 session=S severity=page reason=heartbeat_late
route page alertname=MonitorDown job=linkwatch severity=page
route ticket alertname=EventsDropped job=linkwatch severity=ticket
route watchdog alertname=Watchdog severity=none
route blackhole alertname=MemberDown member=BANK01 severity=none
route ticket alertname=SomethingNew

step "alert rules: annotations, severity, unit tests"
python3 - "$prom" <<'EOF'
import pathlib, re, sys
prom = pathlib.Path(sys.argv[1])
rules = (prom / "rules/linkwatch-alerts.yml").read_text()
bad = []
# One block per rule: from "- alert:" or "- record:" to the next one.
blocks = re.split(r"\n(?=\s*- (?:alert|record):)", rules)
alerts = set()
for b in blocks:
    m = re.match(r"\s*- alert:\s*(\S+)", b)
    if not m:
        continue
    name = m.group(1)
    alerts.add(name)
    for key in ("summary:", "description:", "runbook_url:"):
        # YAML aliases (*link_down_annotations) reuse an earlier block's annotations.
        if key not in b and not re.search(r"annotations:\s*\*\w+", b):
            bad.append(f"{name}: no {key[:-1]} annotation")
    if not re.search(r"^\s+severity:\s*\S+", b, re.M) and "member_session_reason_severity:" not in b:
        bad.append(f"{name}: no severity label (static, or from member_session_reason_severity:...)")
# Every alert has a test where it fires and one where it does not.
fires, silent = set(), set()
for t in (prom / "tests").glob("*.yml"):
    text = t.read_text()
    for m in re.finditer(r"alertname:\s*(\S+)\s*\n\s*exp_alerts:(.*)", text):
        (silent if m.group(2).strip() == "[]" else fires).add(m.group(1))
for name in sorted(alerts):
    if name not in fires:
        bad.append(f"{name}: no unit test where it fires")
    if name not in silent and name != "Watchdog":
        bad.append(f"{name}: no unit test where it does not fire")
for line in bad:
    print("FAIL:", line)
print(f"  {len(alerts)} alerts: {', '.join(sorted(alerts))}")
sys.exit(1 if bad else 0)
EOF

echo "check_configs: all passed"
