#!/usr/bin/env python3
"""Detection through the usual alternative, measured beside linkwatch in one run.

    blackbox side:  TCP endpoints (one per "member") <-- prometheus-blackbox-exporter tcp probe
                    <-- Prometheus (scrape 15 s, rule probe_success == 0, evaluation 15 s)
                    --> Alertmanager (group_wait 0) --> webhook
    linkwatch side: linkwatch simulate --FIX--> linkwatch run --push--> the same Alertmanager
                    --> the same webhook

The blackbox figure is the time from closing an endpoint's listening socket (the probe's
connect() is refused from then on) to the firing alert for it at the webhook. The linkwatch
figure is the time from `fault MEMBER reset` on the simulator's control port to the firing
LinkDown for that member at the webhook. Each endpoint is killed once, its kills spread over
one scrape interval, so that the samples cover every phase of the scrape and evaluation
cycles. Each member is reset once, the resets (1,000 by default) spread evenly over
--reset-span seconds: an Alertmanager group that has flushed holds a new alert for its
group_interval, and outlives its member's recovery, so a second reset of a member would
measure Alertmanager rather than the detector (five resets of 200 members, 5 s apart: p50
205 ms against 2.3 ms for the first round). More than a QuickFIX process's select()
can hold, the sessions are spread over ports of 250 sessions and `linkwatch run` starts its
worker processes for them (FixWorkers=0: as many as its descriptor budget needs).

Usage: blackbox_compare.py --linkwatch BINARY [--endpoints N] [--members N] [--reset-span S]
                           [--json FILE] [--quick]
--quick writes {"skipped": ...} and exits 0 (each blackbox sample takes up to ~30 s).
Exit 0 with figures, 1 on failure, 77 when a tool is missing (scripts/setup installs them).
Everything binds 127.0.0.1; every process started here is stopped on exit.
"""

import argparse
import json
import math
import os
import random
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "alerting"))
# The webhook receiver, process handling and control-port client of the alert push e2e test.
from alert_push_e2e import (Failure, Processes, Webhook, control, free_port,  # noqa: E402
                            http_get, wait_until)

SKIP = 77
SCRAPE_S = 15
EVAL_S = 15


def log(message):
    print(f"[blackbox-compare {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Endpoint:
    """A member's TCP endpoint: accepts and closes connections until killed."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.killed_at = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.close()

    def kill(self):
        self.killed_at = time.monotonic()
        # shutdown() wakes the accept() above; close() frees the port: connects are refused.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def summary(values_ms):
    if not values_ms:
        return {"n": 0}
    v = sorted(values_ms)

    def rank(q):
        return v[max(1, math.ceil(q * len(v))) - 1]

    return {"n": len(v), "p50": rank(0.5), "p99": rank(0.99), "max": v[-1], "min": v[0],
            "mean": sum(v) / len(v), "samples": [round(x, 3) for x in values_ms]}


def distinct_free_ports(n):
    """n ports free on 127.0.0.1 now, no two the same."""
    ports = []
    while len(ports) < n:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def write_configs(tmp, ports, fix_ports, webhook_port, endpoints, members):
    paths = {k: os.path.join(tmp, k) for k in
             ("alertmanager.yml", "blackbox.yml", "prometheus.yml", "rules.yml", "linkwatch.cfg")}
    with open(paths["alertmanager.yml"], "w") as f:
        f.write(f"""route:
  receiver: webhook
  group_by: [alertname, member, instance]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: webhook
    webhook_configs:
      - url: http://127.0.0.1:{webhook_port}/
        send_resolved: false
""")
    with open(paths["blackbox.yml"], "w") as f:
        f.write("""modules:
  tcp_connect:
    prober: tcp
    timeout: 5s
""")
    with open(paths["rules.yml"], "w") as f:
        f.write("""groups:
  - name: blackbox
    rules:
      - alert: BlackboxLinkDown
        expr: probe_success == 0
        labels:
          severity: page
""")
    targets = ", ".join(f"'127.0.0.1:{e.port}'" for e in endpoints)
    with open(paths["prometheus.yml"], "w") as f:
        f.write(f"""global:
  scrape_interval: {SCRAPE_S}s
  evaluation_interval: {EVAL_S}s
rule_files: ['{paths["rules.yml"]}']
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:{ports["alertmanager"]}']
scrape_configs:
  - job_name: blackbox_tcp
    metrics_path: /probe
    params:
      module: [tcp_connect]
    static_configs:
      - targets: [{targets}]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:{ports["blackbox"]}
""")
    sessions = "".join(f"\n[SESSION]\nMemberId={m}\nTargetCompID={m}\n"
                       f"SocketAcceptPort={fix_ports[i // 250]}\n"
                       for i, m in enumerate(members))
    with open(paths["linkwatch.cfg"], "w") as f:
        f.write(f"""[LINKWATCH]
HttpListen=127.0.0.1:{ports['http']}
AlertmanagerUrl=http://127.0.0.1:{ports['alertmanager']}
AlertResendInterval=60s

[DEFAULT]
BeginString=FIX.4.4
SenderCompID=LINKWATCH
ConnectionType=acceptor
SocketAcceptHost=127.0.0.1
StartTime=00:00:00
EndTime=00:00:00
NonStopSession=Y
UseDataDictionary=N
ResetOnLogon=Y
ResetOnLogout=Y
ResetOnDisconnect=Y
HeartBtInt=1
{sessions}""")
    return paths


def probe_success(prom_port):
    """{instance: value} of probe_success as Prometheus has it now."""
    query = urllib.parse.urlencode({"query": "probe_success"})
    status, body = http_get(f"http://127.0.0.1:{prom_port}/api/v1/query?{query}")
    if status != 200:
        return {}
    result = json.loads(body).get("data", {}).get("result", [])
    return {r["metric"].get("instance"): float(r["value"][1]) for r in result}


def linkwatch_links(http_port):
    status, body = http_get(f"http://127.0.0.1:{http_port}/api/v1/links")
    if status != 200:
        return {}
    return {link["member"]: link for link in json.loads(body)}


def run(args, tmp, procs, webhook):
    endpoints = [Endpoint() for _ in range(args.endpoints)]
    members = [f"M{i + 1:04d}" for i in range(args.members)]
    names = ("alertmanager", "blackbox", "prometheus", "http", "control")
    # 250 sessions a port, as scale_bench has them: a worker process takes whole ports.
    all_ports = distinct_free_ports(len(names) + (len(members) + 249) // 250)
    ports = dict(zip(names, all_ports))
    paths = write_configs(tmp, ports, all_ports[len(names):], webhook.port, endpoints, members)

    procs.start("alertmanager", [
        args.alertmanager, f"--config.file={paths['alertmanager.yml']}",
        f"--storage.path={os.path.join(tmp, 'am-data')}",
        f"--web.listen-address=127.0.0.1:{ports['alertmanager']}", "--cluster.listen-address="])
    procs.start("blackbox", [
        args.blackbox, f"--config.file={paths['blackbox.yml']}",
        f"--web.listen-address=127.0.0.1:{ports['blackbox']}"])
    procs.start("linkwatch", [args.linkwatch, "run", "--config", paths["linkwatch.cfg"]])
    wait_until("Alertmanager ready", lambda: (procs.check_alive(), http_get(
        f"http://127.0.0.1:{ports['alertmanager']}/-/ready")[0] == 200)[1], 20)
    procs.start("prometheus", [
        args.prometheus, f"--config.file={paths['prometheus.yml']}",
        f"--storage.tsdb.path={os.path.join(tmp, 'prom-data')}",
        f"--web.listen-address=127.0.0.1:{ports['prometheus']}"])
    wait_until("linkwatch /healthz", lambda: (procs.check_alive(), http_get(
        f"http://127.0.0.1:{ports['http']}/healthz")[0] == 200)[1], 15)
    procs.start("simulate", [args.linkwatch, "simulate", "--config", paths["linkwatch.cfg"],
                             "--control", f"127.0.0.1:{ports['control']}",
                             "--status-interval", "0"])

    def all_up():
        procs.check_alive()
        state = linkwatch_links(ports["http"])
        return len(state) == len(members) and all(
            l["state"] == "up" for l in state.values())

    wait_until(f"all {len(members)} members up", all_up, 30)

    def control_ready():
        try:
            return "ok" in control(ports["control"], "status")
        except OSError:
            return False

    wait_until("the simulator's control port", control_ready, 5)
    instances = {f"127.0.0.1:{e.port}" for e in endpoints}

    def all_probed_up():
        procs.check_alive()
        seen = probe_success(ports["prometheus"])
        return instances <= set(seen) and all(seen[i] == 1 for i in instances)

    # Prometheus scrapes each target at its own offset within the interval: wait for every one.
    wait_until("a successful probe of every endpoint", all_probed_up, SCRAPE_S * 2 + 15, 0.5)
    log(f"{len(members)} members up, {len(endpoints)} endpoints probed up")

    # Faults: the endpoints' kills spread over one scrape interval (one slot each, a random
    # point in the slot); meanwhile the members' resets in a random order, evenly spread over
    # --reset-span seconds.
    rng = random.Random(args.seed)
    start = time.monotonic() + 0.5
    slot = SCRAPE_S / len(endpoints)
    schedule = [(start + i * slot + rng.uniform(0, slot), "kill", e)
                for i, e in enumerate(endpoints)]
    step = args.reset_span / len(members)
    order = members[:]
    rng.shuffle(order)
    schedule += [(start + j * step, "reset", m) for j, m in enumerate(order)]
    schedule.sort(key=lambda item: item[0])
    resets = []  # (member, when), in order
    for at, kind, what in schedule:
        delay = at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if kind == "kill":
            what.kill()
        else:
            resets.append((what, time.monotonic()))
            control(ports["control"], f"fault {what} reset")
    log(f"all faults injected ({len(resets)} resets); waiting for the alerts")

    def firing():
        """The first firing alert of each endpoint; every firing LinkDown's arrivals, by member."""
        bb, lw = {}, {}
        for arrival, alert in webhook.alerts_since(0):
            if alert.get("status") != "firing":
                continue
            labels = alert.get("labels", {})
            if labels.get("alertname") == "BlackboxLinkDown":
                bb.setdefault(labels.get("instance"), arrival)
            elif labels.get("alertname") == "LinkDown":
                lw.setdefault(labels.get("member"), []).append(arrival)
        return bb, lw

    def matched(lw):
        """Each reset's first LinkDown notification after it, or None."""
        out = []
        for member, when in resets:
            later = [a for a in lw.get(member, []) if a >= when]
            out.append(min(later) if later else None)
        return out

    def complete():
        procs.check_alive()
        bb, lw = firing()
        return len(bb.keys() & instances) == len(instances) and \
            all(a is not None for a in matched(lw))

    # Worst case for a blackbox sample: a scrape interval, an evaluation interval, a probe.
    try:
        wait_until("every firing alert", complete, SCRAPE_S + EVAL_S + 20, 0.2)
    except Failure as e:
        log(f"{e}; reporting what arrived")
    bb, lw = firing()
    blackbox_ms = [(bb[f"127.0.0.1:{e.port}"] - e.killed_at) * 1e3 for e in endpoints
                   if f"127.0.0.1:{e.port}" in bb]
    linkwatch_ms = [(a - when) * 1e3 for (_, when), a in zip(resets, matched(lw))
                    if a is not None]
    return {
        "blackbox_kill_to_webhook_ms": summary(blackbox_ms),
        "linkwatch_reset_to_webhook_ms": summary(linkwatch_ms),
        "missing": {"blackbox": len(endpoints) - len(blackbox_ms),
                    "linkwatch": len(resets) - len(linkwatch_ms)},
        "config": {"endpoints": len(endpoints), "members": len(members),
                   "reset_span_s": args.reset_span,
                   "scrape_interval_s": SCRAPE_S, "evaluation_interval_s": EVAL_S,
                   "rule": "probe_success == 0 (no for:)", "probe": "tcp_connect, timeout 5s",
                   "alertmanager_group_wait_s": 0, "seed": args.seed},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--linkwatch", required=True)
    parser.add_argument("--endpoints", type=int, default=8)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--reset-span", type=float, default=25.0,
                        help="seconds over which the members' resets are spread")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json")
    parser.add_argument("--quick", action="store_true", help="skip: write a 'skipped' JSON")
    parser.add_argument("--prometheus", default=shutil.which("prometheus"))
    parser.add_argument("--alertmanager", default=shutil.which("prometheus-alertmanager"))
    parser.add_argument("--blackbox", default=shutil.which("prometheus-blackbox-exporter"))
    args = parser.parse_args()
    if args.endpoints < 1 or args.members < 1:
        parser.error("--endpoints and --members must be at least 1")
    if args.reset_span <= 0:
        parser.error("--reset-span must be positive")

    def write(result):
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(result, f, indent=2)
            log(f"wrote {args.json}")

    if args.quick:
        write({"skipped": "--quick: each blackbox sample takes up to ~30 s"})
        return 0
    missing = [n for n, p in (("prometheus", args.prometheus),
                              ("prometheus-alertmanager", args.alertmanager),
                              ("prometheus-blackbox-exporter", args.blackbox)) if not p]
    if missing:
        print(f"not found (scripts/setup installs them): {', '.join(missing)}: skipped")
        write({"skipped": f"not installed: {', '.join(missing)}"})
        return SKIP

    began = time.monotonic()
    load_before = open("/proc/loadavg").read().split()[:3]
    tmp = tempfile.mkdtemp(prefix="linkwatch-blackbox-")
    procs = Processes(tmp)
    webhook = Webhook()

    def on_signal(signum, _frame):
        raise Failure(f"interrupted by signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    result = None
    try:
        result = run(args, tmp, procs, webhook)
    except Failure as e:
        print(f"FAIL: {e}", flush=True)
    finally:
        procs.stop_all()
        webhook.close()
        if result is None:
            procs.dump_logs()
        shutil.rmtree(tmp, ignore_errors=True)
    if result is None:
        return 1
    result["machine"] = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                         "seconds": round(time.monotonic() - began, 1),
                         "load_before": " ".join(load_before),
                         "load_after": " ".join(open("/proc/loadavg").read().split()[:3])}
    bb = result["blackbox_kill_to_webhook_ms"]
    lw = result["linkwatch_reset_to_webhook_ms"]
    for name, s in (("blackbox_exporter + Prometheus: kill -> webhook", bb),
                    ("linkwatch: reset -> webhook", lw)):
        if s["n"]:
            print(f"{name}: n {s['n']}, p50 {s['p50']:.1f} ms, p99 {s['p99']:.1f} ms, "
                  f"max {s['max']:.1f} ms", flush=True)
        else:
            print(f"{name}: no samples", flush=True)
    if bb["n"] and lw["n"]:
        print(f"ratio blackbox / linkwatch: p50 {bb['p50'] / lw['p50']:.0f}x, "
              f"p99 {bb['p99'] / lw['p99']:.0f}x", flush=True)
    write(result)
    return 0 if bb["n"] and lw["n"] else 1


if __name__ == "__main__":
    sys.exit(main())
