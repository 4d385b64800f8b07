#!/usr/bin/env bash
# Start-up time on a large history: the release server started on a data directory the
# backtest example filled (`cargo run --release -p arbiter-host --example backtest_history`,
# 1 M decisions and their labels in `target/backtest-history`), timed from the start to the
# first 200 of /healthz, with the two start-up phases the server logs: the link graph's
# rebuild from the stored decisions and the replay of the fraud labels onto it. Stops the
# server after. RUNS alternating runs; with BIN_B set, A and B take turns (A/B).
# Usage: host/server/benches/load/startup.sh DATA_DIR [RUNS]
#   BIN=<arbiter binary> (default: build release) BIN_B=<another build to alternate with>
set -euo pipefail
dir="${1:?data directory (e.g. target/backtest-history)}"
runs="${2:-2}"
port=18080
if [ -z "${BIN:-}" ]; then
  cd "$(dirname "$0")/../../../.."
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/arbiter-target}"
  cargo build --release -p arbiter-host --bin arbiter >&2
  BIN="$CARGO_TARGET_DIR/release/arbiter"
  cd - >/dev/null
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

once() {
  local bin="$1"
  RUST_LOG=info "$bin" serve --data-dir "$dir" --listen "127.0.0.1:$port" \
    --graph-memory-mib 2048 >"$log" 2>&1 &
  local pid=$! start end
  start=$(date +%s.%N)
  until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { echo "the server exited:" >&2; tail -5 "$log" >&2; exit 1; }
    sleep 0.2
  done
  end=$(date +%s.%N)
  printf '%s ready after %.1f s; %s; %s\n' "$bin" "$(echo "$end - $start" | bc)" \
    "$(grep -o 'link graph rebuilt.*' "$log" | grep -o 'decisions=[0-9]*\|millis=[0-9]*' | paste -sd' ')" \
    "$(grep -o 'labels marked.*' "$log" | grep -o 'labels=[0-9]*\|millis=[0-9]*' | paste -sd' ')"
  kill -INT "$pid"
  wait "$pid" || true
}

for _ in $(seq "$runs"); do
  once "$BIN"
  if [ -n "${BIN_B:-}" ]; then once "$BIN_B"; fi
done
