#!/usr/bin/env bash
# Bytes on disk per decision, per table and index, after an unpaced decision load (wrk, 64
# connections, the decisions.lua mix) against a prebuilt release binary on a fresh data
# directory (and database). What each projection written with a decision costs in space.
# Usage: host/server/benches/load/disk.sh <arbiter binary> [sqlite|postgres] [seconds]
# Needs `wrk`, and `sqlite3` (with dbstat, as Debian's) or `psql`.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
bin="$1"
backend="${2:-sqlite}"
seconds="${3:-15}"
port=18590
data="$(mktemp -d)"
args=(serve --listen "127.0.0.1:$port" --data-dir "$data")
db=""
if [ "$backend" = postgres ]; then
  db="arbiter_disk_$$"
  psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $db"
  args+=(--database-url "postgres://postgres@127.0.0.1:5432/$db")
fi
RUST_LOG=warn "$bin" "${args[@]}" >/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
ARBITER_KEY="$(cat "$data/admin.key")" CONNECTIONS=64 RATE=0 \
  wrk -t2 -c64 -d"${seconds}s" -s host/server/benches/load/decisions.lua "http://127.0.0.1:$port" \
  | grep Requests/sec
kill "$server"; wait "$server" 2>/dev/null || true
if [ "$backend" = postgres ]; then
  psql -h 127.0.0.1 -U postgres -d "$db" -qAt -F ' ' -c "
    WITH n AS (SELECT count(*)::float8 AS d FROM decisions)
    SELECT c.relname, s.bytes, round((s.bytes / n.d)::numeric)
    FROM pg_class c, n,
         -- A table with its TOAST (where large bodies go); an index alone.
         LATERAL (SELECT CASE c.relkind WHEN 'r' THEN pg_table_size(c.oid)
                                       ELSE pg_relation_size(c.oid) END AS bytes) s
    WHERE c.relname LIKE 'decision%' AND c.relkind IN ('r', 'i')
    ORDER BY 2 DESC" | awk 'BEGIN {print "relation bytes bytes_per_decision"} {print}'
  psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
else
  file="$(ls "$data"/*.db | head -1)"
  sqlite3 "$file" "
    WITH n AS (SELECT count(*) AS d FROM decisions)
    SELECT name, SUM(pgsize), SUM(pgsize) / n.d FROM dbstat, n
    WHERE name LIKE 'decision%' OR name LIKE 'sqlite_autoindex_decision%'
    GROUP BY name ORDER BY 2 DESC" | tr '|' ' ' | awk 'BEGIN {print "btree bytes bytes_per_decision"} {print}'
fi
