#!/usr/bin/env bash
# Alternating A/B runs of two prebuilt builds on one backend (BENCHMARKS.md, "One SQL store"):
# the decision endpoint unpaced (wrk, 64 connections: decisions/s) and order creation at a
# fixed arrival rate (orders_load: latency and errors). Round k runs A then B when k is odd,
# B then A when it is even, so drift on this noisy machine falls on both builds alike.
# Usage: host/server/benches/load/ab.sh <dir A> <dir B> [sqlite|postgres] [rounds] [order rate]
# ONLY=decisions or ONLY=orders runs one half. LOG_A / LOG_B set each side's `RUST_LOG`
# (default `warn`; its output goes to /dev/null): one build against itself with `info` and
# `warn` measures what the access log costs. Each dir holds `arbiter` and `orders_load`
# (copies of target/release/arbiter and target/release/examples/orders_load built from the two
# commits). Needs `wrk`.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
a="$1"
b="$2"
backend="${3:-sqlite}"
rounds="${4:-3}"
rate="${5:-500}"
seconds="${SECONDS_MEASURED:-15}"
port=18580
script=host/server/benches/load/decisions.lua
command -v wrk >/dev/null || { echo "ab.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null || true' EXIT

# Starts `$1/arbiter` with `RUST_LOG=$2` on a fresh data directory (and database); sets
# `server`, `data`, `db`.
start() {
  data="$(mktemp -d)"
  args=(serve --listen "127.0.0.1:$port" --data-dir "$data")
  db=""
  if [ "$backend" = postgres ]; then
    db="arbiter_ab_$$_$RANDOM"
    psql -h 127.0.0.1 -U root -d postgres -qc "CREATE DATABASE $db"
    args+=(--database-url "postgres://root@127.0.0.1:5432/$db")
  fi
  RUST_LOG="$2" "$1/arbiter" "${args[@]}" >/dev/null &
  server=$!
  for _ in $(seq 1 100); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
}

stop() {
  kill "$server"
  wait "$server" 2>/dev/null || true
  rm -rf "$data"
  if [ -n "$db" ]; then
    psql -h 127.0.0.1 -U root -d postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  fi
}

# One build's turn: decisions, then orders, each on a fresh server.
turn() {
  local name="$1" dir="$2" rps="-" orders="-" log
  log="$([ "$name" = A ] && echo "${LOG_A:-warn}" || echo "${LOG_B:-warn}")"
  if [ "${ONLY:-}" != orders ]; then
    start "$dir" "$log"
    rps="$(ARBITER_KEY="$(cat "$data/admin.key")" CONNECTIONS=64 RATE=0 \
      wrk -t2 -c64 -d"${seconds}s" -s "$script" "http://127.0.0.1:$port" | awk '/Requests\/sec/ {print $2}')"
    stop
  fi
  if [ "${ONLY:-}" != decisions ]; then
    start "$dir" "$log"
    orders="$(ARBITER_KEY="$(cat "$data/admin.key")" "$dir/orders_load" --base "http://127.0.0.1:$port" \
      --rate "$rate" --seconds "$seconds" --warmup 3 | grep -E '^(orders|latency)' | tr '\n' ' ')"
    stop
  fi
  echo "$backend round $round $name: decisions/s $rps | $orders"
}

for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then
    turn A "$a"
    turn B "$b"
  else
    turn B "$b"
    turn A "$a"
  fi
done
