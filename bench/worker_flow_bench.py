#!/usr/bin/env python3
"""Order flow through QuickFIX worker processes: what a worker pays per message.

`linkwatch run` with its sessions in worker processes (FixWorkerMode=processes, FixWorkers=2)
and `linkwatch simulate` playing the members (HeartBtInt 30 s, so that the flow is the
members' application messages, not Heartbeats). Once every link is `up`, the busiest
`--busy` members each send `--per-tick` application messages (News) every 10 ms through the
simulator's control channel, for `--window` seconds. Measured over that window:
  - messages the monitor counted (`linkwatch_messages_received_total`, application), which
    must equal the messages sent: the run fails otherwise;
  - events the workers handed to the core (`linkwatch_fix_worker_events_forwarded_total`;
    absent before that metric existed);
  - the workers' CPU (utime + stime) per message, and their voluntary context switches (each
    one a thread going to sleep: mostly a forwarder woken by a FIX thread and idle again);
  - the monitor's CPU.

  bench/worker_flow_bench.py --binary build/release/linkwatch
  bench/worker_flow_bench.py --binary build/linkwatch --quick       # a few seconds
  ... --json FILE / --markdown FILE    the figures as JSON / as a Markdown table
Exit status: 0 when every message sent was counted, 1 otherwise.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale_bench as sb  # noqa: E402


def metric_sum(base, name, *labels):
    """The sum of every sample of `name` whose labels contain each of `labels`."""
    total = 0.0
    for line in sb.http_get(base + "/metrics").decode().splitlines():
        if not line.startswith(name + "{"):
            continue
        head, _, value = line.rpartition(" ")
        if all(label in head for label in labels):
            total += float(value)
    return total


def voluntary_switches(pid):
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def run(args):
    tmp = tempfile.mkdtemp(prefix="linkwatch-flow-")
    cfg = os.path.join(tmp, "flow.cfg")
    http_port = sb.free_port()
    control_port = sb.free_port()
    sb.write_config(cfg, args.sessions, http_port, heartbeat=30,
                    extra="FixWorkerMode=processes\nFixWorkers=2")
    base = f"http://127.0.0.1:{http_port}"
    procs = sb.MonitorAndMembers(args.binary, cfg, base, control_port, tmp)
    monitor = procs.monitor
    try:
        procs.wait_all_up(args.sessions, 120)
        time.sleep(1.0)
        workers = sb.children(monitor.pid)
        control = sb.Control(control_port)
        busy = [f"M{i:05d}" for i in range(args.busy)]
        app = ('msg_type="application"',)

        received0 = metric_sum(base, "linkwatch_messages_received_total", *app)
        forwarded0 = metric_sum(base, "linkwatch_fix_worker_events_forwarded_total")
        cpu0 = {p: sb.cpu_ticks(p) for p in workers + [monitor.pid]}
        switches0 = sum(voluntary_switches(p) for p in workers)
        sent = 0
        t0 = time.time()
        tick = 0
        while time.time() - t0 < args.window:
            for member in busy:
                _, reply = control.command(f"app {member} {args.per_tick}")
                if not reply.startswith("ok"):
                    raise RuntimeError(f"app {member}: {reply}")
                sent += args.per_tick
            tick += 1
            pause = t0 + tick * 0.01 - time.time()
            if pause > 0:
                time.sleep(pause)
        elapsed = time.time() - t0
        cpu1 = {p: sb.cpu_ticks(p) for p in workers + [monitor.pid]}
        switches1 = sum(voluntary_switches(p) for p in workers)
        deadline = time.time() + 30
        while metric_sum(base, "linkwatch_messages_received_total", *app) < received0 + sent:
            if time.time() > deadline:
                break
            time.sleep(0.2)
        received = metric_sum(base, "linkwatch_messages_received_total", *app) - received0
        forwarded = metric_sum(base, "linkwatch_fix_worker_events_forwarded_total") - forwarded0
        worker_s = sum(cpu1[p] - cpu0[p] for p in workers) / sb.CLK_TCK
        monitor_s = (cpu1[monitor.pid] - cpu0[monitor.pid]) / sb.CLK_TCK
        result = {
            "sessions": args.sessions, "workers": len(workers), "busy_members": args.busy,
            "window_s": round(elapsed, 2), "messages_sent": sent,
            "messages_per_s": round(sent / elapsed), "messages_counted": int(received),
            "events_forwarded": int(forwarded),
            "worker_cpu_percent": round(100.0 * worker_s / elapsed, 1),
            "worker_cpu_us_per_message": round(1e6 * worker_s / max(sent, 1), 2),
            "worker_voluntary_switches_per_s": round((switches1 - switches0) / elapsed),
            "monitor_cpu_percent": round(100.0 * monitor_s / elapsed, 1),
        }
    finally:
        procs.stop()
    shutil.rmtree(tmp, ignore_errors=True)  # kept (with run.log and sim.log) when a run fails
    return result


def markdown(r, command):
    rows = [
        ("sessions (one worker process)", f"{r['sessions']:,} ({r['workers']} worker)"),
        ("application messages sent / counted by the monitor",
         f"{r['messages_sent']:,} / {r['messages_counted']:,} "
         f"({r['messages_per_s']:,} a second from {r['busy_members']} members, "
         f"{r['window_s']} s)"),
        ("events the worker handed to the core",
         f"{r['events_forwarded']:,} "
         f"({100.0 * r['events_forwarded'] / max(r['messages_sent'], 1):.1f} % of the messages)"),
        ("worker CPU", f"{r['worker_cpu_percent']} % of a core "
                       f"({r['worker_cpu_us_per_message']} us a message, QuickFIX's included)"),
        ("worker threads going to sleep", f"{r['worker_voluntary_switches_per_s']:,} a second"),
        ("monitor process CPU", f"{r['monitor_cpu_percent']} % of a core"),
    ]
    lines = [f"Command: `{command}`", "", "| what | figure |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default="build/release/linkwatch")
    ap.add_argument("--quick", action="store_true", help="a short window, for CI")
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--busy", type=int, default=20, help="members sending application messages")
    ap.add_argument("--per-tick", type=int, default=5,
                    help="messages each busy member sends every 10 ms")
    ap.add_argument("--window", type=float, default=10.0)
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    args = ap.parse_args()
    if args.quick:
        args.sessions, args.busy, args.window = 20, 4, 2.0
    result = run(args)
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(result, "bench/worker_flow_bench.py " + " ".join(sys.argv[1:])))
    if result["messages_counted"] != result["messages_sent"]:
        print(f"worker_flow_bench: {result['messages_sent']} messages sent, "
              f"{result['messages_counted']} counted", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
