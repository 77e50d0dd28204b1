"""Assembles bench/run.sh's measurements into one JSON result file and prints the table against design.md §4."""
import argparse
import json
import os
import platform
import sys
from datetime import datetime, timezone

TARGETS = {
    "intake_accepted_per_s": 10_000,
    "p99_ms_at_fixed_rate": 20,
    "ratio_to_bare": 0.30,
    "drain_events_per_s": 3_000,
    "peak_rss_mb": 300,
    "cold_start_s": 1.5,
}


# ext4 without a journal skips inodes freed less than 60 s ago, or 360 s while their inode-table block is still
# unwritten, reading each candidate's block to find out (recently_deleted() in fs/ext4/ialloc.c).
RECENTLY_DELETED_S = 360


def filesystem_of(path):
    """The data directory's file system, and for ext4 whether it has a journal: without one, ext4 will not reuse an
    inode deleted in the last few minutes and checks each candidate to find out, so file creation (three files per
    event in the drain) slows down for about five minutes after a large delete (docs/performance.md)."""
    try:
        dev = os.stat(path).st_dev
        wanted = f"{os.major(dev)}:{os.minor(dev)}"
        with open("/proc/self/mountinfo") as mounts:
            for line in mounts:
                parts = line.split()
                if len(parts) > 2 and parts[2] == wanted and "-" in parts:
                    fstype, source = parts[parts.index("-") + 1], parts[parts.index("-") + 2]
                    journal = None
                    if fstype == "ext4":
                        name = os.path.basename(source)
                        journal = os.path.isdir("/proc/fs/jbd2") and any(e.startswith(name + "-") for e in os.listdir("/proc/fs/jbd2"))
                    return {"type": fstype, "source": source, "journal": journal}
    except OSError:
        pass
    return None


def load(work, name):
    path = os.path.join(work, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else None


def wrk_summary(run, cpu_seconds):
    if run is None:
        return None
    seconds = run["duration_us"] / 1e6
    lat = run["latency_us"]
    return {
        "seconds": round(seconds, 2),
        "requests": run["requests"],
        "requests_per_s": round(run["requests"] / seconds, 1),
        "accepted_202": run["status_202"],
        "duplicate_200": run["status_200"],
        "other_status": run["status_other"],
        "socket_errors": run["errors"],
        "accepted_per_s": round(run["status_202"] / seconds, 1),
        "answered_2xx_per_s": round((run["status_202"] + run["status_200"]) / seconds, 1),
        "latency_ms": {k: round(v / 1000, 3) for k, v in lat.items()},
        "target_rate": run["target_rate"] or None,
        "late_sends": run["late_sends"],
        "max_send_lag_ms": run["max_send_lag_ms"],
        "mean_distinct_body_bytes": run.get("mean_distinct_body_bytes"),
        "server_cpu_seconds": cpu_seconds,
        "server_cpu_us_per_request": round(cpu_seconds * 1e6 / run["requests"], 1) if cpu_seconds and run["requests"] else None,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("work")
    parser.add_argument("result_file")
    for option in ("quick", "duration", "threads", "connections", "fixed-connections", "rate", "host-log-lines"):
        parser.add_argument("--" + option, type=int)
    for option in ("cold-start", "bare-ready", "peak-rss-kb", "rss-kb"):
        parser.add_argument("--" + option, type=float)
    parser.add_argument("--since-previous-cleanup", type=lambda v: int(v) if v else None,
                        help="seconds since an earlier run deleted its data directory (empty: none recorded)")
    parser.add_argument("--commit")
    args = parser.parse_args()

    def cpu(name):
        path = os.path.join(args.work, name + ".cpu")
        return float(open(path).read()) if os.path.exists(path) else None

    runs = {name: wrk_summary(load(args.work, name), cpu(name)) for name in (
        "bare-throughput", "bare-fixed-rate", "host-throughput", "host-fixed-rate", "host-duplicate-mix", "held-throughput", "held-fixed-rate")}
    drains = {name: load(args.work, name + "-drain") for name in ("host-throughput", "host-fixed-rate", "host-duplicate-mix")}

    host, bare, fixed = runs["host-throughput"], runs["bare-throughput"], runs["host-fixed-rate"]
    # Intake's targets are measured on intake alone (deliveries held, every webhook queued durably); the drain target
    # on the backlog that run left, drained by a host started afterwards. The full pipeline's run (intake, audit and
    # catalog competing for the same 2 cores) is reported beside them.
    alone = runs["held-throughput"] or host
    alone_fixed = runs["held-fixed-rate"] or fixed
    backlog = load(args.work, "backlog-drain")
    ratio = alone["accepted_per_s"] / bare["requests_per_s"] if bare["requests_per_s"] else 0
    pipeline_ratio = host["accepted_per_s"] / bare["requests_per_s"] if bare["requests_per_s"] else 0
    drain = drains["host-throughput"]
    drain_rate = drain.get("events_per_second_load_start_to_empty")
    # With no backlog at the end of the load the pipeline kept pace with intake: the rate is a lower bound of what
    # it can drain, not its ceiling.
    drain_bounded_by_intake = drain_rate is not None and drain["deliveries_pending_at_end_of_load"] == 0
    try:
        load_avg = os.getloadavg()
    except OSError:
        load_avg = None
    filesystem = filesystem_of(args.work)

    audit_path = os.path.join(args.work, "audit-objects")
    audit_objects = int(open(audit_path).read()) if os.path.exists(audit_path) else -1
    accepted_total = 1 + sum((load(args.work, n) or {"status_202": 0})["status_202"]
                             for n in ("host-warmup", "host-throughput", "host-fixed-rate", "host-duplicate-mix"))
    audit = None if audit_objects < 0 else {
        "raw_audit_objects": audit_objects, "accepted_202_total": accepted_total,
        "objects_minus_202s": audit_objects - accepted_total,
        "note": "objects may exceed 202s by requests in flight when wrk stopped (at most connections per run); fewer would be a lost event",
    }

    # A drain that gave up (deliveries left) measured a timeout, not a rate: no number, and the run is reported broken below.
    backlog_rate = backlog.get("events_per_s") if backlog and not backlog.get("deliveries_left") else None
    measured = {
        "intake_accepted_per_s": alone["accepted_per_s"],
        "p99_ms_at_fixed_rate": alone_fixed["latency_ms"]["p99"],
        "ratio_to_bare": round(ratio, 3),
        "drain_events_per_s": backlog_rate if backlog_rate is not None else drain_rate,
        "peak_rss_mb": round(args.peak_rss_kb / 1024, 1),
        "cold_start_s": args.cold_start,
    }
    met = {}
    for key, target in TARGETS.items():
        value = measured[key]
        if value is None:
            met[key] = None
        elif key == "drain_events_per_s" and backlog_rate is None and drain_bounded_by_intake and value < target:
            met[key] = None  # undetermined: the pipeline was never behind
        elif key in ("p99_ms_at_fixed_rate", "peak_rss_mb", "cold_start_s"):
            met[key] = value <= target
        else:
            met[key] = value >= target
    # A fixed-rate run whose sender fell behind its schedule did not measure latency at that rate.
    fixed_rate_held = alone_fixed["late_sends"] <= 0.01 * max(alone_fixed["requests"], 1)
    if not fixed_rate_held:
        met["p99_ms_at_fixed_rate"] = False  # the host did not sustain the rate, so it cannot meet a latency at it
    pipeline = {"accepted_per_s": host["accepted_per_s"], "ratio_to_bare": round(pipeline_ratio, 3),
                "p99_ms_at_fixed_rate": fixed["latency_ms"]["p99"],
                "fixed_rate_held": fixed["late_sends"] <= 0.01 * max(fixed["requests"], 1),
                "events_per_s_load_start_to_empty": drain_rate, "kept_up": drain_bounded_by_intake}

    result = {
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": args.commit,
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "load_average_at_end": load_avg,
                    "filesystem": filesystem, "s_since_previous_run_deleted_its_data": args.since_previous_cleanup},
        "settings": {"quick": bool(args.quick), "duration_s": args.duration, "wrk_threads": args.threads,
                     "connections": args.connections, "fixed_rate_per_s": args.rate,
                     "fixed_rate_connections": args.fixed_connections,
                     "payload": "distinct ~2 KiB Supabase product INSERT (4 variants, 3 categories), x-api-key",
                     "fixed_rate_tool": "wrk with a Lua send schedule (bench/webhooks.lua delay()); latency from actual send"},
        "targets": TARGETS,
        "measured": measured,
        "met": met,
        "fixed_rate_held": fixed_rate_held,
        "runs": runs,
        "drain": drains,
        "backlog_drain": backlog,
        "full_pipeline": pipeline,
        "drain_bounded_by_intake": drain_bounded_by_intake,
        "audit": audit,
        "host": {"cold_start_s": args.cold_start, "peak_rss_kb": args.peak_rss_kb, "rss_at_end_kb": args.rss_kb,
                 "log_lines": args.host_log_lines},
        "bare": {"start_to_ready_s": args.bare_ready},
        "settle_s": {name: float(open(os.path.join(args.work, f"settle-{name}.s")).read())
                     for name in ("intake-alone", "backlog-drain") if os.path.exists(os.path.join(args.work, f"settle-{name}.s"))},
    }
    os.makedirs(os.path.dirname(args.result_file), exist_ok=True)
    with open(args.result_file, "w") as out:
        json.dump(result, out, indent=2)
        out.write("\n")

    def fmt(value, unit=""):
        if value is None:
            return "n/a"
        return f"{value:,.3f}{unit}" if isinstance(value, float) and value < 10 else f"{value:,.0f}{unit}" if isinstance(value, (int, float)) else str(value)

    def mark(key):
        return {True: "ok", False: "SHORT", None: "n/a"}[met[key]]

    mix = runs["host-duplicate-mix"]
    rows = [
        ("intake alone: accepted/s", fmt(measured["intake_accepted_per_s"]), ">= 10,000", mark("intake_accepted_per_s")),
        ("intake alone: ratio to bare 202", f"{ratio:.1%} ({bare['requests_per_s']:,.0f}/s bare)", ">= 30%", mark("ratio_to_bare")),
        (f"{'intake alone' if runs['held-fixed-rate'] else 'full pipeline'}: p99 at {args.rate}/s", f"{alone_fixed['latency_ms']['p99']:.2f} ms" + ("" if fixed_rate_held else f" (rate not held: {alone_fixed['requests_per_s']:,.0f}/s)"),
         "<= 20 ms", mark("p99_ms_at_fixed_rate")),
        ("drain of the backlog after restart",
         fmt(backlog_rate, " ev/s") + f" ({backlog['events']:,} events)" if backlog_rate else "n/a", ">= 3,000 ev/s", mark("drain_events_per_s")),
        ("full pipeline: accepted/s", f"{host['accepted_per_s']:,.0f} ({pipeline_ratio:.1%} of bare)", "", ""),
        ("full pipeline: load start to empty",
         (("≥ " if drain_bounded_by_intake else "") + fmt(drain_rate, " ev/s") + (" (kept up)" if drain_bounded_by_intake else "")) if drain_rate else "n/a (no subscriber)",
         "", ""),
        ("peak RSS (VmHWM)", f"{measured['peak_rss_mb']:.0f} MB", "<= 300 MB", mark("peak_rss_mb")),
        ("cold start to /readyz 200", f"{args.cold_start:.2f} s", "<= 1.5 s", mark("cold_start_s")),
    ]
    print()
    print(f"{'measure':<36} {'value':<34} {'target':<14} status")
    for row in rows:
        print(f"{row[0]:<36} {row[1]:<34} {row[2]:<14} {row[3]}")
    print()
    lat = host["latency_ms"]
    flat = fixed["latency_ms"]
    print(f"full load ({args.connections} conns): p50 {lat['p50']:.2f} ms, p99 {lat['p99']:.2f} ms, p99.9 {lat['p99_9']:.2f} ms;"
          f" non-2xx {host['other_status']}, socket errors {sum(host['socket_errors'].values())}")
    print(f"full pipeline at fixed {args.rate}/s ({args.fixed_connections} conns): achieved {fixed['requests_per_s']:,.0f}/s, p50 {flat['p50']:.2f} ms, p99 {flat['p99']:.2f} ms,"
          f" p99.9 {flat['p99_9']:.2f} ms, late sends {fixed['late_sends']}")
    if runs["held-throughput"] and runs["held-fixed-rate"]:
        alat, afix = alone["latency_ms"], alone_fixed["latency_ms"]
        print(f"intake alone: full load p50 {alat['p50']:.2f} ms, p99 {alat['p99']:.2f} ms, host CPU {alone['server_cpu_us_per_request'] or 0:.0f} µs/request;"
              f" at {args.rate}/s ({args.fixed_connections} conns) achieved {alone_fixed['requests_per_s']:,.0f}/s, p50 {afix['p50']:.2f} ms, p99 {afix['p99']:.2f} ms, late sends {alone_fixed['late_sends']}")
    if backlog:
        print(f"backlog drain: {backlog['events']:,} events in {backlog['seconds_start_to_empty']:.1f} s from the host's start"
              f" ({backlog['start_to_ready_s']:.2f} s to ready; {backlog['events_per_s_after_ready'] or 0:,.0f} ev/s after),"
              f" {backlog['host_cpu_us_per_event_after_ready'] or 0:.0f} µs CPU/event, {backlog['raw_audit_objects']:,} raw-audit objects")
    if runs["bare-fixed-rate"]:
        bflat = runs["bare-fixed-rate"]["latency_ms"]
        print(f"bare at {args.rate}/s: p50 {bflat['p50']:.2f} ms, p99 {bflat['p99']:.2f} ms, p99.9 {bflat['p99_9']:.2f} ms (load generator + machine floor)")
    print(f"duplicate-heavy mix (80% resends of 64 bodies): {mix['answered_2xx_per_s']:,.0f} answered/s"
          f" ({mix['accepted_202']} new, {mix['duplicate_200']} duplicates, {mix['other_status']} other), p99 {mix['latency_ms']['p99']:.2f} ms")
    if host["server_cpu_us_per_request"] and bare["server_cpu_us_per_request"]:
        print(f"server CPU per request at full load: host {host['server_cpu_us_per_request']:.0f} µs, bare {bare['server_cpu_us_per_request']:.0f} µs"
              f" (cost ratio {bare['server_cpu_us_per_request'] / host['server_cpu_us_per_request']:.1%})")
    if audit:
        print(f"raw-audit objects {audit['raw_audit_objects']:,} for {audit['accepted_202_total']:,} 202s"
              f" ({audit['objects_minus_202s']:+,}; + is 202s in flight when wrk stopped, - would be lost events)")
    if filesystem and filesystem["journal"] is False:
        print(f"file system: ext4 without a journal ({filesystem['source']}): file creation is slower for about five minutes"
              " after a large delete, which lowers the drain (docs/performance.md, fourth round)")
        since = args.since_previous_cleanup
        if since is not None and since < RECENTLY_DELETED_S:
            print(f"  the previous bench run deleted its data {since} s before this one started (under {RECENTLY_DELETED_S} s):"
                  " this run's drain is likely low for that reason alone")
    if result["settle_s"]:
        print("page cache written out before the next phase (sync): "
              + ", ".join(f"before {name} {seconds:.1f} s" for name, seconds in result["settle_s"].items()))
    if load_avg:
        print(f"load average at end: {load_avg[0]:.2f} (2 cores shared: numbers are noisy; the ratio to bare is the stable figure)")

    # The harness worked when every run produced answers and the probe passed; targets do not decide the exit code.
    broken = [name for name, run in runs.items() if run is not None and run["requests"] == 0]
    if host["accepted_202"] == 0:
        broken.append("host-throughput accepted nothing")
    broken += [f"{name} drain gave up with {d['deliveries_pending_after_drain']} deliveries pending"
               for name, d in drains.items() if d and d.get("deliveries_pending_after_drain")]
    if backlog and backlog.get("deliveries_left"):
        broken.append(f"backlog drain gave up with {backlog['deliveries_left']} deliveries left")
    if broken:
        print("harness problem: " + ", ".join(broken), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
