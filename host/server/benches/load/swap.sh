#!/usr/bin/env bash
# Hot-swap cost against the release binary: time from upload to active (upload + set + rollout
# at 100 % + promote), and decision latency while sets are swapped back and forth under load.
# Usage: host/server/benches/load/swap.sh   (needs wrk and curl)
set -euo pipefail
cd "$(dirname "$0")/../../../.."
target="${CARGO_TARGET_DIR:-$HOME/.cache/arbiter-target}"
cargo build --release -p arbiter-host --bin arbiter >/dev/null
bin="$target/release/arbiter"
wasm="$(ls "$target"/release/build/arbiter-runtime-*/out/policies/geo_mismatch.wasm | head -n1)"
data="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$data"' EXIT
port=18085
RUST_LOG=warn "$bin" serve --listen "127.0.0.1:$port" --data-dir "$data" &
for _ in $(seq 1 100); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
key="$(cat "$data/admin.key")"
api() { curl -sf -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $key" "$@"; }
now_ms() { date +%s%3N; }

start=$(now_ms)
t_upload=$(api -H 'Content-Type: application/wasm' --data-binary @"$wasm" "127.0.0.1:$port/v1/policies/geo_swap/versions")
t_set=$(api -H 'Content-Type: application/json' -d '{"policies":[{"name":"geo_swap","version":1}],"thresholds":{"challenge":30,"reject":70}}' "127.0.0.1:$port/v1/policy-sets")
t_start=$(api -H 'Content-Type: application/json' -d '{"policy_set_version":2,"percent":100}' "127.0.0.1:$port/v1/rollouts")
t_promote=$(api -X POST "127.0.0.1:$port/v1/rollouts/current/promote")
end=$(now_ms)
echo "upload ${t_upload}s, create set ${t_set}s, start rollout ${t_start}s, promote ${t_promote}s; upload to active $((end - start)) ms"

export ARBITER_KEY="$key"
echo "== decisions while swapping sets 1 <-> 2 (paced 2,000/s, 64 connections, 15 s)"
( for i in $(seq 1 60); do
    target_set=$(( i % 2 == 0 ? 2 : 1 ))
    api -H 'Content-Type: application/json' -d "{\"policy_set_version\":$target_set,\"percent\":100}" "127.0.0.1:$port/v1/rollouts" >/dev/null || true
    api -X POST "127.0.0.1:$port/v1/rollouts/current/promote" >/dev/null || true
    sleep 0.2
  done ) &
CONNECTIONS=64 RATE=2000 wrk -t2 -c64 -d15s --latency -s host/server/benches/load/decisions.lua "http://127.0.0.1:$port"
wait %2 2>/dev/null || true
echo "== same load without swaps"
CONNECTIONS=64 RATE=2000 wrk -t2 -c64 -d15s --latency -s host/server/benches/load/decisions.lua "http://127.0.0.1:$port"
