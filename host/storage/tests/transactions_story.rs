//! The transaction core's storage stories — stock, reservations, status compare-and-set,
//! ledger, due queue — written once over `Arc<dyn TransactionStore>` and run on SQLite always
//! and on PostgreSQL when `DATABASE_URL` is set.

#[macro_use]
mod support;

use std::sync::Arc;

use arbiter_transactions::TxError;
use arbiter_transactions::catalogue::{Line, NewReservation, ReservationStatus, StockLevel};
use arbiter_transactions::change::{Change, OrderStep, OutboxMessage, ReservationEffect};
use arbiter_transactions::due::DueItem;
use arbiter_transactions::ids::{IdempotencyKey, OrderId, ReservationId, Sku};
use arbiter_transactions::ledger::{Account, Entry, Journal};
use arbiter_transactions::order::{NewOrder, Order, OrderCreate, OrderItem, OrderRequest};
use arbiter_transactions::status::{OrderStatus, Status};
use arbiter_transactions::store::TransactionStore;
use chrono::{Duration, SubsecRound, Utc};
use support::catalogue::{stocked, usd};

on_every_backend!(stock_is_reserved_confirmed_and_released);
on_every_backend!(five_hundred_reservations_never_oversell_fifty_units);
on_every_backend!(a_status_changes_only_from_the_status_it_was_decided_from);
on_every_backend!(a_journal_is_written_with_its_change_or_not_at_all);
on_every_backend!(due_items_are_claimed_once_until_their_lease_ends);

fn reservation(lines: &[(&Sku, u32)]) -> NewReservation {
    let lines: Vec<Line> = lines
        .iter()
        .map(|(sku, quantity)| Line {
            sku: (*sku).clone(),
            quantity: *quantity,
        })
        .collect();
    NewReservation::new(
        ReservationId::generate(),
        &lines,
        Utc::now() + Duration::minutes(15),
    )
    .expect("valid reservation")
}

async fn stock(store: &dyn TransactionStore, sku: &Sku) -> StockLevel {
    store.sku(sku).await.expect("read").expect("exists").stock
}

/// A stored order in `CREATING` for one unit of `sku`.
async fn creating_order(store: &dyn TransactionStore, sku: &Sku) -> Order {
    // Not truncated: the store keeps microseconds, and what it answers must equal its read-back.
    let now = Utc::now();
    let request = OrderRequest {
        items: vec![Line {
            sku: sku.clone(),
            quantity: 1,
        }],
        user: "u1".into(),
        device: None,
        ip: None,
        shipping: None,
        payment_method: None,
    };
    let new = NewOrder {
        id: OrderId::generate(),
        idempotency_key: IdempotencyKey::generate(),
        body_hash: request.body_hash(),
        request,
        items: vec![OrderItem {
            sku: sku.clone(),
            quantity: 1,
            unit_price: usd(1000),
        }],
        total: usd(1000),
        reservation_id: ReservationId::generate(),
        expires_at: now + Duration::minutes(15),
        created_at: now,
    };
    let order = match store.create_order(&new).await.expect("create") {
        OrderCreate::Created(order) => order,
        OrderCreate::Existing(_) => panic!("a fresh key made an order"),
    };
    let stored = store.order(&order.id).await.expect("read back");
    assert_eq!(
        stored.as_ref(),
        Some(&order),
        "create_order answers what it stored"
    );
    order
}

fn step(order: &Order, to: OrderStatus, reservation: ReservationEffect) -> OrderStep {
    OrderStep {
        id: order.id.clone(),
        transition: order.status.to(to).expect("legal"),
        reservation,
        risk: None,
        challenge_required: false,
        note: format!("to {to}"),
    }
}

mod stories {
    use super::*;

    pub async fn stock_is_reserved_confirmed_and_released(store: Arc<dyn TransactionStore>) {
        let a = stocked(&*store, "A", 1299, 10).await;
        let b = stocked(&*store, "B", 500, 1).await;
        let view = store.sku(&a).await.expect("read").expect("exists");
        assert_eq!(view.product.price, usd(1299));
        let r1 = store
            .reserve(&reservation(&[(&a, 3), (&b, 1)]))
            .await
            .expect("reserve");
        assert_eq!(r1.status, ReservationStatus::Held);
        assert_eq!(
            stock(&*store, &a).await,
            StockLevel {
                total: 10,
                reserved: 3,
                sold: 0
            }
        );
        // All or nothing: B is gone, so A is not held either.
        let short = store.reserve(&reservation(&[(&a, 1), (&b, 1)])).await;
        assert!(
            matches!(short, Err(TxError::OutOfStock { ref sku, available: 0, wanted: 1 }) if sku == "B"),
            "{short:?}"
        );
        assert_eq!(stock(&*store, &a).await.reserved, 3);
        let confirmed = store.confirm_reservation(&r1.id).await.expect("confirm");
        assert_eq!(confirmed.status, ReservationStatus::Confirmed);
        assert_eq!(
            stock(&*store, &a).await,
            StockLevel {
                total: 10,
                reserved: 0,
                sold: 3
            }
        );
        assert!(
            matches!(
                store.release_reservation(&r1.id).await,
                Err(TxError::StatusChanged { .. })
            ),
            "a confirmed reservation is not released"
        );
        let r2 = store
            .reserve(&reservation(&[(&a, 7)]))
            .await
            .expect("the rest");
        assert_eq!(stock(&*store, &a).await.available(), 0);
        assert!(matches!(
            store.set_stock_total(&a, 9).await,
            Err(TxError::StockBelowCommitted { committed: 10, .. })
        ));
        store.release_reservation(&r2.id).await.expect("release");
        assert_eq!(
            stock(&*store, &a).await,
            StockLevel {
                total: 10,
                reserved: 0,
                sold: 3
            }
        );
        assert_eq!(
            store
                .set_stock_total(&a, 3)
                .await
                .expect("shrink")
                .available(),
            0
        );
        assert!(matches!(
            store.set_stock_total(&Sku::from("nope"), 1).await,
            Err(TxError::NotFound { .. })
        ));
        assert!(matches!(
            store
                .reserve(&reservation(&[(&Sku::from("nope"), 1)]))
                .await,
            Err(TxError::NotFound { .. })
        ));
    }

    pub async fn five_hundred_reservations_never_oversell_fifty_units(
        store: Arc<dyn TransactionStore>,
    ) {
        let sku = stocked(&*store, "HOT", 100, 50).await;
        let tasks: Vec<_> = (0..500)
            .map(|_| {
                let store = Arc::clone(&store);
                let r = reservation(&[(&sku, 1)]);
                tokio::spawn(async move { store.reserve(&r).await })
            })
            .collect();
        let (mut held, mut refused) = (0, 0);
        for task in tasks {
            match task.await.expect("task") {
                Ok(_) => held += 1,
                Err(TxError::OutOfStock { .. }) => refused += 1,
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!((held, refused), (50, 450));
        let level = stock(&*store, &sku).await;
        assert_eq!(
            level,
            StockLevel {
                total: 50,
                reserved: 50,
                sold: 0
            }
        );
        assert!(level.is_conserved());
    }

    pub async fn a_status_changes_only_from_the_status_it_was_decided_from(
        store: Arc<dyn TransactionStore>,
    ) {
        let sku = stocked(&*store, "S", 1000, 5).await;
        let order = creating_order(&*store, &sku).await;
        assert_eq!(order.status, OrderStatus::Creating);
        assert_eq!(stock(&*store, &sku).await.reserved, 1);
        let to_pending = Change {
            order: Some(step(
                &order,
                OrderStatus::PendingPayment,
                ReservationEffect::Keep,
            )),
            at: Utc::now(),
            ..Change::default()
        };
        store.apply(&to_pending).await.expect("first move");
        // The same decision again: the status is no longer CREATING, nothing is written.
        let again = store.apply(&to_pending).await;
        assert!(
            matches!(again, Err(TxError::StatusChanged { ref actual, .. }) if actual == "PENDING_PAYMENT"),
            "{again:?}"
        );
        // A stale cancel decided from CREATING is refused too, and its release does not happen.
        let stale = Change {
            order: Some(step(
                &order,
                OrderStatus::Cancelled,
                ReservationEffect::Release,
            )),
            at: Utc::now(),
            ..Change::default()
        };
        assert!(store.apply(&stale).await.is_err());
        assert_eq!(stock(&*store, &sku).await.reserved, 1, "nothing released");
        let history = store
            .history(OrderStatus::ENTITY, order.id.as_str())
            .await
            .expect("history");
        let path: Vec<_> = history
            .iter()
            .map(|h| (h.from.clone(), h.to.clone()))
            .collect();
        assert_eq!(
            path,
            vec![
                (None, "CREATING".to_owned()),
                (Some("CREATING".to_owned()), "PENDING_PAYMENT".to_owned()),
            ]
        );
        let pending = store.order(&order.id).await.expect("read").expect("exists");
        assert_eq!(pending.status, OrderStatus::PendingPayment);
        let cancel = Change {
            order: Some(step(
                &pending,
                OrderStatus::Cancelled,
                ReservationEffect::Release,
            )),
            at: Utc::now(),
            ..Change::default()
        };
        store.apply(&cancel).await.expect("cancel");
        assert_eq!(
            stock(&*store, &sku).await,
            StockLevel {
                total: 5,
                reserved: 0,
                sold: 0
            }
        );
        let missing = Change {
            order: Some(OrderStep {
                id: OrderId::from("ord_missing"),
                ..step(&pending, OrderStatus::Paid, ReservationEffect::Keep)
            }),
            at: Utc::now(),
            ..Change::default()
        };
        assert!(matches!(
            store.apply(&missing).await,
            Err(TxError::NotFound { .. })
        ));
    }

    pub async fn a_journal_is_written_with_its_change_or_not_at_all(
        store: Arc<dyn TransactionStore>,
    ) {
        let sku = stocked(&*store, "L", 1000, 5).await;
        let order = creating_order(&*store, &sku).await;
        let journal = |minor| {
            Journal::new(
                "payment.captured",
                order.id.as_str(),
                vec![
                    Entry::debit(Account::channel_clearing("card"), usd(minor)),
                    Entry::credit(Account::customer_funds(), usd(minor)),
                ],
                Utc::now(),
            )
            .expect("balanced")
        };
        let good = Change {
            order: Some(step(
                &order,
                OrderStatus::PendingPayment,
                ReservationEffect::Keep,
            )),
            journal: Some(journal(1000)),
            outbox: vec![OutboxMessage {
                topic: "t".into(),
                payload: serde_json::json!({}),
            }],
            at: Utc::now(),
            ..Change::default()
        };
        store.apply(&good).await.expect("apply");
        // The same step again fails its compare-and-set: its journal must not be written.
        let stale = Change {
            journal: Some(journal(7)),
            ..good.clone()
        };
        assert!(store.apply(&stale).await.is_err());
        assert_eq!(
            store
                .balance(&Account::channel_clearing("card"))
                .await
                .expect("balance"),
            vec![usd(1000)]
        );
        assert_eq!(
            store
                .balance(&Account::customer_funds())
                .await
                .expect("balance"),
            vec![usd(-1000)]
        );
        assert_eq!(
            store.balance(&Account::revenue()).await.expect("balance"),
            vec![]
        );
        let report = store.check_ledger().await.expect("check");
        assert!(report.is_sound(), "{report:?}");
        assert_eq!(report.journals, 1);
        let journals = store.journals().await.expect("journals");
        assert_eq!(journals[0].entries(), journal(1000).entries());
    }

    pub async fn due_items_are_claimed_once_until_their_lease_ends(
        store: Arc<dyn TransactionStore>,
    ) {
        let now = Utc::now().trunc_subsecs(6);
        for (key, due) in [("a", -10), ("b", -5), ("later", 60)] {
            let item = DueItem {
                kind: "test".into(),
                key: key.into(),
                due_at: now + Duration::seconds(due),
            };
            store.schedule(&item).await.expect("schedule");
        }
        let lease = Duration::seconds(30);
        let claimed = store.claim_due(now, 10, lease).await.expect("claim");
        let keys: Vec<_> = claimed.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["a", "b"], "due ones, oldest first");
        assert!(
            store
                .claim_due(now, 10, lease)
                .await
                .expect("claim")
                .is_empty(),
            "leased"
        );
        store.complete("test", "a").await.expect("complete");
        let after_lease = store
            .claim_due(now + Duration::seconds(31), 10, lease)
            .await
            .expect("claim");
        let keys: Vec<_> = after_lease.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            ["b"],
            "an uncompleted item comes back after its lease"
        );
        let much_later = store
            .claim_due(now + Duration::seconds(120), 10, lease)
            .await
            .expect("claim");
        assert_eq!(much_later.len(), 2, "b again and later");
    }
}
