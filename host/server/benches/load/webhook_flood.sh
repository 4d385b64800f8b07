#!/usr/bin/env bash
# Decision latency with and without a flood of forged 60 KB card webhooks, against the release
# binary over loopback (BENCHMARKS.md, "Webhook flood"). Rounds alternate quiet / flood on one
# server so a noisy half hour hits both alike; the data directory's size is printed before and
# after each round (forged callbacks must not be stored).
# Usage: host/server/benches/load/webhook_flood.sh [rounds] (needs `wrk`: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/../../../.."
rounds="${1:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/arbiter-target}"
if [ -z "${ARBITER_BIN:-}" ]; then
  cargo build --release -p arbiter-host --bin arbiter >/dev/null
fi
bin="${ARBITER_BIN:-$CARGO_TARGET_DIR/release/arbiter}"
data="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$data"' EXIT
port=18580
RUST_LOG="${RUST_LOG:-warn}" "$bin" serve --listen "127.0.0.1:$port" --data-dir "$data" &
for _ in $(seq 1 100); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
export ARBITER_KEY="$(cat "$data/admin.key")"
decisions=host/server/benches/load/decisions.lua
flood=host/server/benches/load/webhook_flood.lua
rate="${DECISION_RATE:-1000}"
flood_rate="${FLOOD_RATE:-300}"
size() { du -sk "$data" | cut -f1; }
# Warm-up: the first decisions fill caches and the WAL.
CONNECTIONS=8 RATE="$rate" wrk -t1 -c8 -d5s -s "$decisions" "http://127.0.0.1:$port" >/dev/null
for round in $(seq 1 "$rounds"); do
  for mode in quiet flood; do
    before=$(size)
    if [ "$mode" = flood ]; then
      CONNECTIONS=4 RATE="$flood_rate" wrk -t1 -c4 -d17s -s "$flood" "http://127.0.0.1:$port" \
        >"$data/../flood-$round.txt" &
      flood_pid=$!
      sleep 1
    fi
    echo "== round $round, $mode: decisions paced at $rate/s, 8 connections, 15 s"
    CONNECTIONS=8 RATE="$rate" RUN_TAG="$mode$round" wrk -t1 -c8 -d15s --latency -s "$decisions" \
      "http://127.0.0.1:$port" | grep -E 'Latency|50%|90%|99%|Requests/sec|Non-2xx'
    if [ "$mode" = flood ]; then
      wait "$flood_pid"
      grep -E 'Requests/sec|Transfer/sec|Non-2xx' "$data/../flood-$round.txt" | sed 's/^/   flood: /'
      rm -f "$data/../flood-$round.txt"
    fi
    echo "   data directory: ${before} KiB -> $(size) KiB"
  done
done
before=$(size)
echo "== the flood alone, no decisions: 15 s"
CONNECTIONS=4 RATE="$flood_rate" wrk -t1 -c4 -d15s -s "$flood" "http://127.0.0.1:$port" \
  | grep -E 'Requests/sec|Non-2xx' | sed 's/^/   flood: /'
echo "   data directory: ${before} KiB -> $(size) KiB"
curl -s "127.0.0.1:$port/metrics" -H "Authorization: Bearer $ARBITER_KEY" \
  | grep -E '^arbiter_webhook_refusals_total' || true
