#!/usr/bin/env bash
# Memory soak (issue 23): the release server under a steady open-loop decision load
# (`examples/decisions_load.rs`, the decisions.lua mix: 5,000 users, 3,000 devices, 250 IPs)
# for SECONDS; every EVERY seconds one line: elapsed, the server's RSS and anonymous RSS
# (/proc/<pid>/status), the data's size on disk and, unless SCRAPE=0, the write queues'
# depth from /metrics. At the end, the slope of RSS over the second half of the run, in bytes
# per decision: a flat server answers ~0.
# SCRAPE=0 reads nothing from /metrics: a render drains the histograms' pending samples, so
# only an unscraped run shows memory that waits for a scrape.
# Usage: host/server/benches/load/soak.sh [sqlite|postgres] [SECONDS] [RATE] [EVERY]
#   BIN=<arbiter binary> LOAD=<decisions_load binary> run another build (A/B) without building.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
backend="${1:-sqlite}"
seconds="${2:-1800}"
rate="${3:-2000}"
every="${4:-30}"
scrape="${SCRAPE:-1}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/arbiter-target}"
if [ -z "${BIN:-}" ] || [ -z "${LOAD:-}" ]; then
  cargo build --release -p arbiter-host --bin arbiter --example decisions_load >/dev/null
fi
bin="${BIN:-$CARGO_TARGET_DIR/release/arbiter}"
load="${LOAD:-$CARGO_TARGET_DIR/release/examples/decisions_load}"
port=18097
data="$(mktemp -d)"
db=""
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -n "$db" ]; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT

args=(serve --listen "127.0.0.1:$port" --data-dir "$data")
if [ "$backend" = postgres ]; then
  db="arbiter_soak_$$"
  psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $db"
  args+=(--database-url "postgres://postgres@127.0.0.1:5432/$db")
fi
RUST_LOG=warn "$bin" "${args[@]}" >"$data/server.log" 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 1 300); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
export ARBITER_KEY="$(cat "$data/admin.key")"

# Kilobytes of `$1` (VmRSS, RssAnon) of the server.
status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$server/status"; }
disk_mb() {
  if [ "$backend" = postgres ]; then
    psql -h 127.0.0.1 -U postgres -d postgres -qAt -c "SELECT pg_database_size('$db') / 1048576"
  else
    du -sm "$data" | cut -f1
  fi
}
# A gauge's value from /metrics ("-" when not scraping or not yet set).
gauge() {
  [ "$scrape" = 1 ] || { echo -; return; }
  local v
  v="$(curl -sf "127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m { print $2 }')"
  echo "${v:--}"
}

"$load" --base "http://127.0.0.1:$port" --rate "$rate" --seconds "$seconds" --warmup 0 \
  --window 60 >"$data/load.out" 2>&1 &
client=$!
pids+=("$client")
echo "== $backend, $rate decisions/s open loop for $seconds s, scrape=$scrape"
printf '%8s %10s %10s %8s %10s %10s\n' elapsed rss_kb anon_kb disk_mb log_queue write_queue
start=$(date +%s)
samples="$data/samples"
while kill -0 "$client" 2>/dev/null; do
  sleep "$every"
  kill -0 "$client" 2>/dev/null || break
  t=$(( $(date +%s) - start ))
  line="$(printf '%8d %10d %10d %8s %10s %10s' "$t" "$(status_kb VmRSS)" "$(status_kb RssAnon)" \
    "$(disk_mb)" "$(gauge arbiter_decision_log_queued)" "$(gauge arbiter_write_queue_depth)")"
  echo "$line" | tee -a "$samples"
done
wait "$client" || true
cat "$data/load.out" | grep -vE '^ +[0-9]+-' || true
# Least-squares slope of RSS over the second half of the samples, per decision.
awk -v r="$rate" -v s="$seconds" '$1 >= s / 2 { n++; x += $1; y += $2 * 1024; xx += $1 * $1; xy += $1 * $2 * 1024 }
  END { if (n < 2) { print "too few samples for a slope"; exit }
        b = (n * xy - x * y) / (n * xx - x * x)
        printf "RSS slope over the second half: %.0f bytes/s = %.1f bytes per decision\n", b, b / r }' "$samples"
