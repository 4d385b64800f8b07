//! Payments, card webhooks and refunds over real storage (SQLite; PostgreSQL when
//! `DATABASE_URL` is set): applied once, also when delivered ten times at once; forged, stale
//! and mismatched callbacks change nothing; concurrent refunds never exceed the capture.

#[macro_use]
mod support;

use std::sync::Arc;

use arbiter_engine::clock::Clock;
use arbiter_engine::money::Money;
use arbiter_transactions::TxError;
use arbiter_transactions::card::CardChannel;
use arbiter_transactions::catalogue::{Line, StockLevel};
use arbiter_transactions::ids::{IdempotencyKey, Sku};
use arbiter_transactions::ledger::Account;
use arbiter_transactions::order::{Order, OrderRequest};
use arbiter_transactions::orders::{OrderConfig, OrderService};
use arbiter_transactions::payment::{CARD, Payment, Verdict};
use arbiter_transactions::payments::{PaymentConfig, PaymentService};
use arbiter_transactions::status::{OrderStatus, PaymentStatus, RefundStatus};
use arbiter_transactions::store::TransactionStore;
use chrono::Duration;
use support::catalogue::{stocked, usd};
use support::clock::TestClock;
use support::risk::ScriptedRisk;

on_every_backend!(a_success_webhook_pays_the_order_once);
on_every_backend!(ten_concurrent_deliveries_of_one_success_make_one_journal);
on_every_backend!(forged_stale_and_mismatched_callbacks_change_nothing);
on_every_backend!(a_success_after_cancellation_is_refunded_in_full);
on_every_backend!(twenty_concurrent_refunds_never_exceed_the_capture);

const SECRET: &[u8] = b"whsec_story";

struct World {
    store: Arc<dyn TransactionStore>,
    clock: Arc<TestClock>,
    orders: OrderService,
    payments: PaymentService,
    card: CardChannel,
}

fn world(store: &Arc<dyn TransactionStore>) -> World {
    let clock = TestClock::new();
    let risk = Arc::new(ScriptedRisk);
    World {
        store: Arc::clone(store),
        orders: OrderService::new(
            Arc::clone(store),
            risk.clone(),
            clock.clone(),
            OrderConfig::default(),
        ),
        payments: PaymentService::new(
            Arc::clone(store),
            risk,
            clock.clone(),
            PaymentConfig::new(SECRET.to_vec()),
        ),
        card: CardChannel::new(SECRET.to_vec()),
        clock,
    }
}

impl World {
    /// An order of `qty` units of a fresh SKU priced `price` cents, with a payment in PROCESSING.
    async fn order_with_payment(&self, sku: &str, price: i64, qty: u32) -> (Order, Payment, Sku) {
        let sku = stocked(&*self.store, sku, price, 10).await;
        let request = OrderRequest {
            items: vec![Line {
                sku: sku.clone(),
                quantity: qty,
            }],
            user: "payer".into(),
            device: None,
            ip: None,
            shipping: None,
            payment_method: Some(CARD.into()),
        };
        let order = self
            .orders
            .create(IdempotencyKey::generate(), request)
            .await
            .expect("order");
        assert_eq!(order.status, OrderStatus::PendingPayment);
        let key = IdempotencyKey::generate();
        let payment = self
            .payments
            .start(&order.id, key.clone(), CARD)
            .await
            .expect("payment");
        assert_eq!(payment.status, PaymentStatus::Processing);
        assert_eq!(payment.amount, order.total);
        let again = self
            .payments
            .start(&order.id, key, CARD)
            .await
            .expect("replay");
        assert_eq!(again.id, payment.id, "same key, same payment");
        (order, payment, sku)
    }

    async fn succeed(&self, payment: &Payment) -> Verdict {
        let event = self.card.payment_event(payment, true, self.clock.now());
        let reply = self
            .payments
            .handle_card_webhook(Some(&event.signature), &event.body)
            .await
            .expect("webhook");
        reply.verdict
    }

    async fn order_status(&self, order: &Order) -> OrderStatus {
        self.store
            .order(&order.id)
            .await
            .expect("read")
            .expect("exists")
            .status
    }

    async fn balance(&self, account: Account) -> Vec<Money> {
        self.store.balance(&account).await.expect("balance")
    }

    async fn assert_ledger_sound(&self) {
        let report = self.store.check_ledger().await.expect("check");
        assert!(report.is_sound(), "{report:?}");
    }
}

mod stories {
    use super::*;

    pub async fn a_success_webhook_pays_the_order_once(store: Arc<dyn TransactionStore>) {
        let w = world(&store);
        let (order, payment, sku) = w.order_with_payment("A", 2500, 2).await;
        let event = w.card.payment_event(&payment, true, w.clock.now());
        let apply = || {
            w.payments
                .handle_card_webhook(Some(&event.signature), &event.body)
        };
        assert_eq!(apply().await.expect("first").verdict, Verdict::Applied);
        assert_eq!(apply().await.expect("replay").verdict, Verdict::Duplicate);
        assert_eq!(w.order_status(&order).await, OrderStatus::Paid);
        let level = store.sku(&sku).await.expect("read").expect("exists").stock;
        assert_eq!(
            level,
            StockLevel {
                total: 10,
                reserved: 0,
                sold: 2
            }
        );
        assert_eq!(
            w.balance(Account::channel_clearing(CARD)).await,
            vec![usd(5000)]
        );
        assert_eq!(w.balance(Account::customer_funds()).await, vec![usd(-5000)]);
        let view = w.payments.get(&payment.id).await.expect("view");
        let path: Vec<_> = view.history.iter().map(|h| h.to.as_str()).collect();
        assert_eq!(path, ["INIT", "PROCESSING", "SUCCEEDED"]);
        w.clock.advance(Duration::minutes(30));
        assert_eq!(w.orders.expire_due(10).await.expect("expire"), 0);
        assert!(matches!(
            w.orders.cancel(&order.id).await,
            Err(TxError::Transition(_))
        ));
        let second = w
            .payments
            .start(&order.id, IdempotencyKey::generate(), CARD)
            .await;
        assert!(matches!(second, Err(TxError::Transition(_))), "{second:?}");
        // A failure event after success changes nothing.
        let failed = w.card.payment_event(&payment, false, w.clock.now());
        let reply = w
            .payments
            .handle_card_webhook(Some(&failed.signature), &failed.body)
            .await
            .expect("failed");
        assert_eq!(reply.verdict, Verdict::Ignored);
        w.assert_ledger_sound().await;
    }

    pub async fn ten_concurrent_deliveries_of_one_success_make_one_journal(
        store: Arc<dyn TransactionStore>,
    ) {
        let w = world(&store);
        let (order, payment, _) = w.order_with_payment("A", 1000, 1).await;
        let event = w.card.payment_event(&payment, true, w.clock.now());
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let payments = w.payments.clone();
                let (signature, body) = (event.signature.clone(), event.body.clone());
                tokio::spawn(
                    async move { payments.handle_card_webhook(Some(&signature), &body).await },
                )
            })
            .collect();
        let mut verdicts = Vec::new();
        for task in tasks {
            verdicts.push(task.await.expect("task").expect("webhook").verdict);
        }
        let applied = verdicts.iter().filter(|v| **v == Verdict::Applied).count();
        assert_eq!(applied, 1, "{verdicts:?}");
        assert!(
            verdicts
                .iter()
                .all(|v| matches!(v, Verdict::Applied | Verdict::Duplicate))
        );
        assert_eq!(store.journals().await.expect("journals").len(), 1);
        let history = store
            .history("order", order.id.as_str())
            .await
            .expect("history");
        assert_eq!(history.iter().filter(|h| h.to == "PAID").count(), 1);
        w.assert_ledger_sound().await;
    }

    pub async fn forged_stale_and_mismatched_callbacks_change_nothing(
        store: Arc<dyn TransactionStore>,
    ) {
        let w = world(&store);
        let (order, payment, _) = w.order_with_payment("A", 1000, 1).await;
        let event = w.card.payment_event(&payment, true, w.clock.now());
        let forged_body = String::from_utf8(event.body.clone())
            .expect("utf-8")
            .replace("1000", "1");
        let verdict = |sig: Option<String>, body: Vec<u8>| {
            let payments = w.payments.clone();
            async move {
                payments
                    .handle_card_webhook(sig.as_deref(), &body)
                    .await
                    .expect("answers")
                    .verdict
            }
        };
        assert_eq!(
            verdict(
                Some(event.signature.clone()),
                forged_body.clone().into_bytes()
            )
            .await,
            Verdict::BadSignature
        );
        assert_eq!(
            verdict(None, event.body.clone()).await,
            Verdict::BadSignature
        );
        let other =
            CardChannel::new(b"whsec_other".to_vec()).payment_event(&payment, true, w.clock.now());
        assert_eq!(
            verdict(Some(other.signature), other.body).await,
            Verdict::BadSignature
        );
        // Correctly signed, but the amount disagrees with the payment: flagged, never applied.
        let mismatched = w.card.sign(forged_body.as_bytes(), w.clock.now());
        assert_eq!(
            verdict(Some(mismatched), forged_body.into_bytes()).await,
            Verdict::Mismatch
        );
        let garbage = b"{not json".to_vec();
        let signed_garbage = w.card.sign(&garbage, w.clock.now());
        assert_eq!(
            verdict(Some(signed_garbage), garbage).await,
            Verdict::Malformed
        );
        // The genuine event, replayed six minutes later: stale.
        w.clock.advance(Duration::minutes(6));
        assert_eq!(
            verdict(Some(event.signature), event.body).await,
            Verdict::BadSignature
        );
        assert_eq!(w.order_status(&order).await, OrderStatus::PendingPayment);
        assert!(store.journals().await.expect("journals").is_empty());
        assert_eq!(
            w.payments
                .get(&payment.id)
                .await
                .expect("view")
                .payment
                .status,
            PaymentStatus::Processing
        );
    }

    pub async fn a_success_after_cancellation_is_refunded_in_full(
        store: Arc<dyn TransactionStore>,
    ) {
        let w = world(&store);
        let (order, payment, sku) = w.order_with_payment("A", 4200, 1).await;
        w.orders.cancel(&order.id).await.expect("cancel");
        assert_eq!(w.succeed(&payment).await, Verdict::Applied);
        assert_eq!(w.order_status(&order).await, OrderStatus::CancelledAfterPay);
        let level = store.sku(&sku).await.expect("read").expect("exists").stock;
        assert_eq!(
            level,
            StockLevel {
                total: 10,
                reserved: 0,
                sold: 0
            },
            "nothing sold"
        );
        let view = w.payments.get(&payment.id).await.expect("view");
        assert_eq!(view.payment.status, PaymentStatus::Succeeded);
        let [refund] = view.refunds.as_slice() else {
            panic!("one refund: {:?}", view.refunds)
        };
        assert_eq!(
            (refund.status, refund.amount),
            (RefundStatus::Processing, usd(4200))
        );
        let done = w.card.refund_event(refund, &payment, true, w.clock.now());
        let reply = w
            .payments
            .handle_card_webhook(Some(&done.signature), &done.body)
            .await
            .expect("refund webhook");
        assert_eq!(reply.verdict, Verdict::Applied);
        let refund = w
            .payments
            .get_refund(&refund.id)
            .await
            .expect("refund view");
        assert_eq!(refund.refund.status, RefundStatus::Succeeded);
        let path: Vec<_> = refund.history.iter().map(|h| h.to.as_str()).collect();
        assert_eq!(path, ["REQUESTED", "PROCESSING", "SUCCEEDED"]);
        assert_eq!(w.balance(Account::customer_funds()).await, vec![usd(0)]);
        assert_eq!(
            w.balance(Account::channel_clearing(CARD)).await,
            vec![usd(0)]
        );
        w.assert_ledger_sound().await;
    }

    pub async fn twenty_concurrent_refunds_never_exceed_the_capture(
        store: Arc<dyn TransactionStore>,
    ) {
        let w = world(&store);
        let (_, payment, _) = w.order_with_payment("A", 10000, 1).await;
        assert_eq!(w.succeed(&payment).await, Verdict::Applied);
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let payments = w.payments.clone();
                let id = payment.id.clone();
                tokio::spawn(async move {
                    payments
                        .request_refund(
                            &id,
                            IdempotencyKey(format!("r{i}")),
                            usd(1000),
                            "customer asked",
                        )
                        .await
                })
            })
            .collect();
        let (mut ok, mut refused) = (0, 0);
        for task in tasks {
            match task.await.expect("task") {
                Ok(r) => {
                    assert_eq!(r.status, RefundStatus::Processing);
                    ok += 1;
                }
                Err(TxError::RefundExceedsCaptured { .. }) => refused += 1,
                Err(e) => panic!("unexpected: {e}"),
            }
        }
        assert_eq!((ok, refused), (10, 10));
        let refunds = store.refunds_of(&payment.id).await.expect("refunds");
        let total: i64 = refunds
            .iter()
            .filter_map(|r| r.amount.checked_minor_units())
            .sum();
        assert_eq!(total, 10000);
        // A stored refund's key again answers with that refund; another amount conflicts. (A
        // refused request stored nothing, so its key is free and is refused again.)
        let first = &refunds[0];
        let again = w
            .payments
            .request_refund(
                &payment.id,
                first.idempotency_key.clone(),
                usd(1000),
                "customer asked",
            )
            .await;
        assert_eq!(again.expect("replay").id, first.id);
        let other = w
            .payments
            .request_refund(&payment.id, first.idempotency_key.clone(), usd(500), "x")
            .await;
        assert!(
            matches!(other, Err(TxError::IdempotencyConflict { .. })),
            "{other:?}"
        );
        w.assert_ledger_sound().await;
    }
}
