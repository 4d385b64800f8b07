#!/usr/bin/env bash
# The link graph across replicas (issue 18): 3 `arbiter` replicas on one PostgreSQL database
# and one Redis (own key prefix), each driven by its own paced wrk at RATE/3 decisions/s
# (host/server/benches/load/decisions.lua), while examples/graph_follow_lag sends a tracer
# decision every 100 ms to one replica and measures how long the next one takes to know it.
# Prints, per replica: decisions it served, process CPU per decision it served (from
# /proc/<pid>/stat), decisions of the others it followed and the time it spent linking them
# per followed decision (its own histogram); then the tracers' lag percentiles.
# FOLLOW_MS=0 turns following off, for an A/B of the CPU it costs (with TRACERS=0 in both
# arms). RATE 0 drives each replica
# unpaced (as fast as it answers); wrk's pacing is closed-loop (a connection waits its pace
# after each answer), so a paced run reaches RATE only with enough connections (CONNS per
# replica, 16).
# Usage: host/server/benches/load/graph_follow.sh [RATE (3000)] [SECONDS (60)]
#        (needs wrk, PostgreSQL and Redis on loopback; ARBITER_BIN to use a built binary)
set -euo pipefail
cd "$(dirname "$0")/../../../.."
rate="${1:-3000}"
secs="${2:-60}"
follow="${FOLLOW_MS:-100}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/arbiter-target}"
cargo build --release -p arbiter-host --bin arbiter --example graph_follow_lag >/dev/null
bin="${ARBITER_BIN:-$CARGO_TARGET_DIR/release/arbiter}"
lag="$CARGO_TARGET_DIR/release/examples/graph_follow_lag"
data="$(mktemp -d)"
db="arbiter_graph_follow_$$"
prefix="arbiter-bench-$$:"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$data"; psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true' EXIT
psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $db"
url="postgres://postgres@127.0.0.1:5432/$db"
redis="${REDIS_URL:-redis://127.0.0.1:6379}"
pids=()
bases=()
for i in 1 2 3; do
  port=$((18180 + i))
  RUST_LOG=warn "$bin" serve --listen "127.0.0.1:$port" --data-dir "$data" --database-url "$url" \
    --redis-url "$redis" --redis-prefix "$prefix" --graph-follow-ms "$follow" &
  pids+=("$!")
  bases+=("http://127.0.0.1:$port")
  # One after the other: the first start seeds policy set 1 and the admin key.
  for _ in $(seq 1 300); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
done
export ARBITER_KEY="$(cat "$data/admin.key")"
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
metric() { curl -s "$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }
before=()
for p in "${pids[@]}"; do before+=("$(cpu "$p")"); done
conns="${CONNS:-16}"
out="$(mktemp -d)"
for i in 1 2 3; do
  RUN_TAG="g$i-" CONNECTIONS=$conns RATE=$((rate / 3)) wrk -t1 -c$conns -d"${secs}s" --latency \
    -s host/server/benches/load/decisions.lua "${bases[$((i - 1))]}" > "$out/wrk-$i.txt" &
done
# The tracers poll the next replica until it knows their device: with following off that is
# never, so they would load the servers; TRACERS=0 leaves them out (for a fair CPU A/B).
if [ "${TRACERS:-1}" != 0 ] && [ "$follow" != 0 ]; then
  "$lag" --bases "$(IFS=,; echo "${bases[*]}")" --seconds "$((secs - 2))" > "$out/lag.txt" &
  wait $(jobs -p | tail -n 4) 2>/dev/null || true
else
  echo "(no tracers)" > "$out/lag.txt"
  wait $(jobs -p | tail -n 3) 2>/dev/null || true
fi
tck=$(getconf CLK_TCK)
total=0
for i in 1 2 3; do
  p="${pids[$((i - 1))]}"
  base="${bases[$((i - 1))]}"
  served=$(curl -s "$base/metrics" | awk '/^arbiter_decisions_total/ {s += $2} END {print s + 0}')
  used=$(( $(cpu "$p") - ${before[$((i - 1))]} ))
  followed=$(metric "$base" arbiter_graph_followed_total)
  fold=$(metric "$base" arbiter_graph_follow_fold_seconds_sum)
  rps=$(awk '/Requests\/sec/ {print $2}' "$out/wrk-$i.txt")
  total=$(awk -v a="$total" -v b="${rps:-0}" 'BEGIN {print a + b}')
  awk -v i="$i" -v s="$served" -v u="$used" -v t="$tck" -v f="${followed:-0}" -v d="${fold:-0}" -v r="$rps" \
    'BEGIN {printf "replica %d: %.0f decisions/s (wrk), %d served, CPU %.1f us per decision served, %d followed, linking %.2f us per followed decision\n",
      i, r, s, (u / t) * 1e6 / (s > 0 ? s : 1), f, (f > 0 ? d * 1e6 / f : 0)}'
  grep -E "Non-2xx|Socket errors" "$out/wrk-$i.txt" || true
done
echo "== 3 replicas: $total decisions/s in total (asked: $rate), following every ${follow} ms"
cat "$out/lag.txt"
