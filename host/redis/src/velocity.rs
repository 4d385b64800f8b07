//! [`RedisVelocity`]: the engine's [`VelocityStore`] on shared Redis counters, so every replica
//! counts every request once. It owns the hot-path calls and the fallback policy; the key
//! layout, the record script and the bucket reader live in `scripts`, the down/up bookkeeping
//! in `health`. Per decision: `features` is one round trip (a `MULTI`/`EXEC` pipeline of one
//! `HGETALL` per entity), `record` one more (one Lua script for all entities).
//!
//! Fallback: every Redis call is bounded by [`RedisVelocityConfig::op_timeout`]. When one
//! fails, the store marks itself down and answers from an in-process
//! [`InProcessVelocity`] (marked `degraded` in [`VelocityReading`]) without touching Redis
//! again until a background probe (at most one per [`RedisVelocityConfig::retry_interval`],
//! started by traffic, never awaited by it) reconnects, replays the events recorded while
//! down, and switches back. A decision therefore never fails and never waits longer than one
//! `op_timeout` for Redis. Events recorded while down are replayed with their own timestamps
//! (bounded by [`RedisVelocityConfig::replay_limit`]); the event whose call failed is not,
//! because it may have been applied before the connection broke.
//!
//! It must not decide anything: it only counts and reads.

mod health;
mod scripts;

use std::sync::Arc;
use std::time::Duration;

use arbiter_engine::velocity::{
    InProcessVelocity, VelocityError, VelocityEvent, VelocityFeatures, VelocityKind,
    VelocityReading, VelocityStore, WindowStats,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;

use crate::connection;
use crate::error::{RedisStoreError, bounded};
use health::{Health, Transition};
use scripts::{currency_arg, entity_key, record_script, window_stats};

/// Settings of [`RedisVelocity`]; [`RedisVelocityConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct RedisVelocityConfig {
    pub url: String,
    /// Prepended to every key, so several deployments (or tests) share one Redis.
    pub prefix: String,
    /// Bound on each hot-path Redis call (default 50 ms).
    pub op_timeout: Duration,
    /// Bound on connecting, at start and in the background probe (default 500 ms).
    pub connect_timeout: Duration,
    /// Least time between two reconnect probes while down (default 1 s).
    pub retry_interval: Duration,
    /// TTL refreshed on every recorded entity: the day window plus an hour (default 25 h).
    pub key_ttl: Duration,
    /// Bytes the in-process fallback's counters may take (default 256 MiB; see
    /// `InProcessVelocity::new`).
    pub fallback_max_bytes: u64,
    /// Also count every event in the fallback while Redis is up, so a fallback starts with
    /// this replica's own last day instead of empty (default true; costs one in-process
    /// update per event).
    pub mirror_locally: bool,
    /// Events kept for replay while Redis is down; the oldest are dropped beyond it
    /// (default 10 000).
    pub replay_limit: usize,
}

impl RedisVelocityConfig {
    pub fn new(url: impl Into<String>, prefix: impl Into<String>) -> RedisVelocityConfig {
        RedisVelocityConfig {
            url: url.into(),
            prefix: prefix.into(),
            op_timeout: Duration::from_millis(50),
            connect_timeout: Duration::from_millis(500),
            retry_interval: Duration::from_secs(1),
            key_ttl: Duration::from_secs(25 * 3600),
            fallback_max_bytes: 256 << 20,
            mirror_locally: true,
            replay_limit: 10_000,
        }
    }
}

/// Shared velocity counters in Redis with an in-process fallback. Cheap to clone.
#[derive(Clone)]
pub struct RedisVelocity {
    /// Shared with the background probe task, which outlives no request but may outlive the
    /// call that started it.
    inner: Arc<Inner>,
}

struct Inner {
    config: RedisVelocityConfig,
    client: redis::Client,
    /// The record script (compiled once).
    record: redis::Script,
    /// The fallback, and (with `mirror_locally`) a mirror of this replica's events.
    local: InProcessVelocity,
    health: Health,
}

impl RedisVelocity {
    /// Builds the store and tries Redis once (a refused connection returns at once; a silent
    /// host costs at most four `connect_timeout`s, 2 s with the defaults). Redis being down is
    /// not an error: the store starts degraded and reconnects on its own. Only a malformed URL
    /// is.
    pub async fn connect(config: RedisVelocityConfig) -> Result<RedisVelocity, RedisStoreError> {
        let client = connection::client(&config.url, false)?;
        let inner = Arc::new(Inner {
            local: InProcessVelocity::new(config.fallback_max_bytes),
            health: Health::new(config.replay_limit),
            record: record_script(),
            client,
            config,
        });
        if !inner.probe().await {
            tracing::warn!(
                url = %crate::connection::redacted_url(&inner.config.url),
                "redis unreachable at start: velocity uses in-process counters until it is back"
            );
        }
        Ok(RedisVelocity { inner })
    }

    /// True while answers come from the in-process fallback (for readiness: "degraded").
    pub fn is_degraded(&self) -> bool {
        !self.inner.health.is_up()
    }

    /// Tries Redis now (reconnect, replay, switch back) and says whether it is up. For
    /// readiness checks and tests; the hot path never waits for this.
    pub async fn probe_now(&self) -> bool {
        self.inner.health.is_up() || self.inner.probe().await
    }

    /// Events waiting to be replayed into Redis, and events dropped because the replay
    /// buffer was full, since start.
    pub fn replay_backlog(&self) -> (usize, u64) {
        self.inner.health.backlog_stats()
    }
}

impl Inner {
    fn keys(&self, event: &VelocityEvent) -> Vec<String> {
        event
            .subjects
            .iter()
            .map(|(kind, id)| entity_key(&self.config.prefix, *kind, id))
            .collect()
    }

    /// The live connection, or `None` (after scheduling a probe) while down.
    fn connection(self: &Arc<Self>) -> Option<ConnectionManager> {
        let conn = self.health.connection();
        if conn.is_none()
            && self.health.probe_due(self.config.retry_interval)
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            let inner = Arc::clone(self);
            handle.spawn(async move {
                inner.probe().await;
            });
        }
        conn
    }

    /// One round trip: `MULTI`, one `HGETALL` per entity, `EXEC` (a consistent snapshot
    /// across the entities: no event is seen for one and not another); the windows are
    /// computed here.
    async fn read_shared(
        &self,
        conn: &mut ConnectionManager,
        event: &VelocityEvent,
        at: DateTime<Utc>,
    ) -> Result<Vec<i64>, RedisStoreError> {
        let currency = event.amount.as_ref().map_or("", |a| currency_arg(&a.1));
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in self.keys(event) {
            pipe.cmd("HGETALL").arg(key);
        }
        let hashes: Vec<Vec<String>> = bounded(
            "velocity features",
            self.config.op_timeout,
            pipe.query_async(conn),
        )
        .await?;
        let t = at.timestamp();
        Ok(hashes
            .iter()
            .flat_map(|flat| window_stats(flat, t, currency))
            .collect())
    }

    async fn record_shared(
        &self,
        conn: &mut ConnectionManager,
        event: &VelocityEvent,
        at: DateTime<Utc>,
        limit: Duration,
    ) -> Result<(), RedisStoreError> {
        let (currency, minor) = match &event.amount {
            Some((minor, code, _)) => (currency_arg(code), *minor),
            None => ("", 0),
        };
        let mut call = self.record.prepare_invoke();
        for key in self.keys(event) {
            call.key(key);
        }
        call.arg(at.timestamp())
            .arg(currency)
            .arg(minor)
            .arg(u64::try_from(self.config.key_ttl.as_millis()).unwrap_or(u64::MAX));
        let touched: i64 = bounded("velocity record", limit, call.invoke_async(conn)).await?;
        debug_assert_eq!(touched as usize, event.subjects.len());
        Ok(())
    }

    /// Reconnects if needed, pings, replays the backlog and marks Redis up. Returns whether it
    /// is up.
    async fn probe(&self) -> bool {
        let mut conn = match self.health.any_connection() {
            Some(conn) => conn,
            None => match connection::manager(&self.client, self.config.connect_timeout).await {
                Ok(conn) => conn,
                Err(error) => {
                    tracing::debug!(%error, "redis velocity probe: connect failed");
                    return false;
                }
            },
        };
        let ping = redis::cmd("PING");
        if let Err(error) = bounded(
            "ping",
            self.config.connect_timeout,
            ping.query_async::<String>(&mut conn),
        )
        .await
        {
            tracing::debug!(%error, "redis velocity probe: ping failed");
            return false;
        }
        // Replay before switching back, then once more for events recorded meanwhile.
        if !self.replay(&mut conn).await {
            return false;
        }
        let transition = self.health.mark_up(conn.clone());
        self.replay(&mut conn).await;
        match transition {
            Transition::Connected => tracing::info!("redis velocity connected: counters shared"),
            Transition::Recovered => {
                tracing::info!("redis velocity is back: shared counters resumed")
            }
            Transition::Same | Transition::Lost => {}
        }
        true
    }

    /// Replays the events recorded while down, oldest first. Returns false (keeping what is
    /// left) on the first failure.
    async fn replay(&self, conn: &mut ConnectionManager) -> bool {
        while let Some((event, at)) = self.health.pop_backlog() {
            let limit = self.config.connect_timeout;
            if let Err(error) = self.record_shared(conn, &event, at, limit).await {
                tracing::debug!(%error, "redis velocity replay interrupted");
                self.health.push_front_backlog(event, at);
                return false;
            }
        }
        true
    }

    fn mark_down(&self, error: &RedisStoreError) {
        if self.health.mark_down() == Transition::Lost {
            tracing::warn!(%error, "redis velocity unavailable: falling back to in-process counters");
        }
    }
}

#[async_trait]
impl VelocityStore for RedisVelocity {
    async fn features(
        &self,
        event: &VelocityEvent,
        at: DateTime<Utc>,
    ) -> Result<VelocityFeatures, VelocityError> {
        Ok(self.read(event, at).await?.features)
    }

    async fn read(
        &self,
        event: &VelocityEvent,
        at: DateTime<Utc>,
    ) -> Result<VelocityReading, VelocityError> {
        let inner = &self.inner;
        if let Some(mut conn) = inner.connection() {
            match inner.read_shared(&mut conn, event, at).await {
                Ok(values) => {
                    return Ok(VelocityReading {
                        features: decode(event, &values),
                        degraded: false,
                    });
                }
                Err(error) => inner.mark_down(&error),
            }
        }
        Ok(VelocityReading {
            features: inner.local.features_now(event, at),
            degraded: true,
        })
    }

    async fn record(&self, event: &VelocityEvent, at: DateTime<Utc>) -> Result<(), VelocityError> {
        let inner = &self.inner;
        match inner.connection() {
            Some(mut conn) => {
                if inner.config.mirror_locally {
                    inner.local.record_now(event, at);
                }
                let limit = inner.config.op_timeout;
                if let Err(error) = inner.record_shared(&mut conn, event, at, limit).await {
                    inner.mark_down(&error);
                    if !inner.config.mirror_locally {
                        inner.local.record_now(event, at);
                    }
                }
            }
            None => {
                inner.local.record_now(event, at);
                inner.health.push_backlog(event.clone(), at);
            }
        }
        Ok(())
    }

    /// Deletes the entities' shared counters (one `DEL`) and this replica's fallback ones.
    /// Unlike a count, a deletion is not queued while Redis is down: the caller hears that it
    /// failed (an erasure reports it), and the keys expire with their TTL regardless.
    async fn forget(&self, entities: &[(VelocityKind, String)]) -> Result<(), VelocityError> {
        let inner = &self.inner;
        inner.local.forget_now(entities);
        if entities.is_empty() {
            return Ok(());
        }
        let Some(mut conn) = inner.connection() else {
            return Err(VelocityError::Unavailable(
                "Redis is unreachable: the shared counters were not deleted".into(),
            ));
        };
        let mut del = redis::cmd("DEL");
        for (kind, id) in entities {
            del.arg(entity_key(&inner.config.prefix, *kind, id));
        }
        let deleted: Result<i64, _> = bounded(
            "velocity forget",
            inner.config.op_timeout,
            del.query_async(&mut conn),
        )
        .await;
        deleted.map(drop).map_err(|error| {
            inner.mark_down(&error);
            VelocityError::Unavailable(error.to_string())
        })
    }
}

/// Turns the script's four integers per key into features, scaled to major units.
fn decode(event: &VelocityEvent, values: &[i64]) -> VelocityFeatures {
    let scale = event.amount.as_ref().map_or(1.0, |(_, _, exp)| {
        10f64.powi(i32::try_from(*exp).unwrap_or(0))
    });
    let count = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
    let mut out = VelocityFeatures::default();
    for ((kind, _), w) in event.subjects.iter().zip(values.chunks_exact(4)) {
        let stats = WindowStats {
            count_1h: count(w[0]),
            sum_1h: w[1] as f64 / scale,
            count_24h: count(w[2]),
            sum_24h: w[3] as f64 / scale,
        };
        match kind {
            VelocityKind::User => out.user = stats,
            VelocityKind::Device => out.device = Some(stats),
            VelocityKind::Card => out.card = Some(stats),
            VelocityKind::Ip => out.ip = Some(stats),
            VelocityKind::Email => out.email = Some(stats),
        }
    }
    out
}

#[cfg(test)]
mod tests;
