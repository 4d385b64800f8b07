//! Redis implementations of the engine's shared-state traits, for running several stateless
//! `arbiter` replicas: shared velocity counters with an in-process fallback
//! ([`RedisVelocity`]), change notifications across replicas with a periodic version check
//! ([`RedisNotifier`], [`VersionCheck`]), a due-time queue with leases ([`DueQueue`]) and
//! its adapter to the transaction core's dispatcher trait ([`RedisDueDispatch`]).
//!
//! Library only: the server's composition root picks these when a Redis URL is configured.
//! Nothing here decides, stores a decision or talks to the system-of-record database; what
//! Redis holds is shared and fast but may be lost, so every user keeps its truth elsewhere. Every
//! key lives under a caller-given prefix; nothing here flushes or scans outside it.
//! The scripts and pipelines touch several keys at once, so they need one Redis server (or a
//! primary with replicas), not Redis Cluster.

#![forbid(unsafe_code)]

mod connection;
mod due_dispatch;
mod due_queue;
mod error;
mod notify;
mod velocity;

pub use connection::redacted_url;
pub use due_dispatch::{RedisDueDispatch, RedisDueDispatchConfig};
pub use due_queue::{Claim, DueQueue};
pub use error::RedisStoreError;
pub use notify::{
    ChangeKind, Notification, NotifyCause, RedisNotifier, RedisNotifierConfig, VersionCheck,
    spawn_version_check,
};
pub use velocity::{RedisVelocity, RedisVelocityConfig};
