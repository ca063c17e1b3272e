#!/usr/bin/env python3
"""End to end: linkwatch demo -> real Prometheus (shipped rules) -> real Alertmanager (shipped
config), on free ports of 127.0.0.1.

    query_dashboards_test.py LINKWATCH_BINARY SOURCE_DIR

1. every rule loads and evaluates without error (/api/v1/rules health), and each rule's
   expression answers /api/v1/query without error;
2. every PromQL target of every dashboard answers /api/v1/query and /api/v1/query_range
   without error ($member -> a real member, $__rate_interval/$__range/$__interval -> durations);
   the key panels (member lights, links not up, counts by state, queue depth...) return data;
3. every metric name used in grafana/ and in the rules is in the scrape (check_metric_names);
4. Alertmanager: the Watchdog goes Prometheus -> Alertmanager -> webhook receiver; MonitorDown
   inhibits a per-link alert; MemberDown inhibits HeartbeatLate of the same member only.

Every wait is a poll with a deadline; every process is stopped on exit. About 20 s.
"""
import http.server
import json
import pathlib
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import obs_support as obs  # noqa: E402

SCRAPE = "1s"
# Grafana's variables, as a 1 s scrape and a 5 min dashboard would set them.
GRAFANA_VARS = {"__rate_interval": "15s", "__interval": "2s", "__range": "5m", "__range_s": "300",
                "__interval_ms": "2000", "__range_ms": "300000"}
# Panels that must show data on a running demo, by dashboard and title.
KEY_PANELS = {
    "link-lights.json": ["Links by state", "Member lights", "Links not up", "Link states over time",
                         "Critical links not up", "Monitor"],
    "member-detail.json": ["State", "Reason", "In state since", "Member", "State over time",
                           "Messages received by type", "Heartbeat inter-arrival",
                           "TestRequest round trip"],
    "monitor-health.json": ["Event queue depth", "Scraped", "Uptime", "Links",
                            "Events applied, deferred, dropped", "Push-to-apply delay",
                            "Scrape duration"],
}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL", msg, flush=True)


def substitute(expr, member):
    for name, value in sorted(GRAFANA_VARS.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace("${" + name + "}", value).replace("$" + name, value)
    return expr.replace("${member}", member).replace("$member", member)


class Webhook(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Webhook.received.append((self.path, json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def start_webhook():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def prometheus_config(src, tmp, lw_base, am_port):
    """The shipped prometheus.yml on test ports and a 1 s scrape/evaluation, rules by path."""
    text = (src / "config/prometheus/prometheus.yml").read_text()
    lw_hostport = lw_base.split("//", 1)[1]
    text = text.replace("127.0.0.1:9745", lw_hostport).replace("127.0.0.1:9093", f"127.0.0.1:{am_port}")
    text = re.sub(r"(scrape_interval|evaluation_interval):\s*5s", rf"\1: {SCRAPE}", text)
    text = re.sub(r"scrape_timeout:\s*\S+", "scrape_timeout: 1s", text)
    text = re.sub(r"- rules/", f"- {src}/config/prometheus/rules/", text)
    path = tmp / "prometheus.yml"
    path.write_text(text)
    return path


def alertmanager_config(src, tmp, hook_port):
    text = (src / "config/alertmanager/alertmanager.yml").read_text()
    text = text.replace("http://127.0.0.1:5001/", f"http://127.0.0.1:{hook_port}/")
    path = tmp / "alertmanager.yml"
    path.write_text(text)
    return path


def query(prom, expr, range_=False):
    if range_:
        end = time.time()
        params = {"query": expr, "start": f"{end - 30:.3f}", "end": f"{end:.3f}", "step": "1"}
        url = f"{prom}/api/v1/query_range?" + urllib.parse.urlencode(params)
    else:
        url = f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    return obs.http_json(url)


def check_rules(prom):
    rules = obs.http_json(prom + "/api/v1/rules")["data"]["groups"]
    n = 0
    for g in rules:
        for r in g["rules"]:
            n += 1
            name = r.get("name")
            if r.get("health") != "ok":
                fail(f"rule {name} ({g['name']}): health {r.get('health')}: {r.get('lastError')}")
            res = query(prom, r["query"])
            if res.get("status") != "success":
                fail(f"rule {name}: query error {res.get('error')}")
    print(f"rules: {n} rules healthy and queryable", flush=True)
    return n


def check_dashboards(src, prom, member):
    n = 0
    has_data = {}
    for fname, panel, t in obs.dashboard_targets(src):
        expr = substitute(t["expr"], member)
        where = f"{fname} panel {panel.get('id')} {panel.get('title')!r} {t.get('refId', '')}"
        kinds = [False] if t.get("instant") or t.get("variable") else [False, True]
        for range_ in kinds:
            n += 1
            res = query(prom, expr, range_)
            if res.get("status") != "success":
                fail(f"{where}: {res.get('error')} in {expr}")
                continue
            if res["data"]["result"]:
                has_data.setdefault((fname, panel.get("title")), True)
    for fname, titles in KEY_PANELS.items():
        for title in titles:
            if not has_data.get((fname, title)):
                fail(f"{fname} panel {title!r} returns no data on the running demo")
    print(f"dashboards: {n} queries answered, {len(has_data)} panels with data "
          f"($member={member})", flush=True)


def check_alertmanager(am):
    # The Watchdog made it from the rules through Alertmanager to its receiver.
    obs.wait_for("the Watchdog at the webhook receiver", lambda: any(
        path.endswith("/watchdog") and any(a["labels"].get("alertname") == "Watchdog" for a in body["alerts"])
        for path, body in Webhook.received), 20)
    print("alertmanager: Watchdog delivered to its receiver", flush=True)

    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    link = {"member": "MEMBER_A", "session": "FIX.4.4:LINKWATCH->MEMBER_A", "reason": "disconnected"}
    alerts = [
        {"labels": {"alertname": "MonitorDown", "job": "linkwatch", "instance": "test", "severity": "page"}},
        {"labels": {"alertname": "LinkDown", "severity": "page", **link}},
        {"labels": {"alertname": "MemberDown", "member": "MEMBER_B", "severity": "none"}},
        {"labels": {"alertname": "HeartbeatLate", "member": "MEMBER_B", "session": "S_B",
                    "severity": "ticket", "reason": "logged_on"}},
        {"labels": {"alertname": "HeartbeatLate", "member": "MEMBER_C", "session": "S_C",
                    "severity": "ticket", "reason": "logged_on"}},
    ]
    for a in alerts:
        a["startsAt"] = started
        a["annotations"] = {"summary": "query_dashboards_test"}
    obs.http_json(am + "/api/v2/alerts", alerts)

    def states():
        got = obs.http_json(am + "/api/v2/alerts")
        return {(a["labels"]["alertname"], a["labels"].get("member")): a["status"]["state"] for a in got}

    want = {("LinkDown", "MEMBER_A"): "suppressed", ("HeartbeatLate", "MEMBER_B"): "suppressed",
            ("MonitorDown", None): "active"}
    try:
        obs.wait_for("inhibitions in Alertmanager",
                     lambda: all(states().get(k) == v for k, v in want.items()), 10)
    except SystemExit as e:
        fail(f"{e}: {states()}")
        return
    # MonitorDown inhibits every per-link alert, so MEMBER_C's is suppressed too; without it,
    # MemberDown of MEMBER_B must not reach MEMBER_C.
    s = states()
    if s.get(("HeartbeatLate", "MEMBER_C")) != "suppressed":
        fail(f"MonitorDown did not inhibit HeartbeatLate of MEMBER_C: {s}")
    ends = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    obs.http_json(am + "/api/v2/alerts", [{**alerts[0], "endsAt": ends}])
    try:
        obs.wait_for("MEMBER_C's HeartbeatLate active once MonitorDown has ended",
                     lambda: states().get(("HeartbeatLate", "MEMBER_C")) == "active" and
                     states().get(("HeartbeatLate", "MEMBER_B")) == "suppressed" and
                     states().get(("LinkDown", "MEMBER_A")) == "active", 10)
    except SystemExit as e:
        fail(f"{e}: {states()}")
        return
    print("alertmanager: MonitorDown inhibits per-link alerts, MemberDown only its member's", flush=True)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    started = time.monotonic()
    linkwatch, src = sys.argv[1], pathlib.Path(sys.argv[2]).resolve()
    for tool in ("prometheus", "prometheus-alertmanager"):
        if not shutil.which(tool):
            sys.exit(f"FAIL: {tool} not found (scripts/setup installs it)")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="lw-e2e-"))
    finished = False
    try:
        lw, lw_base = obs.start_demo(linkwatch, src, tmp)
        hook = start_webhook()
        am_port, prom_port = obs.free_port(), obs.free_port()
        am = f"http://127.0.0.1:{am_port}"
        prom = f"http://127.0.0.1:{prom_port}"
        am_proc = obs.spawn(["prometheus-alertmanager",
                             f"--config.file={alertmanager_config(src, tmp, hook.server_address[1])}",
                             f"--storage.path={tmp / 'am'}", f"--web.listen-address=127.0.0.1:{am_port}",
                             "--cluster.listen-address="], tmp / "alertmanager.log")
        prom_proc = obs.spawn(["prometheus", f"--config.file={prometheus_config(src, tmp, lw_base, am_port)}",
                               f"--storage.tsdb.path={tmp / 'tsdb'}",
                               f"--web.listen-address=127.0.0.1:{prom_port}",
                               # Alerts evaluated before the Alertmanager is discovered are
                               # only re-sent after this delay (1m by default).
                               "--rules.alert.resend-delay=1s"], tmp / "prometheus.log")
        procs = [lw, am_proc, prom_proc]
        obs.wait_for("Alertmanager ready", lambda: obs.http_get(am + "/-/ready"), 20, procs)
        obs.wait_for("Prometheus ready", lambda: obs.http_get(prom + "/-/ready"), 20, procs)

        def value(expr):
            r = query(prom, expr)["data"]["result"]
            return float(r[0]["value"][1]) if r else None

        obs.wait_for("target up", lambda: value('up{job="linkwatch"}') == 1, 20, procs)
        # Rates and 5m quantiles need two samples; recording rules one evaluation after that.
        obs.wait_for("recorded lights, message rates and RTT quantiles", lambda: all(value(e) for e in (
            "count(member:linkwatch_link_state_code:max)",
            "count(member_session_msg_type:linkwatch_messages_received:rate1m > 0)",
            "count(member_session:linkwatch_rtt_seconds:p99_5m >= 0)",
            "count(member_session:linkwatch_heartbeat_interval_seconds:p50_5m >= 0)",
            "count(instance:linkwatch_event_apply_delay_seconds:p99_1m >= 0)",
            "count(linkwatch_rtt_last_seconds)")), 30, procs)
        members = obs.http_json(prom + "/api/v1/label/member/values?" +
                                urllib.parse.urlencode({"match[]": "linkwatch_member_info"}))["data"]
        rtt = obs.http_json(prom + "/api/v1/query?" + urllib.parse.urlencode(
            {"query": "member_session:linkwatch_rtt_seconds:p99_5m >= 0"}))["data"]["result"]
        # A member with RTT probes, so that its latency panels have data too.
        member = sorted(r["metric"]["member"] for r in rtt)[0] if rtt else sorted(members)[0]
        print(f"ready after {time.monotonic() - started:.1f}s: {len(members)} members", flush=True)

        check_rules(prom)
        check_dashboards(src, prom, member)

        scrape = (obs.http_get(lw_base + "/metrics") + obs.certification_scrape(linkwatch, tmp)
                  + obs.fix_worker_scrape(linkwatch, tmp))
        problems, pending, used = obs.check_metric_names(src, scrape)
        for p in problems:
            fail(p)
        for p in pending:
            print("PENDING", p)
        print(f"metric names: {used} used, {len(problems)} unknown, {len(pending)} pending", flush=True)

        check_alertmanager(am)
        hook.shutdown()
        finished = True
    finally:
        obs.stop_all()
        if failures or not finished:
            print(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"query_dashboards_test: {len(failures)} failures ({time.monotonic() - started:.1f}s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
