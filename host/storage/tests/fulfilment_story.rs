//! Fulfilment over real storage (SQLite; PostgreSQL when `DATABASE_URL` is set): a paid order
//! goes `FULFILLING → FULFILLED → DONE`, `FULFILLED` posts the revenue net of succeeded refunds
//! once (also when asked for ten times at once), a refund after fulfilment reverses revenue, a
//! refund that appears between `FULFILLED`'s read and its commit refuses the stale step, and the
//! ledger stays sound throughout.

#[macro_use]
mod support;
#[path = "fulfilment_story/world.rs"]
mod world;

use std::sync::Arc;

use arbiter_engine::clock::Clock;
use arbiter_transactions::TxError;
use arbiter_transactions::catalogue::Line;
use arbiter_transactions::change::Change;
use arbiter_transactions::fulfilment::{Fulfilment, Settlement, decide};
use arbiter_transactions::ids::{IdempotencyKey, OrderId};
use arbiter_transactions::ledger::Account;
use arbiter_transactions::order::OrderRequest;
use arbiter_transactions::payment::CARD;
use arbiter_transactions::status::OrderStatus;
use arbiter_transactions::store::TransactionStore;
use support::catalogue::{stocked, usd};
use world::{World, world};

on_every_backend!(a_paid_order_is_fulfilled_and_earns_its_capture_less_refunds);
on_every_backend!(ten_concurrent_requests_for_one_step_post_one_journal);
on_every_backend!(a_refund_after_fulfilment_reverses_revenue);
on_every_backend!(a_capture_after_fulfilment_is_held_and_refunded_not_earned);
on_every_backend!(a_refund_paid_inside_fulfilleds_window_refuses_the_stale_step);
on_every_backend!(a_refund_requested_inside_fulfilleds_window_holds_the_retry_back);

/// What `OrderService::fulfil` decides for `FULFILLED` from what is stored now — the read half
/// of the step, so a story can act between it and the apply.
async fn read_and_decide_fulfilled(w: &World, order: &OrderId) -> Change {
    let order = w.store.order(order).await.expect("read").expect("order");
    let mut settlements = Vec::new();
    for payment in w.store.payments_of(&order.id).await.expect("payments") {
        let refunds = w.store.refunds_of(&payment.id).await.expect("refunds");
        settlements.push(Settlement { payment, refunds });
    }
    match decide(&order, OrderStatus::Fulfilled, &settlements, w.clock.now()).expect("decide") {
        Fulfilment::Step(change) => *change,
        Fulfilment::Already => panic!("the order is already FULFILLED"),
    }
}

/// What a refused step must have left alone: the order's status and history, the journals and
/// every balance.
async fn snapshot(w: &World, order: &OrderId) -> impl PartialEq + std::fmt::Debug {
    let view = w.orders.get(order).await.expect("view");
    let journals: Vec<String> = w
        .store
        .journals()
        .await
        .expect("journals")
        .iter()
        .map(|j| j.id().as_str().to_owned())
        .collect();
    let balances = w.store.balances().await.expect("balances");
    (
        view.order.status,
        view.history,
        journals,
        format!("{balances:?}"),
    )
}

mod stories {
    use super::*;

    pub async fn a_paid_order_is_fulfilled_and_earns_its_capture_less_refunds(
        store: Arc<dyn TransactionStore>,
    ) {
        let w = world(&store);
        let (order, payment) = w.paid_order("BOOK", 10_000).await;
        w.refund(&payment, 2_500, true).await;
        w.refund(&payment, 1_000, false).await;

        let view = w
            .orders
            .fulfil(&order.id, OrderStatus::Fulfilling)
            .await
            .expect("fulfilling");
        assert_eq!(view.order.status, OrderStatus::Fulfilling);
        // A refund at the channel holds FULFILLED back; nothing is written.
        let pending = w
            .payments
            .request_refund(&payment.id, IdempotencyKey::generate(), usd(500), "late")
            .await
            .expect("refund");
        let held = w.orders.fulfil(&order.id, OrderStatus::Fulfilled).await;
        assert!(
            matches!(&held, Err(TxError::RefundInFlight { refund, .. }) if *refund == pending.id.0),
            "{held:?}"
        );
        w.settle(&pending, &payment, false).await;

        let view = w
            .orders
            .fulfil(&order.id, OrderStatus::Fulfilled)
            .await
            .expect("fulfilled");
        assert_eq!(view.order.status, OrderStatus::Fulfilled);
        assert_eq!(w.balance(Account::revenue()).await, vec![usd(-7_500)]);
        assert_eq!(w.balance(Account::customer_funds()).await, vec![usd(0)]);
        assert_eq!(
            w.balance(Account::channel_clearing(CARD)).await,
            vec![usd(7_500)]
        );

        // The step it is in again: the same answer, no history row, no second journal.
        let again = w
            .orders
            .fulfil(&order.id, OrderStatus::Fulfilled)
            .await
            .expect("repeat");
        assert_eq!(again.history, view.history);
        assert_eq!(w.revenue_journals().await, 1);
        // Back or skipping is refused.
        let back = w.orders.fulfil(&order.id, OrderStatus::Fulfilling).await;
        assert!(matches!(back, Err(TxError::Transition(_))), "{back:?}");

        let done = w
            .orders
            .fulfil(&order.id, OrderStatus::Done)
            .await
            .expect("done");
        let trail: Vec<&str> = done.history.iter().map(|h| h.to.as_str()).collect();
        assert_eq!(
            trail,
            [
                "CREATING",
                "PENDING_PAYMENT",
                "PAID",
                "FULFILLING",
                "FULFILLED",
                "DONE"
            ]
        );
        assert_eq!(w.balance(Account::revenue()).await, vec![usd(-7_500)]);
        w.assert_ledger_sound().await;
    }

    pub async fn ten_concurrent_requests_for_one_step_post_one_journal(
        store: Arc<dyn TransactionStore>,
    ) {
        let w = world(&store);
        let (order, _) = w.paid_order("LAMP", 4_000).await;
        // Unpaid orders are not fulfilled.
        let sku = stocked(&*w.store, "LAMP-2", 100, 1).await;
        let request = OrderRequest {
            items: vec![Line { sku, quantity: 1 }],
            user: "buyer".into(),
            device: None,
            ip: None,
            shipping: None,
            payment_method: None,
        };
        let unpaid = w
            .orders
            .create(IdempotencyKey::generate(), request)
            .await
            .expect("order");
        let refused = w.orders.fulfil(&unpaid.id, OrderStatus::Fulfilled).await;
        assert!(
            matches!(refused, Err(TxError::Transition(_))),
            "{refused:?}"
        );

        w.orders
            .fulfil(&order.id, OrderStatus::Fulfilling)
            .await
            .expect("fulfilling");
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let orders = w.orders.clone();
                let id = order.id.clone();
                tokio::spawn(async move { orders.fulfil(&id, OrderStatus::Fulfilled).await })
            })
            .collect();
        for task in tasks {
            let view = task
                .await
                .expect("task")
                .expect("every request answers the order");
            assert_eq!(view.order.status, OrderStatus::Fulfilled);
        }
        let view = w.orders.get(&order.id).await.expect("view");
        let fulfilled = view.history.iter().filter(|h| h.to == "FULFILLED").count();
        assert_eq!(fulfilled, 1);
        assert_eq!(w.revenue_journals().await, 1);
        assert_eq!(w.balance(Account::revenue()).await, vec![usd(-4_000)]);
        w.assert_ledger_sound().await;
    }

    pub async fn a_refund_after_fulfilment_reverses_revenue(store: Arc<dyn TransactionStore>) {
        let w = world(&store);
        let (order, payment) = w.paid_order("CHAIR", 9_000).await;
        for step in [OrderStatus::Fulfilling, OrderStatus::Fulfilled] {
            w.orders.fulfil(&order.id, step).await.expect("step");
        }
        w.refund(&payment, 3_000, true).await;
        assert_eq!(w.balance(Account::revenue()).await, vec![usd(-6_000)]);
        assert_eq!(w.balance(Account::customer_funds()).await, vec![usd(0)]);
        w.orders
            .fulfil(&order.id, OrderStatus::Done)
            .await
            .expect("done");
        w.refund(&payment, 6_000, true).await;
        assert_eq!(w.balance(Account::revenue()).await, vec![usd(0)]);
        assert_eq!(w.balance(Account::customer_funds()).await, vec![usd(0)]);
        assert_eq!(
            w.balance(Account::channel_clearing(CARD)).await,
            vec![usd(0)]
        );
        w.assert_ledger_sound().await;
    }

    pub async fn a_capture_after_fulfilment_is_held_and_refunded_not_earned(
        store: Arc<dyn TransactionStore>,
    ) {
        let w = world(&store);
        // Two payments started while the order awaited payment; the first one pays it.
        let (order, first) = w.unpaid_order("DESK", 20_000).await;
        let second = w
            .payments
            .start(&order.id, IdempotencyKey::generate(), CARD)
            .await
            .expect("second payment");
        w.capture(&first).await;
        for step in [OrderStatus::Fulfilling, OrderStatus::Fulfilled] {
            w.orders.fulfil(&order.id, step).await.expect("step");
        }
        assert_eq!(w.balance(Account::revenue()).await, vec![usd(-20_000)]);

        // The second capture arrives late: held for the customer and refunded in full at once.
        w.capture(&second).await;
        // A client cannot pass its refund off as that automatic one.
        let spoof = w
            .payments
            .request_refund(
                &first.id,
                IdempotencyKey(format!("auto-refund:{}", first.id)),
                usd(100),
                "spoof",
            )
            .await;
        assert!(
            matches!(&spoof, Err(TxError::Invalid { field, .. }) if field == "Idempotency-Key"),
            "{spoof:?}"
        );
        assert_eq!(
            w.balance(Account::customer_funds()).await,
            vec![usd(-20_000)]
        );
        let view = w.payments.get(&second.id).await.expect("view");
        let [auto] = view.refunds.as_slice() else {
            panic!("one automatic refund: {:?}", view.refunds);
        };
        w.orders
            .fulfil(&order.id, OrderStatus::Done)
            .await
            .expect("done");
        w.settle(auto, &second, true).await;
        assert_eq!(
            w.balance(Account::revenue()).await,
            vec![usd(-20_000)],
            "not earned"
        );
        assert_eq!(w.balance(Account::customer_funds()).await, vec![usd(0)]);
        assert_eq!(
            w.balance(Account::channel_clearing(CARD)).await,
            vec![usd(20_000)]
        );
        w.assert_ledger_sound().await;
    }

    pub async fn a_refund_paid_inside_fulfilleds_window_refuses_the_stale_step(
        store: Arc<dyn TransactionStore>,
    ) {
        let w = world(&store);
        let (order, payment) = w.paid_order("RUG", 10_000).await;
        w.refund(&payment, 1_000, true).await;
        w.orders
            .fulfil(&order.id, OrderStatus::Fulfilling)
            .await
            .expect("fulfilling");

        // FULFILLED reads one settled refund and decides to earn 90.00…
        let stale = read_and_decide_fulfilled(&w, &order.id).await;
        // …then, before it commits, a refund is requested and the channel pays it. The order
        // is still FULFILLING, so it is paid from what is held for the customer.
        w.refund(&payment, 3_000, true).await;
        assert_eq!(
            w.balance(Account::customer_funds()).await,
            vec![usd(-6_000)]
        );
        let before = snapshot(&w, &order.id).await;

        let refused = w.store.apply(&stale).await;
        assert!(
            matches!(
                &refused,
                Err(TxError::RefundsChanged { payment: p, expected: 1, actual: 2 })
                    if *p == payment.id.0
            ),
            "{refused:?}"
        );
        assert_eq!(snapshot(&w, &order.id).await, before, "nothing written");
        assert_eq!(w.revenue_journals().await, 0);

        // The service decides again from what is stored now: revenue net of both refunds.
        let view = w
            .orders
            .fulfil(&order.id, OrderStatus::Fulfilled)
            .await
            .expect("fulfilled");
        assert_eq!(view.order.status, OrderStatus::Fulfilled);
        assert_eq!(w.balance(Account::revenue()).await, vec![usd(-6_000)]);
        assert_eq!(w.balance(Account::customer_funds()).await, vec![usd(0)]);
        assert_eq!(
            w.balance(Account::channel_clearing(CARD)).await,
            vec![usd(6_000)]
        );
        assert_eq!(w.revenue_journals().await, 1);
        w.assert_ledger_sound().await;
    }

    pub async fn a_refund_requested_inside_fulfilleds_window_holds_the_retry_back(
        store: Arc<dyn TransactionStore>,
    ) {
        let w = world(&store);
        let (order, payment) = w.paid_order("VASE", 5_000).await;
        w.orders
            .fulfil(&order.id, OrderStatus::Fulfilling)
            .await
            .expect("fulfilling");

        let stale = read_and_decide_fulfilled(&w, &order.id).await;
        let late = w
            .payments
            .request_refund(&payment.id, IdempotencyKey::generate(), usd(2_000), "late")
            .await
            .expect("refund");
        let before = snapshot(&w, &order.id).await;
        let refused = w.store.apply(&stale).await;
        assert!(
            matches!(
                &refused,
                Err(TxError::RefundsChanged {
                    expected: 0,
                    actual: 1,
                    ..
                })
            ),
            "{refused:?}"
        );
        assert_eq!(snapshot(&w, &order.id).await, before, "nothing written");

        // The retry sees the refund at the channel and waits for it.
        let held = w.orders.fulfil(&order.id, OrderStatus::Fulfilled).await;
        assert!(
            matches!(&held, Err(TxError::RefundInFlight { refund, .. }) if *refund == late.id.0),
            "{held:?}"
        );
        assert_eq!(snapshot(&w, &order.id).await, before, "nothing written");

        w.settle(&late, &payment, true).await;
        w.orders
            .fulfil(&order.id, OrderStatus::Fulfilled)
            .await
            .expect("fulfilled");
        assert_eq!(w.balance(Account::revenue()).await, vec![usd(-3_000)]);
        assert_eq!(w.balance(Account::customer_funds()).await, vec![usd(0)]);
        assert_eq!(
            w.balance(Account::channel_clearing(CARD)).await,
            vec![usd(3_000)]
        );
        w.assert_ledger_sound().await;
    }
}
