#!/usr/bin/env bash
# Scale-out load run: N `arbiter` replicas on one PostgreSQL database and one Redis (own key
# prefix), each driven by its own wrk over loopback (no load balancer: connections are split
# evenly), unpaced, full pipeline. Prints each wrk and the summed throughput.
# Usage: host/server/benches/load/replicas.sh N   (needs wrk, PostgreSQL and Redis on loopback)
set -euo pipefail
cd "$(dirname "$0")/../../../.."
n="${1:-1}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/arbiter-target}"
target="$CARGO_TARGET_DIR"
cargo build --release -p arbiter-host --bin arbiter >/dev/null
bin="$target/release/arbiter"
data="$(mktemp -d)"
db="arbiter_replicas_$$"
prefix="arbiter-bench-$$:"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$data"; psql -h 127.0.0.1 -U root -d postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true' EXIT
psql -h 127.0.0.1 -U root -d postgres -qc "CREATE DATABASE $db"
url="postgres://root@127.0.0.1:5432/$db"
redis="${REDIS_URL:-redis://127.0.0.1:6379}"
for i in $(seq 1 "$n"); do
  port=$((18180 + i))
  RUST_LOG=warn "$bin" serve --listen "127.0.0.1:$port" --data-dir "$data" --database-url "$url" \
    --redis-url "$redis" --redis-prefix "$prefix" &
  # One after the other: the first start seeds policy set 1 and the admin key.
  for _ in $(seq 1 200); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
done
export ARBITER_KEY="$(cat "$data/admin.key")"
script=host/server/benches/load/decisions.lua
conns=$((64 / n))
out="$(mktemp -d)"
for i in $(seq 1 "$n"); do
  port=$((18180 + i))
  RUN_TAG="r$i-" CONNECTIONS=$conns RATE=0 wrk -t1 -c$conns -d15s --latency -s "$script" "http://127.0.0.1:$port" \
    > "$out/wrk-$i.txt" &
done
wait $(jobs -p | tail -n "$n") 2>/dev/null || true
sleep 1
total=0
for i in $(seq 1 "$n"); do
  echo "== replica $i"
  grep -E "Requests/sec|^ +(50|99)%|Non-2xx" "$out/wrk-$i.txt" || cat "$out/wrk-$i.txt"
  rps=$(awk '/Requests\/sec/ {print $2}' "$out/wrk-$i.txt")
  total=$(awk -v a="$total" -v b="${rps:-0}" 'BEGIN {print a + b}')
done
echo "== $n replica(s): $total decisions/s in total"
