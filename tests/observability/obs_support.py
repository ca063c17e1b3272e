"""Helpers of the observability tests (Python 3 stdlib only): free ports, child processes that
are always cleaned up, waiting on conditions with a deadline, PromQL expressions of the
dashboards and rules, and the metric names they use."""
import atexit
import ctypes
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# Metrics another engineer is adding (AlertPusher). The dashboards already show them; until
# they appear in a scrape the metric check reports them as pending instead of failing.
# Remove a name from here once linkwatch exports it.
PENDING_METRICS = {
    "linkwatch_alert_pushes_total",
    "linkwatch_alert_push_duration_seconds_bucket",
    "linkwatch_alerts_active",
}
# Series Prometheus itself adds to every target.
PROMETHEUS_SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                        "scrape_samples_post_metric_relabeling", "scrape_series_added"}
PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
                   "group_left", "group_right", "inf", "nan", "atan2"}


# ---------------------------------------------------------------------------------------------
# Processes and waiting

_children = []


def _cleanup():
    for p in reversed(_children):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 5
    for p in reversed(_children):
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    _children.clear()


def _on_signal(signum, _frame):
    _cleanup()
    sys.exit(128 + signum)


atexit.register(_cleanup)
for _s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_s, _on_signal)


def _die_with_parent():
    # Linux: the child gets SIGTERM when the test is killed outright (CTest's timeout kills
    # with SIGKILL, which no handler of ours sees).
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def spawn(args, log_path, cwd=None):
    """Starts a child in its own process group, output to log_path; killed at exit."""
    log = open(log_path, "wb")
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         cwd=cwd, start_new_session=True, preexec_fn=_die_with_parent)
    log.close()
    _children.append(p)
    return p


def stop_all():
    _cleanup()


def free_port():
    """A TCP port free on 127.0.0.1 right now (the kernel's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, condition, timeout, processes=(), interval=0.2):
    """Polls condition() until it returns something truthy; fails after timeout seconds or as
    soon as one of processes has exited."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            result = condition()
            if result:
                return result
        except (OSError, urllib.error.URLError, ValueError, KeyError) as e:
            last_error = e
        for p in processes:
            if p.poll() is not None:
                raise SystemExit(f"FAIL: {' '.join(map(str, p.args[:2]))} exited with {p.returncode} "
                                 f"while waiting for {what}")
        if time.monotonic() >= deadline:
            raise SystemExit(f"FAIL: timed out after {timeout}s waiting for {what}"
                             + (f" (last error: {last_error})" if last_error else ""))
        time.sleep(interval)


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def http_json(url, data=None, timeout=10):
    body = None
    headers = {}
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read().decode() or "null")
    except urllib.error.HTTPError as e:
        # Prometheus answers 400/422 with a JSON error body: return it for the caller to report.
        text = e.read().decode()
        try:
            return json.loads(text)
        except ValueError:
            return {"status": "error", "error": f"HTTP {e.code}: {text}"}


# ---------------------------------------------------------------------------------------------
# linkwatch demo

def write_demo_config(src, dest, http_port, fix_port):
    """config/demo.cfg with its own HTTP and FIX acceptor ports."""
    text = (pathlib.Path(src) / "config/demo.cfg").read_text()
    text, n1 = re.subn(r"(?m)^HttpListen=.*$", f"HttpListen=127.0.0.1:{http_port}", text)
    text, n2 = re.subn(r"(?m)^SocketAcceptPort=.*$", f"SocketAcceptPort={fix_port}", text)
    if n1 != 1 or n2 < 1:
        raise SystemExit("FAIL: config/demo.cfg has no HttpListen or SocketAcceptPort line to replace")
    pathlib.Path(dest).write_text(text)


def start_demo(linkwatch, src, workdir, duration=300):
    """Runs `linkwatch demo` on free ports; returns (process, metrics base URL)."""
    http_port, fix_port = free_port(), free_port()
    cfg = pathlib.Path(workdir) / "demo.cfg"
    write_demo_config(src, cfg, http_port, fix_port)
    p = spawn([str(pathlib.Path(linkwatch).resolve()), "demo", "--config", str(cfg), "--duration", str(duration),
               "--fault-interval-ms", "500"], pathlib.Path(workdir) / "linkwatch.log", cwd=src)
    base = f"http://127.0.0.1:{http_port}"
    wait_for("linkwatch /metrics", lambda: "linkwatch_link_state" in http_get(base + "/metrics"), 20, [p])
    return p, base


def scraped_names(metrics_text):
    """Sample names of a text-format scrape (histograms give _bucket, _sum, _count)."""
    names = set()
    for line in metrics_text.splitlines():
        if line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    return names



def certification_scrape(linkwatch, workdir):
    """/metrics of a short `linkwatch certify --http` run, for the certification series (they
    exist only while a certification runs, never in the demo). No member connects: the first
    case fails at once, the second waits for a logon while we scrape."""
    http_port, fix_port = free_port(), free_port()
    cfg = pathlib.Path(workdir) / "certify.cfg"
    cfg.write_text("[DEFAULT]\nBeginString=FIX.4.4\nSenderCompID=EXCH\nUseDataDictionary=N\n"
                   "StartTime=00:00:00\nEndTime=00:00:00\n"
                   "[SESSION]\nMemberId=NEWBANK\nTargetCompID=NEWBANK\nConnectionType=acceptor\n"
                   f"SocketAcceptHost=127.0.0.1\nSocketAcceptPort={fix_port}\nHeartBtInt=1\n"
                   "[CERTIFICATION]\nLogonTimeout=20s\nCase.1a-valid-logon.Deadline=200ms\n")
    p = spawn([str(pathlib.Path(linkwatch).resolve()), "certify", "--config", str(cfg), "--member",
               "NEWBANK", "--cases", "1a-valid-logon,13b-logout", "--http", f"127.0.0.1:{http_port}"],
              pathlib.Path(workdir) / "certify.log")
    base = f"http://127.0.0.1:{http_port}"
    text = wait_for("linkwatch certify's case result on /metrics",
                    lambda: (lambda t: t if "linkwatch_certification_case_result{" in t else None)(
                        http_get(base + "/metrics")), 20, [p])
    p.kill()
    p.wait()
    return text

def fix_worker_scrape(linkwatch, workdir):
    """/metrics of a short `linkwatch run` with its QuickFIX session in a worker process, for the
    worker series (linkwatch_fix_worker_*: they exist only in worker mode, never in the demo)."""
    http_port, fix_port = free_port(), free_port()
    cfg = pathlib.Path(workdir) / "workers.cfg"
    cfg.write_text("[DEFAULT]\nBeginString=FIX.4.4\nSenderCompID=EXCH\nUseDataDictionary=N\n"
                   "NonStopSession=Y\nHeartBtInt=1\n"
                   f"[LINKWATCH]\nHttpListen=127.0.0.1:{http_port}\nFixWorkerMode=processes\n"
                   "[SESSION]\nMemberId=NEWBANK\nTargetCompID=NEWBANK\nConnectionType=acceptor\n"
                   f"SocketAcceptHost=127.0.0.1\nSocketAcceptPort={fix_port}\n")
    p = spawn([str(pathlib.Path(linkwatch).resolve()), "run", "--config", str(cfg)],
              pathlib.Path(workdir) / "workers.log")
    base = f"http://127.0.0.1:{http_port}"
    text = wait_for("linkwatch run's worker up on /metrics",
                    lambda: (lambda t: t if 'linkwatch_fix_worker_up{worker="0"} 1' in t else None)(
                        http_get(base + "/metrics")), 20, [p])
    p.kill()
    p.wait()
    return text


# ---------------------------------------------------------------------------------------------
# Expressions of the dashboards and the rules

def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def dashboard_targets(src):
    """(dashboard file, panel, target) for every PromQL target of every dashboard."""
    for f in sorted((pathlib.Path(src) / "grafana/dashboards").glob("*.json")):
        dash = json.loads(f.read_text())
        for p in walk_panels(dash.get("panels", [])):
            for t in p.get("targets", []):
                if t.get("expr"):
                    yield f.name, p, t
        for v in dash.get("templating", {}).get("list", []):
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            if v.get("type") == "query" and q:
                # label_values(METRIC, LABEL) is Grafana's, not PromQL: METRIC is the query.
                m = re.fullmatch(r"\s*label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*", q)
                q = m.group(1) if m else q
                yield f.name, {"id": None, "title": f"variable ${v['name']}"}, {"expr": q, "variable": True}


def rule_exprs(src):
    """(file, name, expr) of every rule in config/prometheus/rules, read without a YAML library:
    `expr:` is either on one line or a `|` block indented below it."""
    out = []
    for f in sorted((pathlib.Path(src) / "config/prometheus/rules").glob("*.yml")):
        lines = f.read_text().splitlines()
        name = None
        i = 0
        while i < len(lines):
            line = lines[i]
            m = re.match(r"\s*- (alert|record):\s*(\S+)", line)
            if m:
                name = m.group(2)
            m = re.match(r"(\s*)expr:\s*(.*)$", line)
            if m:
                indent, rest = len(m.group(1)), m.group(2).strip()
                if rest in ("|", ">", "|-", ">-"):
                    block = []
                    i += 1
                    while i < len(lines) and (not lines[i].strip() or
                                              len(lines[i]) - len(lines[i].lstrip()) > indent):
                        block.append(lines[i])
                        i += 1
                    out.append((f.name, name, "\n".join(block).strip()))
                    continue
                out.append((f.name, name, rest.strip("'\"")))
            i += 1
    return out


def metric_names(expr):
    """Metric names (and recording rule names) an expression reads. Not a parser: strings, label
    matchers, ranges and grouping clauses are removed, then every identifier that is not a
    function call or a keyword is a metric name."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"'(?:[^'\\]|\\.)*'", "''", e)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\b\d+(\.\d+)?([eE][+-]?\d+|[smhdwy]+)?\b", " ", e)
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        tok = m.group(0)
        if tok.lower() in PROMQL_KEYWORDS or e[m.end():].lstrip().startswith("("):
            continue
        names.add(tok)
    return names


def check_metric_names(src, scrape_text):
    """Problems (list of strings) and pending notices: every metric named in grafana/ and in the
    rules must be in the scrape, be a recording rule defined in the rules, or come from
    Prometheus itself."""
    scraped = scraped_names(scrape_text)
    recorded = {name for f, name, _ in rule_exprs(src)
                if f.endswith(".yml") and name and ":" in name}
    used = {}
    for fname, panel, t in dashboard_targets(src):
        for n in metric_names(t["expr"]):
            used.setdefault(n, set()).add(f"grafana/dashboards/{fname}")
    for fname, rule, expr in rule_exprs(src):
        for n in metric_names(expr):
            used.setdefault(n, set()).add(f"config/prometheus/rules/{fname} ({rule})")
    problems, pending = [], []
    for n in sorted(used):
        where = ", ".join(sorted(used[n])[:3])
        if ":" in n:
            if n not in recorded:
                problems.append(f"{n} (used in {where}) is not a recording rule of config/prometheus/rules")
        elif n in PROMETHEUS_SYNTHETIC:
            continue
        elif n not in scraped:
            if n in PENDING_METRICS:
                pending.append(n)
            else:
                problems.append(f"{n} (used in {where}) is not in a scrape of linkwatch")
    for n in sorted(PENDING_METRICS & scraped):
        pending.append(f"{n} is now exported: remove it from PENDING_METRICS")
    return problems, pending, len(used)
