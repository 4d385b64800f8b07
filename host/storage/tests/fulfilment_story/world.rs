//! The fulfilment stories' world: services over one store, a test clock and the simulated card
//! channel, with the few steps every story takes (pay, refund, settle, read the ledger).

use std::sync::Arc;

use arbiter_engine::clock::Clock;
use arbiter_engine::money::Money;
use arbiter_transactions::card::CardChannel;
use arbiter_transactions::catalogue::Line;
use arbiter_transactions::ids::IdempotencyKey;
use arbiter_transactions::ledger::Account;
use arbiter_transactions::order::{Order, OrderRequest};
use arbiter_transactions::orders::{OrderConfig, OrderService};
use arbiter_transactions::payment::{CARD, Payment, Refund, Verdict};
use arbiter_transactions::payments::{PaymentConfig, PaymentService};
use arbiter_transactions::store::TransactionStore;

use crate::support::catalogue::{stocked, usd};
use crate::support::clock::TestClock;
use crate::support::risk::ScriptedRisk;

pub const SECRET: &[u8] = b"whsec_fulfilment";

pub struct World {
    pub store: Arc<dyn TransactionStore>,
    pub clock: Arc<TestClock>,
    pub orders: OrderService,
    pub payments: PaymentService,
    pub card: CardChannel,
}

pub fn world(store: &Arc<dyn TransactionStore>) -> World {
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
    pub async fn paid_order(&self, sku: &str, price: i64) -> (Order, Payment) {
        let (order, payment) = self.unpaid_order(sku, price).await;
        self.capture(&payment).await;
        (order, payment)
    }

    /// The channel reports `payment` succeeded.
    pub async fn capture(&self, payment: &Payment) {
        let event = self.card.payment_event(payment, true, self.clock.now());
        let reply = self
            .payments
            .handle_card_webhook(Some(&event.signature), &event.body)
            .await
            .expect("webhook");
        assert_eq!(reply.verdict, Verdict::Applied);
    }

    /// An order awaiting payment, with a payment at the channel.
    pub async fn unpaid_order(&self, sku: &str, price: i64) -> (Order, Payment) {
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
    pub async fn refund(&self, payment: &Payment, minor: i64, succeeds: bool) -> Refund {
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

    pub async fn settle(&self, refund: &Refund, payment: &Payment, succeeds: bool) {
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

    pub async fn balance(&self, account: Account) -> Vec<Money> {
        self.store.balance(&account).await.expect("balance")
    }

    pub async fn revenue_journals(&self) -> usize {
        let journals = self.store.journals().await.expect("journals");
        journals
            .iter()
            .filter(|j| j.kind() == "order.fulfilled")
            .count()
    }

    pub async fn assert_ledger_sound(&self) {
        let report = self.store.check_ledger().await.expect("check");
        assert!(report.is_sound(), "{report:?}");
    }
}
