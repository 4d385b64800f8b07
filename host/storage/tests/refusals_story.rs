//! Bad input is refused before the transaction core writes anything, on every backend: risk
//! hints the risk host refuses stop an order, a payment or a refund with the field named and
//! nothing stored; a risk host that answers "invalid" rejects the step whatever the fail mode;
//! rows priced at zero by an older catalogue make neither an order nor a payment (so no ledger
//! path ever meets a journal of nothing).

#[macro_use]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arbiter_engine::clock::Clock;
use arbiter_transactions::TxError;
use arbiter_transactions::card::CardChannel;
use arbiter_transactions::catalogue::{Line, Product, StockLevel};
use arbiter_transactions::change::{Change, OrderStep, ReservationEffect};
use arbiter_transactions::ids::{IdempotencyKey, OrderId, ReservationId, Sku};
use arbiter_transactions::order::{NewOrder, OrderCreate, OrderItem, OrderRequest};
use arbiter_transactions::orders::{OrderConfig, OrderService};
use arbiter_transactions::payment::{CARD, Verdict};
use arbiter_transactions::payments::{PaymentConfig, PaymentService};
use arbiter_transactions::risk::{
    InvalidRisk, RiskAction, RiskClient, RiskError, RiskFailMode, RiskField, RiskRequest,
    RiskVerdict,
};
use arbiter_transactions::status::{OrderStatus, PaymentStatus, Status};
use arbiter_transactions::store::TransactionStore;
use async_trait::async_trait;
use support::catalogue::{stocked, usd};
use support::clock::TestClock;
use support::risk::ScriptedRisk;

on_every_backend!(invalid_hints_are_refused_before_an_order_payment_or_refund_writes);
on_every_backend!(an_invalid_answer_rejects_whatever_the_fail_mode);
on_every_backend!(rows_priced_at_zero_make_neither_an_order_nor_a_payment);

const SECRET: &[u8] = b"whsec_refusals";

/// The scripted risk host, with switches: `refuse` makes `check` refuse the IP (as the real
/// host refuses `not-an-ip`); `invalid` makes `assess` answer that the request is invalid.
#[derive(Default)]
struct SwitchedRisk {
    refuse: AtomicBool,
    invalid: AtomicBool,
}

fn bad_ip() -> InvalidRisk {
    InvalidRisk {
        field: RiskField::Ip,
        reason: "`not-an-ip` is not an IP address".into(),
    }
}

#[async_trait]
impl RiskClient for SwitchedRisk {
    fn check(&self, _request: &RiskRequest) -> Result<(), InvalidRisk> {
        if self.refuse.load(Ordering::SeqCst) {
            return Err(bad_ip());
        }
        Ok(())
    }

    async fn assess(&self, request: &RiskRequest) -> Result<RiskVerdict, RiskError> {
        if self.invalid.load(Ordering::SeqCst) {
            return Err(RiskError::Invalid(bad_ip()));
        }
        ScriptedRisk.assess(request).await
    }
}

struct World {
    store: Arc<dyn TransactionStore>,
    risk: Arc<SwitchedRisk>,
    clock: Arc<TestClock>,
    orders: OrderService,
    payments: PaymentService,
    card: CardChannel,
}

/// Both fail modes open: whatever is rejected below is rejected despite them.
fn world(store: &Arc<dyn TransactionStore>) -> World {
    let clock = TestClock::new();
    let risk = Arc::new(SwitchedRisk::default());
    let orders = OrderService::new(
        Arc::clone(store),
        risk.clone(),
        clock.clone(),
        OrderConfig {
            risk_fail_mode: RiskFailMode::Open,
            ..OrderConfig::default()
        },
    );
    let mut config = PaymentConfig::new(SECRET.to_vec());
    config.risk_fail_mode = RiskFailMode::Open;
    let payments = PaymentService::new(Arc::clone(store), risk.clone(), clock.clone(), config);
    World {
        store: Arc::clone(store),
        risk,
        clock,
        orders,
        payments,
        card: CardChannel::new(SECRET.to_vec()),
    }
}

fn request(user: &str, sku: &Sku) -> OrderRequest {
    OrderRequest {
        items: vec![Line {
            sku: sku.clone(),
            quantity: 1,
        }],
        user: user.into(),
        device: Some("dev-1".into()),
        ip: Some("203.0.113.7".into()),
        shipping: None,
        payment_method: Some(CARD.into()),
    }
}

fn field_of(e: TxError) -> String {
    match e {
        TxError::Invalid { field, .. } => field,
        other => panic!("expected a refusal naming a field, got {other}"),
    }
}

impl World {
    async fn stock(&self, sku: &Sku) -> StockLevel {
        self.store.sku(sku).await.expect("read").expect("sku").stock
    }
}

mod stories {
    use super::*;

    pub async fn invalid_hints_are_refused_before_an_order_payment_or_refund_writes(
        store: Arc<dyn TransactionStore>,
    ) {
        let w = world(&store);
        let sku = stocked(&*store, "A", 1000, 10).await;
        let untouched = w.stock(&sku).await;

        // An order: refused naming `ip`; no reservation, no order behind the key.
        w.risk.refuse.store(true, Ordering::SeqCst);
        let key = IdempotencyKey::generate();
        let e = w
            .orders
            .create(key.clone(), request("blocked", &sku))
            .await
            .expect_err("refused");
        assert_eq!(field_of(e), "ip");
        assert_eq!(w.stock(&sku).await, untouched);
        assert!(store.order_by_key(&key).await.expect("read").is_none());

        // A payment of an order whose hints the host now refuses: `order.ip`, no payment.
        w.risk.refuse.store(false, Ordering::SeqCst);
        let order = w
            .orders
            .create(key, request("payer", &sku))
            .await
            .expect("order");
        assert_eq!(order.status, OrderStatus::PendingPayment);
        w.risk.refuse.store(true, Ordering::SeqCst);
        let pay_key = IdempotencyKey::generate();
        let e = w
            .payments
            .start(&order.id, pay_key.clone(), CARD)
            .await
            .expect_err("refused");
        assert_eq!(field_of(e), "order.ip");
        assert!(
            store
                .payment_by_key(&pay_key)
                .await
                .expect("read")
                .is_none()
        );
        assert!(store.payments_of(&order.id).await.expect("read").is_empty());

        // A refund likewise: refused, nothing stored, the capture untouched.
        w.risk.refuse.store(false, Ordering::SeqCst);
        let payment = w
            .payments
            .start(&order.id, pay_key, CARD)
            .await
            .expect("payment");
        let event = w.card.payment_event(&payment, true, w.clock.now());
        let reply = w
            .payments
            .handle_card_webhook(Some(&event.signature), &event.body)
            .await
            .expect("webhook");
        assert_eq!(reply.verdict, Verdict::Applied);
        w.risk.refuse.store(true, Ordering::SeqCst);
        let refund_key = IdempotencyKey::generate();
        let e = w
            .payments
            .request_refund(&payment.id, refund_key.clone(), usd(500), "damaged")
            .await
            .expect_err("refused");
        assert_eq!(field_of(e), "order.ip");
        assert!(
            store
                .refund_by_key(&refund_key)
                .await
                .expect("read")
                .is_none()
        );
        assert!(
            store
                .refunds_of(&payment.id)
                .await
                .expect("read")
                .is_empty()
        );
        let report = store.check_ledger().await.expect("check");
        assert!(report.is_sound() && report.journals == 1, "{report:?}");
    }

    pub async fn an_invalid_answer_rejects_whatever_the_fail_mode(
        store: Arc<dyn TransactionStore>,
    ) {
        let w = world(&store);
        let sku = stocked(&*store, "B", 1000, 10).await;
        w.risk.invalid.store(true, Ordering::SeqCst);
        let order = w
            .orders
            .create(IdempotencyKey::generate(), request("anyone", &sku))
            .await
            .expect("decided");
        assert_eq!(
            order.status,
            OrderStatus::Rejected,
            "not the open fail mode"
        );
        let risk = order.risk.expect("recorded");
        assert_eq!(risk.action, RiskAction::Reject);
        assert_eq!(risk.fail_mode, None);
        assert!(risk.fault.is_some_and(|f| f.contains("`ip`")));
        assert_eq!(w.stock(&sku).await.reserved, 0, "its stock released");

        w.risk.invalid.store(false, Ordering::SeqCst);
        let order = w
            .orders
            .create(IdempotencyKey::generate(), request("payer", &sku))
            .await
            .expect("order");
        w.risk.invalid.store(true, Ordering::SeqCst);
        let payment = w
            .payments
            .start(&order.id, IdempotencyKey::generate(), CARD)
            .await
            .expect("decided");
        assert_eq!(
            payment.status,
            PaymentStatus::Failed,
            "not the open fail mode"
        );
        assert_eq!(payment.risk.expect("recorded").fail_mode, None);
    }

    pub async fn rows_priced_at_zero_make_neither_an_order_nor_a_payment(
        store: Arc<dyn TransactionStore>,
    ) {
        let w = world(&store);
        // Written as an older catalogue could (the domain constructor refuses it now).
        let free = Sku::from("FREE");
        let product = Product {
            sku: free.clone(),
            title: "free".into(),
            price: usd(0),
        };
        store.put_product(&product).await.expect("stored");
        store.set_stock_total(&free, 5).await.expect("stock");
        let key = IdempotencyKey::generate();
        let e = w
            .orders
            .create(key.clone(), request("u", &free))
            .await
            .expect_err("refused");
        assert_eq!(field_of(e), "items");
        assert_eq!(w.stock(&free).await.reserved, 0);
        assert!(store.order_by_key(&key).await.expect("read").is_none());

        // An order of nothing, as one made before could be, waiting for payment.
        let new = NewOrder {
            id: OrderId::generate(),
            idempotency_key: IdempotencyKey::generate(),
            body_hash: "legacy".into(),
            request: request("u", &free),
            items: vec![OrderItem {
                sku: free.clone(),
                quantity: 1,
                unit_price: usd(0),
            }],
            total: usd(0),
            reservation_id: ReservationId::generate(),
            expires_at: w.clock.now() + chrono::Duration::minutes(15),
            created_at: w.clock.now(),
        };
        let OrderCreate::Created(order) = store.create_order(&new).await.expect("stored") else {
            panic!("a fresh key");
        };
        let step = OrderStep {
            id: order.id.clone(),
            transition: order.status.to(OrderStatus::PendingPayment).expect("legal"),
            reservation: ReservationEffect::Keep,
            risk: None,
            challenge_required: false,
            note: "legacy".into(),
        };
        store
            .apply(&Change {
                order: Some(step),
                at: w.clock.now(),
                ..Change::default()
            })
            .await
            .expect("pending payment");
        let pay_key = IdempotencyKey::generate();
        let e = w
            .payments
            .start(&order.id, pay_key.clone(), CARD)
            .await
            .expect_err("nothing to pay");
        assert_eq!(field_of(e), "order_id");
        assert!(
            store
                .payment_by_key(&pay_key)
                .await
                .expect("read")
                .is_none()
        );
        assert!(store.journals().await.expect("journals").is_empty());
    }
}
