#!/usr/bin/env bash
# Retention under load (issue 22): N expired decisions (default 1,000,000, dated 2026-10-01,
# copies of one real decision with its projection) are deleted by the release server's
# retention job while `decisions_load` sends a steady RATE decisions/s (default 2,000, open
# loop). Prints the endpoint's latency before (retention off, 30 s) and during (retention on,
# DURING seconds in 10 s windows), how many expired rows remained every 10 s, and when the job
# finished. On PostgreSQL they sit in their day's time partition, which the job walks, detaches
# and drops (migration 0026). Usage: host/server/benches/load/retention.sh [sqlite|postgres] [N] [RATE] [DURING]
set -euo pipefail
cd "$(dirname "$0")/../../../.."
backend="${1:-sqlite}"
n="${2:-1000000}"
rate="${3:-2000}"
during="${4:-90}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/arbiter-target}"
cargo build --release -p arbiter-host --bin arbiter --example decisions_load >/dev/null
bin="$CARGO_TARGET_DIR/release/arbiter"
load="$CARGO_TARGET_DIR/release/examples/decisions_load"
port=18083
data="$(mktemp -d)"
args=(serve --listen "127.0.0.1:$port" --data-dir "$data" --log-format json)
if [ "$backend" = postgres ]; then
  db="arbiter_retention_$$"
  url="postgres://postgres@127.0.0.1:5432/$db"
  psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $db"
  args+=(--database-url "$url")
  sql() { psql "$url" -qAtc "$1"; }
  series="WITH n(i) AS (SELECT generate_series(1, $n))"
  old="TIMESTAMPTZ '2026-10-01 00:00:00+00'"
  cut="TIMESTAMPTZ '2026-11-01 00:00:00+00'"
else
  sql() { sqlite3 "$data/arbiter.db" "$1"; }
  series="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n)"
  old="'2026-10-01T00:00:00.000000Z'"
  cut="'2026-11-01T00:00:00.000000Z'"
fi
server=""
cleanup() {
  [ -n "$server" ] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
  if [ "$backend" = postgres ]; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT
start() { # extra serve flags
  RUST_LOG=info "$bin" "${args[@]}" "$@" >>"$data/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 300); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "the server did not start" >&2; tail "$data/server.log" >&2; exit 1
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }

start
key="$(cat "$data/admin.key")"
curl -sf -o /dev/null -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"request_id":"seed","event":"payment.authorize","amount":{"value":"10.00","currency":"USD"},
       "user":{"id":"seed-user","email":"seed@example.com"},"device":{"id":"seed-dev","ip":"192.0.2.1"}}' \
  "127.0.0.1:$port/v1/decisions"
stop
seeded_at=$(date +%s)
part="" part_value="" requests=""
if [ "$backend" = postgres ]; then
  # The day's time partition (the server makes them ahead; this one is in the past), the rows'
  # partition key, and their request ids (migration 0026).
  for t in decisions decision_features; do
    sql "CREATE TABLE ${t}_p20261001_000000 PARTITION OF $t
         FOR VALUES FROM ('2026-10-01 00:00:00+00') TO ('2026-10-02 00:00:00+00')"
  done
  part=", part" part_value=", $old"
  requests="$series INSERT INTO decision_requests (request_id, decision_id, created_at)
    SELECT 'old-' || n.i, d.decision_id || '_' || n.i, $old FROM decisions d CROSS JOIN n
    WHERE d.request_id = 'seed';"
fi
sql "$series INSERT INTO decisions (decision_id, request_id, body_hash, event, action, score,
       policy_set_version, model_version, created_at, body$part)
     SELECT d.decision_id || '_' || n.i, 'old-' || n.i, d.body_hash, d.event, d.action, d.score,
       d.policy_set_version, d.model_version, $old, d.body$part_value FROM decisions d CROSS JOIN n
     WHERE d.request_id = 'seed';
     $series INSERT INTO decision_features (decision_id, created_at, checkpoint,
       policy_set_version, model_version, action, score, amount_minor, currency, replay$part)
     SELECT f.decision_id || '_' || n.i, $old, f.checkpoint, f.policy_set_version,
       f.model_version, f.action, f.score, f.amount_minor, f.currency, f.replay$part_value
     FROM decision_features f CROSS JOIN n WHERE f.decision_id IN
       (SELECT decision_id FROM decisions WHERE request_id = 'seed');
     $requests" >/dev/null
echo "seeded $(sql "SELECT count(*) FROM decisions WHERE created_at < $cut") expired decisions in $(( $(date +%s) - seeded_at )) s ($backend)"

start
echo "== before: retention off, $rate decisions/s"
ARBITER_KEY="$key" "$load" --base "http://127.0.0.1:$port" --rate "$rate" --seconds 30 | sed -n '1,2p'
stop

start --decision-retention-secs 2592000
began=$(date +%s)
echo "== during: --decision-retention-secs 2592000 (30 days), $rate decisions/s"
(
  sleep 3 # the load's warm-up
  for t in $(seq 10 10 "$during"); do
    sleep 10
    echo "  after ${t} s: $(sql "SELECT count(*) FROM decisions WHERE created_at < $cut") expired decisions left"
  done
) &
poller=$!
ARBITER_KEY="$key" "$load" --base "http://127.0.0.1:$port" --rate "$rate" --seconds "$during" --window 10 \
  | grep -v '^stall'
wait "$poller"
done_line="$(grep -m1 '"retention: expired rows deleted"' "$data/server.log" || true)"
if [ -n "$done_line" ]; then
  echo "retention pass: $(echo "$done_line" | grep -o '"deleted":[0-9]*'), logged $(echo "$done_line" | grep -o '"timestamp":"[^"]*"') (started $(date -u -d "@$began" +%H:%M:%S))"
else
  echo "retention pass still running after $during s: $(sql "SELECT count(*) FROM decisions WHERE created_at < $cut") left"
fi
if [ "$backend" = sqlite ]; then
  echo "file: $(du -h "$data/arbiter.db" | cut -f1), free pages $(sql 'PRAGMA freelist_count'), given back $(curl -s "127.0.0.1:$port/metrics" | grep -o '^arbiter_retention_reclaimed_pages_total [0-9]*' | cut -d' ' -f2)"
fi
