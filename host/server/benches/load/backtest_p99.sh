#!/usr/bin/env bash
# The decision endpoint's latency with and without a backtest running (issue 16: "p99 during
# the run within 2x of its p99 without it"), on a data directory or database that already
# holds a history (host/server/examples/backtest_history.rs fills one).
# Usage: host/server/benches/load/backtest_p99.sh DATA_DIR [DATABASE_URL] [RATE] [ROUNDS]
# Alternates paced wrk runs (RATE decisions/s, 16 connections, 8 s: inside one backtest of a
# million decisions) without and with a
# backtest of the active set over the whole history, ROUNDS times (default 2).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
data="$1"; url="${2:-}"; rate="${3:-1000}"; rounds="${4:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/arbiter-target}"
cargo build --release -p arbiter-host --bin arbiter >/dev/null
bin="$CARGO_TARGET_DIR/release/arbiter"
port=18081
args=(serve --listen "127.0.0.1:$port" --data-dir "$data")
[ -n "$url" ] && args+=(--database-url "$url")
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
RUST_LOG=warn "$bin" "${args[@]}" &
for _ in $(seq 1 600); do curl -sf "127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.5; done
export ARBITER_KEY="$(cat "$data/admin.key")" ARBITER_URL="http://127.0.0.1:$port"
script=host/server/benches/load/decisions.lua
paced() {
  CONNECTIONS=16 RATE=$rate wrk -t2 -c16 -d8s --latency -s "$script" "$ARBITER_URL" \
    | grep -E "^ +(50|90|99|99.9)%|Requests/sec"
}
to="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
from="$(date -u -d '-30 days' +%Y-%m-%dT%H:%M:%SZ)"
for round in $(seq 1 "$rounds"); do
  echo "== round $round: no backtest"
  paced
  echo "== round $round: during a backtest"
  "$bin" backtest --candidate 1 --from "$from" --to "$to" --json >/tmp/backtest_p99.json &
  bt=$!
  sleep 1
  paced
  wait "$bt" || true
  python3 -c "import json; r=json.load(open('/tmp/backtest_p99.json')); print('backtest', r['status'], r['result']['coverage']['read'], 'read in', r['result']['elapsed_ms'], 'ms')"
done
