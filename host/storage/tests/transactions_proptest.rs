//! A property test over random sequences of orders, payments, webhooks (duplicated, replayed
//! out of order, forged), channel reports by query or notification (issue 19), payments made
//! at the channel that cancellations and expiries must settle first, refunds and fulfilment
//! steps against SQLite, checking after every step: the ledger balances and matches the money
//! that moved (held for customers until an order is fulfilled, revenue after), stock is
//! conserved, refunds never exceed the capture, every status was reached by a legal
//! transition, and a payment the channel holds as paid is never closed as failed.

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use arbiter_engine::clock::Clock;
use arbiter_transactions::TxError;
use arbiter_transactions::card::{CardChannel, SignedEvent};
use arbiter_transactions::catalogue::Line;
use arbiter_transactions::channels::{Notice, NoticeState, PaymentState};
use arbiter_transactions::fulfilment::{STEPS, Settlement, revenue_recognised};
use arbiter_transactions::ids::{IdempotencyKey, OrderId, PaymentId, Sku};
use arbiter_transactions::ledger::Account;
use arbiter_transactions::order::Order;
use arbiter_transactions::order::OrderRequest;
use arbiter_transactions::orders::{OpenPayments, OrderConfig, OrderService, Settled};
use arbiter_transactions::payment::{CARD, Payment};
use arbiter_transactions::payments::{PaymentConfig, PaymentService};
use arbiter_transactions::status::{OrderStatus, PaymentStatus, RefundStatus, Status};
use arbiter_transactions::store::TransactionStore;
use chrono::Duration;
use proptest::prelude::*;
use support::catalogue::{stocked, usd};
use support::clock::TestClock;
use support::risk::ScriptedRisk;

const SECRET: &[u8] = b"whsec_prop";
const UNITS: i64 = 12;
const PRICE: i64 = 1000;

#[derive(Debug, Clone)]
enum Op {
    Order {
        user: u8,
        qty: u32,
    },
    Pay {
        order: usize,
    },
    PaymentWebhook {
        payment: usize,
        succeeded: bool,
    },
    Replay {
        event: usize,
    },
    Forged {
        payment: usize,
    },
    Cancel {
        order: usize,
    },
    Expire,
    Refund {
        payment: usize,
        minor: i64,
    },
    RefundWebhook {
        refund: usize,
        succeeded: bool,
    },
    Fulfil {
        order: usize,
        step: usize,
    },
    /// The channel answers a query or sends a notification about a payment (channel-neutral).
    Report {
        payment: usize,
        paid: bool,
        query: bool,
    },
    /// The buyer pays at the channel; nobody is told (a lost notification).
    PaidAtChannel {
        payment: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..9, 1u32..4).prop_map(|(user, qty)| Op::Order { user, qty }),
        5 => (0usize..3).prop_map(|order| Op::Pay { order }),
        5 => (0usize..4, prop::bool::weighted(0.8))
            .prop_map(|(payment, succeeded)| Op::PaymentWebhook { payment, succeeded }),
        2 => (0usize..16).prop_map(|event| Op::Replay { event }),
        1 => (0usize..8).prop_map(|payment| Op::Forged { payment }),
        1 => (0usize..8).prop_map(|order| Op::Cancel { order }),
        1 => Just(Op::Expire),
        3 => (0usize..4, 1i64..2500).prop_map(|(payment, minor)| Op::Refund { payment, minor }),
        3 => (0usize..8, prop::bool::weighted(0.7))
            .prop_map(|(refund, succeeded)| Op::RefundWebhook { refund, succeeded }),
        4 => (0usize..4, 0usize..3).prop_map(|(order, step)| Op::Fulfil { order, step }),
        2 => (0usize..4, prop::bool::weighted(0.7), any::<bool>())
            .prop_map(|(payment, paid, query)| Op::Report { payment, paid, query }),
        2 => (0usize..4).prop_map(|payment| Op::PaidAtChannel { payment }),
    ]
}

struct Model {
    store: Arc<dyn TransactionStore>,
    clock: Arc<TestClock>,
    orders: OrderService,
    payments: PaymentService,
    card: CardChannel,
    sku: Sku,
    order_ids: Vec<OrderId>,
    payment_ids: Vec<PaymentId>,
    events: Vec<SignedEvent>,
    channel: Arc<FakeChannel>,
    /// Payments a webhook failed: the card channel's own word, which the fake channel's book
    /// does not know.
    failed_by_webhook: HashSet<PaymentId>,
}

/// The channel's book of payments its buyers paid, and what settles an order's open payments
/// before a cancellation against it (as the host's `ChannelSettler` does against a real one):
/// a paid one is applied as paid (the order is not cancelled), any other is closed.
struct FakeChannel {
    paid: Mutex<HashSet<PaymentId>>,
    payments: OnceLock<PaymentService>,
    store: Arc<dyn TransactionStore>,
}

impl FakeChannel {
    fn is_paid(&self, id: &PaymentId) -> bool {
        self.paid.lock().expect("book").contains(id)
    }

    async fn report(&self, p: &Payment, paid: bool, id: String) {
        let state = if paid {
            PaymentState::Paid {
                amount: p.amount,
                channel_trade_id: format!("trade-{}", p.id),
            }
        } else {
            PaymentState::Closed
        };
        let notice = Notice {
            notice_id: id,
            channel_payment_id: p.channel_payment_id.0.clone(),
            state: NoticeState::Payment(state),
        };
        let reply = self
            .payments
            .get()
            .expect("wired")
            .apply_notice(CARD, &notice, b"{}")
            .await
            .expect("applies");
        assert!(!reply.verdict.is_refusal());
    }
}

#[async_trait::async_trait]
impl OpenPayments for FakeChannel {
    async fn settle_before_cancel(&self, order: &Order) -> Result<Settled, TxError> {
        for p in self.store.payments_of(&order.id).await? {
            if p.status != PaymentStatus::Processing {
                continue;
            }
            if self.is_paid(&p.id) {
                self.report(&p, true, format!("query:{}:paid", p.id)).await;
                return Ok(Settled::Paid);
            }
            self.report(&p, false, format!("close:{}:closed", p.id))
                .await;
        }
        Ok(Settled::Closed)
    }
}

/// The `i`-th newest item (wrapping): recent orders and payments are the interesting ones.
fn pick<T: Clone>(items: &[T], i: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[items.len() - 1 - i % items.len()].clone())
}

impl Model {
    async fn step(&mut self, op: &Op) {
        let now = self.clock.now();
        match op {
            Op::Order { user, qty } => {
                let user = match user {
                    0..=4 => "alice",
                    5 | 6 => "challenge-x",
                    7 => "timeout-x",
                    _ => "reject-x",
                };
                let request = OrderRequest {
                    items: vec![Line {
                        sku: self.sku.clone(),
                        quantity: *qty,
                    }],
                    user: user.into(),
                    device: None,
                    ip: None,
                    shipping: None,
                    payment_method: None,
                };
                if let Ok(order) = self
                    .orders
                    .create(IdempotencyKey::generate(), request)
                    .await
                {
                    self.order_ids.push(order.id);
                }
            }
            Op::Pay { order } => {
                let Some(id) = pick(&self.order_ids, *order) else {
                    return;
                };
                if let Ok(p) = self
                    .payments
                    .start(&id, IdempotencyKey::generate(), CARD)
                    .await
                {
                    self.payment_ids.push(p.id);
                }
            }
            Op::PaymentWebhook { payment, succeeded } => {
                let Some(id) = pick(&self.payment_ids, *payment) else {
                    return;
                };
                let p = self
                    .store
                    .payment(&id)
                    .await
                    .expect("read")
                    .expect("exists");
                // The card channel does not fail what its buyer paid.
                if !*succeeded && self.channel.is_paid(&id) {
                    return;
                }
                let event = self.card.payment_event(&p, *succeeded, now);
                self.deliver(&event).await;
                if !*succeeded {
                    self.failed_by_webhook.insert(id);
                }
                self.events.push(event);
            }
            Op::Replay { event } => {
                if let Some(event) = pick(&self.events, *event) {
                    self.deliver(&event).await;
                }
            }
            Op::Forged { payment } => {
                let Some(id) = pick(&self.payment_ids, *payment) else {
                    return;
                };
                let p = self
                    .store
                    .payment(&id)
                    .await
                    .expect("read")
                    .expect("exists");
                let event = CardChannel::new(b"forger".to_vec()).payment_event(&p, true, now);
                let reply = self
                    .payments
                    .handle_card_webhook(Some(&event.signature), &event.body)
                    .await;
                assert!(reply.expect("answers").verdict.is_refusal());
            }
            Op::Cancel { order } => {
                if let Some(id) = pick(&self.order_ids, *order) {
                    let _ = self.orders.cancel(&id).await;
                }
            }
            Op::Expire => {
                self.clock.advance(Duration::minutes(16));
                self.orders.expire_due(100).await.expect("expiry runs");
            }
            Op::Refund { payment, minor } => {
                let Some(id) = pick(&self.payment_ids, *payment) else {
                    return;
                };
                let _ = self
                    .payments
                    .request_refund(&id, IdempotencyKey::generate(), usd(*minor), "prop")
                    .await;
            }
            Op::Fulfil { order, step } => {
                let Some(id) = pick(&self.order_ids, *order) else {
                    return;
                };
                // The next step when there is one (so orders get through), else any (refused).
                let status = self
                    .store
                    .order(&id)
                    .await
                    .expect("read")
                    .expect("exists")
                    .status;
                let to = STEPS
                    .iter()
                    .copied()
                    .find(|s| status.next().contains(s))
                    .unwrap_or(STEPS[*step % STEPS.len()]);
                let _ = self.orders.fulfil(&id, to).await;
            }
            Op::Report {
                payment,
                paid,
                query,
            } => {
                let Some(id) = pick(&self.payment_ids, *payment) else {
                    return;
                };
                let p = self
                    .store
                    .payment(&id)
                    .await
                    .expect("read")
                    .expect("exists");
                // A channel reports a payment paid once its buyer paid (possible only while it
                // is open there), and closes one only while it is unpaid.
                let paid = *paid || self.channel.is_paid(&id);
                if p.status != PaymentStatus::Processing && !self.channel.is_paid(&id) {
                    return;
                }
                if paid {
                    self.channel.paid.lock().expect("book").insert(id.clone());
                }
                let name = if *query {
                    format!("query:{id}:{}", if paid { "paid" } else { "closed" })
                } else {
                    arbiter_transactions::ids::EventId::generate().0
                };
                self.channel.report(&p, paid, name).await;
            }
            Op::PaidAtChannel { payment } => {
                let Some(id) = pick(&self.payment_ids, *payment) else {
                    return;
                };
                let p = self
                    .store
                    .payment(&id)
                    .await
                    .expect("read")
                    .expect("exists");
                if p.status == PaymentStatus::Processing {
                    self.channel.paid.lock().expect("book").insert(id);
                }
            }
            Op::RefundWebhook { refund, succeeded } => {
                let Some(id) = pick(&self.payment_ids, *refund) else {
                    return;
                };
                let p = self
                    .store
                    .payment(&id)
                    .await
                    .expect("read")
                    .expect("exists");
                let refunds = self.store.refunds_of(&id).await.expect("refunds");
                if let Some(r) = pick(&refunds, *refund) {
                    let event = self.card.refund_event(&r, &p, *succeeded, now);
                    self.deliver(&event).await;
                    self.events.push(event);
                }
            }
        }
    }

    async fn deliver(&self, event: &SignedEvent) {
        // Re-signed now: a replay tests the apply-once rule, not the timestamp tolerance.
        let signature = self.card.sign(&event.body, self.clock.now());
        let reply = self
            .payments
            .handle_card_webhook(Some(&signature), &event.body)
            .await;
        assert!(!reply.expect("webhook answers").verdict.is_refusal());
    }

    async fn check_invariants(&self) {
        let report = self.store.check_ledger().await.expect("check");
        assert!(report.is_sound(), "{report:?}");
        let paid_at_channel: Vec<PaymentId> = self
            .channel
            .paid
            .lock()
            .expect("book")
            .iter()
            .cloned()
            .collect();
        for id in &paid_at_channel {
            if self.failed_by_webhook.contains(id) {
                continue;
            }
            let p = self.store.payment(id).await.expect("read").expect("exists");
            assert_ne!(
                p.status,
                PaymentStatus::Failed,
                "{id} was paid at the channel, never closed as failed"
            );
        }
        let (mut reserved, mut sold) = (0i64, 0i64);
        for id in &self.order_ids {
            let order = self.store.order(id).await.expect("read").expect("exists");
            let qty: i64 = order.items.iter().map(|i| i64::from(i.quantity)).sum();
            match order.status {
                OrderStatus::Creating | OrderStatus::PendingPayment => reserved += qty,
                OrderStatus::Paid
                | OrderStatus::Fulfilling
                | OrderStatus::Fulfilled
                | OrderStatus::Done => sold += qty,
                _ => {}
            }
            legal_history::<OrderStatus>(&*self.store, id.as_str()).await;
        }
        let level = self
            .store
            .sku(&self.sku)
            .await
            .expect("read")
            .expect("exists")
            .stock;
        assert!(level.is_conserved(), "{level:?}");
        assert_eq!(
            (level.reserved, level.sold),
            (reserved, sold),
            "stock matches the orders"
        );
        let (mut clearing, mut held, mut earned) = (0i64, 0i64, 0i64);
        for id in &self.payment_ids {
            let p = self.store.payment(id).await.expect("read").expect("exists");
            let order = self
                .store
                .order(&p.order_id)
                .await
                .expect("read")
                .expect("exists");
            let before = clearing;
            legal_history::<PaymentStatus>(&*self.store, id.as_str()).await;
            let refunds = self.store.refunds_of(id).await.expect("refunds");
            let claimed: i64 = refunds
                .iter()
                .filter(|r| r.status != RefundStatus::Failed)
                .filter_map(|r| r.amount.checked_minor_units())
                .sum();
            let captured = if p.status == PaymentStatus::Succeeded {
                p.amount.checked_minor_units().expect("minor")
            } else {
                0
            };
            assert!(
                claimed <= captured,
                "refunds {claimed} exceed capture {captured}"
            );
            clearing += captured;
            for r in &refunds {
                legal_history::<RefundStatus>(&*self.store, r.id.as_str()).await;
                if r.status == RefundStatus::Succeeded {
                    clearing -= r.amount.checked_minor_units().expect("minor");
                }
            }
            // What this payment left with us: earned once its order is fulfilled, unless it is
            // a stray capture (refunded in full at once); else held for the customer.
            let stray = Settlement {
                payment: p,
                refunds,
            }
            .is_stray();
            if revenue_recognised(order.status) && !stray {
                earned += clearing - before;
            } else {
                held += clearing - before;
            }
        }
        let balance = self
            .store
            .balance(&Account::channel_clearing(CARD))
            .await
            .expect("balance");
        let kept = balance
            .first()
            .and_then(|m| m.checked_minor_units())
            .unwrap_or(0);
        assert_eq!(
            kept, clearing,
            "the channel owes what was captured less what was refunded"
        );
        assert_eq!(
            self.kept(Account::customer_funds()).await,
            -held,
            "held for customers"
        );
        assert_eq!(
            self.kept(Account::revenue()).await,
            -earned,
            "earned by fulfilment"
        );
    }

    /// The account's kept USD balance in minor units (0 without entries).
    async fn kept(&self, account: Account) -> i64 {
        let balance = self.store.balance(&account).await.expect("balance");
        balance
            .first()
            .and_then(|m| m.checked_minor_units())
            .unwrap_or(0)
    }
}

/// Every history row of `id` is a legal step of `S`'s table, and the rows chain.
async fn legal_history<S: Status>(store: &dyn TransactionStore, id: &str) {
    let history = store.history(S::ENTITY, id).await.expect("history");
    let mut current: Option<S> = None;
    for row in &history {
        let to = S::parse(&row.to).expect("known status");
        match (&row.from, current) {
            (None, None) => {}
            (Some(from), Some(cur)) => {
                let from = S::parse(from).expect("known status");
                assert_eq!(from, cur, "history of {id} chains");
                assert!(from.to(to).is_ok(), "illegal {from:?} → {to:?} in {id}");
            }
            other => panic!("history of {id} starts wrong: {other:?}"),
        }
        current = Some(to);
    }
}

async fn run(ops: Vec<Op>) {
    let db = support::backends::sqlite().await;
    let store: Arc<dyn TransactionStore> = db.view();
    let clock = TestClock::new();
    let risk = Arc::new(ScriptedRisk);
    let sku = stocked(&*store, "P", PRICE, UNITS).await;
    let channel = Arc::new(FakeChannel {
        paid: Mutex::default(),
        payments: OnceLock::new(),
        store: Arc::clone(&store),
    });
    let payments = PaymentService::new(
        Arc::clone(&store),
        risk.clone(),
        clock.clone(),
        PaymentConfig::new(SECRET.to_vec()),
    );
    assert!(channel.payments.set(payments.clone()).is_ok());
    let mut model = Model {
        orders: OrderService::new(
            Arc::clone(&store),
            risk,
            clock.clone(),
            OrderConfig::default(),
        )
        .with_open_payments(channel.clone()),
        payments,
        channel,
        failed_by_webhook: HashSet::new(),
        card: CardChannel::new(SECRET.to_vec()),
        store,
        clock,
        sku,
        order_ids: Vec::new(),
        payment_ids: Vec::new(),
        events: Vec::new(),
    };
    for op in &ops {
        model.step(op).await;
        model.check_invariants().await;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_after_every_step(ops in prop::collection::vec(op(), 1..60)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(run(ops));
    }
}
