#!/usr/bin/env bash
# Console page times against the release binary over loopback: the queue page with 10,000 open
# reviews, a case page whose user has 200 earlier decisions (its usual behaviour reads them
# all) and shares a device with 5,000 other accounts (a neighbourhood of 5,000 users, walked up
# to its cap of 200 and drawn up to 48), and that device's entity page (5,001 decisions named
# it; the newest 25 listed). wrk with one connection on loopback measures what the server
# spends per page.
# Usage: [ARBITER_BIN=…] host/server/benches/load/console.sh [sqlite|postgres]   (needs `wrk`
# and python3)
set -euo pipefail
cd "$(dirname "$0")/../../../.."
backend="${1:-sqlite}"
# ARBITER_BIN names a prebuilt release binary; without it this checkout's is built.
bin="${ARBITER_BIN:-}"
if [ -z "$bin" ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/arbiter-target}"
  cargo build --release -p arbiter-host --bin arbiter >/dev/null
  bin="$CARGO_TARGET_DIR/release/arbiter"
fi
data="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$data"' EXIT
port=18082
args=(serve --listen "127.0.0.1:$port" --data-dir "$data")
if [ "$backend" = postgres ]; then
  db="arbiter_console_$$"
  psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $db"
  args+=(--database-url "postgres://postgres@127.0.0.1:5432/$db")
fi
RUST_LOG=warn "$bin" "${args[@]}" &
for _ in $(seq 1 100); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
echo "== $backend: seeding 10,000 challenged payments and 5,000 accounts on one device"
ARBITER_KEY="$(cat "$data/admin.key")" PORT=$port OUT="$data/seeded" python3 - <<'PY'
import http.client, json, os
key, port = os.environ["ARBITER_KEY"], int(os.environ["PORT"])
c = http.client.HTTPConnection("127.0.0.1", port)
def post(path, body):
    c.request("POST", path, json.dumps(body),
              {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    r = c.getresponse(); data = r.read()
    assert r.status in (200, 201), (r.status, data)
    return json.loads(data)
def payment(i, user, device, proxy):
    return {"request_id": f"seed-{i}", "event": "payment.authorize",
            "amount": {"value": "480.00", "currency": "USD"},
            "user": {"id": user, "email": f"{user}@example.com"},
            "device": {"id": device, "ip": "203.0.113.7", "ip_country": "US", "is_proxy": proxy},
            "payment": {"method": "card", "card_fingerprint": f"fp-{user}",
                        "card_bin": "411111", "card_country": "US"},
            "shipping": {"address": f"{i} Main St, Springfield, US", "country": "US"}}
for i in range(200):
    earlier = payment(30_000 + i, "hub-user", "home-device", False)
    earlier["amount"]["value"] = f"{20 + i % 50}.00"
    earlier["payment"]["card_fingerprint"] = f"fp-hist-{i}"
    post("/v1/decisions", earlier)
hub = post("/v1/decisions", payment(0, "hub-user", "hub-device", True))
assert hub["action"] == "challenge", hub
for i in range(1, 10_000):
    post("/v1/decisions", payment(i, f"u-{i}", f"d-{i}", True))
for i in range(5_000):
    post("/v1/decisions", payment(20_000 + i, f"ring-{i}", "hub-device", False))
reviewer = post("/v1/keys", {"name": "bench reviewer", "scopes": ["review"]})["key"]
review = "rev_" + hub["decision_id"].removeprefix("dec_")
open(os.environ["OUT"], "w").write(f"{reviewer} {review}\n")
PY
read -r reviewer review < "$data/seeded"
cookie="$(curl -s -o /dev/null -D - -X POST --data-urlencode "key=$reviewer" \
  "127.0.0.1:$port/console/sign-in" | sed -n 's/^set-cookie: \([^;]*\).*/\1/Ip')"
open="$(curl -s -H "Cookie: $cookie" "127.0.0.1:$port/console/queue" | grep -o '[0-9,]* open' | head -1)"
echo "== queue says: $open"
drawn="$(curl -s -H "Cookie: $cookie" "127.0.0.1:$port/console/cases/$review" \
  | grep -o '[0-9]* linked entities[^.]*' | head -1)"
echo "== the case's graph: $drawn; circles drawn: $(curl -s -H "Cookie: $cookie" \
  "127.0.0.1:$port/console/cases/$review" | grep -o '<circle' | wc -l)"
for page in "/console/queue" "/console/cases/$review" "/console/entities/device/hub-device"; do
  echo "== $backend: GET $page, 1 connection, 10 s"
  wrk -t1 -c1 -d10s --latency -H "Cookie: $cookie" "http://127.0.0.1:$port$page" \
    | grep -E "Latency|50%|90%|99%|Requests/sec"
done
if [ "$backend" = postgres ]; then
  kill %1 2>/dev/null || true; sleep 0.5
  psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
fi
