#!/usr/bin/env bash
# Intake benchmark of the standalone host against design.md §4 (method and numbers: docs/performance.md).
#
#   bash bench/run.sh [--duration 20s] [--quick] [--connections 64] [--threads 2] [--rate 5000] [--fixed-connections N]
#
# Publishes the standalone host and a bare 202 endpoint in Release, starts each on a free 127.0.0.1 port, drives
# them with wrk (bench/webhooks.lua: distinct ~2 KiB product webhooks with a valid API key), and reports accepted/s,
# the ratio to the bare endpoint, latency percentiles at full load and at a fixed rate, the pipeline's drain rate,
# peak RSS and cold start. Writes bench/results/<timestamp>.json and prints a table with the targets.
# BENCH_HOST_ARGS adds configuration to the host's command line (e.g. "--Logging:LogLevel:Default=Warning");
# BENCH_KEEP=1 keeps the temporary directory (logs, data, raw wrk output); BENCH_RESULTS_DIR writes the result
# file elsewhere than bench/results (the CI smoke test does, so that it leaves nothing in the tree).
# Exits 0 when the harness worked (every run produced numbers), whether or not the targets were met.
# Only loopback traffic; every run is bounded by its duration; every process it starts is stopped by PID on exit.
set -euo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$bench_dir/.." && pwd)"

duration=20
quick=0
connections=64
threads=2
rate=5000
fixed_connections=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration="${2%s}"; shift 2 ;;
    --quick) quick=1; shift ;;
    --connections) connections="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --fixed-connections) fixed_connections="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [[ $quick -eq 1 ]]; then
  duration=1
fi
# A fixed-rate run keeps a send schedule, and a connection still waiting for its response when its next send is
# due makes that send late. With the full-load run's 64 connections at 5,000/s each connection sends every 12.8 ms,
# so responses that met the 20 ms p99 target still pushed the sender off its schedule. The fixed-rate runs get
# enough connections that a response within the target never delays a send: rate x 20 ms, rounded up to a power
# of two, and never fewer than --connections (128 at 5,000/s).
if [[ -z "$fixed_connections" ]]; then
  fixed_connections=$connections
  while (( fixed_connections * 1000 < rate * 20 )); do fixed_connections=$(( fixed_connections * 2 )); done
fi
warmup=$(( quick ? 1 : 5 ))
fixed_duration=$(( quick ? 1 : (duration < 15 ? duration : 15) ))
mix_duration=$(( quick ? 1 : (duration / 2 > 5 ? duration / 2 : 5) ))

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- tools -----------------------------------------------------------------------------------------------------
need_apt=()
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
command -v sqlite3 >/dev/null 2>&1 || need_apt+=(sqlite3)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
if [[ ${#need_apt[@]} -gt 0 ]]; then
  log "installing ${need_apt[*]} with apt"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  fi
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# --- processes: every one we start is recorded and stopped by PID on exit -----------------------------------
work="$(mktemp -d /tmp/axentra-bench.XXXXXX)"
# When the previous run deleted its data directory (hundreds of thousands of files), and how many seconds ago: on
# ext4 without a journal, file creation stays slower for up to six minutes after that (docs/performance.md).
cleaned_at_file="/tmp/axentra-bench.cleaned-at"
since_cleanup=""
if [[ -r "$cleaned_at_file" ]] && cleaned_at="$(cat "$cleaned_at_file")" && [[ "$cleaned_at" =~ ^[0-9]+$ ]]; then
  since_cleanup=$(( $(date +%s) - cleaned_at ))
fi
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  if [[ "${BENCH_KEEP:-0}" != 1 ]]; then
    rm -rf "$work"
    # Only a full run deletes enough files to slow the next one down; a marker nobody may write is no failure.
    if [[ $quick -eq 0 ]]; then date +%s 2>/dev/null >"$cleaned_at_file" || true; fi
  fi
}
trap cleanup EXIT INT TERM

stop_pid() {
  local pid="$1"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

now() { echo "$EPOCHREALTIME"; }

# Waits for GET $1 to answer 200; prints the seconds it took since $2 (an EPOCHREALTIME), or fails after 60 s.
wait_ready() {
  local url="$1" started="$2" pid="$3"
  for _ in $(seq 6000); do
    if ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)" == 200 ]]; then
      python3 -c "print(round($(now) - $started, 3))"
      return 0
    fi
    sleep 0.01
  done
  return 1
}

# --- build --------------------------------------------------------------------------------------------------
publish_root="$repo_root/artifacts/bench"
log "publishing the standalone host and the bare endpoint (Release)"
dotnet publish "$repo_root/services/standalone/Axentra.Standalone" -c Release -o "$publish_root/standalone" --nologo -v quiet >"$work/publish-host.log" 2>&1 \
  || { cat "$work/publish-host.log" >&2; exit 1; }
dotnet publish "$bench_dir/BareEndpoint" -c Release -o "$publish_root/bare" --nologo -v quiet >"$work/publish-bare.log" 2>&1 \
  || { cat "$work/publish-bare.log" >&2; exit 1; }

# --- load ---------------------------------------------------------------------------------------------------
api_key="axk_webhook_bench_$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
run_counter=0

# CPU seconds (user + system) the process $1 has used so far: divided by requests, a cost that the other load on
# a shared machine does not change much (unlike requests/s).
cpu_seconds() { [[ -r "/proc/$1/stat" ]] && awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }

# alive NAME PID: the measured server must outlive each run; a dead one is a harness failure, never a low number.
alive() { kill -0 "$2" 2>/dev/null || { log "$1 (pid $2) exited during the measurement"; tail -30 "$work/host.log" "$work/drain-host.log" 2>/dev/null >&2; exit 1; }; }

# peak_rss HOST_PID: the process's peak resident set (VmHWM, kB), kept as the maximum over every host measured.
peak_rss_kb=0
note_peak_rss() { local kb; kb="$(awk '/^VmHWM:/ {print $2}' "/proc/$1/status")" && (( kb > peak_rss_kb )) && peak_rss_kb=$kb; return 0; }

# run_wrk NAME URL SECONDS [ENV=VALUE...]: one wrk run against the server $server_pid; its BENCH_JSON line goes to
# $work/NAME.json and the server's CPU seconds during the run to $work/NAME.cpu.
run_wrk() {
  local name="$1" url="$2" seconds="$3" cpu_before cpu_after conns="${RUN_CONNECTIONS:-$connections}"
  shift 3
  cpu_before="$(cpu_seconds "$server_pid")" || alive "the server" "$server_pid"
  run_counter=$((run_counter + 1))
  log "wrk $name: ${seconds}s, $threads threads, $conns connections $*"
  env BENCH_API_KEY="$api_key" BENCH_RUN_ID="$(date +%s%N)-$run_counter" BENCH_THREADS="$threads" "$@" \
    wrk -t"$threads" -c"$conns" -d"${seconds}s" --timeout 10s --latency -s "$bench_dir/webhooks.lua" "$url" \
    >"$work/$name.txt" 2>&1 || { cat "$work/$name.txt" >&2; return 1; }
  grep '^BENCH_JSON ' "$work/$name.txt" | sed 's/^BENCH_JSON //' >"$work/$name.json"
  [[ -s "$work/$name.json" ]] || { cat "$work/$name.txt" >&2; return 1; }
  alive "the server" "$server_pid"
  cpu_after="$(cpu_seconds "$server_pid")" || alive "the server" "$server_pid"
  python3 -c "print(round($cpu_after - $cpu_before, 3))" >"$work/$name.cpu"
}

# load_runs PREFIX URL: warm-up, full load and (not with --quick) the fixed rate, as runs PREFIX-warmup,
# PREFIX-throughput and PREFIX-fixed-rate; the bare endpoint and intake alone are measured the same way.
load_runs() {
  run_wrk "$1-warmup" "$2" "$warmup"
  run_wrk "$1-throughput" "$2" "$duration"
  if [[ $quick -eq 0 ]]; then
    RUN_CONNECTIONS=$fixed_connections run_wrk "$1-fixed-rate" "$2" "$fixed_duration" BENCH_RATE="$rate"
  fi
}

# --- bare endpoint --------------------------------------------------------------------------------------------
bare_port="$(free_port)"
started="$(now)"
"$publish_root/bare/axentra-bare-endpoint" --urls "http://127.0.0.1:$bare_port" >"$work/bare.log" 2>&1 &
bare_pid=$!
pids+=("$bare_pid")
server_pid="$bare_pid"
bare_ready="$(wait_ready "http://127.0.0.1:$bare_port/readyz" "$started" "$bare_pid")" || { cat "$work/bare.log" >&2; exit 1; }
log "bare endpoint ready in ${bare_ready}s"
load_runs bare "http://127.0.0.1:$bare_port/webhooks/supabase"
stop_pid "$bare_pid"

# --- standalone host ------------------------------------------------------------------------------------------
# start_host NAME DATA_DIR [ARGS...]: starts a host on a free port with the bench's key and no rate limit; sets
# $host_pid, $server_pid and $host_url, and writes its start-to-ready seconds to NAME.ready (log: NAME.log).
start_host() {
  local name="$1" dir="$2" port started
  shift 2
  port="$(free_port)"
  started="$(now)"
  "$publish_root/standalone/axentra-standalone" --urls "http://127.0.0.1:$port" --Standalone:DataDir="$dir" \
    --Intake:Auth:ApiKeys:0="$api_key" --Intake:RateLimit:PermitsPerSecond=0 ${BENCH_HOST_ARGS:-} "$@" >"$work/$name.log" 2>&1 &
  host_pid=$!
  pids+=("$host_pid")
  server_pid="$host_pid"
  host_url="http://127.0.0.1:$port/webhooks/supabase"
  wait_ready "http://127.0.0.1:$port/readyz" "$started" "$host_pid" >"$work/$name.ready" || { tail -50 "$work/$name.log" >&2; exit 1; }
}
data_dir="$work/data"
db="$data_dir/axentra.db"
start_host host "$data_dir"
cold_start="$(cat "$work/host.ready")"
log "standalone host (pid $host_pid) ready in ${cold_start}s"

sql() { sqlite3 -cmd '.timeout 5000' "$db" "$1"; }
published_total() { sql "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'queue_messages'), 0)"; }
# Pending deliveries: each subscriber's messages past its cursor, and failed deliveries awaiting a retry.
queue_depth() { sql "SELECT (SELECT COUNT(*) FROM queue_deliveries WHERE state = 0)
  + (SELECT COALESCE(SUM((SELECT COUNT(*) FROM queue_messages m WHERE m.topic = c.topic AND m.id > c.position)), 0) FROM queue_cursors c)"; }
# The drain loops poll every 100 ms on the same 2 cores as the host, so the poll must cost next to nothing: EXISTS
# stops at the first pending delivery, where COUNT(*) walked every one (about 10 ms with 340,000 pending), and the
# time limit is bash arithmetic, not a python3 start each round.
queue_pending() { [[ "$(sql "SELECT EXISTS (SELECT 1 FROM queue_deliveries WHERE state = 0)
  OR EXISTS (SELECT 1 FROM queue_cursors c JOIN queue_messages m ON m.topic = c.topic AND m.id > c.position)")" == 1 ]]; }
older_than() { (( ${EPOCHREALTIME%.*} - ${1%.*} > $2 )); } # older_than EPOCHREALTIME SECONDS

# One request first: the harness is wrong, not the host, if a valid webhook is not accepted.
probe_body='{"type":"INSERT","table":"products","schema":"public","record":{"id":"probe-'"$(date +%s%N)"'","store_id":"223e4567-e89b-12d3-a456-426614174000","name":"Probe"},"old_record":null}'
probe_status="$(curl -s -o "$work/probe.txt" -w '%{http_code}' -H 'Content-Type: application/json' -H "x-api-key: $api_key" \
  --data-binary "$probe_body" "$host_url" 2>/dev/null || true)"
if [[ "$probe_status" != 202 ]]; then
  log "probe webhook answered $probe_status: $(cat "$work/probe.txt" 2>/dev/null)"
  tail -20 "$work/host.log" >&2
  exit 1
fi

# drain NAME: after a load run, time until no delivery is pending; writes $work/NAME-drain.json.
drain() {
  local name="$1" published_before="$2" load_seconds="$3" accepted="$4"
  local ended depth_at_end depth published_after drained_at
  ended="$(now)"
  depth_at_end="$(queue_depth)"
  depth=0
  while [[ "$depth_at_end" -gt 0 ]] && queue_pending; do
    alive "the host" "$host_pid"
    if older_than "$ended" 300; then
      depth="$(queue_depth)"
      log "queue still holds $depth deliveries after 300 s; giving up on the drain measurement"
      break
    fi
    sleep 0.1
  done
  drained_at="$(now)"
  published_after="$(published_total)"
  python3 - "$work/$name-drain.json" <<EOF
import json, sys
published = $published_after - $published_before
drain_s = $drained_at - $ended
load_s = $load_seconds
accepted = $accepted
result = {"published_messages": published, "deliveries_pending_at_end_of_load": $depth_at_end,
          "deliveries_pending_after_drain": $depth, "seconds_after_load_until_empty": round(drain_s, 3)}
if published == 0:
    result["note"] = "nothing subscribes to webhook-events: intake only, nothing to drain"
else:
    result["events_per_second_load_start_to_empty"] = round(accepted / (load_s + drain_s), 1)
    # deliveries, not events: each event has one delivery per subscriber (audit, catalog)
    result["deliveries_per_second_backlog_only"] = round($depth_at_end / drain_s, 1) if drain_s > 0.2 and $depth_at_end > 0 else None
json.dump(result, open(sys.argv[1], "w"))
EOF
}

accepted_of() { python3 -c "import json; print(json.load(open('$work/$1.json'))['status_202'])"; }
seconds_of() { python3 -c "import json; print(json.load(open('$work/$1.json'))['duration_us'] / 1e6)"; }

run_wrk host-warmup "$host_url" "$warmup"
drain host-warmup "$(published_total)" "$warmup" "$(accepted_of host-warmup)"

before="$(published_total)"
run_wrk host-throughput "$host_url" "$duration"
drain host-throughput "$before" "$(seconds_of host-throughput)" "$(accepted_of host-throughput)"

before="$(published_total)"
RUN_CONNECTIONS=$fixed_connections run_wrk host-fixed-rate "$host_url" "$fixed_duration" BENCH_RATE="$rate"
drain host-fixed-rate "$before" "$(seconds_of host-fixed-rate)" "$(accepted_of host-fixed-rate)"

before="$(published_total)"
run_wrk host-duplicate-mix "$host_url" "$mix_duration" BENCH_DUP_RATIO=0.8 BENCH_DUP_POOL=64
drain host-duplicate-mix "$before" "$(seconds_of host-duplicate-mix)" "$(accepted_of host-duplicate-mix)"

# Every 202 must end up audited: count the raw-audit objects (one file per event) against the 202s. Events whose
# 202 was still in flight when wrk stopped are audited but not counted by wrk, so a few more objects than 202s
# (at most the connections of each run) is expected; fewer would be a lost event.
audit_dir="$data_dir/axentra-webhook-raw-audit"
audit_objects="$( [[ -d "$audit_dir" ]] && find "$audit_dir" -type f -name '*.json' | wc -l || echo -1)"
echo "$audit_objects" >"$work/audit-objects"

note_peak_rss "$host_pid"
rss_kb="$(awk '/^VmRSS:/ {print $2}' "/proc/$host_pid/status")"
stop_pid "$host_pid"
host_exit_log_lines="$(wc -l <"$work/host.log")"

# settle NAME: writes the page cache's dirty pages out before the next phase, and records how long that took.
# The full pipeline leaves about 1 GB of objects that nothing fsyncs (three files per event); the kernel writes
# them out once they are 30 s old, which is in the middle of the intake-alone runs, and a 5,000/s run that met
# that burst (500 MB/s of writeback and half the CPU in the kernel for a second) saw 1-2 % of its requests stall
# 20-55 ms. Settling first measures intake, not the previous phase's leftovers (docs/performance.md, sixth round).
settle() {
  local started
  started="$(now)"
  sync
  python3 -c "print(round($(now) - $started, 3))" >"$work/settle-$1.s"
  log "settled the page cache before $1 in $(cat "$work/settle-$1.s") s"
}
settle intake-alone

# --- intake alone, then the drain of its backlog -----------------------------------------------------------------
# A second host on a fresh data directory with deliveries held (Standalone:Queue:Deliver=false): intake's own
# throughput and latency, its webhooks queued durably. Then that host stops and one with deliveries on starts on
# the same data directory: the time from its start to an empty queue is the drain of a backlog, start-up included.
data_dir="$work/held-data"
db="$data_dir/axentra.db"
start_host held-host "$data_dir" --Standalone:Queue:Deliver=false
log "intake alone: deliveries held (pid $host_pid)"
load_runs held "$host_url"
note_peak_rss "$host_pid"
stop_pid "$host_pid"
settle backlog-drain
backlog_events="$(sql "SELECT COUNT(*) FROM queue_messages")"
backlog_deliveries="$(queue_depth)"
log "backlog: $backlog_events events, $backlog_deliveries deliveries; draining it with deliveries on"
drain_started="$(now)"
start_host drain-host "$data_dir"
cpu_before="$(cpu_seconds "$host_pid")" || alive "the drain host" "$host_pid"
while queue_pending; do
  alive "the drain host" "$host_pid"
  if older_than "$drain_started" 600; then
    log "backlog not drained after 600 s; giving up on the backlog measurement"
    break
  fi
  sleep 0.1
done
drain_ended="$(now)"
cpu_after="$(cpu_seconds "$host_pid")" || alive "the drain host" "$host_pid"
note_peak_rss "$host_pid"
python3 - "$work/backlog-drain.json" <<EOF
import json, sys
seconds = $drain_ended - $drain_started
ready = float(open("$work/drain-host.ready").read())
cpu = $cpu_after - $cpu_before
json.dump({"events": $backlog_events, "deliveries": $backlog_deliveries, "deliveries_left": $(queue_depth),
           "seconds_start_to_empty": round(seconds, 3), "start_to_ready_s": ready,
           "events_per_s": round($backlog_events / seconds, 1) if seconds > 0 else None,
           "events_per_s_after_ready": round($backlog_events / (seconds - ready), 1) if seconds > ready else None,
           "host_cpu_us_per_event_after_ready": round(cpu * 1e6 / $backlog_events, 1) if $backlog_events else None,
           "raw_audit_objects": $(find "$data_dir/axentra-webhook-raw-audit" -type f -name '*.json' 2>/dev/null | wc -l)},
          open(sys.argv[1], "w"))
EOF
stop_pid "$host_pid"

# --- report ---------------------------------------------------------------------------------------------------
results_dir="${BENCH_RESULTS_DIR:-$bench_dir/results}"
mkdir -p "$results_dir"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
suffix=""
if [[ $quick -eq 1 ]]; then suffix="-quick"; fi
result_file="$results_dir/$stamp$suffix.json"
python3 "$bench_dir/report.py" "$work" "$result_file" \
  --quick "$quick" --duration "$duration" --threads "$threads" --connections "$connections" --fixed-connections "$fixed_connections" --rate "$rate" \
  --cold-start "$cold_start" --bare-ready "$bare_ready" --peak-rss-kb "$peak_rss_kb" --rss-kb "$rss_kb" \
  --host-log-lines "$host_exit_log_lines" --since-previous-cleanup "$since_cleanup" --commit "$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
log "result written to ${result_file#"$repo_root/"}"
