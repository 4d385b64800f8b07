-- wrk script: a flood of forged card-channel callbacks. Each POST /v1/webhooks/card carries a
-- 60 KB JSON body and a `Stripe-Signature` with a current timestamp and a made-up HMAC, so
-- the server must read the whole body and compute the HMAC before it refuses it.
-- Env: RATE (total posts/s across all connections; 0 = unpaced), CONNECTIONS (= wrk -c).
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local rate = tonumber(os.getenv("RATE") or "0")
  local conns = tonumber(os.getenv("CONNECTIONS") or "1")
  pace_ms = 0
  if rate > 0 then pace_ms = 1000 * conns / rate end
  filler = string.rep("x", 60 * 1024)
end

function delay()
  return pace_ms
end

function request()
  wrk.headers["Stripe-Signature"] = string.format("t=%d,v1=%064d", os.time(), math.random(1, 1000000000))
  local body = string.format(
    [[{"id":"evt_forged_%d","type":"payment_intent.succeeded","data":{"object":{"id":"pi_x","amount":100,"currency":"usd","pad":"%s"}}}]],
    math.random(1, 1000000000), filler)
  return wrk.format(nil, "/v1/webhooks/card", nil, body)
end
