#!/usr/bin/env python3
"""End to end: a member's link dies, and a real Alertmanager's webhook fires within 2 s.

    linkwatch simulate ──FIX──► linkwatch run ──POST /api/v2/alerts──► prometheus-alertmanager
          ▲ control port                                          (group_wait 0s) │
          └── "fault BANK01 reset" ── this script ◄── webhook (http.server) ◄─────┘

Checks, in order:
  1. all three members log on;
  2. `fault BANK01 reset` -> a firing LinkDown for BANK01 with severity page reaches the webhook
     within 2 s of the injection (printed as alert_latency_ms=N);
  3. the member reconnects -> the resolution reaches the webhook;
  4. BANK02 in maintenance, then reset -> nothing fires for BANK02 (BANK03 reset afterwards is
     the marker that the path is live and that BANK02's turn is over).

Usage: alert_push_e2e.py LINKWATCH_BINARY SOURCE_DIR [--alertmanager PATH]
Exit 0 pass, 1 fail, 77 skip (no Alertmanager on this machine). Everything binds 127.0.0.1;
every process started here is killed on exit, whatever the exit path.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SKIP = 77
FIRE_WITHIN_S = 2.0


class Failure(Exception):
    pass


def log(message):
    print(f"[alert-e2e {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, predicate, timeout_s, interval_s=0.02):
    """Polls predicate() until it returns something truthy; raises Failure at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout_s:.1f} s waiting for {what}")
        time.sleep(interval_s)


def http_get(url, timeout_s=1.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None, ""


def http_post_json(url, payload, timeout_s=2.0):
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return response.status, response.read().decode()


# ---- The webhook receiver ------------------------------------------------------------------

class Webhook:
    """Records every Alertmanager notification with its arrival time (time.monotonic())."""

    def __init__(self):
        self.lock = threading.Lock()
        self.notifications = []  # (arrival, payload)
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                arrival = time.monotonic()
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {"unparsable": body.decode("utf-8", "replace")}
                with webhook.lock:
                    webhook.notifications.append((arrival, payload))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def alerts_since(self, index=0):
        """(arrival, alert) for every alert in every notification from `index` on."""
        with self.lock:
            notes = list(self.notifications[index:])
        return [(arrival, alert) for arrival, payload in notes for alert in payload.get("alerts", [])]

    def count(self):
        with self.lock:
            return len(self.notifications)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---- Processes -----------------------------------------------------------------------------

class Processes:
    """Each child in its own process group, so that its own children go with it."""

    def __init__(self, logdir):
        self.logdir = logdir
        self.children = []  # (name, Popen, logfile)

    def start(self, name, argv):
        logfile = open(os.path.join(self.logdir, f"{name}.log"), "wb")
        process = subprocess.Popen(argv, stdout=logfile, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        self.children.append((name, process, logfile))
        log(f"started {name} (pid {process.pid})")
        return process

    def check_alive(self):
        for name, process, _ in self.children:
            if process.poll() is not None:
                raise Failure(f"{name} exited early with status {process.returncode}")

    def stop_all(self):
        for _, process, _ in reversed(self.children):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        for _, process, logfile in reversed(self.children):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
            logfile.close()
        self.children.clear()

    def dump_logs(self):
        for name in sorted(os.listdir(self.logdir)):
            if not name.endswith(".log"):
                continue
            with open(os.path.join(self.logdir, name), "rb") as f:
                tail = f.read()[-3000:].decode("utf-8", "replace")
            print(f"----- {name} (tail) -----\n{tail}", flush=True)


def write_configs(tmp, ports, webhook_port):
    am_config = os.path.join(tmp, "alertmanager.yml")
    with open(am_config, "w") as f:
        f.write(f"""route:
  receiver: webhook
  group_by: [alertname, member]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: webhook
    webhook_configs:
      - url: http://127.0.0.1:{webhook_port}/
        send_resolved: true
""")
    lw_config = os.path.join(tmp, "linkwatch.cfg")
    with open(lw_config, "w") as f:
        f.write(f"""[LINKWATCH]
HttpListen=127.0.0.1:{ports['http']}
AlertmanagerUrl=http://127.0.0.1:{ports['alertmanager']}
AlertResendInterval=10s

[DEFAULT]
BeginString=FIX.4.4
SenderCompID=LINKWATCH
ConnectionType=acceptor
SocketAcceptHost=127.0.0.1
SocketAcceptPort={ports['fix']}
StartTime=00:00:00
EndTime=00:00:00
NonStopSession=Y
UseDataDictionary=N
ResetOnLogon=Y
ResetOnLogout=Y
ResetOnDisconnect=Y
HeartBtInt=1

[SESSION]
MemberId=BANK01
MemberName=Northbridge Capital
TargetCompID=BANK01
Criticality=critical

[SESSION]
MemberId=BANK02
MemberName=Aldgate Securities
TargetCompID=BANK02
Criticality=standard

[SESSION]
MemberId=BANK03
MemberName=Harbour Test Member
TargetCompID=BANK03
Criticality=standard
""")
    return am_config, lw_config


def control(port, line):
    """One line to the simulator's control port; returns its answer (ends with ok/error)."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall((line + "\n").encode())
        answer = b""
        while not any(l.startswith((b"ok", b"error")) for l in answer.split(b"\n")):
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    text = answer.decode("utf-8", "replace")
    if "\nerror" in "\n" + text:
        raise Failure(f"simulator refused {line!r}: {text.strip()}")
    return text


def links(http_port):
    status, body = http_get(f"http://127.0.0.1:{http_port}/api/v1/links")
    if status != 200:
        return {}
    return {link["member"]: link for link in json.loads(body)}


def logons(http_port, member):
    status, body = http_get(f"http://127.0.0.1:{http_port}/metrics")
    if status != 200:
        return None
    total = 0.0
    for line in body.splitlines():
        if line.startswith("linkwatch_logons_total{") and f'member="{member}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def is_link_down_for(alert, member, status):
    labels = alert.get("labels", {})
    return (labels.get("alertname") == "LinkDown" and labels.get("member") == member
            and alert.get("status") == status)


def run(args, tmp, procs, webhook):
    ports = {"alertmanager": free_port(), "http": free_port(), "fix": free_port(),
             "control": free_port()}
    am_config, lw_config = write_configs(tmp, ports, webhook.port)

    procs.start("alertmanager", [
        args.alertmanager, f"--config.file={am_config}",
        f"--storage.path={os.path.join(tmp, 'am-data')}",
        f"--web.listen-address=127.0.0.1:{ports['alertmanager']}",
        "--cluster.listen-address="])
    procs.start("linkwatch", [args.linkwatch, "run", "--config", lw_config])
    wait_until("Alertmanager /-/ready", lambda: (procs.check_alive(), http_get(
        f"http://127.0.0.1:{ports['alertmanager']}/-/ready")[0] == 200)[1], 20)
    wait_until("linkwatch /healthz", lambda: (procs.check_alive(), http_get(
        f"http://127.0.0.1:{ports['http']}/healthz")[0] == 200)[1], 10)

    procs.start("simulate", [args.linkwatch, "simulate", "--config", lw_config,
                             "--control", f"127.0.0.1:{ports['control']}",
                             "--status-interval", "0"])

    def all_up():
        procs.check_alive()
        state = links(ports["http"])
        return len(state) == 3 and all(l["state"] == "up" for l in state.values())

    wait_until("all three members up", all_up, 10)

    def control_ready():
        try:
            return "ok" in control(ports["control"], "status")
        except OSError:
            return False

    wait_until("the simulator's control port", control_ready, 5)
    log("all members up")

    # --- BANK01: kill the connection, expect the page within 2 s. ---
    start = webhook.count()
    injected = time.monotonic()
    control(ports["control"], "fault BANK01 reset")

    def bank01_firing():
        return next(((arrival, alert) for arrival, alert in webhook.alerts_since(start)
                     if is_link_down_for(alert, "BANK01", "firing")), None)

    arrival, alert = wait_until("a firing LinkDown for BANK01 at the webhook", bank01_firing,
                                FIRE_WITHIN_S + 3)
    latency_ms = (arrival - injected) * 1000.0
    print(f"alert_latency_ms={latency_ms:.0f}", flush=True)
    labels = alert["labels"]
    log(f"BANK01 fired after {latency_ms:.1f} ms: {json.dumps(labels, sort_keys=True)}")
    if latency_ms > FIRE_WITHIN_S * 1000:
        raise Failure(f"LinkDown for BANK01 took {latency_ms:.0f} ms; expected < 2000 ms")
    if labels.get("severity") != "page":
        raise Failure(f"BANK01 is critical: expected severity page, got {labels}")
    expected_keys = {"alertname", "member", "session", "severity", "reason"}
    if set(labels) != expected_keys:
        raise Failure(f"labels {sorted(labels)}; expected exactly {sorted(expected_keys)}")
    if labels.get("session") != "FIX.4.4:LINKWATCH->BANK01":
        raise Failure(f"unexpected session label {labels.get('session')!r}")
    for key in ("summary", "description", "runbook_url"):
        if not alert.get("annotations", {}).get(key):
            raise Failure(f"annotation {key} missing: {alert.get('annotations')}")

    # --- The member reconnects (1 s later): the resolution follows. ---
    def bank01_resolved():
        return any(is_link_down_for(a, "BANK01", "resolved") for _, a in
                   webhook.alerts_since(start))

    wait_until("the resolution of BANK01's LinkDown", bank01_resolved, 10)
    log(f"BANK01 resolved {time.monotonic() - injected:.1f} s after the reset")

    # --- BANK02 in maintenance: its reset raises nothing. ---
    status, body = http_post_json(
        f"http://127.0.0.1:{ports['http']}/api/v1/links/BANK02/maintenance",
        {"duration_seconds": 60})
    if status != 200:
        raise Failure(f"maintenance POST answered {status}: {body}")
    wait_until("BANK02 in maintenance",
               lambda: links(ports["http"]).get("BANK02", {}).get("state") == "maintenance", 5)
    logons_before = logons(ports["http"], "BANK02")
    quiet_from = webhook.count()
    reset_at = time.monotonic()
    control(ports["control"], "fault BANK02 reset")
    # The reset took effect once BANK02 logged on again; then give Alertmanager a group
    # interval and more to deliver anything linkwatch might have pushed.
    wait_until("BANK02 to log on again after its reset",
               lambda: (logons(ports["http"], "BANK02") or 0) > (logons_before or 0), 10)
    wait_until("a quiet period after BANK02's reset",
               lambda: time.monotonic() - reset_at > 3.0, 5, interval_s=0.1)
    # Marker: the alert path is still live, and anything for BANK02 would have come first.
    control(ports["control"], "fault BANK03 reset")
    wait_until("a firing LinkDown for BANK03 (the marker)",
               lambda: any(is_link_down_for(a, "BANK03", "firing")
                           for _, a in webhook.alerts_since(quiet_from)), 5)
    bank02 = [a for _, a in webhook.alerts_since(quiet_from)
              if a.get("labels", {}).get("member") == "BANK02"]
    if bank02:
        raise Failure(f"BANK02 is in maintenance but the webhook got: {bank02}")
    log("BANK02 in maintenance: nothing fired")
    state = links(ports["http"]).get("BANK02", {})
    if state.get("state") != "maintenance":
        raise Failure(f"BANK02 left maintenance: {state}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("linkwatch")
    parser.add_argument("source_dir")
    parser.add_argument("--alertmanager", default=shutil.which("prometheus-alertmanager"))
    args = parser.parse_args()
    if not args.alertmanager:
        print("prometheus-alertmanager not found (scripts/setup installs it): skipped")
        return SKIP

    began = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="linkwatch-alert-e2e-")
    procs = Processes(tmp)
    webhook = Webhook()

    # The trap: SIGTERM/SIGINT (ctest's timeout, Ctrl-C) unwind through `finally`.
    def on_signal(signum, _frame):
        raise Failure(f"interrupted by signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    ok = False
    try:
        run(args, tmp, procs, webhook)
        ok = True
    except Failure as e:
        print(f"FAIL: {e}", flush=True)
    finally:
        procs.stop_all()
        webhook.close()
        if not ok:
            procs.dump_logs()
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"{'PASS' if ok else 'FAIL'} in {time.monotonic() - began:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
