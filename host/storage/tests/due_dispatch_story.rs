//! Order expiry through a shared dispatcher (what Redis is in production; here an in-memory
//! one that can lose keys and go down) with the database's `due_items` as the truth, over real
//! storage: the repair sweep's paging read, expiry exactly once across two services, keys the
//! dispatcher lost restored by the sweep, and a dispatcher outage that never fails an order —
//! on SQLite always and on PostgreSQL when `DATABASE_URL` is set.

#[macro_use]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use arbiter_transactions::catalogue::Line;
use arbiter_transactions::due::{
    DispatchError, DueClaim, DueDispatch, DueError, DueItem, SweepReport,
};
use arbiter_transactions::ids::{IdempotencyKey, OrderId, Sku};
use arbiter_transactions::order::OrderRequest;
use arbiter_transactions::orders::{OrderConfig, OrderService};
use arbiter_transactions::status::OrderStatus;
use arbiter_transactions::store::TransactionStore;
use async_trait::async_trait;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use support::catalogue::stocked;
use support::clock::TestClock;
use support::risk::ScriptedRisk;

on_every_backend!(pending_due_pages_through_due_rows_without_leasing_them);
on_every_backend!(lost_keys_are_restored_by_the_sweep_and_expired_once);
on_every_backend!(two_services_on_one_dispatcher_cancel_each_order_once);
on_every_backend!(a_dispatcher_outage_never_fails_an_order);

/// A dispatcher in memory with Redis's semantics: waiting keys by due time, leased keys with
/// their current token, and switches to lose everything or go down.
#[derive(Default)]
struct MemoryDispatch {
    state: Mutex<Held>,
    down: AtomicBool,
}

#[derive(Default)]
struct Held {
    waiting: BTreeMap<String, DateTime<Utc>>,
    /// key → (token, lease deadline)
    leased: BTreeMap<String, (u64, DateTime<Utc>)>,
    seq: u64,
}

impl MemoryDispatch {
    fn held(&self) -> Vec<String> {
        let s = self.state.lock().expect("state");
        s.waiting.keys().chain(s.leased.keys()).cloned().collect()
    }
    /// Redis restarted without persistence.
    fn lose_everything(&self) {
        *self.state.lock().expect("state") = Held::default();
    }
    fn check(&self) -> Result<(), DispatchError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(DispatchError::Down);
        }
        Ok(())
    }
}

#[async_trait]
impl DueDispatch for MemoryDispatch {
    async fn offer(&self, items: &[(String, DateTime<Utc>)]) -> Result<usize, DispatchError> {
        self.check()?;
        let mut s = self.state.lock().expect("state");
        let mut added = 0;
        for (key, at) in items {
            if !s.waiting.contains_key(key) && !s.leased.contains_key(key) {
                s.waiting.insert(key.clone(), *at);
                added += 1;
            }
        }
        Ok(added)
    }

    async fn claim(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<DueClaim>, DispatchError> {
        self.check()?;
        let mut s = self.state.lock().expect("state");
        let expired: Vec<String> = s
            .leased
            .iter()
            .filter(|(_, (_, until))| *until <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            s.leased.remove(&key);
            s.waiting.insert(key, now);
        }
        let mut due: Vec<(DateTime<Utc>, String)> = s
            .waiting
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(k, at)| (*at, k.clone()))
            .collect();
        due.sort();
        due.truncate(limit as usize);
        let mut out = Vec::new();
        for (_, key) in due {
            s.waiting.remove(&key);
            s.seq += 1;
            let token = s.seq;
            s.leased.insert(key.clone(), (token, now + lease));
            out.push(DueClaim { key, token });
        }
        Ok(out)
    }

    async fn complete(&self, claim: &DueClaim) -> Result<bool, DispatchError> {
        self.check()?;
        let mut s = self.state.lock().expect("state");
        if s.leased.get(&claim.key).map(|(t, _)| *t) != Some(claim.token) {
            return Ok(false);
        }
        s.leased.remove(&claim.key);
        Ok(true)
    }

    async fn retry(&self, claim: &DueClaim, at: DateTime<Utc>) -> Result<bool, DispatchError> {
        self.check()?;
        let mut s = self.state.lock().expect("state");
        if s.leased.get(&claim.key).map(|(t, _)| *t) != Some(claim.token) {
            return Ok(false);
        }
        s.leased.remove(&claim.key);
        s.waiting.insert(claim.key.clone(), at);
        Ok(true)
    }
}

fn request(user: &str, sku: &Sku) -> OrderRequest {
    OrderRequest {
        items: vec![Line {
            sku: sku.clone(),
            quantity: 1,
        }],
        user: user.into(),
        device: None,
        ip: None,
        shipping: None,
        payment_method: Some("card".into()),
    }
}

fn service(
    store: &Arc<dyn TransactionStore>,
    clock: &Arc<TestClock>,
    dispatch: &Arc<MemoryDispatch>,
) -> OrderService {
    OrderService::new(
        Arc::clone(store),
        Arc::new(ScriptedRisk),
        clock.clone(),
        OrderConfig::default(),
    )
    .with_expiry_dispatch(dispatch.clone())
}

/// How many times the order's history entered `CANCELLED`.
async fn cancellations(orders: &OrderService, id: &OrderId) -> usize {
    orders
        .get(id)
        .await
        .expect("get")
        .history
        .iter()
        .filter(|h| h.to == "CANCELLED")
        .count()
}

mod stories {
    use super::*;

    pub async fn pending_due_pages_through_due_rows_without_leasing_them(
        store: Arc<dyn TransactionStore>,
    ) {
        let now = Utc::now().trunc_subsecs(6);
        // Three rows share one due time, so a page boundary falls inside a tie.
        let rows = [
            ("e", -30),
            ("a", -20),
            ("b", -20),
            ("c", -20),
            ("d", -5),
            ("f", 0),
        ];
        for (key, secs) in rows {
            let item = DueItem {
                kind: "test".into(),
                key: key.into(),
                due_at: now + Duration::seconds(secs),
            };
            store.schedule(&item).await.expect("schedule");
        }
        for (kind, key, secs) in [("test", "later", 60), ("other", "x", -60)] {
            let item = DueItem {
                kind: kind.into(),
                key: key.into(),
                due_at: now + Duration::seconds(secs),
            };
            store.schedule(&item).await.expect("schedule");
        }
        // Leased rows are still pending: the sweep must see them (`x`, then `e`).
        let leased = store
            .claim_due(now, 2, Duration::seconds(60))
            .await
            .expect("claim");
        assert_eq!(leased.len(), 2);

        let mut seen = Vec::new();
        let mut after: Option<DueItem> = None;
        loop {
            let page = store
                .pending_due("test", now, after.as_ref(), 2)
                .await
                .expect("page");
            seen.extend(page.iter().map(|i| i.key.clone()));
            if page.len() < 2 {
                break;
            }
            after = page.last().cloned();
        }
        assert_eq!(seen, ["e", "a", "b", "c", "d", "f"], "(due_at, key) order");
        let again = store
            .claim_due(now, 10, Duration::seconds(60))
            .await
            .expect("claim");
        assert_eq!(again.len(), 5, "reading leased nothing");
    }

    pub async fn lost_keys_are_restored_by_the_sweep_and_expired_once(
        store: Arc<dyn TransactionStore>,
    ) {
        let clock = TestClock::new();
        let dispatch = Arc::new(MemoryDispatch::default());
        let orders = service(&store, &clock, &dispatch);
        let sku = stocked(&*store, "HAT", 999, 10).await;
        let mut ids = Vec::new();
        for user in ["expires", "cancels", "reject-me"] {
            let key = IdempotencyKey(format!("k-{user}"));
            ids.push(
                orders
                    .create(key, request(user, &sku))
                    .await
                    .expect("create")
                    .id,
            );
        }
        let [expires, cancels, rejected] = [&ids[0], &ids[1], &ids[2]];
        assert_eq!(
            dispatch.held().len(),
            3,
            "each order is offered right after its commit (before the risk answer)"
        );
        orders.cancel(cancels).await.expect("cancel");
        assert_eq!(orders.expire_due(100).await.expect("early"), 0);

        clock.advance(Duration::minutes(16));
        dispatch.lose_everything();
        assert_eq!(
            orders.expire_due(100).await.expect("nothing held"),
            0,
            "the dispatcher forgot it; the database still holds it"
        );
        assert_eq!(
            orders.get(expires).await.expect("get").order.status,
            OrderStatus::PendingPayment
        );
        let report = orders.sweep_expiries().await.expect("sweep");
        assert_eq!(
            report,
            SweepReport {
                due: 1,
                restored: 1
            },
            "only the unpaid order has a due row left"
        );
        assert_eq!(orders.expire_due(100).await.expect("expire"), 1);
        let view = orders.get(expires).await.expect("get");
        assert_eq!(view.order.status, OrderStatus::Cancelled);
        assert_eq!(
            view.history.last().map(|h| h.note.as_str()),
            Some("reservation expired")
        );
        let level = store.sku(&sku).await.expect("sku").expect("exists").stock;
        assert_eq!(level.reserved, 0, "every unit released");
        assert_eq!(dispatch.held(), Vec::<String>::new(), "completed");
        assert_eq!(orders.sweep_expiries().await.expect("sweep").due, 0);
        for id in [expires, cancels] {
            assert_eq!(cancellations(&orders, id).await, 1, "{id}");
        }
        assert_eq!(
            orders.get(rejected).await.expect("get").order.status,
            OrderStatus::Rejected
        );
    }

    pub async fn two_services_on_one_dispatcher_cancel_each_order_once(
        store: Arc<dyn TransactionStore>,
    ) {
        let clock = TestClock::new();
        let dispatch = Arc::new(MemoryDispatch::default());
        let a = service(&store, &clock, &dispatch);
        let b = service(&store, &clock, &dispatch);
        let sku = stocked(&*store, "CAP", 500, 40).await;
        let mut ids = Vec::new();
        for i in 0..40 {
            let orders = if i % 2 == 0 { &a } else { &b };
            let key = IdempotencyKey(format!("k-{i}"));
            let order = orders
                .create(key, request(&format!("u-{i}"), &sku))
                .await
                .expect("create");
            ids.push(order.id);
        }
        clock.advance(Duration::minutes(16));
        // Both replicas race, in small batches, with a sweep re-offering everything meanwhile.
        let (ra, rb, sweep) = tokio::join!(
            async {
                let mut n = 0;
                while let Ok(k @ 1..) = a.expire_due(3).await {
                    n += k;
                }
                n
            },
            async {
                let mut n = 0;
                while let Ok(k @ 1..) = b.expire_due(3).await {
                    n += k;
                }
                n
            },
            a.sweep_expiries(),
        );
        sweep.expect("sweep");
        // Whatever the sweep re-offered is finished by one more pass.
        let rest = a.expire_due(100).await.expect("rest");
        assert_eq!(
            ra + rb + rest,
            40,
            "every order cancelled by exactly one call"
        );
        for id in &ids {
            assert_eq!(cancellations(&a, id).await, 1, "{id}");
        }
        let level = store.sku(&sku).await.expect("sku").expect("exists").stock;
        assert_eq!(
            (level.reserved, level.total),
            (0, 40),
            "released exactly once"
        );
        assert_eq!(a.expire_due(100).await.expect("drained"), 0);
    }

    pub async fn a_dispatcher_outage_never_fails_an_order(store: Arc<dyn TransactionStore>) {
        let clock = TestClock::new();
        let dispatch = Arc::new(MemoryDispatch::default());
        let orders = service(&store, &clock, &dispatch);
        let sku = stocked(&*store, "SOCK", 300, 5).await;
        dispatch.down.store(true, Ordering::SeqCst);
        let order = orders
            .create(IdempotencyKey::from("k-down"), request("u", &sku))
            .await
            .expect("an order does not need the dispatcher");
        assert_eq!(order.status, OrderStatus::PendingPayment);
        assert!(dispatch.held().is_empty());
        clock.advance(Duration::minutes(16));
        assert!(matches!(
            orders.expire_due(100).await,
            Err(DueError::Dispatch(DispatchError::Down))
        ));
        assert!(orders.sweep_expiries().await.is_err());

        dispatch.down.store(false, Ordering::SeqCst);
        assert_eq!(orders.sweep_expiries().await.expect("sweep").restored, 1);
        assert_eq!(orders.expire_due(100).await.expect("expire"), 1);
        assert_eq!(
            orders.get(&order.id).await.expect("get").order.status,
            OrderStatus::Cancelled
        );
    }
}
