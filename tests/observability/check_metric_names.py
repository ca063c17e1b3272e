#!/usr/bin/env python3
"""Every metric name used in grafana/ and in config/prometheus/rules appears in a real scrape of
linkwatch (or is a recording rule defined in the rules, or a series Prometheus adds itself).

    check_metric_names.py LINKWATCH_BINARY SOURCE_DIR     # runs the demo on free ports
    check_metric_names.py --metrics-file FILE SOURCE_DIR  # checks a saved scrape

Exits 1 listing each unknown name and where it is used.
"""
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import obs_support as obs  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    started = time.monotonic()
    src = pathlib.Path(sys.argv[2]).resolve()
    if sys.argv[1].startswith("--metrics-file="):
        text = pathlib.Path(sys.argv[1].split("=", 1)[1]).read_text()
    else:
        with tempfile.TemporaryDirectory(prefix="lw-metrics-") as tmp:
            _, base = obs.start_demo(sys.argv[1], src, tmp)
            # Some series (RTT, last message, heartbeat intervals) only exist once something
            # happened: wait for them. An interval takes a link's second Heartbeat, which can
            # come after its first RTT probe is answered.
            obs.wait_for("RTT probes, logons, messages and heartbeat intervals in the scrape",
                         lambda: {"linkwatch_rtt_last_seconds", "linkwatch_last_logon_timestamp_seconds",
                                  "linkwatch_last_message_received_timestamp_seconds",
                                  "linkwatch_heartbeat_interval_seconds_bucket"}
                         <= obs.scraped_names(obs.http_get(base + "/metrics")), 20)
            text = obs.http_get(base + "/metrics")
            text += obs.certification_scrape(sys.argv[1], tmp)
            text += obs.fix_worker_scrape(sys.argv[1], tmp)
            obs.stop_all()
    problems, pending, used = obs.check_metric_names(src, text)
    for p in problems:
        print("FAIL", p)
    for p in pending:
        print("PENDING", p)
    print(f"check_metric_names: {used} names used, {len(problems)} unknown, {len(pending)} pending "
          f"({time.monotonic() - started:.1f}s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
