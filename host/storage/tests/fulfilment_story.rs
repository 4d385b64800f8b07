//! Fulfilment over real storage (SQLite; PostgreSQL when `DATABASE_URL` is set): a paid order
//! goes `FULFILLING → FULFILLED → DONE`, `FULFILLED` posts the revenue net of succeeded refunds
//! once (also when asked for ten times at once), a refund after fulfilment reverses revenue,
//! and the ledger stays sound throughout.

mod tx_support;

use std::sync::Arc;

use arbiter_engine::clock::Clock;
use arbiter_engine::money::Money;
use arbiter_transactions::TxError;
use arbiter_transactions::card::CardChannel;
use arbiter_transactions::catalogue::Line;
use arbiter_transactions::ids::IdempotencyKey;
use arbiter_transactions::ledger::Account;
use arbiter_transactions::order::{Order, OrderRequest};
use arbiter_transactions::orders::{OrderConfig, OrderService};
use arbiter_transactions::payment::{CARD, Payment, Refund, Verdict};
use arbiter_transactions::payments::{PaymentConfig, PaymentService};
use arbiter_transactions::status::OrderStatus;
use arbiter_transactions::store::TransactionStore;
use tx_support::{ScriptedRisk, TestClock, stocked, usd};

on_every_tx_backend!(a_paid_order_is_fulfilled_and_earns_its_capture_less_refunds);
on_every_tx_backend!(ten_concurrent_requests_for_one_step_post_one_journal);
on_every_tx_backend!(a_refund_after_fulfilment_reverses_revenue);
on_every_tx_backend!(a_capture_after_fulfilment_is_held_and_refunded_not_earned);

const SECRET: &[u8] = b"whsec_fulfilment";

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
    /// A paid order of one unit of a fresh SKU priced `price` cents.
    async fn paid_order(&self, sku: &str, price: i64) -> (Order, Payment) {
        let (order, payment) = self.unpaid_order(sku, price).await;
        self.capture(&payment).await;
        (order, payment)
    }

    /// The channel reports `payment` succeeded.
    async fn capture(&self, payment: &Payment) {
        let event = self.card.payment_event(payment, true, self.clock.now());
        let reply = self
            .payments
            .handle_card_webhook(Some(&event.signature), &event.body)
            .await
            .expect("webhook");
        assert_eq!(reply.verdict, Verdict::Applied);
    }

    /// An order awaiting payment, with a payment at the channel.
    async fn unpaid_order(&self, sku: &str, price: i64) -> (Order, Payment) {
        let sku = stocked(&*self.store, sku, price, 10).await;
        let request = OrderRequest {
            items: vec![Line { sku, quantity: 1 }],
            user: "buyer".into(),
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
        let payment = self
            .payments
            .start(&order.id, IdempotencyKey::generate(), CARD)
            .await
            .expect("payment");
        (order, payment)
    }

    /// A refund of `minor` cents, settled by the channel as `succeeds` says.
    async fn refund(&self, payment: &Payment, minor: i64, succeeds: bool) -> Refund {
        let refund = self
            .payments
            .request_refund(
                &payment.id,
                IdempotencyKey::generate(),
                usd(minor),
                "return",
            )
            .await
            .expect("refund");
        self.settle(&refund, payment, succeeds).await;
        refund
    }

    async fn settle(&self, refund: &Refund, payment: &Payment, succeeds: bool) {
        let event = self
            .card
            .refund_event(refund, payment, succeeds, self.clock.now());
        let reply = self
            .payments
            .handle_card_webhook(Some(&event.signature), &event.body)
            .await
            .expect("webhook");
        assert_eq!(reply.verdict, Verdict::Applied);
    }

    async fn balance(&self, account: Account) -> Vec<Money> {
        self.store.balance(&account).await.expect("balance")
    }

    async fn revenue_journals(&self) -> usize {
        let journals = self.store.journals().await.expect("journals");
        journals
            .iter()
            .filter(|j| j.kind() == "order.fulfilled")
            .count()
    }

    async fn assert_ledger_sound(&self) {
        let report = self.store.check_ledger().await.expect("check");
        assert!(report.is_sound(), "{report:?}");
    }
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
}
