#!/usr/bin/env python3
"""Writes bench/RESULTS.md from Google Benchmark JSON files (stdlib only).

Reads every *.json in --results (one per bench binary, run with repetitions and
--benchmark_report_aggregates_only), takes the median of the repetitions, and prints a table
per benchmark group: the figure, its target, the baseline measured in the same run, the
ratio, and whether the target was met.

With --detection FILE (the JSON of bench/detection_bench) it also writes the end-to-end
detection section: its figures, their targets, and QuickFIX's own reaction measured in the
same run. That section sits between markers and carries its own run details: with
--detection-only only that section of --output is replaced and everything else is kept as it
is; a run without --detection keeps the previous detection section.

Usage: bench_report.py --results DIR --output FILE [--command TEXT] [--load-before TEXT]
                       [--load-after TEXT] [--commit SHA [--dirty]]
                       [--detection FILE [--detection-command TEXT] [--detection-only]]
"""

import argparse
import datetime
import glob
import json
import os
import platform
import statistics
import subprocess
import sys

# A row: (what, benchmark run_name, metric, target, baseline run_name or None, note).
# metric: a user counter name, or "time" (real time per iteration in the JSON's unit) or
# "time_ns" (the same in ns), "items_per_second", "bytes".
# target: None, or (op, value) with op "<=" or ">=".
LOWER_IS_BETTER = {"time", "time_ns", "p50_ns", "p99_ns", "p999_ns", "bytes", "added_pct"}

EVENT_HUB = [
    ("stamp + publish, p50 per op", "BM_EventHub_PublishLatency/1/iterations:200000",
     "p50_ns", ("<=", 50), "BM_MutexDeque_PublishLatency/1/iterations:200000", ""),
    ("stamp + publish, p99 per op", "BM_EventHub_PublishLatency/1/iterations:200000",
     "p99_ns", ("<=", 250), "BM_MutexDeque_PublishLatency/1/iterations:200000", ""),
    ("stamp + publish, p99.9 per op", "BM_EventHub_PublishLatency/1/iterations:200000",
     "p999_ns", None, "BM_MutexDeque_PublishLatency/1/iterations:200000", ""),
    ("stamp + publish, p50 of 64-op batches", "BM_EventHub_PublishLatency/64/iterations:200000",
     "p50_ns", ("<=", 50), "BM_MutexDeque_PublishLatency/64/iterations:200000", ""),
    ("stamp + publish, p99 of 64-op batches", "BM_EventHub_PublishLatency/64/iterations:200000",
     "p99_ns", ("<=", 250), "BM_MutexDeque_PublishLatency/64/iterations:200000", ""),
    ("stamp + scan Heartbeat + publish, p50 per op",
     "BM_EventHub_PublishAndScanHeartbeatLatency/1/iterations:200000", "p50_ns", None,
     "BM_MutexDeque_PublishAndScanHeartbeatLatency/1/iterations:200000", ""),
    ("stamp + scan Heartbeat + publish, p99 per op",
     "BM_EventHub_PublishAndScanHeartbeatLatency/1/iterations:200000", "p99_ns", None,
     "BM_MutexDeque_PublishAndScanHeartbeatLatency/1/iterations:200000", ""),
    ("enqueue alone (pre-stamped event), p50 per op",
     "BM_EventHub_EnqueueLatency/1/iterations:200000", "p50_ns", None,
     "BM_MutexDeque_EnqueueLatency/1/iterations:200000", ""),
    ("enqueue alone, p99 per op", "BM_EventHub_EnqueueLatency/1/iterations:200000", "p99_ns",
     None, "BM_MutexDeque_EnqueueLatency/1/iterations:200000", ""),
    ("enqueue alone, p50 of 64-op batches", "BM_EventHub_EnqueueLatency/64/iterations:200000",
     "p50_ns", None, "BM_MutexDeque_EnqueueLatency/64/iterations:200000", ""),
    ("stamp + publish, p99 per op, consumer draining every 20 us",
     "BM_EventHub_PublishLatencyBatchingConsumer/1/iterations:200000", "p99_ns", ("<=", 250),
     "BM_MutexDeque_PublishLatencyBatchingConsumer/1/iterations:200000", ""),
    ("enqueue alone, p99 per op, consumer draining every 20 us",
     "BM_EventHub_EnqueueLatencyBatchingConsumer/1/iterations:200000", "p99_ns", None,
     "BM_MutexDeque_EnqueueLatencyBatchingConsumer/1/iterations:200000", ""),
    ("an up link's order: coarse stamp + tally (no enqueue), p50 per op",
     "BM_EventHub_TallyApplicationLatency/1/iterations:200000", "p50_ns", ("<=", 50),
     "BM_MutexDeque_PublishLatency/1/iterations:200000", ""),
    ("an up link's order: coarse stamp + tally (no enqueue), p50 of 64-op batches",
     "BM_EventHub_TallyApplicationLatency/64/iterations:200000", "p50_ns", ("<=", 50),
     "BM_MutexDeque_PublishLatency/64/iterations:200000", ""),
    ("an up link's order: coarse stamp + tally (no enqueue), p99 per op",
     "BM_EventHub_TallyApplicationLatency/1/iterations:200000", "p99_ns", ("<=", 250),
     "BM_MutexDeque_PublishLatency/1/iterations:200000", ""),
    ("an up link's Heartbeat: coarse stamp + tally (no enqueue), p50 per op",
     "BM_EventHub_TallyHeartbeatLatency/1/iterations:200000", "p50_ns", ("<=", 50),
     "BM_MutexDeque_PublishLatency/1/iterations:200000", ""),
    ("an up link's Heartbeat: coarse stamp + tally (no enqueue), p99 per op",
     "BM_EventHub_TallyHeartbeatLatency/1/iterations:200000", "p99_ns", ("<=", 250),
     "BM_MutexDeque_PublishLatency/1/iterations:200000", ""),
    ("stamp + publish, 1 producer", "BM_EventHub_Publish/real_time/threads:1",
     "items_per_second", None, "BM_MutexDeque_Publish/real_time/threads:1", "dropped"),
    ("stamp + publish, 2 producers", "BM_EventHub_Publish/real_time/threads:2",
     "items_per_second", None, "BM_MutexDeque_Publish/real_time/threads:2", "dropped"),
    ("stamp + publish, 4 producers", "BM_EventHub_Publish/real_time/threads:4",
     "items_per_second", None, "BM_MutexDeque_Publish/real_time/threads:4", "dropped"),
    ("enqueue alone, 1 producer", "BM_EventHub_Enqueue/real_time/threads:1",
     "items_per_second", None, "BM_MutexDeque_Enqueue/real_time/threads:1", "dropped"),
    ("enqueue alone, 2 producers", "BM_EventHub_Enqueue/real_time/threads:2",
     "items_per_second", None, "BM_MutexDeque_Enqueue/real_time/threads:2", "dropped"),
    ("enqueue alone, 4 producers", "BM_EventHub_Enqueue/real_time/threads:4",
     "items_per_second", None, "BM_MutexDeque_Enqueue/real_time/threads:4", "dropped"),
    ("stamp + scan + publish, 1 producer",
     "BM_EventHub_PublishAndScanHeartbeat/real_time/threads:1", "items_per_second", None,
     "BM_MutexDeque_PublishAndScanHeartbeat/real_time/threads:1", "dropped"),
    ("stamp + scan + publish, 2 producers",
     "BM_EventHub_PublishAndScanHeartbeat/real_time/threads:2", "items_per_second", None,
     "BM_MutexDeque_PublishAndScanHeartbeat/real_time/threads:2", "dropped"),
    ("stamp + scan + publish, 4 producers",
     "BM_EventHub_PublishAndScanHeartbeat/real_time/threads:4", "items_per_second", None,
     "BM_MutexDeque_PublishAndScanHeartbeat/real_time/threads:4", "dropped"),
    ("both clock reads alone (stampEvent)", "BM_Clock_StampBoth", "time_ns", None, None, ""),
    ("scanFixMessage, 89-byte Heartbeat", "BM_FixScan_Heartbeat", "time_ns", None, None, ""),
]

LINK_MONITOR = [
    ("drain + apply (runOnce), 10,000 links", "BM_LinkMonitor_Apply", "items_per_second",
     (">=", 10e6), None, ("apply_wall_Mps", "events_per_runOnce")),
    ("publish alone (hub().publish)", "BM_LinkMonitor_Publish", "items_per_second", None, None,
     ("apply_wall_Mps", "dropped")),
    ("publish + drain + apply", "BM_LinkMonitor_PublishAndApply", "items_per_second", None, None,
     ("apply_wall_Mps", "transitions", "dropped")),
]

METRICS = []
for links in (100, 1000, 5000, 10000):
    METRICS.append((f"streamed scrape (write()), {links:,} links", f"BM_Metrics_Stream/{links}",
                    "time", None, f"BM_Metrics_SerialiseTextSerializer/{links}",
                    ("bytes", "series_per_link", "heap_bytes")))
for links in (1000, 5000):
    METRICS.append((f"streamed scrape, every link with RTT probes and application messages, "
                    f"{links:,} links", f"BM_Metrics_StreamBusy/{links}", "time", None, None,
                    ("bytes", "series_per_link", "heap_bytes")))
for links in (1000, 5000, 10000):
    METRICS.append((f"serialize(): the same text in one string, {links:,} links",
                    f"BM_Metrics_Serialise/{links}", "time", None,
                    f"BM_Metrics_SerialiseTextSerializer/{links}", ("heap_bytes",)))
for links in (1000, 5000, 10000):
    METRICS.append((f"Collect() alone (the data model, tests only), {links:,} links",
                    f"BM_Metrics_Collect/{links}", "time", None, None, ("heap_bytes",)))

DECORATOR = []
for arg, stream in ((0, "Heartbeat"), (1, "NewOrderSingle"), (2, "mixed 1:4")):
    # BM_QuickFix_Monitored is left out: run on its own, after Plain, the neighbours' load
    # moves it by more than the decorators' cost. The paired rows below measure that.
    DECORATOR.append((f"QuickFIX alone, {stream}, CPU per message",
                      f"BM_QuickFix_Plain/stream:{arg}", "time_ns", None, None, ""))
for arg, stream in ((0, "Heartbeat"), (1, "NewOrderSingle")):
    DECORATOR.append((f"the decorators' own work alone, {stream}: tally, then fromAdmin or "
                      f"fromApp", f"BM_Decorators_OwnWork/{arg}", "time_ns", None, None, ""))
DECORATOR.append(("QuickFIX's log mutex, a lock and unlock (taken around each Log call)",
                  "BM_QuickFix_LogMutex", "time_ns", None, None, ""))
for arg, stream in ((0, "Heartbeat"), (1, "NewOrderSingle")):
    for kib, caches, iterations in ((1024, "this vCPU's L1 and L2", 2000),
                                    (65536, "every cache level", 150)):
        DECORATOR.append((f"the decorators' own work from cold caches ({caches} evicted), "
                          f"{stream}", f"BM_Decorators_OwnWorkCold/stream:{arg}/evict_kib:{kib}"
                          f"/iterations:{iterations}", "own_ns", None, None, ""))
for args, what in (("0/gap_us:0/consumer:0/gateway_log:0", "Heartbeat, back to back"),
                   ("1/gap_us:0/consumer:0/gateway_log:0", "NewOrderSingle, back to back"),
                   ("2/gap_us:0/consumer:0/gateway_log:0", "mixed, back to back"),
                   ("2/gap_us:0/consumer:1/gateway_log:0",
                    "mixed, back to back, consumer never sleeps"),
                   ("2/gap_us:100/consumer:0/gateway_log:0", "mixed, one message every 100 µs"),
                   ("2/gap_us:100/consumer:1/gateway_log:0",
                    "mixed, one message every 100 µs, consumer never sleeps"),
                   ("0/gap_us:0/consumer:0/gateway_log:1",
                    "Heartbeat, back to back, gateway with its own log"),
                   ("1/gap_us:0/consumer:0/gateway_log:1",
                    "NewOrderSingle, back to back, gateway with its own log"),
                   ("2/gap_us:0/consumer:0/gateway_log:1",
                    "mixed, back to back, gateway with its own log"),
                   ("0/gap_us:0/consumer:0/gateway_log:0/framed:1",
                    "Heartbeat, back to back, framed by QuickFIX's Parser"),
                   ("1/gap_us:0/consumer:0/gateway_log:0/framed:1",
                    "NewOrderSingle, back to back, framed by QuickFIX's Parser"),
                   ("2/gap_us:0/consumer:0/gateway_log:0/framed:1",
                    "mixed, back to back, framed by QuickFIX's Parser")):
    if "framed" not in args:
        args += "/framed:0"
    quiet = "gap_us:100" in args
    DECORATOR.append((f"added by the decorators (paired), {what}",
                      f"BM_Decorator_Paired/stream:{args}/iterations:{100 if quiet else 300}",
                      "added_pct", ("<=", 2), None,
                      ("added_ns", "plain_ns", "process_spread") if quiet
                      else ("added_ns", "plain_ns")))
DECORATOR.append(("added by the decorators (paired), mixed, one message every 100 µs, eight "
                  "links on one thread in turn",
                  "BM_Decorator_PairedLinks/stream:2/gap_us:100/iterations:100", "added_pct",
                  ("<=", 2), None, ("added_ns", "plain_ns", "process_spread")))

GROUPS = [
    ("EventHub: the FIX thread's hot path (event_hub_bench)", EVENT_HUB,
     "Baseline: `std::mutex` + `std::deque` push, same stamp, same consumer thread. The "
     "consumer drains as `LinkMonitor`'s loop does (a flow of events at most every 10 us, "
     "`EventHub::kDrainPacing`) unless the row says it drains every 20 us. Per-op p50 rows near 20 ns sit at the resolution of the clock-overhead "
     "correction; the 64-op batch rows resolve the enqueue better."),
    ("LinkMonitor: the core thread (link_monitor_bench)", LINK_MONITOR,
     "10,000 links, HeartBtInt 30 s, ManualClock advanced 1 ms per 16,384-event batch; "
     "mix: 80 % Heartbeats, 15 % application messages, ~5 % RTT TestRequest + answer, "
     "0.1 % Logout/Disconnect/Logon. No baseline: the three rows split the same work."),
    ("Embedded overhead: the decorators on the FIX thread (decorator_bench)", DECORATOR,
     "Two real QuickFIX acceptor sessions (MemoryStore, no data dictionary) in one process, "
     "logged on and fed the same prebuilt inbound stream with `Session::next(text, "
     "UtcTimeStamp())` as QuickFIX's socket thread does: one with the gateway's Application "
     "alone and no log, one with that Application wrapped by `MonitoringApplication` (with a "
     "`LogonGuard` on every link, as `linkwatch run` has) and `MonitoringLogFactory`, "
     "publishing to an `EventHub` drained by another thread. "
     "NewOrderSingle: 19 body fields, ~250 bytes; mixed: 1 Heartbeat to 4 orders. The *paired* "
     "rows (the figures to read) alternate blocks through both sessions and report the median "
     "of the per-block differences as % of QuickFIX's own cost (`plain_ns`): back to back, "
     "thread CPU time of 512-message blocks; spaced 100 µs (the FIX thread sleeps between "
     "messages, as on a quiet link), the median of 64 messages each timed alone; how cold the "
     "host leaves the caches varies more from one process to the next than within one, so "
     "these rows' figure is the median of every repetition of several more processes "
     "(`scripts/bench`, QUIET_PROCESSES), their notes giving the spread. *eight links on one "
     "thread*: the blocks' messages go to eight sessions on each side in turn, as QuickFIX's "
     "single-threaded SocketAcceptor serves its links, so each finds the decorators' code warm "
     "from the link before and its own link's objects as cold as 800 µs left them. *consumer "
     "never sleeps*: the consumer naps 50 µs instead of waiting on the futex, so publishing "
     "never makes a FUTEX_WAKE system call. *gateway with its own log*: both sessions have a "
     "log of record that writes nothing (the monitored one through `MonitoringLogFactory`); "
     "QuickFIX locks a session's log mutex around every Log call once it has any log, so such a "
     "gateway pays that lock without the decorators, and the row is their own work. An up "
     "link's application messages and inbound Heartbeats are tallied per link while no "
     "TestRequest awaits an answer (`EventHub::mayTally`) instead of published, except one "
     "inbound message every 100 ms (read in full for the SendingTime skew). *framed by "
     "QuickFIX's Parser*: each message is cut from the stream by `FIX::Parser`, given reads of "
     "up to BUFSIZ bytes as QuickFIX's socket thread does after each recv(), a part of "
     "QuickFIX's own cost the other rows leave out (the system call itself is left out in "
     "both). *own work alone*: the decorators' callbacks for one message, without QuickFIX "
     "around them or its log mutex (its own row); *from cold caches*: the same after other "
     "data was written over the caches named, the message's text, parsed header and the "
     "clock being read again first (QuickFIX just did), median of single timings less the "
     "timing of nothing."),
    ("/metrics scrape (metrics_bench)", METRICS,
     "What `/metrics` serves: `MetricsCollector::write()`, the exposition handed to the socket "
     "in 64 KiB chunks as it is written. Baseline: `Collect()` + "
     "`prometheus::TextSerializer::Serialize` on the same families. Links logged on with the "
     "Logon and three Heartbeats each way (no RTT probes: `RttProbeInterval` is off by "
     "default) unless the row says otherwise. *heap* is the heap the scrape holds on top of the "
     "monitor (glibc `mallinfo2`, in use + mmapped): the peak while streaming, else the string "
     "or the data model; the baseline's in brackets. The issue sets no target; REFERENCE.md "
     "has 1,000 links ≈ 21 ms (19 series a link)."),
]


# ---- end-to-end detection (bench/detection_bench.cpp) ------------------------------------

# (JSON key, what, target p99 in ms or None)
DETECTION_ROWS = [
    ("reset_to_down_ms",
     "(a) TCP reset → link `down`: from the simulator's `fault_injected` record (just before "
     "`close()` sends the RST) to the `down` transition", 1.0),
    ("reset_to_quickfix_event_ms",
     "(a) split: reset → QuickFIX's event (`onLogout` or its `Disconnecting` line, stamped on "
     "its socket thread)", None),
    ("quickfix_event_to_down_ms",
     "(a) split: that event → `down` on the core thread (queue, wake-up, apply)", None),
    ("deadline_to_degraded_ms",
     "(b) heartbeat deadline → link `degraded`: transition − (last inbound message + "
     "HeartBtInt × (1 + grace)), short silences", 5.0),
    ("deadline_to_degraded_long_silences_ms",
     "(b) the same on the long silences of the comparison below", None),
]

COMPARISON_ROWS = [
    ("linkwatch_degraded_after_last_inbound_ms", "linkwatch: `degraded` (heartbeat_late)"),
    ("quickfix_test_request_after_last_inbound_ms",
     "QuickFIX: its TestRequest, as the member receives it"),
    ("quickfix_disconnect_after_last_inbound_ms",
     "QuickFIX: its disconnect, seen as `down` (heartbeat_timeout)"),
]


def fmt_ms(value):
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.1f} ms"
    if value >= 1:
        return f"{value:.2f} ms"
    return f"{value * 1000:,.0f} µs"


def blackbox_lines(path, d):
    """The blackbox_exporter comparison (bench/blackbox_compare.py) beside detection_bench's (a)."""
    lines = ["", "### Against a blackbox_exporter TCP probe (blackbox_compare.py)", ""]
    try:
        with open(path, encoding="utf-8") as f:
            b = json.load(f)
    except (OSError, ValueError) as e:
        return lines + [f"Not measured in this run ({e})."]
    if "skipped" in b:
        return lines + [f"Not measured in this run: {b['skipped']}."]
    c = b.get("config", {})
    m = b.get("machine", {})
    bb = b.get("blackbox_kill_to_webhook_ms", {})
    lw = b.get("linkwatch_reset_to_webhook_ms", {})
    down = d.get("reset_to_down_ms", {})
    lines += [
        f"Same run of `scripts/bench`, right after detection_bench ({m.get('date', '?')}, "
        f"{m.get('seconds', '?')} s; load average {m.get('load_before', '?')} before, "
        f"{m.get('load_after', '?')} after). One Alertmanager (group_wait 0) and one webhook "
        f"for both sides. blackbox: {c.get('endpoints', '?')} TCP endpoints, each probed by "
        f"`prometheus-blackbox-exporter` ({c.get('probe', '?')}) through a Prometheus scraping "
        f"every {c.get('scrape_interval_s', '?')} s and evaluating `{c.get('rule', '?')}` "
        f"every {c.get('evaluation_interval_s', '?')} s; the endpoints' listening sockets "
        "closed at random points spread over one scrape interval, each once. linkwatch: "
        f"{c.get('members', '?')} simulated members, each reset once (`fault M reset` on the "
        f"simulator's control port), the resets spread evenly over "
        f"{c.get('reset_span_s', '?')} s, linkwatch's own push to the same Alertmanager. Once "
        "an Alertmanager group has flushed, it holds a new alert for its group_interval, and "
        "it outlives the member's recovery: a second reset of a member would time "
        "Alertmanager, not the detector, hence one reset a member. *ratio* is "
        "blackbox ÷ linkwatch (> 1: linkwatch first).",
        "",
        "| from the fault to … | n | p50 | p99 | max | target | met? | ratio p50 | ratio p99 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def row(what, s, target=None, versus=None):
        has = bool(s.get("n"))
        p99 = s.get("p99") if has else None
        r50 = r99 = "—"
        if versus and has and versus.get("n") and versus.get("p50") and versus.get("p99"):
            r50 = f"{versus['p50'] / s['p50']:,.0f}×" if s.get("p50") else "—"
            r99 = f"{versus['p99'] / s['p99']:,.0f}×" if s.get("p99") else "—"
        return (f"| {what} | {s.get('n', 0):,} | {fmt_ms(s.get('p50') if has else None)} | "
                f"{fmt_ms(p99)} | {fmt_ms(s.get('max') if has else None)} | "
                f"{'p99 ≤ ' + fmt_ms(target) if target else '—'} | "
                f"{verdict(('<=', target) if target else None, p99)} | {r50} | {r99} |")

    lines.append(row("linkwatch: reset → `down` (detection_bench (a) above)", down, None, bb))
    lines.append(row("linkwatch: reset → firing LinkDown at the webhook (c)", lw, 20.0, bb))
    lines.append(row("blackbox_exporter + Prometheus: endpoint closed → firing alert at the "
                     "webhook", bb))
    missing = b.get("missing", {})
    if any(missing.values()):
        lines += ["", f"Alerts that did not arrive within the wait: {missing}."]
    return lines


def detection_section(path, command, commit, dirty, blackbox=None):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    m = d.get("machine", {})
    c = d.get("config", {})
    counts = d.get("counts", {})
    lines = [
        DETECTION_BEGIN,
        "## End-to-end detection (detection_bench)",
        "",
        f"- date: {m.get('date', '?')}, {m.get('seconds', '?')} s; commit `{commit}`"
        + (" with uncommitted changes in the work tree" if dirty else ""),
        f"- command: `{command}`",
        f"- CPU: {m.get('cpu', '?')}, {m.get('vcpus', '?')} vCPU; kernel {m.get('kernel', '?')}; "
        f"clocksource `{m.get('clocksource', '?')}`; build {m.get('build_type', '?')}",
        f"- load average (1, 5, 15 min): {m.get('load_before', '?')} before, "
        f"{m.get('load_after', '?')} after; CPU steal during the run "
        f"{m.get('steal_percent', '?')} %",
        "",
        f"{c.get('members', '?')} simulated members (`src/sim`, one epoll thread) against real "
        f"QuickFIX acceptor sessions (`FixEngine`, one `SocketAcceptor` thread) and "
        f"`LinkMonitor`'s core thread, in one process over loopback; HeartBtInt {c.get('heart_bt_int_s', '?')} s, "
        f"grace {c.get('heartbeat_grace', '?')}, member reconnect delay "
        f"{c.get('reconnect_delay_ms', '?')} ms; the core's and QuickFIX's threads with "
        f"`ThreadTimeSlice` {c.get('thread_time_slice_us', '?')} µs (0: the kernel's default); "
        f"{c.get('faults_per_batch', 0):,} faults per "
        f"batch (resets, silences of {c.get('short_silence_ms', '?')} ms, silences of "
        f"{c.get('long_silence_ms', '?')} ms), each on a random member whose link is `up`, "
        "several members faulted at a time. Times are `CLOCK_MONOTONIC` in the one process: the "
        "transition's own time (the core thread's clock when it evaluated the link), the "
        "simulator's action record, and the link's last inbound message as the FIX thread "
        "stamped it. Percentiles are nearest-rank over all faults; no repetitions.",
        "",
        "| what | n | p50 | p99 | max | target | met? |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, what, target in DETECTION_ROWS:
        s = d.get(key, {})
        p99 = s.get("p99") if s.get("n") else None
        lines.append(
            f"| {what} | {s.get('n', 0):,} | {fmt_ms(s.get('p50') if s.get('n') else None)} | "
            f"{fmt_ms(p99)} | {fmt_ms(s.get('max') if s.get('n') else None)} | "
            f"{'p99 ≤ ' + fmt_ms(target) if target else '—'} | "
            f"{verdict(('<=', target) if target else None, p99)} |")
    lw = d.get("linkwatch_degraded_after_last_inbound_ms", {})
    lines += [
        "",
        f"QuickFIX's own reaction to the same silences ({c.get('long_silence_ms', '?')} ms, "
        "long enough for its 2.4 × HeartBtInt disconnect), all measured from the member's last "
        "message as the monitor received it. *ratio* is QuickFIX ÷ linkwatch (> 1: linkwatch "
        "sees it first). QuickFIX's TestRequest time includes the loopback one-way trip and the "
        "simulator's wake-up (tens of µs).",
        "",
        "| after the member's last message | n | p50 | p99 | max | ratio p50 | ratio p99 |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, what in COMPARISON_ROWS:
        s = d.get(key, {})
        has = bool(s.get("n"))
        r50 = f"{s['p50'] / lw['p50']:.2f}×" if has and lw.get("n") and lw.get("p50") else "—"
        r99 = f"{s['p99'] / lw['p99']:.2f}×" if has and lw.get("n") and lw.get("p99") else "—"
        lines.append(
            f"| {what} | {s.get('n', 0):,} | {fmt_ms(s.get('p50') if has else None)} | "
            f"{fmt_ms(s.get('p99') if has else None)} | {fmt_ms(s.get('max') if has else None)} | "
            f"{r50} | {r99} |")
    lines.append("| blackbox_exporter + Prometheus (15 s scrape and evaluation) | see the next "
                 "table | | | | | |")
    apply = {k: (v.replace("<=", "≤").replace(" us", " µs") if isinstance(v, str) else v)
             for k, v in d.get("apply_delay_us", {}).items()}
    cpu = d.get("cpu", {})
    lines += ["", "Also measured in the run:", ""]
    lines.append(
        f"- event apply delay (push on the FIX thread → applied on the core thread, "
        f"`LinkMonitor::monitorStats().applyDelay`, whole run, bucket bounds): "
        f"{apply.get('n', 0):,} events, mean {apply.get('mean', 0):.1f} µs, p50 "
        f"{apply.get('p50_bucket', '?')}, p99 {apply.get('p99_bucket', '?')}, max "
        f"{apply.get('max_bucket', '?')}.")
    parts = []
    for key in ("reset", "short_silence", "long_silence"):
        b = cpu.get(key)
        if b:
            parts.append(f"{key.replace('_', ' ')} {b['process_ms_per_fault']:.2f} ms "
                         f"({b['process_ms_per_fault_above_idle']:.2f} above idle; core thread "
                         f"{b['core_thread_ms_per_fault']:.3f} ms)")
    holds = [f"{k.replace('_', ' ')} {cpu[k]['faults']:,} in {cpu[k]['seconds']:.0f} s "
             f"(member held p50 {cpu[k].get('member_held_p50_ms', 0):,.0f} ms)"
             for k in ("reset", "short_silence", "long_silence") if k in cpu]
    lines.append(f"- batches: {'; '.join(holds)}.")
    lines.append(
        f"- process CPU time (`getrusage`: monitor, QuickFIX and simulator together) per "
        f"fault: {'; '.join(parts)}. Idle (heartbeats only): {cpu.get('idle_ms_per_s', 0):.1f} "
        f"ms per second. A batch's CPU includes the heartbeats of every member during it.")
    if not d.get("reset_to_quickfix_event_ms", {}).get("n"):
        lines.append(
            "- QuickFIX's share of (a) is not separated in this run: the peer's RST wakes its "
            "`select()`, QuickFIX disconnects the session and calls `onLogout`, and the "
            "adapter's event reaches the core thread.")
    causes = counts.get("recoveries_by_cause", {})
    cause_text = (" (" + "; ".join(f"{k}: {v}" for k, v in sorted(causes.items())) + ")"
                  if causes else "")
    unmatched = counts.get("unmatched", {})
    extra = [f"{k}: {v}" for k, v in sorted(unmatched.items())]
    lines.append(
        f"- faults skipped by the simulator (member not connected): {counts.get('skipped', 0)}; "
        f"links reset because they stayed `degraded` after a silence ended: "
        f"{counts.get('recoveries', 0)}{cause_text}; faults without a figure: "
        f"{'; '.join(extra) if extra else 'none'}.")
    before = d.get("transitions_before_cause")
    if before is not None:
        lines.append(
            f"- transitions timed before the event that caused them: {before.get('n', 0)} "
            f"(worst by {before.get('worst_ms', 0):.3f} ms). The core thread reads its clock "
            "once per drain; `Transition::monotonic` is read again when an event makes a "
            "transition, so this stays 0 (it was what hid a reset's `down` once in 1,000).")
    missed = d.get("resets_without_down", [])
    if missed:
        lines.append(f"- resets without a `down` in their window, with the member's transitions "
                     f"(ms from the reset): {'; '.join(missed)}.")
    if blackbox:
        lines += blackbox_lines(blackbox, d)
    lines += ["", DETECTION_END]
    return "\n".join(lines)


def previous_detection(text):
    if DETECTION_BEGIN in text and DETECTION_END in text:
        head, rest = text.split(DETECTION_BEGIN, 1)
        return DETECTION_BEGIN + rest.split(DETECTION_END, 1)[0] + DETECTION_END
    return None


def splice_detection(text, section):
    """Replaces the detection section of `text`, or inserts it before the observations."""
    if DETECTION_BEGIN in text and DETECTION_END in text:
        head, rest = text.split(DETECTION_BEGIN, 1)
        return head + section + rest.split(DETECTION_END, 1)[1]
    if NOTES_MARKER in text:
        head, tail = text.split(NOTES_MARKER, 1)
        return head.rstrip("\n") + "\n\n" + section + "\n\n" + NOTES_MARKER + tail
    return text.rstrip("\n") + "\n\n" + section + "\n"


def load_results(directory):
    runs = {}
    contexts = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        contexts[os.path.basename(path)] = data.get("context", {})
        for b in data.get("benchmarks", []):
            name = b.get("run_name", b.get("name"))
            kind = b.get("aggregate_name", "")
            if b.get("run_type") == "aggregate":
                runs.setdefault(name, {})[kind] = b
            else:
                runs.setdefault(name, {}).setdefault("single", b)
    return runs, contexts


def merge_process_runs(runs, directory):
    """Benchmarks run again in several processes (scripts/bench: the quiet-link rows of
    decorator_bench, which vary more from one process to the next than within one): their
    figure becomes the median of every repetition of every process, and their cv the spread
    of those repetitions. Each row's note says how many, and the range of the process medians."""
    per_name = {}
    paths = sorted(glob.glob(os.path.join(directory, "*.json")))
    for index, path in enumerate(paths):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        for b in data.get("benchmarks", []):
            if b.get("run_type") != "iteration":
                continue
            name = b.get("run_name", b.get("name"))
            per_name.setdefault(name, {}).setdefault(index, []).append(b)
    for name, by_process in per_name.items():
        entries = [b for process in by_process.values() for b in process]
        merged = dict(entries[0])
        cv = {}
        for key in ("added_pct", "added_ns", "plain_ns", "monitored_ns"):
            values = [float(b[key]) for b in entries if key in b]
            if not values:
                continue
            merged[key] = statistics.median(values)
            mean = statistics.fmean(values)
            if len(values) > 1 and mean != 0:
                cv[key] = statistics.pstdev(values) / abs(mean)
        process_medians = [statistics.median(float(b["added_pct"]) for b in process)
                           for process in by_process.values()]
        # The main run's own median (of its repetitions, in --results) counts in the range.
        main = runs.get(name, {}).get("median")
        if main is not None and "added_pct" in main:
            process_medians.append(float(main["added_pct"]))
        merged["process_spread"] = (len(entries), len(by_process), min(process_medians),
                                    max(process_medians))
        runs[name] = {"median": merged, "cv": cv}
    return len(paths)


NOTES_MARKER = "<!-- Observations: written by hand, kept by scripts/bench. -->"
DETECTION_BEGIN = "<!-- detection_bench: begin (written by scripts/bench_report.py) -->"
DETECTION_END = "<!-- detection_bench: end -->"

TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def metric(entry, name):
    if entry is None:
        return None
    if name in ("time", "time_ns"):
        # Google Benchmark's own choice: CPU time unless the benchmark asked for real time.
        clock = "real_time" if "/real_time" in entry.get("run_name", "") else "cpu_time"
        value = entry.get(clock)
        if value is None:
            return None
        return value * TO_NS[entry.get("time_unit", "ns")] if name == "time_ns" else value
    value = entry.get(name)
    return float(value) if value is not None else None


def pick(runs, name):
    r = runs.get(name)
    if r is None:
        return None, None
    return r.get("median") or r.get("single"), r.get("cv")


def fmt_value(value, name, unit):
    if value is None:
        return "—"
    if name == "items_per_second":
        return f"{value / 1e6:.2f} M/s"
    if name == "bytes":
        return f"{value / 1e6:.2f} MB" if value >= 1e6 else f"{value / 1e3:.1f} kB"
    if name == "time":
        return f"{value:,.2f} {unit}"
    if name.endswith("_ns"):
        return f"{value:,.0f} ns" if value >= 100 else f"{value:.1f} ns"
    if name.endswith("_pct"):
        return f"{value:.1f} %"
    return f"{value:,.1f}"


def fmt_target(target, name, unit):
    if target is None:
        return "—"
    op, value = target
    return f"{'≤' if op == '<=' else '≥'} {fmt_value(value, name, unit)}"


def verdict(target, value):
    if target is None or value is None:
        return "—"
    op, limit = target
    ok = value <= limit if op == "<=" else value >= limit
    return "**met**" if ok else "**missed**"


def ratio(value, base, name):
    if value is None or base is None or value == 0 or base == 0:
        return "—"
    # Always "how many times better than the baseline": > 1 means ours wins.
    r = base / value if name in LOWER_IS_BETTER else value / base
    return f"{r:.2f}×"


def note(entry, base_entry, key):
    if not key:
        return ""
    if isinstance(key, tuple):
        return "; ".join(filter(None, (note(entry, base_entry, k) for k in key)))
    if key == "process_spread":
        spread = entry.get(key) if entry else None
        if not spread:
            return ""
        repetitions, processes, low, high = spread
        return (f"median of {repetitions} repetitions in {processes} more processes; their "
                f"medians and the main run's ranged {low:.1f}–{high:.1f} %")
    ours = metric(entry, key)
    if ours is None:
        return ""
    if key == "bytes":
        return f"{ours / 1e6:.2f} MB" if ours >= 1e6 else f"{ours / 1e3:.1f} kB"
    if key == "events_per_runOnce":
        text = f"{ours:,.0f} events per runOnce()"
    elif key == "apply_wall_Mps":
        text = f"drain + apply {ours:.2f} M/s by wall clock"
    elif key == "series_per_link":
        text = f"{ours:,.1f} series a link"
    elif key == "heap_bytes":
        text = f"heap {ours / 1e6:.2f} MB" if ours >= 1e6 else f"heap {ours / 1e3:.1f} kB"
        theirs = metric(base_entry, key)
        if theirs is not None:
            text += f" ({theirs / 1e6:.1f} MB)"
        return text
    elif key == "added_ns":
        text = f"+{ours:,.0f} ns a message"
    elif key == "plain_ns":
        text = f"QuickFIX alone {ours:,.0f} ns"
    else:
        text = f"{key} {ours:,.0f}"
    theirs = metric(base_entry, key)
    if theirs is not None and key == "dropped":
        text += f" (baseline {theirs:,.0f})"
    return text


def table(runs, rows):
    out = ["| what | figure (median of 5) | cv | target | baseline, same run | ratio | "
           "met? | notes |",
           "|---|---|---|---|---|---|---|---|"]
    for what, name, key, target, base_name, note_key in rows:
        entry, cv = pick(runs, name)
        base, _ = pick(runs, base_name) if base_name else (None, None)
        unit = entry.get("time_unit", "ns") if entry else "ns"
        value = metric(entry, key)
        base_value = metric(base, key)
        cv_text = "—"
        if cv is not None:
            # Spread of the repetitions for the figure itself (time for rates and times).
            cv_src = key
            if key in ("time", "time_ns", "items_per_second"):
                cv_src = "real_time" if "/real_time" in name else "cpu_time"
            if cv.get(cv_src) is not None:
                cv_text = f"{100 * float(cv[cv_src]):.0f} %"
        out.append(
            f"| {what} | {fmt_value(value, key, unit)} | {cv_text} | "
            f"{fmt_target(target, key, unit)} | {fmt_value(base_value, key, unit)} | "
            f"{ratio(value, base_value, key)} | {verdict(target, value)} | "
            f"{note(entry, base, note_key)} |")
    return "\n".join(out)


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def read_first(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return "unknown"


def git(*args):
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", help="Google Benchmark JSON directory (not with --detection-only)")
    p.add_argument("--output", required=True)
    p.add_argument("--command", default="scripts/bench")
    p.add_argument("--load-before", default="")
    p.add_argument("--load-after", default="")
    p.add_argument("--commit", default="", help="commit benchmarked (default: HEAD now)")
    p.add_argument("--dirty", action="store_true", help="the work tree had changes")
    p.add_argument("--process-runs", help="directory of Google Benchmark JSON files, each one "
                   "process's repetitions (not aggregates) of benchmarks also in --results: "
                   "their figures are pooled over the processes (merge_process_runs)")
    p.add_argument("--detection", help="JSON written by detection_bench --json")
    p.add_argument("--detection-command", default="detection_bench",
                   help="how detection_bench was run, for the section's header")
    p.add_argument("--blackbox", help="JSON written by bench/blackbox_compare.py (goes into the "
                   "detection section)")
    p.add_argument("--detection-only", action="store_true",
                   help="replace only the detection section of --output")
    a = p.parse_args()

    commit = a.commit or git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = a.dirty if a.commit else bool(git("status", "--porcelain"))
    try:
        with open(a.output, encoding="utf-8") as f:
            previous = f.read()
    except OSError:
        previous = ""
    section = (detection_section(a.detection, a.detection_command, commit, dirty, a.blackbox)
               if a.detection else previous_detection(previous))

    if a.detection_only:
        if not a.detection:
            sys.exit("bench_report: --detection-only needs --detection FILE")
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(splice_detection(previous, section))
        print(f"bench_report: wrote the detection section of {a.output}")
        return
    if not a.results:
        sys.exit("bench_report: --results DIR is required (or --detection-only)")

    runs, contexts = load_results(a.results)
    if not runs:
        sys.exit(f"bench_report: no benchmark JSON in {a.results}")
    if a.process_runs:
        merge_process_runs(runs, a.process_runs)

    ctx = next(iter(contexts.values()), {})
    lines = [
        "# Benchmark results",
        "",
        "Written by `scripts/bench` (tables by `scripts/bench_report.py`); do not edit by hand.",
        "",
        "## Run",
        "",
        f"- date: {ctx.get('date') or datetime.datetime.now(datetime.timezone.utc).isoformat()}",
        f"- commit: `{commit}`" + (" with uncommitted changes in the work tree" if dirty else ""),
        f"- command: `{a.command}`",
        f"- CPU: {cpu_model()}, {os.cpu_count()} vCPU"
        + (f" at {ctx['mhz_per_cpu']} MHz" if "mhz_per_cpu" in ctx else ""),
        f"- kernel: {platform.release()}; clocksource "
        f"`{read_first('/sys/devices/system/clocksource/clocksource0/current_clocksource')}`",
        f"- build: `release` preset (RelWithDebInfo, -O2 -g); Google Benchmark library build "
        f"type: {ctx.get('library_build_type', 'unknown')} (Debian's package says so; it "
        f"concerns the harness, not the code measured)",
        f"- load average (1, 5, 15 min): {a.load_before or '?'} before, "
        f"{a.load_after or '?'} after",
        "",
        "**This is a shared 2-vCPU VM**: other engineers' builds and tests may have been running "
        "during the run (see the load average). Figures are medians of 5 repetitions; `cv` is "
        "their coefficient of variation. Treat a difference under ~20 % as noise. The "
        "repetitions of each bench binary's benchmarks run interleaved in random order, so a "
        "change in the host's speed while it runs falls on a figure and its baseline alike.",
        "",
        "How to read the tables: *ratio* is how many times better than the baseline measured in "
        "the same run (> 1: ours wins), for rates figure ÷ baseline, for times and latencies "
        "baseline ÷ figure. Latency rows come from the `*Latency` benchmarks: each operation "
        "(or batch of 64) timed with `clock_gettime(CLOCK_MONOTONIC)`, minus the median cost of "
        "two back-to-back reads measured in the same run (`clock_ns`). EventHub throughput rows "
        "are Google Benchmark's items/s over real time, summed over the producer threads; the "
        "consumer thread comes on top, so 2 and 4 producers oversubscribe the 2 vCPUs. "
        "Single-threaded rows (LinkMonitor, /metrics, clock, scan) use CPU time, which a busy "
        "neighbour disturbs less than real time.",
        "",
    ]
    for title, rows, description in GROUPS:
        lines += [f"## {title}", "", description, "", table(runs, rows), ""]
    # This run's detection figures, or the previous run's (the section dates itself).
    if section:
        lines += [section, ""]
    # Sections written by other tools between the detection section and the observations
    # (the scale run's, for one) are kept as they are.
    if DETECTION_END in previous:
        between = previous.split(DETECTION_END, 1)[1].split(NOTES_MARKER, 1)[0].strip("\n")
        if between.strip():
            lines += [between, ""]
    # Hand-written observations below the marker survive a rewrite.
    if NOTES_MARKER in previous:
        lines += [NOTES_MARKER + previous.split(NOTES_MARKER, 1)[1].rstrip("\n"), ""]
    with open(a.output, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print(f"bench_report: wrote {a.output}")


if __name__ == "__main__":
    main()
