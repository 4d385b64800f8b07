//! Keeping replicas in step (scale-out on PostgreSQL and Redis). With `--redis-url`:
//! - velocity counters are shared through Redis (`arbiter_redis::RedisVelocity`), falling back
//!   to this replica's in-process counters when Redis is unreachable (decisions then record
//!   `layers.velocity_degraded`);
//! - a list, policy (rollout), model, key or rate-table change made on one replica is published on Redis
//!   and every other replica reloads that kind from the database at once (a revoked key is
//!   refused everywhere at once); a person's erasure likewise, each other replica renaming
//!   the person's entities in its own link graph (`services::erasure::ErasureService::follow`);
//! - a version check compares, every [`VERSION_CHECK_EVERY`], a digest of what this replica
//!   loaded with a digest of what the database holds, so a missed message (Redis down, a
//!   dropped subscription) is repaired within that period.
//!
//! Without Redis nothing here runs: one replica, in-process counters, nothing to notify. A key
//! that expires needs no message: authentication compares its expiry with the clock.

mod digest;
mod signal;

use std::sync::Arc;
use std::time::Duration;

use arbiter_engine::velocity::{InProcessVelocity, VelocityStore};
use arbiter_redis::{
    ChangeKind, Notification, RedisNotifier, RedisNotifierConfig, RedisVelocity,
    RedisVelocityConfig, VersionCheck, spawn_version_check,
};
use tokio::sync::broadcast::error::RecvError;

use crate::app_state::AppState;

pub use digest::Digests;
pub use signal::ChangeSignal;

/// How often the version check compares loaded and durable state.
pub const VERSION_CHECK_EVERY: Duration = Duration::from_secs(2);

/// The velocity store for this configuration, and the Redis one when there is one (its health
/// is part of readiness).
pub async fn velocity(
    redis_url: Option<&str>,
    prefix: &str,
    max_bytes: u64,
) -> anyhow::Result<(Arc<dyn VelocityStore>, Option<RedisVelocity>)> {
    let Some(url) = redis_url else {
        return Ok((Arc::new(InProcessVelocity::new(max_bytes)), None));
    };
    let mut config = RedisVelocityConfig::new(url, prefix);
    config.fallback_max_bytes = max_bytes;
    let redis = RedisVelocity::connect(config).await?;
    if redis.is_degraded() {
        tracing::warn!("Redis is unreachable: velocity falls back to in-process counters");
    }
    Ok((Arc::new(redis.clone()), Some(redis)))
}

/// The running replication: the notifier and the digests of what this replica loaded.
pub struct Replication {
    notifier: RedisNotifier,
    /// This replica's name on the channel, so it skips its own messages.
    origin: String,
    digests: Arc<Digests>,
}

impl Replication {
    /// Subscribes, connects every service's change signal to a publish, and starts the
    /// listener and the version check. Reloads triggered by others are not re-published.
    pub async fn start(
        app: &AppState,
        redis_url: &str,
        prefix: &str,
    ) -> anyhow::Result<Arc<Replication>> {
        let origin = format!("r-{}", uuid::Uuid::now_v7().simple());
        let notifier =
            RedisNotifier::start(RedisNotifierConfig::new(redis_url, prefix, origin.clone()))?;
        let digests = Arc::new(Digests::new(app.store.clone()));
        for kind in ChangeKind::ALL {
            digests.record(kind).await;
        }
        let replication = Arc::new(Replication {
            notifier,
            origin,
            digests,
        });
        for signal in [
            &app.lists.changes,
            &app.policies.changes,
            &app.models.changes,
            &app.keys.changes,
            &app.rates.changes,
            &app.snoozes.changes,
            &app.erasure.changes,
        ] {
            let r = replication.clone();
            signal.connect(move |kind| r.published_locally(kind));
        }
        let check: Arc<dyn VersionCheck> = replication.digests.clone();
        spawn_version_check(check, VERSION_CHECK_EVERY, replication.notifier.sender());
        let (r, app) = (replication.clone(), app.clone());
        tokio::spawn(async move { r.listen(app).await });
        Ok(replication)
    }

    /// Whether notifications are flowing (readiness).
    pub fn is_subscribed(&self) -> bool {
        self.notifier.is_subscribed()
    }

    /// Waits until the subscription is up (tests, start-up).
    pub async fn wait_subscribed(&self, within: Duration) -> bool {
        self.notifier.wait_subscribed(within).await
    }

    /// A change this replica made: remember what it loaded, tell the others.
    fn published_locally(self: &Arc<Self>, kind: ChangeKind) {
        let r = self.clone();
        tokio::spawn(async move {
            r.digests.record(kind).await;
            if let Err(e) = r.notifier.publish(kind, None, None).await {
                // The version check carries it instead.
                tracing::warn!(?kind, error = %e, "could not publish a change");
            }
        });
    }

    async fn listen(&self, app: AppState) {
        let mut rx = self.notifier.subscribe();
        loop {
            match rx.recv().await {
                Ok(n) => self.apply(&app, &n).await,
                Err(RecvError::Lagged(_)) => {
                    for kind in ChangeKind::ALL {
                        self.reload(&app, kind).await;
                    }
                }
                Err(RecvError::Closed) => return,
            }
        }
    }

    async fn apply(&self, app: &AppState, n: &Notification) {
        if n.origin == self.origin {
            return;
        }
        tracing::debug!(kind = ?n.kind, cause = ?n.cause, "reloading after a change elsewhere");
        self.reload(app, n.kind).await;
    }

    /// Reloads `kind` from the database; the digest is taken first, so a change landing during
    /// the reload is caught by the next check rather than hidden.
    async fn reload(&self, app: &AppState, kind: ChangeKind) {
        self.digests.record(kind).await;
        let result = match kind {
            ChangeKind::Lists => app
                .lists
                .reload()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            ChangeKind::Policy | ChangeKind::Rollout => {
                app.policies.reload().await.map_err(|e| e.to_string())
            }
            ChangeKind::Model => app
                .models
                .load()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            ChangeKind::Keys => app.keys.reload().await.map_err(|e| e.to_string()),
            ChangeKind::Rates => app
                .rates
                .reload()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            ChangeKind::Snoozes => app
                .snoozes
                .reload()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            ChangeKind::Erasures => app
                .erasure
                .follow(app)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        };
        if let Err(e) = result {
            // Forget the digest so the next check retries.
            self.digests.forget(kind);
            tracing::warn!(?kind, error = %e, "reload after a change failed");
        }
    }
}
