//! The repair sweep over in-memory fakes: it pages through every due row, offers only what
//! the dispatcher lacks, and stops at a dispatcher failure without losing anything.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::*;

/// The store side: rows by `(kind, key)`.
#[derive(Default)]
struct Rows(Mutex<Vec<DueItem>>);

#[async_trait]
impl DueQueue for Rows {
    async fn schedule(&self, item: &DueItem) -> Result<(), TxError> {
        self.0.lock().expect("rows").push(item.clone());
        Ok(())
    }
    async fn claim_due(
        &self,
        _now: DateTime<Utc>,
        _limit: u32,
        _lease: Duration,
    ) -> Result<Vec<DueItem>, TxError> {
        unreachable!("the sweep never claims from the store")
    }
    async fn complete(&self, kind: &str, key: &str) -> Result<(), TxError> {
        self.0
            .lock()
            .expect("rows")
            .retain(|i| (i.kind.as_str(), i.key.as_str()) != (kind, key));
        Ok(())
    }
    async fn pending_due(
        &self,
        kind: &str,
        now: DateTime<Utc>,
        after: Option<&DueItem>,
        limit: u32,
    ) -> Result<Vec<DueItem>, TxError> {
        let mut rows: Vec<DueItem> = self
            .0
            .lock()
            .expect("rows")
            .iter()
            .filter(|i| i.kind == kind && i.due_at <= now)
            .filter(|i| after.is_none_or(|a| (i.due_at, &i.key) > (a.due_at, &a.key)))
            .cloned()
            .collect();
        rows.sort_by(|a, b| (a.due_at, &a.key).cmp(&(b.due_at, &b.key)));
        rows.truncate(limit as usize);
        Ok(rows)
    }
}

/// The dispatcher side: the keys it holds, and whether it answers.
#[derive(Default)]
struct Held {
    keys: Mutex<BTreeMap<String, DateTime<Utc>>>,
    down: bool,
    offers: Mutex<usize>,
}

#[async_trait]
impl DueDispatch for Held {
    async fn offer(&self, items: &[(String, DateTime<Utc>)]) -> Result<usize, DispatchError> {
        if self.down {
            return Err(DispatchError::Down);
        }
        *self.offers.lock().expect("offers") += 1;
        let mut keys = self.keys.lock().expect("keys");
        let mut added = 0;
        for (key, at) in items {
            if !keys.contains_key(key) {
                keys.insert(key.clone(), *at);
                added += 1;
            }
        }
        Ok(added)
    }
    async fn claim(
        &self,
        _now: DateTime<Utc>,
        _limit: u32,
        _lease: Duration,
    ) -> Result<Vec<DueClaim>, DispatchError> {
        unreachable!("the sweep never claims")
    }
    async fn complete(&self, _claim: &DueClaim) -> Result<bool, DispatchError> {
        unreachable!("the sweep never completes")
    }
    async fn retry(&self, _claim: &DueClaim, _at: DateTime<Utc>) -> Result<bool, DispatchError> {
        unreachable!("the sweep never retries")
    }
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("valid time")
}

fn item(kind: &str, key: &str, secs: i64) -> DueItem {
    DueItem {
        kind: kind.into(),
        key: key.into(),
        due_at: t0() + Duration::seconds(secs),
    }
}

#[tokio::test]
async fn the_sweep_offers_every_due_row_the_dispatcher_lacks_across_pages() {
    let rows = Rows::default();
    // 23 due rows, several sharing a due time (the page boundary must not skip or repeat
    // them), one not yet due and one of another kind.
    for i in 0..23 {
        rows.schedule(&item(ORDER_EXPIRY, &format!("o-{i:02}"), -(i % 4)))
            .await
            .expect("row");
    }
    rows.schedule(&item(ORDER_EXPIRY, "later", 60))
        .await
        .expect("row");
    rows.schedule(&item("other.kind", "x", -5))
        .await
        .expect("row");
    let held = Held::default();
    held.offer(&[("o-03".into(), t0()), ("o-07".into(), t0())])
        .await
        .expect("already held");

    let report = restore_missing(&rows, &held, ORDER_EXPIRY, t0(), 5)
        .await
        .expect("sweep");
    assert_eq!(
        report,
        SweepReport {
            due: 23,
            restored: 21
        }
    );
    let keys = held.keys.lock().expect("keys").clone();
    assert_eq!(keys.len(), 23);
    assert!(!keys.contains_key("later") && !keys.contains_key("x"));
    assert_eq!(
        *held.offers.lock().expect("offers"),
        1 + 5,
        "five pages of five"
    );

    // Run again: everything is held, nothing restored.
    let again = restore_missing(&rows, &held, ORDER_EXPIRY, t0(), 5)
        .await
        .expect("sweep");
    assert_eq!(again.restored, 0);
}

#[tokio::test]
async fn a_dispatcher_failure_stops_the_sweep_and_leaves_the_rows() {
    let rows = Rows::default();
    rows.schedule(&item(ORDER_EXPIRY, "o-1", -1))
        .await
        .expect("row");
    let held = Held {
        down: true,
        ..Held::default()
    };
    let err = restore_missing(&rows, &held, ORDER_EXPIRY, t0(), 10)
        .await
        .expect_err("down");
    assert!(
        matches!(err, DueError::Dispatch(DispatchError::Down)),
        "{err}"
    );
    assert_eq!(
        rows.0.lock().expect("rows").len(),
        1,
        "the truth is untouched"
    );
}
