-- wrk script: POST /v1/decisions with a unique request_id per request, so every request takes
-- the full durable path (no idempotent replays). Users, devices and cards rotate over small
-- pools so velocity counters see realistic reuse.
-- Env: ARBITER_KEY (bearer key), RATE (total requests/s across all connections; 0 = unpaced),
--      CONNECTIONS (must match wrk -c), RUN_TAG (optional, unique per wrk process).
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("ARBITER_KEY")
  local rate = tonumber(os.getenv("RATE") or "0")
  local conns = tonumber(os.getenv("CONNECTIONS") or "1")
  pace_ms = 0
  if rate > 0 then pace_ms = 1000 * conns / rate end
  math.randomseed(os.time() + tid * 7919)
  -- RUN_TAG keeps request ids apart when several wrk processes start in the same second.
  run = (os.getenv("RUN_TAG") or "") .. tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
end

function delay()
  return pace_ms
end

function request()
  counter = counter + 1
  local u = math.random(1, 5000)
  local body = string.format([[{"request_id":"load-%s-%d-%d","event":"payment.authorize",
"amount":{"value":"%d.99","currency":"USD"},
"user":{"id":"u-%d","account_age_days":%d,"email":"user%d@example.com"},
"device":{"id":"dev-%d","ip":"203.0.%d.%d","ip_country":"US","is_proxy":false},
"payment":{"method":"card","card_fingerprint":"fp_%d","card_bin":"411111","card_country":"US"},
"shipping":{"address":"%d Main St, Springfield, US","country":"US"}}]],
    run, tid, counter, math.random(1, 500), u, math.random(0, 900), u,
    u % 3000, u % 250, u % 250, u, u % 4000)
  return wrk.format(nil, "/v1/decisions", nil, body)
end
