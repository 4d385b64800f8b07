#!/usr/bin/env bash
# What decision events cost on the decision path: the release binary unpaced (wrk, 64
# connections, 15 s) without and with `--decision-events`, alternating ROUNDS times on one
# database kind. Usage: host/server/benches/load/decision_events.sh [sqlite|postgres] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../../../.."
backend="${1:-sqlite}"
rounds="${2:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/arbiter-target}"
cargo build --release -p arbiter-host --bin arbiter >/dev/null
bin="$CARGO_TARGET_DIR/release/arbiter"
port=18082
script=host/server/benches/load/decisions.lua

one() { # $1: off|on
  local data db args pid
  data="$(mktemp -d)"
  args=(serve --listen "127.0.0.1:$port" --data-dir "$data")
  if [ "$backend" = postgres ]; then
    db="arbiter_events_$$_$RANDOM"
    psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $db"
    args+=(--database-url "postgres://postgres@127.0.0.1:5432/$db")
  fi
  [ "$1" = on ] && args+=(--decision-events)
  RUST_LOG=warn "$bin" "${args[@]}" &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  ARBITER_KEY="$(cat "$data/admin.key")" CONNECTIONS=64 RATE=0 \
    wrk -t2 -c64 -d15s --latency -s "$script" "http://127.0.0.1:$port" \
    | awk -v mode="$1" '/Requests\/sec/ { rps = $2 } / 99%/ { p99 = $2 }
        END { printf "decision events %s: %s decisions/s, p99 %s\n", mode, rps, p99 }'
  kill "$pid"; wait "$pid" 2>/dev/null || true
  if [ "$backend" = postgres ]; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  fi
  rm -rf "$data"
}

for _ in $(seq 1 "$rounds"); do
  one off
  one on
done
