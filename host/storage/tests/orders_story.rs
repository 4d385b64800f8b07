//! The order service over real storage: creation with idempotency, risk outcomes and fail
//! modes, cancellation and expiry through the due queue, and 500 concurrent orders against 50
//! units — on SQLite always and on PostgreSQL when `DATABASE_URL` is set.

#[macro_use]
mod support;

use std::sync::Arc;

use arbiter_transactions::TxError;
use arbiter_transactions::catalogue::{Line, StockLevel};
use arbiter_transactions::ids::{IdempotencyKey, Sku};
use arbiter_transactions::order::OrderRequest;
use arbiter_transactions::orders::{OrderConfig, OrderService};
use arbiter_transactions::risk::{RiskAction, RiskFailMode};
use arbiter_transactions::status::OrderStatus;
use arbiter_transactions::store::TransactionStore;
use chrono::Duration;
use support::catalogue::{stocked, usd};
use support::clock::TestClock;
use support::risk::ScriptedRisk;

on_every_backend!(an_accepted_order_waits_for_payment_priced_from_the_catalogue);
on_every_backend!(the_same_key_and_body_is_the_same_order_another_body_conflicts);
on_every_backend!(risk_reject_and_challenge_and_fail_modes);
on_every_backend!(cancel_and_expiry_release_stock_once);
on_every_backend!(five_hundred_concurrent_orders_fifty_reach_pending_payment);

fn request(user: &str, items: &[(&Sku, u32)]) -> OrderRequest {
    OrderRequest {
        items: items
            .iter()
            .map(|(sku, quantity)| Line {
                sku: (*sku).clone(),
                quantity: *quantity,
            })
            .collect(),
        user: user.into(),
        device: Some("dev-1".into()),
        ip: None,
        shipping: None,
        payment_method: Some("card".into()),
    }
}

fn service(
    store: &Arc<dyn TransactionStore>,
    fail_mode: RiskFailMode,
) -> (OrderService, Arc<TestClock>) {
    let clock = TestClock::new();
    let config = OrderConfig {
        risk_fail_mode: fail_mode,
        ..OrderConfig::default()
    };
    let service = OrderService::new(
        Arc::clone(store),
        Arc::new(ScriptedRisk),
        clock.clone(),
        config,
    );
    (service, clock)
}

async fn stock(store: &dyn TransactionStore, sku: &Sku) -> StockLevel {
    store.sku(sku).await.expect("read").expect("exists").stock
}

mod stories {
    use super::*;

    pub async fn an_accepted_order_waits_for_payment_priced_from_the_catalogue(
        store: Arc<dyn TransactionStore>,
    ) {
        let (orders, _) = service(&store, RiskFailMode::Open);
        let a = stocked(&*store, "A", 1299, 10).await;
        let b = stocked(&*store, "B", 250, 10).await;
        let order = orders
            .create(
                IdempotencyKey::from("k1"),
                request("alice", &[(&a, 2), (&b, 1), (&a, 1)]),
            )
            .await
            .expect("create");
        assert_eq!(order.status, OrderStatus::PendingPayment);
        assert_eq!(order.total, usd(3 * 1299 + 250));
        assert!(!order.challenge_required);
        let risk = order.risk.clone().expect("risk recorded");
        assert_eq!(risk.action, RiskAction::Accept);
        assert_eq!(
            risk.decision_id,
            Some(format!("dec_{}:order.create", order.id))
        );
        assert_eq!(stock(&*store, &a).await.reserved, 3);
        let view = orders.get(&order.id).await.expect("get");
        assert_eq!(view.order, order, "create answers exactly what is stored");
        let path: Vec<_> = view.history.iter().map(|h| h.to.as_str()).collect();
        assert_eq!(path, ["CREATING", "PENDING_PAYMENT"]);
        assert!(matches!(
            orders
                .create(
                    IdempotencyKey::from("k2"),
                    request("alice", &[(&Sku::from("nope"), 1)])
                )
                .await,
            Err(TxError::NotFound { entity: "sku", .. })
        ));
        let too_many = orders
            .create(IdempotencyKey::from("k3"), request("alice", &[(&b, 11)]))
            .await;
        assert!(
            matches!(too_many, Err(TxError::OutOfStock { .. })),
            "{too_many:?}"
        );
        assert!(
            store
                .order_by_key(&IdempotencyKey::from("k3"))
                .await
                .expect("read")
                .is_none(),
            "nothing stored"
        );
        // One line fits, the other does not: nothing of either is kept.
        let short = orders
            .create(
                IdempotencyKey::from("k5"),
                request("alice", &[(&a, 1), (&b, 11)]),
            )
            .await;
        assert!(
            matches!(short, Err(TxError::OutOfStock { ref sku, available: 9, wanted: 11 }) if sku == "B"),
            "{short:?}"
        );
        assert_eq!(stock(&*store, &a).await.reserved, 3, "A's line was undone");
        assert_eq!(stock(&*store, &b).await.reserved, 1);
        assert!(
            store
                .order_by_key(&IdempotencyKey::from("k5"))
                .await
                .expect("read")
                .is_none(),
            "nothing stored"
        );
        assert!(matches!(
            orders
                .create(IdempotencyKey::from("k4"), request("alice", &[]))
                .await,
            Err(TxError::Invalid { .. })
        ));
    }

    pub async fn the_same_key_and_body_is_the_same_order_another_body_conflicts(
        store: Arc<dyn TransactionStore>,
    ) {
        let (orders, _) = service(&store, RiskFailMode::Open);
        let a = stocked(&*store, "A", 100, 10).await;
        let key = IdempotencyKey::from("same");
        let first = orders
            .create(key.clone(), request("bob", &[(&a, 1)]))
            .await
            .expect("first");
        let again = orders
            .create(key.clone(), request("bob", &[(&a, 1)]))
            .await
            .expect("replay");
        assert_eq!(again, first);
        assert_eq!(stock(&*store, &a).await.reserved, 1, "reserved once");
        let other = orders.create(key.clone(), request("bob", &[(&a, 2)])).await;
        assert!(
            matches!(other, Err(TxError::IdempotencyConflict { .. })),
            "{other:?}"
        );
        // Ten racing requests with one new key: one order, one reservation.
        let racing: Vec<_> = (0..10)
            .map(|_| {
                let orders = orders.clone();
                let r = request("carol", &[(&a, 1)]);
                tokio::spawn(async move { orders.create(IdempotencyKey::from("race"), r).await })
            })
            .collect();
        let mut ids = Vec::new();
        for task in racing {
            ids.push(task.await.expect("task").expect("same order").id);
        }
        ids.dedup();
        assert_eq!(ids.len(), 1);
        assert_eq!(stock(&*store, &a).await.reserved, 2);
    }

    pub async fn risk_reject_and_challenge_and_fail_modes(store: Arc<dyn TransactionStore>) {
        let a = stocked(&*store, "A", 100, 10).await;
        let (open, _) = service(&store, RiskFailMode::Open);
        let (closed, _) = service(&store, RiskFailMode::Closed);
        let rejected = open
            .create(IdempotencyKey::from("r"), request("reject-me", &[(&a, 2)]))
            .await
            .expect("r");
        assert_eq!(rejected.status, OrderStatus::Rejected);
        assert_eq!(open.get(&rejected.id).await.expect("get").order, rejected);
        assert_eq!(stock(&*store, &a).await.reserved, 0, "released on reject");
        let challenged = open
            .create(
                IdempotencyKey::from("c"),
                request("challenge-me", &[(&a, 1)]),
            )
            .await
            .expect("c");
        assert_eq!(challenged.status, OrderStatus::PendingPayment);
        assert!(challenged.challenge_required);
        assert_eq!(
            open.get(&challenged.id).await.expect("get").order,
            challenged
        );
        let failed_open = open
            .create(IdempotencyKey::from("t1"), request("timeout", &[(&a, 1)]))
            .await
            .expect("t1");
        assert_eq!(failed_open.status, OrderStatus::PendingPayment);
        assert_eq!(
            open.get(&failed_open.id).await.expect("get").order,
            failed_open
        );
        let risk = failed_open.risk.expect("recorded");
        assert_eq!(
            (risk.fail_mode, risk.decision_id),
            (Some(RiskFailMode::Open), None)
        );
        assert_eq!(risk.fault.as_deref(), Some("risk host timed out"));
        let failed_closed = closed
            .create(IdempotencyKey::from("t2"), request("timeout", &[(&a, 1)]))
            .await
            .expect("t2");
        assert_eq!(failed_closed.status, OrderStatus::Rejected);
        assert_eq!(
            closed.get(&failed_closed.id).await.expect("get").order,
            failed_closed
        );
        assert_eq!(
            failed_closed.risk.and_then(|r| r.fail_mode),
            Some(RiskFailMode::Closed)
        );
        assert_eq!(
            stock(&*store, &a).await.reserved,
            2,
            "the two pending orders hold stock"
        );
    }

    pub async fn cancel_and_expiry_release_stock_once(store: Arc<dyn TransactionStore>) {
        let (orders, clock) = service(&store, RiskFailMode::Open);
        let a = stocked(&*store, "A", 100, 10).await;
        let kept = orders
            .create(IdempotencyKey::from("kept"), request("u", &[(&a, 1)]))
            .await
            .expect("kept");
        let cancelled = orders
            .create(IdempotencyKey::from("cxl"), request("u", &[(&a, 2)]))
            .await
            .expect("cxl");
        let expiring = orders
            .create(IdempotencyKey::from("exp"), request("u", &[(&a, 3)]))
            .await
            .expect("exp");
        assert_eq!(stock(&*store, &a).await.reserved, 6);
        let done = orders.cancel(&cancelled.id).await.expect("cancel");
        assert_eq!(done.status, OrderStatus::Cancelled);
        assert_eq!(stock(&*store, &a).await.reserved, 4);
        assert!(
            matches!(
                orders.cancel(&cancelled.id).await,
                Err(TxError::Transition(_))
            ),
            "cancelled once"
        );
        assert_eq!(orders.expire_due(100).await.expect("nothing due yet"), 0);
        clock.advance(Duration::minutes(16));
        // A fresh service, as after a restart: the queue lives in the database.
        let after_restart = OrderService::new(
            Arc::clone(&store),
            Arc::new(ScriptedRisk),
            clock.clone(),
            OrderConfig::default(),
        );
        assert_eq!(
            after_restart.expire_due(100).await.expect("expire"),
            2,
            "kept and expiring"
        );
        assert_eq!(
            after_restart.expire_due(100).await.expect("again"),
            0,
            "idempotent"
        );
        for id in [&kept.id, &expiring.id] {
            let view = orders.get(id).await.expect("get");
            assert_eq!(view.order.status, OrderStatus::Cancelled);
            assert_eq!(
                view.history.last().map(|h| h.note.as_str()),
                Some("reservation expired")
            );
        }
        assert_eq!(
            stock(&*store, &a).await,
            StockLevel {
                total: 10,
                reserved: 0,
                sold: 0
            }
        );
    }

    pub async fn five_hundred_concurrent_orders_fifty_reach_pending_payment(
        store: Arc<dyn TransactionStore>,
    ) {
        let (orders, _) = service(&store, RiskFailMode::Open);
        let sku = stocked(&*store, "HOT", 100, 50).await;
        let tasks: Vec<_> = (0..500)
            .map(|i| {
                let orders = orders.clone();
                let r = request(&format!("user-{i}"), &[(&sku, 1)]);
                tokio::spawn(async move { orders.create(IdempotencyKey(format!("k{i}")), r).await })
            })
            .collect();
        let (mut pending, mut out_of_stock) = (0, 0);
        for task in tasks {
            match task.await.expect("task") {
                Ok(order) if order.status == OrderStatus::PendingPayment => pending += 1,
                Err(TxError::OutOfStock { .. }) => out_of_stock += 1,
                other => panic!("unexpected: {other:?}"),
            }
        }
        assert_eq!((pending, out_of_stock), (50, 450));
        let level = stock(&*store, &sku).await;
        assert_eq!(
            level,
            StockLevel {
                total: 50,
                reserved: 50,
                sold: 0
            }
        );
    }
}
