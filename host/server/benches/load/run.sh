#!/usr/bin/env bash
# Load run against the release binary over loopback, next to the trivial axum ceiling.
# Usage: host/server/benches/load/run.sh [sqlite|postgres]   (needs `wrk`: apt-get install wrk)
# Prints wrk's latency distribution for an unpaced run and for paced runs at fixed rates.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
backend="${1:-sqlite}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/arbiter-target}"
target="$CARGO_TARGET_DIR"
cargo build --release -p arbiter-host --bin arbiter --example ceiling >/dev/null
bin="$target/release/arbiter"
ceiling="$target/release/examples/ceiling"
data="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$data"' EXIT
port=18080
args=(serve --listen "127.0.0.1:$port" --data-dir "$data")
if [ "$backend" = postgres ]; then
  db="arbiter_load_$$"
  psql -h 127.0.0.1 -U root -d postgres -qc "CREATE DATABASE $db"
  args+=(--database-url "postgres://root@127.0.0.1:5432/$db")
fi
RUST_LOG=warn "$bin" "${args[@]}" &
for _ in $(seq 1 100); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
export ARBITER_KEY="$(cat "$data/admin.key")"
script=host/server/benches/load/decisions.lua
conns=64
echo "== $backend: unpaced, $conns connections, 15 s"
CONNECTIONS=$conns RATE=0 wrk -t2 -c$conns -d15s --latency -s "$script" "http://127.0.0.1:$port"
for rate in 2000 5000; do
  echo "== $backend: paced at $rate/s, $conns connections, 15 s"
  CONNECTIONS=$conns RATE=$rate wrk -t2 -c$conns -d15s --latency -s "$script" "http://127.0.0.1:$port"
done
echo "== ceiling (trivial axum handler): unpaced"
"$ceiling" 127.0.0.1:18091 &
sleep 0.5
CONNECTIONS=$conns RATE=0 wrk -t2 -c$conns -d15s --latency -s "$script" "http://127.0.0.1:18091"
if [ "$backend" = postgres ]; then
  kill %1 2>/dev/null || true; sleep 0.5
  psql -h 127.0.0.1 -U root -d postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
fi
