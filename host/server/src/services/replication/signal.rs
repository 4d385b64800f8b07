//! A service's "I changed something replicas must know" hook. Services fire it after a change
//! they made is durable and loaded; replication connects it to a publish. Unconnected (one
//! replica, no Redis) it does nothing.

use std::sync::OnceLock;

use arbiter_redis::ChangeKind;

type Callback = Box<dyn Fn(ChangeKind) + Send + Sync>;

#[derive(Default)]
pub struct ChangeSignal(OnceLock<Callback>);

impl ChangeSignal {
    /// Connects the signal once; later connections are ignored.
    pub fn connect(&self, f: impl Fn(ChangeKind) + Send + Sync + 'static) {
        let _ = self.0.set(Box::new(f));
    }

    pub fn fire(&self, kind: ChangeKind) {
        if let Some(f) = self.0.get() {
            f(kind);
        }
    }
}
