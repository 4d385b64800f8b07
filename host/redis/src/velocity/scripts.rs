//! The bucket layout behind [`super::RedisVelocity`]: the key names, the Lua script that
//! records an event, and the reader of a bucket hash. They keep exactly the in-process bucket
//! scheme of `arbiter_engine::velocity` (12 five-minute buckets for the hour, 24 one-hour
//! buckets for the day, two currencies summed per bucket), so the shared counters and the
//! in-process fallback give the same answer for the same events.
//!
//! Layout: one hash per entity, `{prefix}v:{kind}:{id}`, with up to 36 fields: `m0`..`m11`
//! (five-minute ring) and `h0`..`h23` (hour ring). Each field is one bucket packed as
//! `slot:count:cur1:sum1:cur2:sum2` (sums in integer minor units). 36 short fields stay in
//! Redis's compact listpack encoding, so an entity costs under 1 KB (984 B measured with every
//! bucket filled) whatever its traffic, and the key expires a little after the day window once
//! the entity goes quiet.

use arbiter_engine::velocity::VelocityKind;
use redis::Script;

/// Counts one event in every key's two rings and refreshes the key's TTL.
///
/// KEYS: the entity hashes. ARGV: event time (unix seconds), currency (`""` when none), amount
/// in minor units, TTL in milliseconds. Returns the number of keys touched.
///
/// INVARIANT: the whole event (every entity, both windows, the TTLs) is applied by one script,
/// which Redis runs without interleaving, so concurrent replicas never lose an increment and a
/// reader never sees an event counted for one entity but not another.
/// INVARIANT: a ring position holding a newer period than the event is left alone (the event is
/// older than that window); a position holding an older period is reset before counting, so a
/// bucket only ever holds events of the period written in its `slot`. (The in-process store
/// resets the bucket in that case, losing its newer counts; the two differ only for an event
/// recorded a whole window late.)
/// INVARIANT: sums are Lua doubles printed with `%d`: exact for totals below 2^53 minor units.
const RECORD: &str = r#"
local t = tonumber(ARGV[1])
local cur = ARGV[2]
local amt = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local m = math.floor(t / 300)
local h = math.floor(t / 3600)
local fm = 'm' .. (m % 12)
local fh = 'h' .. (h % 24)
local pattern = '^(-?%d+):(%d+):([^:]*):(-?%d+):([^:]*):(-?%d+)$'
-- The bucket `raw` with this event counted, or nil when the event is too old for it.
local function bump(raw, slot)
  local n, c1, v1, c2, v2 = 0, '', 0, '', 0
  if raw then
    local ps, pn, pc1, pv1, pc2, pv2 = string.match(raw, pattern)
    ps = tonumber(ps)
    if ps ~= nil and ps > slot then
      return nil
    end
    if ps == slot then
      n, c1, v1, c2, v2 = tonumber(pn), pc1, tonumber(pv1), pc2, tonumber(pv2)
    end
  end
  n = n + 1
  if cur ~= '' then
    if c1 == cur or c1 == '' then
      c1 = cur
      v1 = v1 + amt
    elseif c2 == cur or c2 == '' then
      c2 = cur
      v2 = v2 + amt
    end
  end
  return string.format('%d:%d:%s:%d:%s:%d', slot, n, c1, v1, c2, v2)
end
for _, key in ipairs(KEYS) do
  local old = redis.call('HMGET', key, fm, fh)
  local nm = bump(old[1], m)
  local nh = bump(old[2], h)
  if nm and nh then
    redis.call('HSET', key, fm, nm, fh, nh)
  elseif nm then
    redis.call('HSET', key, fm, nm)
  elseif nh then
    redis.call('HSET', key, fh, nh)
  end
  redis.call('PEXPIRE', key, ttl)
end
return #KEYS
"#;

/// The record script, compiled once (its SHA1 is what each call sends).
pub(crate) fn record_script() -> Script {
    Script::new(RECORD)
}

/// Count 1 h, sum 1 h, count 24 h, sum 24 h (minor units of `currency`; other currencies are
/// counted, not summed) from one entity's `HGETALL` reply (field, value, field, value, ...).
///
/// Done here rather than in Lua so a read costs Redis only the `HGETALL`s (a few µs) and no
/// script time: the reader is pure and the same bounds as the in-process store apply — a
/// bucket is live for the hour when `now_slot - 12 < slot <= now_slot` (five-minute slots) and
/// for the day when `now_slot - 24 < slot <= now_slot` (hour slots). Unreadable buckets are
/// skipped. Sums are `i64` and saturate.
pub(crate) fn window_stats(flat: &[String], t: i64, currency: &str) -> [i64; 4] {
    let m = t.div_euclid(300);
    let h = t.div_euclid(3600);
    let mut out = [0i64; 4];
    for pair in flat.chunks_exact(2) {
        let Some(bucket) = Bucket::parse(&pair[1]) else {
            continue;
        };
        let live = match pair[0].as_bytes().first() {
            Some(b'm') if bucket.slot > m - 12 && bucket.slot <= m => 0,
            Some(b'h') if bucket.slot > h - 24 && bucket.slot <= h => 2,
            _ => continue,
        };
        out[live] = out[live].saturating_add(bucket.count);
        out[live + 1] = out[live + 1].saturating_add(bucket.sum_for(currency));
    }
    out
}

/// One packed bucket: `slot:count:cur1:sum1:cur2:sum2`.
struct Bucket<'a> {
    slot: i64,
    count: i64,
    sums: [(&'a str, i64); 2],
}

impl<'a> Bucket<'a> {
    fn parse(raw: &'a str) -> Option<Bucket<'a>> {
        let mut parts = raw.split(':');
        let int = |p: Option<&str>| p.and_then(|v| v.parse::<i64>().ok());
        let slot = int(parts.next())?;
        let count = int(parts.next())?;
        let c1 = parts.next()?;
        let v1 = int(parts.next())?;
        let c2 = parts.next()?;
        let v2 = int(parts.next())?;
        Some(Bucket {
            slot,
            count,
            sums: [(c1, v1), (c2, v2)],
        })
    }

    fn sum_for(&self, currency: &str) -> i64 {
        if currency.is_empty() {
            return 0;
        }
        self.sums
            .iter()
            .find(|(c, _)| *c == currency)
            .map_or(0, |(_, v)| *v)
    }
}

/// The key of one entity's counters.
pub(crate) fn entity_key(prefix: &str, kind: VelocityKind, id: &str) -> String {
    let kind = match kind {
        VelocityKind::User => "user",
        VelocityKind::Device => "device",
        VelocityKind::Card => "card",
        VelocityKind::Ip => "ip",
        VelocityKind::Email => "email",
    };
    format!("{prefix}v:{kind}:{id}")
}

/// The currency argument: the code when it can be a bucket's currency tag, else `""` (the
/// event is counted but not summed, as the in-process store does with a malformed code).
pub(crate) fn currency_arg(code: &str) -> &str {
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        code
    } else {
        ""
    }
}
