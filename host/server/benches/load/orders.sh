#!/usr/bin/env bash
# Order-creation latency at fixed arrival rates against the release binary over loopback
# (BENCHMARKS.md, "Orders"). Usage: host/server/benches/load/orders.sh [sqlite|postgres] [rates…]
# Each rate runs on a fresh server and a fresh data directory (and database).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
backend="${1:-sqlite}"
shift || true
rates=("${@:-100 200 500}")
read -r -a rates <<<"${rates[*]}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/arbiter-target}"
target="$CARGO_TARGET_DIR"
# ARBITER_BIN / ORDERS_LOAD_BIN: compare prebuilt binaries (say, before and after a change).
if [ -z "${ARBITER_BIN:-}" ]; then
  cargo build --release -p arbiter-host --bin arbiter --example orders_load >/dev/null
fi
bin="${ARBITER_BIN:-$target/release/arbiter}"
load="${ORDERS_LOAD_BIN:-$target/release/examples/orders_load}"
port=18480
seconds="${SECONDS_MEASURED:-20}"
for rate in "${rates[@]}"; do
  data="$(mktemp -d)"
  args=(serve --listen "127.0.0.1:$port" --data-dir "$data")
  db=""
  if [ "$backend" = postgres ]; then
    db="arbiter_orders_$$_$rate"
    psql -h 127.0.0.1 -U root -d postgres -qc "CREATE DATABASE $db"
    args+=(--database-url "postgres://root@127.0.0.1:5432/$db")
  fi
  RUST_LOG=warn "$bin" "${args[@]}" &
  server=$!
  for _ in $(seq 1 100); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  echo "== $backend at $rate orders/s ($seconds s measured, 3 s warm-up)"
  ARBITER_KEY="$(cat "$data/admin.key")" "$load" \
    --base "http://127.0.0.1:$port" --rate "$rate" --seconds "$seconds" --warmup 3 --disk-probe "$data"
  curl -s "127.0.0.1:$port/metrics" -H "Authorization: Bearer $(cat "$data/admin.key")" \
    | grep -E '^arbiter_write_batch_size_(sum|count)|^arbiter_decision_log_batch_size_(sum|count)' || true
  kill "$server"; wait "$server" 2>/dev/null || true
  rm -rf "$data"
  if [ -n "$db" ]; then
    psql -h 127.0.0.1 -U root -d postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  fi
done
