//! Fulfilment raced by refunds for real (SQLite; PostgreSQL when `DATABASE_URL` is set): for
//! each of twenty paid orders, `FULFILLED` and a refund (requested, then paid by the channel)
//! run at the same time on a multi-threaded runtime. Whatever the interleaving — the refund
//! before the step's read, inside its read-to-commit window, or after its commit — revenue ends
//! at capture less the refund, exactly, for every order, and the ledger stays sound.
//! `fulfilment_story` reproduces the window deterministically; this one checks that nothing
//! else slips through when the scheduler, the group-commit batches and PostgreSQL's locks pick
//! the order.

#[macro_use]
mod support;
#[path = "fulfilment_story/world.rs"]
mod world;

use std::sync::Arc;
use std::time::Duration;

use arbiter_transactions::TxError;
use arbiter_transactions::ledger::Account;
use arbiter_transactions::status::{OrderStatus, RefundStatus};
use arbiter_transactions::store::TransactionStore;
use support::catalogue::usd;
use world::world;

on_every_backend!(fulfilment_raced_by_refunds_earns_capture_less_refunds);

/// Orders raced at once.
const ORDERS: i64 = 20;

mod stories {
    use super::*;

    pub async fn fulfilment_raced_by_refunds_earns_capture_less_refunds(
        store: Arc<dyn TransactionStore>,
    ) {
        let w = Arc::new(world(&store));
        let mut paid = Vec::new();
        for i in 0..ORDERS {
            let (order, payment) = w.paid_order(&format!("RACE-{i}"), 10_000).await;
            w.orders
                .fulfil(&order.id, OrderStatus::Fulfilling)
                .await
                .expect("fulfilling");
            paid.push((order, payment));
        }

        let mut tasks = tokio::task::JoinSet::new();
        for (order, payment) in &paid {
            let (orders, id) = (w.orders.clone(), order.id.clone());
            tasks.spawn(async move {
                // A refund in flight holds FULFILLED back; the caller tries again, as a
                // fulfilment system would.
                for _ in 0..2_000 {
                    match orders.fulfil(&id, OrderStatus::Fulfilled).await {
                        Ok(view) => return view.order.status,
                        Err(TxError::RefundInFlight { .. } | TxError::RefundsChanged { .. }) => {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                        Err(e) => panic!("fulfil: {e}"),
                    }
                }
                panic!("FULFILLED still held back after 2,000 tries");
            });
            let (w, payment) = (Arc::clone(&w), payment.clone());
            tasks.spawn(async move {
                w.refund(&payment, 1_000, true).await;
                OrderStatus::Fulfilled
            });
        }
        while let Some(done) = tasks.join_next().await {
            assert_eq!(done.expect("task"), OrderStatus::Fulfilled);
        }

        for (order, payment) in &paid {
            let view = w.orders.get(&order.id).await.expect("order");
            assert_eq!(view.order.status, OrderStatus::Fulfilled);
            let refunds = w.store.refunds_of(&payment.id).await.expect("refunds");
            assert_eq!(refunds.len(), 1);
            assert_eq!(refunds[0].status, RefundStatus::Succeeded);
        }
        // Each order earned 100.00 less its 10.00 refund, whichever came first: a refund paid
        // before FULFILLED is left out of the revenue posted, one paid after reverses it.
        assert_eq!(
            w.balance(Account::revenue()).await,
            vec![usd(-9_000 * ORDERS)]
        );
        assert_eq!(w.balance(Account::customer_funds()).await, vec![usd(0)]);
        assert_eq!(w.revenue_journals().await, ORDERS as usize);
        w.assert_ledger_sound().await;
    }
}
