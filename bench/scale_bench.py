#!/usr/bin/env python3
"""Scale: `linkwatch run` with 100, 1,000 and 5,000 member sessions played by `linkwatch
simulate` in a second process (HeartBtInt 1 s), QuickFIX worker processes past one process's
descriptor budget.

For each load it waits until every link is `up`, then measures over a window:
  - CPU share of the monitor process and of each QuickFIX worker (/proc/PID/stat utime+stime),
    and of the simulator (reported, not counted);
  - memory: PSS and RSS (/proc/PID/smaps_rollup) of the monitor and its workers;
  - /metrics response time (median of 5 GETs) and size;
  - detection at that load: 1,000 resets (one a member, so as many as there are members
    below 1,000), `fault MEMBER reset` over the simulator's control channel, then the
    link's transition to `down` in /api/v1/events, timed from the reset itself (the
    simulator's `faults` command gives the time its loop reset the socket) and, beside it,
    from just before the command was sent. The event's `detection_ms` splits the former: until
    the FIX thread stamped the disconnect (QuickFIX noticing the reset), then linkwatch's own
    part (forwarding and the core).
Memory per link is the slope between two loads (see --help and bench/RESULTS.md), and the
single-threaded acceptor (`run --single-threaded`) is measured beside the threaded one
(`run --threaded`) at 1,000 and 5,000 (`--threaded-at`); other rows run `run`'s default
(threaded in worker processes, single-threaded in one process).

  bench/scale_bench.py --binary build/h-scale-rel/linkwatch          # full (~9 minutes)
  bench/scale_bench.py --binary build/linkwatch --quick               # 100 sessions, < 60 s
  ... --markdown FILE    writes the "Scale" section as Markdown
  ... --json FILE        every figure as JSON
Exit status: 0 when every run completed and every reset the simulator applied showed as `down`
(targets are reported, not asserted), 1 otherwise.
"""

import argparse
import json
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SESSIONS_PER_PORT = 250
# Our fixed memory in each worker (src/app/fix_worker.cpp, include/linkwatch/shm_event_channel.hpp).
WORKER_LANE_BYTES = 16384 * 56
# The event lane, the command lane, link table and status, and 1,024 tally slots.
SHARD_BYTES = 16384 * 56 + 1024 * 16 + 1024 * 5 + 1024 + 1024 * 64


def free_port():
    # Below the kernel's ephemeral range (32768+): 5,000 member connections use that range,
    # and a listening port picked from it can be taken by an outgoing connection meanwhile.
    while True:
        port = random.randrange(20000, 32000)
        if port in _used_ports:
            continue
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            s.close()
        _used_ports.add(port)
        return port


_used_ports = set()


def write_config(path, sessions, http_port, heartbeat=1, extra=""):
    ports = [free_port() for _ in range((sessions + SESSIONS_PER_PORT - 1) // SESSIONS_PER_PORT)]
    lines = [
        "[DEFAULT]", "ConnectionType=acceptor", "BeginString=FIX.4.4", "SenderCompID=LINKWATCH",
        "NonStopSession=Y", "UseDataDictionary=N", f"HeartBtInt={heartbeat}", "ResetOnLogon=Y",
        "[LINKWATCH]", f"HttpListen=127.0.0.1:{http_port}", "EventHistorySize=100000",
    ]
    if extra:
        lines.append(extra)
    for i in range(sessions):
        member = f"M{i:05d}"
        lines += ["[SESSION]", f"TargetCompID={member}", f"MemberId={member}",
                  f"SocketAcceptPort={ports[i // SESSIONS_PER_PORT]}"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def http_get(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def links(base):
    try:
        return json.loads(http_get(base + "/api/v1/links"))
    except Exception:
        return None


def children(pid):
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def memory(pid):
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if parts[0] in ("Rss:", "Pss:"):
                out[parts[0][:-1].lower()] = int(parts[1]) * 1024
    return out


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


class Control:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""

    def read_line(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("control channel closed")
            self.buffer += chunk
        reply, self.buffer = self.buffer.split(b"\n", 1)
        return reply.decode()

    def command(self, line):
        sent = time.time()
        self.sock.sendall(line.encode() + b"\n")
        return sent, self.read_line()

    def lines(self, line):
        """A command whose answer is lines up to a final `ok ...` or `error ...` line."""
        self.sock.sendall(line.encode() + b"\n")
        out = []
        while True:
            text = self.read_line()
            if text.startswith("ok") or text.startswith("error"):
                return out, text
            out.append(text)


class MonitorAndMembers:
    """`linkwatch run --config cfg` and, once it serves HTTP at `base`, `linkwatch simulate`
    playing the file's members (control channel on `control_port`); their output goes to
    run.log and sim.log in `tmp`. stop() ends both."""

    def __init__(self, binary, cfg, base, control_port, tmp, run_flags=()):
        self.base = base
        self.sim = None
        self.monitor = subprocess.Popen([binary, "run", "--config", cfg] + list(run_flags),
                                        stdout=open(os.path.join(tmp, "run.log"), "w"),
                                        stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 60
            while links(base) is None:
                if self.monitor.poll() is not None or time.time() > deadline:
                    raise RuntimeError("monitor did not serve HTTP: " +
                                       open(os.path.join(tmp, "run.log")).read()[-2000:])
                time.sleep(0.2)
            self.sim = subprocess.Popen(
                [binary, "simulate", "--config", cfg, "--control", f"127.0.0.1:{control_port}",
                 "--status-interval", "0"],
                stdout=open(os.path.join(tmp, "sim.log"), "w"), stderr=subprocess.STDOUT)
        except BaseException:
            self.stop()
            raise

    def wait_all_up(self, sessions, timeout):
        """Seconds until all `sessions` links were `up`; RuntimeError after `timeout`."""
        started = time.time()
        while True:
            ls = links(self.base)
            up = sum(1 for l in ls if l["state"] == "up") if ls else 0
            if up == sessions:
                return time.time() - started
            if (time.time() > started + timeout or self.sim.poll() is not None
                    or self.monitor.poll() is not None):
                raise RuntimeError(f"only {up} of {sessions} links up after "
                                   f"{time.time() - started:.0f} s")
            time.sleep(0.5)

    def stop(self):
        for p in (self.sim, self.monitor):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * (len(values) - 1)))))
    return values[k]


def events_since(base, since):
    """Every transition recorded since `since` (Unix seconds). The limit is the history's
    size (the monitor caps it there); with a journal the answer comes in pages."""
    out, before = [], None
    while True:
        url = f"{base}/api/v1/events?limit=100000&since={since:.6f}"
        if before is not None:
            url += f"&before={before}"
        page = json.loads(http_get(url))
        out += page["events"]
        before = page.get("next_before")
        if before is None or not page["events"]:
            return out


def match_downs(base, control, injected, faults):
    """Each reset member's first `down` after its reset, timed from the reset itself, as
    (ms after the reset, the monitor's own part `detection_ms`, ms after the fault command).
    The reset's own time comes from the simulator's loop, which took it when it reset the
    socket: the fault command only queues the fault there."""
    reset_at = {}
    lines, _ = control.lines(f"faults {max(faults, 1)}")
    for line in lines:
        at, member, spec = line.split(" ", 2)
        if spec == "reset" and member in injected:
            reset_at[member] = float(at)
    first = {}
    if not reset_at:
        return reset_at, first
    for e in events_since(base, min(injected.values()) - 1.0):
        m = e["member"]
        if m in reset_at and e["to"] == "down" and e["time_unix"] >= reset_at[m] - 0.001:
            d = (e["time_unix"] - reset_at[m]) * 1000.0
            if m not in first or d < first[m][0]:
                first[m] = (d, e.get("detection_ms"), (e["time_unix"] - injected[m]) * 1000.0)
    return reset_at, first


def run_load(binary, sessions, args, threaded=None, log=print, heartbeat=None, faults=None):
    tmp = tempfile.mkdtemp(prefix="linkwatch-scale-")
    cfg = os.path.join(tmp, "scale.cfg")
    http_port = free_port()
    control_port = free_port()
    heartbeat = heartbeat or args.heartbeat
    write_config(cfg, sessions, http_port, heartbeat, args.extra)
    base = f"http://127.0.0.1:{http_port}"
    # threaded: None for run's default acceptor, else True/False for --threaded/--single-threaded.
    result = {"sessions": sessions, "threaded": threaded, "heartbeat_s": heartbeat}
    flag = {None: [], True: ["--threaded"], False: ["--single-threaded"]}[threaded]
    running = MonitorAndMembers(binary, cfg, base, control_port, tmp, flag)
    monitor, sim = running.monitor, running.sim
    try:
        result["all_up_after_s"] = round(running.wait_all_up(sessions, args.up_timeout), 1)
        log(f"  {sessions} sessions{' ' + flag[0] if flag else ''}: all up after "
            f"{result['all_up_after_s']} s")
        time.sleep(args.settle)

        workers = children(monitor.pid)
        result["workers"] = len(workers)
        if threaded is None:  # run's default: threaded in worker processes
            result["threaded"] = len(workers) > 0
        procs = {"monitor": [monitor.pid], "workers": workers, "simulator": [sim.pid]}
        before = {pid: cpu_ticks(pid) for group in procs.values() for pid in group}
        t0 = time.time()
        time.sleep(args.window)
        elapsed = time.time() - t0
        after = {pid: cpu_ticks(pid) for group in procs.values() for pid in group}
        share = {pid: 100.0 * (after[pid] - before[pid]) / CLK_TCK / elapsed for pid in before}
        result["cpu_percent"] = {
            "monitor": round(share[monitor.pid], 2),
            "workers": round(sum(share[p] for p in workers), 2),
            "workers_max": round(max((share[p] for p in workers), default=0.0), 2),
            "simulator": round(share[sim.pid], 2),
        }
        result["cpu_percent"]["monitor_and_workers"] = round(
            result["cpu_percent"]["monitor"] + result["cpu_percent"]["workers"], 2)
        result["window_s"] = round(elapsed, 1)

        mem_monitor = memory(monitor.pid)
        mem_workers = [memory(p) for p in workers]
        result["memory"] = {
            "monitor_pss": mem_monitor["pss"], "monitor_rss": mem_monitor["rss"],
            "workers_pss": sum(m["pss"] for m in mem_workers),
            "workers_rss": sum(m["rss"] for m in mem_workers),
        }
        result["memory"]["total_pss"] = (result["memory"]["monitor_pss"] +
                                         result["memory"]["workers_pss"])
        result["threads"] = {"monitor": threads(monitor.pid),
                             "workers": sum(threads(p) for p in workers)}

        times = []
        size = 0
        for _ in range(5):
            t = time.perf_counter()
            body = http_get(base + "/metrics")
            times.append((time.perf_counter() - t) * 1000.0)
            size = len(body)
        result["metrics_ms_median"] = round(statistics.median(times), 2)
        result["metrics_ms_max"] = round(max(times), 2)
        result["metrics_bytes"] = size

        # Detection at this load: resets spread over the members, each on its own member.
        faults = min(args.faults if faults is None else faults, sessions)
        control = Control(control_port) if faults > 0 else None
        step = max(1, sessions // max(faults, 1))
        injected = {}
        for k in range(faults):
            member = f"M{(k * step) % sessions:05d}"
            sent, reply = control.command(f"fault {member} reset")
            if reply.startswith("ok"):
                injected[member] = sent
            time.sleep(args.fault_gap)
        # Wait (bounded) until the simulator has reset every member it was asked to and the
        # monitor has recorded each of those links going `down`: at 5,000 members the
        # simulator's loop may take a few hundred ms to apply the last fault command.
        reset_at, first = {}, {}
        wait_until = time.time() + args.detect_timeout
        while control is not None:
            reset_at, first = match_downs(base, control, injected, faults)
            if len(first) == len(injected) or time.time() > wait_until:
                break
            time.sleep(0.1)
        missing = sorted(set(injected) - set(first))
        # A reset the simulator applied and the monitor never showed as `down` is a lost
        # event, not a slow one: the run fails. (A fault the simulator skipped, its member
        # not logged on, is reported only.)
        lost = [m for m in missing if m in reset_at]
        if missing:
            log(f"    {len(missing)} of {len(injected)} resets without a matching `down` after "
                f"{args.detect_timeout} s: {', '.join(missing[:10])}"
                f"{' …' if len(missing) > 10 else ''}; of those the simulator had not reset "
                f"{len(missing) - len(lost)}")
        values = [d for d, _, _ in first.values()]
        from_command = [c for _, _, c in first.values()]
        ours = [o for _, o, _ in first.values() if o is not None]
        before = [d - o for d, o, _ in first.values() if o is not None]

        def pct(v, p):
            return round(percentile(v, p), 3) if v else None
        result["detection"] = {
            "faults": len(injected), "detected": len(values), "missing": missing, "lost": lost,
            "p50_ms": pct(values, 50), "p99_ms": pct(values, 99),
            "max_ms": round(max(values), 3) if values else None,
            "from_command_p50_ms": pct(from_command, 50),
            "from_command_p99_ms": pct(from_command, 99),
            "until_stamp_p50_ms": pct(before, 50), "until_stamp_p99_ms": pct(before, 99),
            "monitor_p50_ms": pct(ours, 50), "monitor_p99_ms": pct(ours, 99),
        }
        log(f"    cpu monitor {result['cpu_percent']['monitor']} %, workers "
            f"{result['cpu_percent']['workers']} % ({len(workers)}), PSS "
            f"{result['memory']['total_pss'] / 2**20:.1f} MiB, /metrics "
            f"{result['metrics_ms_median']} ms {size / 1e6:.2f} MB, detection p50 "
            f"{result['detection']['p50_ms']} p99 {result['detection']['p99_ms']} ms "
            f"({len(values)}/{len(injected)}); from the command p50 "
            f"{result['detection']['from_command_p50_ms']} p99 "
            f"{result['detection']['from_command_p99_ms']} ms; until the FIX thread's stamp p50 "
            f"{result['detection']['until_stamp_p50_ms']} p99 "
            f"{result['detection']['until_stamp_p99_ms']} ms, then linkwatch p50 "
            f"{result['detection']['monitor_p50_ms']} p99 {result['detection']['monitor_p99_ms']} ms")
    finally:
        running.stop()
    shutil.rmtree(tmp, ignore_errors=True)  # kept (with run.log and sim.log) when a run fails
    return result


def fmt_kib(b):
    return f"{b / 1024:,.1f} KiB"


def markdown(results, args, command, load_before, load_after):
    cpu = open("/proc/cpuinfo").read()
    model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines()
                  if l.startswith("model name")), "?")
    out = ["## Scale (scale_bench)", ""]
    out.append(f"- date: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; command: `{command}`")
    out.append(f"- machine: {model}, {os.cpu_count()} vCPU, kernel {os.uname().release}")
    out.append(f"- load average (1, 5, 15 min): {load_before} before, {load_after} after")
    out.append(f"- sessions: HeartBtInt {args.heartbeat} s, {SESSIONS_PER_PORT} per "
               "SocketAcceptPort, memory store, `ResetOnLogon=Y`; members played by "
               "`linkwatch simulate` (one epoll thread) in its own process; CPU over a "
               f"{args.window:.0f} s window once every link was `up`")
    out.append("")
    out.append("| sessions | acceptor | QuickFIX workers | all up after | CPU monitor (core + HTTP) "
               "| CPU workers | CPU simulator | PSS monitor | PSS workers | /metrics | "
               "/metrics size | reset → down p50 / p99 / max (n) | of which until the FIX "
               "thread's stamp, p50 / p99 | then linkwatch, p50 / p99 | from the fault command, "
               "p50 / p99 |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        d = r["detection"]
        out.append(
            f"| {r['sessions']:,} | {'threaded' if r['threaded'] else 'single'} | "
            f"{r['workers']} | {r['all_up_after_s']} s | {r['cpu_percent']['monitor']} % | "
            f"{r['cpu_percent']['workers']} % | {r['cpu_percent']['simulator']} % | "
            f"{r['memory']['monitor_pss'] / 2**20:.1f} MiB | "
            f"{r['memory']['workers_pss'] / 2**20:.1f} MiB | {r['metrics_ms_median']} ms | "
            f"{r['metrics_bytes'] / 1e6:.2f} MB | {d['p50_ms']} / {d['p99_ms']} / "
            f"{d['max_ms']} ms ({d['detected']}/{d['faults']}) | "
            f"{d.get('until_stamp_p50_ms')} / {d.get('until_stamp_p99_ms')} ms | "
            f"{d.get('monitor_p50_ms')} / {d.get('monitor_p99_ms')} ms | "
            f"{d.get('from_command_p50_ms')} / {d.get('from_command_p99_ms')} ms |")
    plain = sorted((r for r in results if not r["threaded"] and r["heartbeat_s"] == args.heartbeat),
                   key=lambda r: r["sessions"])
    if len(plain) >= 2:
        out += ["", "Memory per link, as the slope between two loads (what one more link costs; "
                "the fixed cost of the processes cancels out). In worker mode the monitor "
                "process holds no QuickFIX at all, so its slope is ours alone; the workers' "
                "slope is QuickFIX's sessions plus our forwarding (each worker's EventHub lanes, "
                f"{WORKER_LANE_BYTES / 2**20:.2f} MiB each once cycled, and its shared-memory "
                f"shard, {SHARD_BYTES / 2**20:.2f} MiB: fixed per worker, not per link).", "",
                "| from → to | monitor process (ours) | workers (QuickFIX + forwarding) | total |",
                "|---|---|---|---|"]
        for a, b in zip(plain, plain[1:]):
            dn = b["sessions"] - a["sessions"]
            mon = (b["memory"]["monitor_pss"] - a["memory"]["monitor_pss"]) / dn
            wrk = (b["memory"]["workers_pss"] - a["memory"]["workers_pss"]) / dn
            out.append(f"| {a['sessions']:,} → {b['sessions']:,} | {fmt_kib(mon)} | "
                       f"{fmt_kib(wrk)} | {fmt_kib(mon + wrk)} |")
    idle = [r for r in results if r["heartbeat_s"] != args.heartbeat]
    for r in idle:
        out += ["", f"Idle (item 6): {r['sessions']} connected, quiet links (HeartBtInt "
                f"{r['heartbeat_s']} s): monitor process {r['cpu_percent']['monitor']} % of one "
                f"core over {r['window_s']} s (target < 1 %), "
                f"{r['threads']['monitor']} threads."]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default="build/release/linkwatch")
    ap.add_argument("--quick", action="store_true", help="100 sessions only, short windows")
    ap.add_argument("--loads", default="100,1000,5000")
    ap.add_argument("--threaded-at", default="1000,5000",
                    help="loads measured with both acceptors, `run --single-threaded` and "
                         "`run --threaded` (0: none)")
    ap.add_argument("--heartbeat", type=int, default=1)
    ap.add_argument("--window", type=float, default=20.0)
    ap.add_argument("--settle", type=float, default=3.0)
    ap.add_argument("--faults", type=int, default=1000,
                    help="resets at each load, each on its own member (at most one a member)")
    ap.add_argument("--fault-gap", type=float, default=0.03)
    ap.add_argument("--up-timeout", type=float, default=180.0)
    ap.add_argument("--detect-timeout", type=float, default=10.0,
                    help="how long to wait for every reset's `down` before reporting it missing")
    ap.add_argument("--extra", default="", help="an extra [LINKWATCH] line, e.g. FixWorkers=2")
    ap.add_argument("--no-idle", dest="idle", action="store_false",
                    help="skip the idle run (50 quiet links, HeartBtInt 30 s)")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    args = ap.parse_args()
    if args.quick:
        args.loads, args.threaded_at, args.window, args.settle, args.faults = "100", "0", 5.0, 1.0, 10
        args.idle = False

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the simulator's sockets
    load_before = open("/proc/loadavg").read().split()[:3]
    results = []
    ok = True
    both = {int(x) for x in str(args.threaded_at).split(",") if x}
    for n in [int(x) for x in args.loads.split(",") if x]:
        for threaded in ([False, True] if n in both else [None]):
            try:
                results.append(run_load(args.binary, n, args, threaded))
            except Exception as e:  # report what there is
                print(f"scale_bench: {n} sessions (acceptor {threaded}): {e}", file=sys.stderr)
                ok = False
                continue
            lost = results[-1].get("detection", {}).get("lost", [])
            if lost:
                print(f"scale_bench: {n} sessions (acceptor {threaded}): {len(lost)} resets "
                      f"never showed as `down`: {', '.join(lost[:10])}", file=sys.stderr)
                ok = False
    if args.idle:
        try:
            results.append(run_load(args.binary, 50, args, heartbeat=30, faults=0))
        except Exception as e:
            print(f"scale_bench: idle: {e}", file=sys.stderr)
            ok = False
    load_after = open("/proc/loadavg").read().split()[:3]
    command = "bench/scale_bench.py " + " ".join(sys.argv[1:])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "load_before": load_before,
                       "load_after": load_after, "command": command}, f, indent=2)
    text = markdown(results, args, command, " ".join(load_before), " ".join(load_after))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    print(text)
    return 0 if ok and results else 1


if __name__ == "__main__":
    sys.exit(main())
