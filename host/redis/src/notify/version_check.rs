//! The periodic version check that makes notifications eventually reliable: what a replica has
//! loaded is compared with what the system of record holds, and a mismatch is delivered as a
//! [`NotifyCause::VersionDrift`] notification to the same listeners as published changes.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::{ChangeKind, Notification, NotifyCause};

/// Implemented by the server: "what version do you have, what does the database say".
/// A kind without a natural version (lists) can report a change counter or the latest
/// `updated_at` as microseconds.
#[async_trait]
pub trait VersionCheck: Send + Sync + 'static {
    /// The version of `kind` this replica has loaded, `None` when it has none.
    async fn loaded(&self, kind: ChangeKind) -> Option<u64>;

    /// The version of `kind` the system of record holds now.
    async fn durable(&self, kind: ChangeKind) -> Result<Option<u64>, Box<dyn Error + Send + Sync>>;
}

/// Every `every`, compares [`VersionCheck::loaded`] with [`VersionCheck::durable`] for each
/// kind and sends a [`NotifyCause::VersionDrift`] notification (with the durable version) on
/// `sender` when they differ. A failed durable read is logged and retried next period. The
/// task runs until aborted (drop the handle's abort into the server's shutdown).
pub fn spawn_version_check(
    check: Arc<dyn VersionCheck>,
    every: Duration,
    sender: broadcast::Sender<Notification>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            for kind in ChangeKind::ALL {
                let durable = match check.durable(kind).await {
                    Ok(v) => v,
                    Err(error) => {
                        tracing::warn!(?kind, %error, "version check: durable read failed");
                        continue;
                    }
                };
                if durable != check.loaded(kind).await {
                    let _ = sender.send(Notification {
                        version: durable,
                        ..Notification::synthetic(kind, NotifyCause::VersionDrift)
                    });
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Loaded policy 1 while the database says 2; everything else agrees.
    struct Stale(Mutex<u64>);

    #[async_trait]
    impl VersionCheck for Stale {
        async fn loaded(&self, kind: ChangeKind) -> Option<u64> {
            match kind {
                ChangeKind::Policy => Some(*self.0.lock().expect("lock")),
                _ => Some(1),
            }
        }
        async fn durable(
            &self,
            kind: ChangeKind,
        ) -> Result<Option<u64>, Box<dyn Error + Send + Sync>> {
            Ok(Some(if kind == ChangeKind::Policy { 2 } else { 1 }))
        }
    }

    #[tokio::test]
    async fn drift_is_delivered_until_the_replica_catches_up() {
        let (tx, mut rx) = broadcast::channel(16);
        let check = Arc::new(Stale(Mutex::new(1)));
        let task = spawn_version_check(check.clone(), Duration::from_millis(10), tx);
        let note = tokio::time::timeout(Duration::from_secs(2), rx.recv())
            .await
            .expect("drift within 2 s")
            .expect("open channel");
        assert_eq!(note.kind, ChangeKind::Policy);
        assert_eq!(note.version, Some(2));
        assert_eq!(note.cause, NotifyCause::VersionDrift);
        // The replica reloads; the drift signals stop.
        *check.0.lock().expect("lock") = 2;
        tokio::time::sleep(Duration::from_millis(30)).await;
        while rx.try_recv().is_ok() {}
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(rx.try_recv().is_err(), "no drift once versions agree");
        task.abort();
    }
}
