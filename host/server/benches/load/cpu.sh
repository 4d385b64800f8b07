#!/usr/bin/env bash
# Server CPU per request (issue 23): the release server and the trivial axum ceiling
# (`examples/ceiling.rs`), each driven unpaced by the same wrk mix (`decisions.lua`, 64
# connections) for SECONDS after a WARMUP; prints requests/s and the CPU the process itself
# spent per request (utime + stime of all its threads, from /proc/<pid>/stat), side by side,
# and their ratio: on this noisy two-core machine the ratio is what stays put. On PostgreSQL
# the CPU of every `postgres` process over the same window is reported beside it.
# Usage: host/server/benches/load/cpu.sh [sqlite|postgres] [SECONDS] [WARMUP]   (needs `wrk`)
#   BIN=<arbiter binary> measures another build without building (alternate A/B runs).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
backend="${1:-sqlite}"
seconds="${2:-20}"
warmup="${3:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/arbiter-target}"
if [ -z "${BIN:-}" ] || [ ! -x "$CARGO_TARGET_DIR/release/examples/ceiling" ]; then
  cargo build --release -p arbiter-host --bin arbiter --example ceiling >/dev/null
fi
bin="${BIN:-$CARGO_TARGET_DIR/release/arbiter}"
ceiling="$CARGO_TARGET_DIR/release/examples/ceiling"
command -v wrk >/dev/null || { echo "cpu.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }
script=host/server/benches/load/decisions.lua
conns=64
port=18095
ceiling_port=18096
tick="$(getconf CLK_TCK)"
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

# CPU ticks (user + system, all threads) spent so far by the processes given.
cpu_ticks() {
  local total=0 p fields
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    # After "pid (comm) " the fields start at `state` (field 3): utime is 14, stime 15.
    read -r -a fields < <(sed 's/^.*) //' "/proc/$p/stat")
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

postgres_ticks() {
  if [ "$backend" = postgres ]; then
    # shellcheck disable=SC2046
    cpu_ticks $(pgrep -x postgres || true)
  else
    echo 0
  fi
}

# Drives `$2` (pid `$1`) for the warm-up, then measures; prints one line named `$3`.
measure() {
  local pid="$1" url="$2" name="$3"
  CONNECTIONS=$conns RATE=0 RUN_TAG="w$name" wrk -t2 -c$conns -d"${warmup}s" -s "$script" "$url" >/dev/null
  local c0 p0 c1 p1 out requests
  c0="$(cpu_ticks "$pid")"
  p0="$(postgres_ticks)"
  out="$(CONNECTIONS=$conns RATE=0 RUN_TAG="m$name" wrk -t2 -c$conns -d"${seconds}s" -s "$script" "$url")"
  c1="$(cpu_ticks "$pid")"
  p1="$(postgres_ticks)"
  requests="$(echo "$out" | awk '/requests in/ { print $1 }')"
  awk -v n="$name" -v r="$requests" -v s="$seconds" -v c=$((c1 - c0)) -v p=$((p1 - p0)) \
    -v t="$tick" -v pg="$backend" 'BEGIN {
      us = c * 1e6 / t / r
      line = sprintf("%-8s %10.0f req/s  %8.1f µs CPU per request", n, r / s, us)
      if (pg == "postgres" && n == "arbiter") line = line sprintf("  (postgres: %.1f µs)", p * 1e6 / t / r)
      print line
    }'
  echo "$out" | grep -E "Non-2xx|Socket errors" || true
  echo "$requests $((c1 - c0))" >"$data/$name.ticks"
}

args=(serve --listen "127.0.0.1:$port" --data-dir "$data")
if [ "$backend" = postgres ]; then
  db="arbiter_cpu_$$"
  psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $db"
  args+=(--database-url "postgres://postgres@127.0.0.1:5432/$db")
fi
RUST_LOG=warn "$bin" "${args[@]}" >/dev/null 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 1 300); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
export ARBITER_KEY="$(cat "$data/admin.key")"
"$ceiling" "127.0.0.1:$ceiling_port" >/dev/null 2>&1 &
pids+=("$!")
ceiling_pid=$!
sleep 0.5

echo "== $backend, $conns connections, unpaced, ${warmup} s warm-up then ${seconds} s measured"
measure "$server" "http://127.0.0.1:$port" arbiter
measure "$ceiling_pid" "http://127.0.0.1:$ceiling_port" ceiling
read -r ra ca <"$data/arbiter.ticks"
read -r rc cc <"$data/ceiling.ticks"
awk -v ra="$ra" -v ca="$ca" -v rc="$rc" -v cc="$cc" \
  'BEGIN { printf "ratio: the server spends %.1f× the ceiling'"'"'s CPU per request\n", (ca / ra) / (cc / rc) }'
