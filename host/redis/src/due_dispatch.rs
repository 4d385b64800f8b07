//! [`RedisDueDispatch`]: the transaction core's [`DueDispatch`] on a Redis [`DueQueue`], so
//! every replica's expiry worker takes its work from one shared, leased queue instead of
//! polling the database.
//!
//! Redis here is a dispatcher, never the record: every key it holds has its row in the
//! database (`due_items`), and the core's repair sweep puts back whatever Redis loses. So this
//! adapter may fail freely and must only fail fast:
//! - it connects lazily (Redis down at start is not an error) and reconnects on its own;
//! - after a failure it is *down* for [`RedisDueDispatchConfig::retry_interval`]: offers made
//!   on the order path fail at once with [`DispatchError::Down`] instead of waiting for a
//!   timeout per order; the background calls (claim, complete, retry) still try, and the
//!   first success marks it up again;
//! - it logs the outage once when it starts and once when it ends (the order path does not
//!   log per order; the sweep repairs what was missed).
//!
//! It must not know what a key means.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use arbiter_transactions::due::{DispatchError, DueClaim, DueDispatch};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;

use crate::due_queue::{Claim, DueQueue};
use crate::error::RedisStoreError;

/// Settings of [`RedisDueDispatch`]; [`RedisDueDispatchConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct RedisDueDispatchConfig {
    pub url: String,
    /// Every key is under `{prefix}q:{kind}:` (see [`DueQueue`]).
    pub prefix: String,
    /// The kind of item dispatched (e.g. `order.expire`); it names the queue.
    pub kind: String,
    /// Bound on each call, and on connecting (three times this) (default 250 ms).
    pub op_timeout: Duration,
    /// After a failure, how long offers are refused without trying (default 1 s).
    pub retry_interval: Duration,
}

impl RedisDueDispatchConfig {
    pub fn new(
        url: impl Into<String>,
        prefix: impl Into<String>,
        kind: impl Into<String>,
    ) -> RedisDueDispatchConfig {
        RedisDueDispatchConfig {
            url: url.into(),
            prefix: prefix.into(),
            kind: kind.into(),
            op_timeout: Duration::from_millis(250),
            retry_interval: Duration::from_secs(1),
        }
    }
}

/// A shared due-item dispatcher for one kind on Redis. Share one per process and kind.
pub struct RedisDueDispatch {
    config: RedisDueDispatchConfig,
    /// Set by the first successful connect; the queue's connection manager reconnects by
    /// itself after that, so it is never replaced.
    queue: OnceCell<DueQueue>,
    /// Serialises connect attempts, so a burst of calls while Redis is away makes one.
    connecting: tokio::sync::Mutex<()>,
    /// When the last failure happened, while down. A `std` mutex: held for a read or a write,
    /// never across an await.
    down_since: Mutex<Option<Instant>>,
}

impl RedisDueDispatch {
    /// Builds the dispatcher without connecting. Only a malformed URL is an error.
    pub fn new(config: RedisDueDispatchConfig) -> Result<RedisDueDispatch, RedisStoreError> {
        // Parse now, so a bad URL fails start-up rather than every later call.
        crate::connection::client(&config.url, false)?;
        Ok(RedisDueDispatch {
            config,
            queue: OnceCell::new(),
            connecting: tokio::sync::Mutex::new(()),
            down_since: Mutex::new(None),
        })
    }

    /// True after a failure until the next success.
    pub fn is_down(&self) -> bool {
        self.down_since().is_some()
    }

    /// Connects if needed (at most one attempt at a time) and returns the queue.
    async fn queue(&self) -> Result<&DueQueue, RedisStoreError> {
        if let Some(queue) = self.queue.get() {
            return Ok(queue);
        }
        let _one_at_a_time = self.connecting.lock().await;
        if let Some(queue) = self.queue.get() {
            return Ok(queue);
        }
        let c = &self.config;
        let queue = DueQueue::connect(&c.url, &c.prefix, &c.kind, c.op_timeout).await?;
        Ok(self.queue.get_or_init(|| async { queue }).await)
    }

    /// Records how a call went (keeping the up/down state and logging its changes) and turns
    /// a failure into the domain's error.
    fn settle<T>(
        &self,
        op: &'static str,
        result: Result<T, RedisStoreError>,
    ) -> Result<T, DispatchError> {
        match result {
            Ok(v) => {
                self.mark_up();
                Ok(v)
            }
            Err(e) => {
                self.mark_down(&e);
                Err(DispatchError::Unavailable {
                    op,
                    source: Box::new(e),
                })
            }
        }
    }

    fn down_since(&self) -> Option<Instant> {
        match self.down_since.lock() {
            Ok(guard) => *guard,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    fn set_down_since(&self, value: Option<Instant>) -> Option<Instant> {
        let mut guard = match self.down_since.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        std::mem::replace(&mut *guard, value)
    }

    fn mark_down(&self, error: &RedisStoreError) {
        if self.set_down_since(Some(Instant::now())).is_none() {
            tracing::warn!(
                kind = %self.config.kind, %error,
                "redis due queue unavailable: new items wait for the repair sweep"
            );
        }
    }

    fn mark_up(&self) {
        if self.set_down_since(None).is_some() {
            tracing::info!(kind = %self.config.kind, "redis due queue is back");
        }
    }
}

#[async_trait]
impl DueDispatch for RedisDueDispatch {
    async fn offer(&self, items: &[(String, DateTime<Utc>)]) -> Result<usize, DispatchError> {
        if self
            .down_since()
            .is_some_and(|since| since.elapsed() < self.config.retry_interval)
        {
            return Err(DispatchError::Down);
        }
        let items: Vec<(&str, DateTime<Utc>)> =
            items.iter().map(|(key, at)| (key.as_str(), *at)).collect();
        let result = match self.queue().await {
            Ok(q) => q.schedule_absent(&items).await,
            Err(e) => Err(e),
        };
        self.settle("offer", result)
    }

    async fn claim(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: chrono::Duration,
    ) -> Result<Vec<DueClaim>, DispatchError> {
        let lease = lease.to_std().unwrap_or(Duration::ZERO);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let result = match self.queue().await {
            Ok(q) => q.claim(now, limit, lease).await,
            Err(e) => Err(e),
        };
        let claims = self.settle("claim", result)?;
        Ok(claims
            .into_iter()
            .map(|c| DueClaim {
                key: c.item,
                token: c.token,
            })
            .collect())
    }

    async fn complete(&self, claim: &DueClaim) -> Result<bool, DispatchError> {
        let claim = as_claim(claim);
        let result = match self.queue().await {
            Ok(q) => q.complete(&claim).await,
            Err(e) => Err(e),
        };
        self.settle("complete", result)
    }

    async fn retry(&self, claim: &DueClaim, at: DateTime<Utc>) -> Result<bool, DispatchError> {
        let claim = as_claim(claim);
        let result = match self.queue().await {
            Ok(q) => q.reschedule(&claim, at).await,
            Err(e) => Err(e),
        };
        self.settle("retry", result)
    }
}

fn as_claim(claim: &DueClaim) -> Claim {
    Claim {
        item: claim.key.clone(),
        token: claim.token,
    }
}
