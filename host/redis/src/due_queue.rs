//! [`DueQueue`]: a due-time queue on Redis sorted sets for work that must happen later and
//! exactly once across replicas (unpaid-order timeouts, payment-channel status queries).
//!
//! Four keys under `{prefix}q:{name}:`: `due` (sorted set, score = due time in ms), `lease`
//! (sorted set, score = lease deadline in ms), `token` (hash, item → its current claim token)
//! and `seq` (the counter tokens come from). A
//! claim moves due items to `lease` with a deadline and a fresh token, atomically; `complete`
//! removes an item only for the holder of its current token. An item whose lease runs out
//! (a crashed or stalled worker) goes back to `due` and is delivered again, with a new token,
//! so the stale holder's `complete` is refused. Delivery is therefore at-least-once with
//! fencing: at any time one claimer holds an item, and once completed it is never delivered
//! again; work whose lease may run out must itself be idempotent (the transaction core's
//! idempotency keys). Time is the caller's (`now`), so the engine's clock drives it.
//!
//! It must not know what an item means: items are opaque strings (an order id, a task key).

use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::Script;
use redis::aio::ConnectionManager;

use crate::connection;
use crate::error::{RedisStoreError, bounded};

/// Returns expired leases to `due`, then moves up to `limit` due items to `lease`.
///
/// KEYS: due, lease, token, seq. ARGV: now (ms), limit, lease length (ms). Returns a flat
/// list of item, token pairs.
///
/// INVARIANT: one script, so two claimers can never both move the same item: the first
/// removes it from `due` before the second can see it. Tokens come from one counter (`seq`)
/// that only grows, so a token is never reused (not even after an item is finished and
/// scheduled again): exactly one token per item is current and only its holder can finish it.
const CLAIM: &str = r#"
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, item in ipairs(expired) do
  redis.call('ZREM', KEYS[2], item)
  redis.call('ZADD', KEYS[1], now, item)
end
local out = {}
if limit <= 0 then
  return out
end
local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit)
for _, item in ipairs(items) do
  redis.call('ZREM', KEYS[1], item)
  redis.call('ZADD', KEYS[2], now + lease, item)
  out[#out + 1] = item
  local token = redis.call('INCR', KEYS[4])
  redis.call('HSET', KEYS[3], item, token)
  out[#out + 1] = token
end
return out
"#;

/// Finishes (ARGV[3] = `""`) or reschedules (ARGV[3] = due ms) a claimed item.
///
/// KEYS: due, lease, token. ARGV: item, token, new due time or `""`. Returns 1 when the token
/// was current, else 0 (nothing changes).
///
/// INVARIANT: only the holder of the current token acts; a stale holder (its lease expired and
/// the item was claimed again) changes nothing. An expired lease returned to `due` but not yet
/// claimed again still belongs to the current token, so its holder's finish removes it there.
const FINISH: &str = r#"
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[1], tonumber(ARGV[3]), ARGV[1])
end
return 1
"#;

/// Adds each item that is neither waiting nor leased; leaves the others as they are.
///
/// KEYS: due, lease. ARGV: pairs of due time (ms), item. Returns how many it added.
///
/// INVARIANT: one script, so an item claimed between the check and the add cannot end up
/// both leased and waiting (which would deliver it to a second claimer while the first still
/// holds it). An item whose lease ran out but has not been returned yet is still in `lease`,
/// so it is left for the next claim to return, not added twice.
const SCHEDULE_ABSENT: &str = r#"
local added = 0
for i = 1, #ARGV, 2 do
  local item = ARGV[i + 1]
  if not redis.call('ZSCORE', KEYS[1], item) and not redis.call('ZSCORE', KEYS[2], item) then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[i]), item)
    added = added + 1
  end
end
return added
"#;

/// One claimed item and the token that proves the claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub item: String,
    pub token: u64,
}

/// A named due-time queue. Cheap to clone; share one per process and queue name.
#[derive(Clone)]
pub struct DueQueue {
    /// Reconnects on its own after a failure; each call is bounded by `op_timeout`.
    conn: ConnectionManager,
    due: String,
    lease: String,
    token: String,
    seq: String,
    op_timeout: Duration,
    /// Compiled once (the SHA1 is what each call sends).
    claim_script: Script,
    finish_script: Script,
    schedule_absent_script: Script,
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

impl DueQueue {
    /// Connects (bounded by `op_timeout`) to the queue `name` under `prefix`. Unlike velocity
    /// this has no fallback: the workers that use it retry on their own schedule.
    pub async fn connect(
        url: &str,
        prefix: &str,
        name: &str,
        op_timeout: Duration,
    ) -> Result<DueQueue, RedisStoreError> {
        let client = connection::client(url, false)?;
        let conn = connection::manager(&client, op_timeout).await?;
        Ok(DueQueue {
            conn,
            due: format!("{prefix}q:{name}:due"),
            lease: format!("{prefix}q:{name}:lease"),
            token: format!("{prefix}q:{name}:token"),
            seq: format!("{prefix}q:{name}:seq"),
            op_timeout,
            claim_script: Script::new(CLAIM),
            finish_script: Script::new(FINISH),
            schedule_absent_script: Script::new(SCHEDULE_ABSENT),
        })
    }

    /// Schedules `item` at `due` (moving it if already scheduled and not claimed).
    pub async fn schedule(&self, item: &str, due: DateTime<Utc>) -> Result<(), RedisStoreError> {
        let mut cmd = redis::cmd("ZADD");
        cmd.arg(&self.due).arg(millis(due)).arg(item);
        let mut conn = self.conn.clone();
        bounded(
            "due schedule",
            self.op_timeout,
            cmd.query_async::<i64>(&mut conn),
        )
        .await?;
        Ok(())
    }

    /// Schedules each `(item, due)` the queue does not hold yet (neither waiting nor leased);
    /// an item it holds keeps its due time and its claim. Returns how many it added. For
    /// putting back what a lost or restarted Redis forgot, without disturbing what it kept.
    pub async fn schedule_absent(
        &self,
        items: &[(&str, DateTime<Utc>)],
    ) -> Result<usize, RedisStoreError> {
        if items.is_empty() {
            return Ok(0);
        }
        let mut call = self.schedule_absent_script.prepare_invoke();
        call.key(&self.due).key(&self.lease);
        for (item, due) in items {
            call.arg(millis(*due)).arg(*item);
        }
        let mut conn = self.conn.clone();
        let added: usize = bounded(
            "due schedule absent",
            self.op_timeout,
            call.invoke_async(&mut conn),
        )
        .await?;
        Ok(added)
    }

    /// Claims up to `limit` items due at `now`, each leased until `now + lease`; first
    /// returns every item whose lease ran out to the due set.
    pub async fn claim(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Claim>, RedisStoreError> {
        let mut call = self.claim_script.prepare_invoke();
        call.key(&self.due)
            .key(&self.lease)
            .key(&self.token)
            .key(&self.seq)
            .arg(millis(now))
            .arg(limit)
            .arg(u64::try_from(lease.as_millis()).unwrap_or(u64::MAX));
        let mut conn = self.conn.clone();
        let flat: Vec<(String, u64)> =
            bounded("due claim", self.op_timeout, call.invoke_async(&mut conn)).await?;
        Ok(flat
            .into_iter()
            .map(|(item, token)| Claim { item, token })
            .collect())
    }

    /// Removes a processed item. False when the claim is stale (its lease ran out and the item
    /// was claimed again): the work may run twice, so it must be idempotent.
    pub async fn complete(&self, claim: &Claim) -> Result<bool, RedisStoreError> {
        self.finish(claim, None).await
    }

    /// Gives a claimed item back to run again at `due` (a failed attempt). False when stale.
    pub async fn reschedule(
        &self,
        claim: &Claim,
        due: DateTime<Utc>,
    ) -> Result<bool, RedisStoreError> {
        self.finish(claim, Some(due)).await
    }

    async fn finish(
        &self,
        claim: &Claim,
        due: Option<DateTime<Utc>>,
    ) -> Result<bool, RedisStoreError> {
        let mut call = self.finish_script.prepare_invoke();
        call.key(&self.due)
            .key(&self.lease)
            .key(&self.token)
            .arg(&claim.item)
            .arg(claim.token)
            .arg(due.map(|d| millis(d).to_string()).unwrap_or_default());
        let mut conn = self.conn.clone();
        let done: i64 =
            bounded("due finish", self.op_timeout, call.invoke_async(&mut conn)).await?;
        Ok(done == 1)
    }

    /// Items waiting (due or not yet due) and items currently leased.
    pub async fn len(&self) -> Result<(u64, u64), RedisStoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("ZCARD")
            .arg(&self.due)
            .cmd("ZCARD")
            .arg(&self.lease);
        let mut conn = self.conn.clone();
        bounded("due len", self.op_timeout, pipe.query_async(&mut conn)).await
    }
}
