//! [`RedisNotifier`]: change notifications across replicas over Redis pub/sub. A replica that
//! changes lists, the policy set, a rollout, the active model or the API keys publishes a
//! [`Notification`]; every replica's subscriber (reconnecting on its own) delivers it to a
//! tokio broadcast channel the server listens to and reloads from the system of record.
//!
//! Pub/sub is fire-and-forget: a replica that is disconnected when a message is published
//! never gets it. Two things close that gap: after a lost subscription is re-established the
//! subscriber delivers one [`NotifyCause::Reconnected`] notification per [`ChangeKind`], and
//! [`spawn_version_check`] periodically compares what the replica has loaded with what the
//! database says (the server implements [`VersionCheck`]) and delivers
//! [`NotifyCause::VersionDrift`] on a mismatch. The listener treats all causes alike: reload
//! that kind if its durable version differs from the loaded one.
//!
//! It must not reload anything itself, nor read the database: it only carries signals.

mod subscriber;
mod version_check;

use std::time::Duration;

use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, broadcast, watch};
use tokio::task::JoinHandle;

use crate::connection;
use crate::error::{RedisStoreError, bounded};
pub use version_check::{VersionCheck, spawn_version_check};

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Lists,
    Policy,
    Rollout,
    Model,
    /// API keys: one created or revoked.
    Keys,
    /// The exchange-rate table: a new version set.
    Rates,
    /// Rule snoozes: one created or revoked.
    Snoozes,
    /// A person erased: the others rename that person's entities in their link graphs.
    Erasures,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 8] = [
        ChangeKind::Lists,
        ChangeKind::Policy,
        ChangeKind::Rollout,
        ChangeKind::Model,
        ChangeKind::Keys,
        ChangeKind::Rates,
        ChangeKind::Snoozes,
        ChangeKind::Erasures,
    ];
}

/// Why a notification was delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyCause {
    /// A replica published it.
    #[default]
    Published,
    /// The subscription was re-established: messages may have been missed.
    Reconnected,
    /// The periodic version check found the loaded version behind the durable one.
    VersionDrift,
}

/// One change signal. The wire form is JSON: `{"kind":"policy","version":7,"origin":"r1"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub kind: ChangeKind,
    /// The version the change produced, when the kind is versioned (policy set, model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// A unique token when the kind has no version (a list edit), so repeats are visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The publishing replica, so it can skip its own message; empty when synthesised.
    #[serde(default)]
    pub origin: String,
    /// Set on delivery, never sent.
    #[serde(default, skip_serializing)]
    pub cause: NotifyCause,
}

impl Notification {
    /// A locally synthesised signal for `kind` (no version known).
    pub fn synthetic(kind: ChangeKind, cause: NotifyCause) -> Notification {
        Notification {
            kind,
            version: None,
            nonce: None,
            origin: String::new(),
            cause,
        }
    }
}

/// Settings of [`RedisNotifier`]; [`RedisNotifierConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct RedisNotifierConfig {
    pub url: String,
    /// The channel is `{prefix}notify`.
    pub prefix: String,
    /// This replica's name, carried in what it publishes.
    pub origin: String,
    /// Bound on a publish, a connect and a liveness ping (default 500 ms).
    pub op_timeout: Duration,
    /// How often the subscriber pings its connection to notice a silent loss (default 1 s).
    pub ping_interval: Duration,
    /// First and longest wait between resubscribe attempts (default 100 ms, 2 s).
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    /// Notifications buffered per listener before a slow one lags (default 256).
    pub capacity: usize,
}

impl RedisNotifierConfig {
    pub fn new(
        url: impl Into<String>,
        prefix: impl Into<String>,
        origin: impl Into<String>,
    ) -> RedisNotifierConfig {
        RedisNotifierConfig {
            url: url.into(),
            prefix: prefix.into(),
            origin: origin.into(),
            op_timeout: Duration::from_millis(500),
            ping_interval: Duration::from_secs(1),
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(2),
            capacity: 256,
        }
    }
}

/// Publishes and receives change notifications. Dropping it stops its subscriber.
pub struct RedisNotifier {
    config: RedisNotifierConfig,
    channel: String,
    client: redis::Client,
    /// Connected on first publish and kept; a tokio mutex because connecting awaits.
    publisher: Mutex<Option<ConnectionManager>>,
    sender: broadcast::Sender<Notification>,
    subscribed: watch::Receiver<bool>,
    task: JoinHandle<()>,
}

impl RedisNotifier {
    /// Starts the subscriber task (call inside a tokio runtime). Redis being down is not an
    /// error: the subscriber keeps retrying. Only a malformed URL is.
    pub fn start(config: RedisNotifierConfig) -> Result<RedisNotifier, RedisStoreError> {
        let client = connection::client(&config.url, false)?;
        let push_client = connection::client(&config.url, true)?;
        let channel = format!("{}notify", config.prefix);
        let (sender, _) = broadcast::channel(config.capacity.max(1));
        let (state, subscribed) = watch::channel(false);
        let task = tokio::spawn(subscriber::run(
            push_client,
            channel.clone(),
            sender.clone(),
            state,
            config.clone(),
        ));
        Ok(RedisNotifier {
            config,
            channel,
            client,
            publisher: Mutex::new(None),
            sender,
            subscribed,
            task,
        })
    }

    /// A new listener; it sees every notification delivered after this call.
    pub fn subscribe(&self) -> broadcast::Receiver<Notification> {
        self.sender.subscribe()
    }

    /// The delivery side, for [`spawn_version_check`] to feed the same listeners.
    pub fn sender(&self) -> broadcast::Sender<Notification> {
        self.sender.clone()
    }

    /// Whether the subscription is live right now.
    pub fn is_subscribed(&self) -> bool {
        *self.subscribed.borrow()
    }

    /// Waits up to `within` for the subscription to be live; returns whether it is.
    pub async fn wait_subscribed(&self, within: Duration) -> bool {
        let mut state = self.subscribed.clone();
        tokio::time::timeout(within, state.wait_for(|up| *up))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Publishes a change; returns how many subscribed connections (replicas, this one
    /// included) received it. Fails fast when Redis is down (one `op_timeout` once connected;
    /// at most three while the first connection is being made); the version check then
    /// carries the change instead.
    pub async fn publish(
        &self,
        kind: ChangeKind,
        version: Option<u64>,
        nonce: Option<String>,
    ) -> Result<usize, RedisStoreError> {
        let payload = serde_json::to_string(&Notification {
            kind,
            version,
            nonce,
            origin: self.config.origin.clone(),
            cause: NotifyCause::Published,
        })?;
        let mut conn = {
            let mut guard = self.publisher.lock().await;
            match guard.as_ref() {
                Some(conn) => conn.clone(),
                None => {
                    let conn = connection::manager(&self.client, self.config.op_timeout).await?;
                    *guard = Some(conn.clone());
                    conn
                }
            }
        };
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(&self.channel).arg(payload);
        bounded(
            "publish",
            self.config.op_timeout,
            cmd.query_async(&mut conn),
        )
        .await
    }
}

impl Drop for RedisNotifier {
    fn drop(&mut self) {
        self.task.abort();
    }
}
