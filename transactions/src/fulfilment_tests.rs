use arbiter_engine::money::Money;
use chrono::Utc;
use proptest::prelude::*;

use super::*;
use crate::catalogue::Line;
use crate::ids::{
    ChannelPaymentId, ChannelRefundId, IdempotencyKey, OrderId, PaymentId, RefundId, ReservationId,
    Sku,
};
use crate::order::OrderRequest;
use crate::status::TransitionError;
use crate::webhook::{auto_refund_key, capture_journal, refund_journal};

fn usd(minor: i64) -> Money {
    Money::from_stored(minor, "USD").expect("USD")
}

fn order(status: OrderStatus) -> Order {
    let now = Utc::now();
    Order {
        id: OrderId::from("ord_1"),
        idempotency_key: IdempotencyKey::from("k"),
        body_hash: String::new(),
        status,
        request: OrderRequest {
            items: vec![Line {
                sku: Sku::from("A"),
                quantity: 1,
            }],
            user: "u".into(),
            device: None,
            ip: None,
            shipping: None,
            payment_method: None,
        },
        items: Vec::new(),
        total: usd(10_000),
        reservation_id: ReservationId::from("rsv_1"),
        challenge_required: false,
        risk: None,
        expires_at: now,
        created_at: now,
        updated_at: now,
    }
}

fn payment(id: &str, status: PaymentStatus, minor: i64) -> Payment {
    let now = Utc::now();
    Payment {
        id: PaymentId::from(id),
        order_id: OrderId::from("ord_1"),
        idempotency_key: IdempotencyKey::from(id),
        body_hash: String::new(),
        channel: "card".into(),
        channel_payment_id: ChannelPaymentId(format!("pi_{id}")),
        status,
        amount: usd(minor),
        risk: None,
        created_at: now,
        updated_at: now,
    }
}

fn refund(id: &str, payment: &str, status: RefundStatus, minor: i64) -> Refund {
    let now = Utc::now();
    Refund {
        id: RefundId::from(id),
        payment_id: PaymentId::from(payment),
        idempotency_key: IdempotencyKey::from(id),
        body_hash: String::new(),
        channel_refund_id: ChannelRefundId(format!("re_{id}")),
        status,
        amount: usd(minor),
        reason: String::new(),
        created_at: now,
        updated_at: now,
    }
}

/// The full refund a stray capture of `payment` gets at once.
fn auto_refund(payment: &Payment, status: RefundStatus) -> Refund {
    let minor = payment.amount.checked_minor_units().expect("minor");
    Refund {
        idempotency_key: auto_refund_key(&payment.id),
        ..refund(
            &format!("rfd_auto_{}", payment.id),
            payment.id.as_str(),
            status,
            minor,
        )
    }
}

fn settled(p: Payment, refunds: Vec<Refund>) -> Settlement {
    Settlement {
        payment: p,
        refunds,
    }
}

fn step(order: &Order, to: OrderStatus, settlements: &[Settlement]) -> Change {
    match decide(order, to, settlements, Utc::now()).expect("a legal step") {
        Fulfilment::Step(change) => *change,
        Fulfilment::Already => panic!("{:?} → {to:?} wrote nothing", order.status),
    }
}

/// (account, minor units) of each entry.
fn entries(journal: &Journal) -> Vec<(String, i64)> {
    journal
        .entries()
        .iter()
        .map(|e| {
            (
                e.account.0.clone(),
                e.amount.checked_minor_units().expect("minor units"),
            )
        })
        .collect()
}

#[test]
fn each_step_moves_once_with_its_outbox_message() {
    let paid = [settled(
        payment("pay_1", PaymentStatus::Succeeded, 10_000),
        vec![],
    )];
    for (from, to, journal) in [
        (OrderStatus::Paid, OrderStatus::Fulfilling, false),
        (OrderStatus::Fulfilling, OrderStatus::Fulfilled, true),
        (OrderStatus::Fulfilled, OrderStatus::Done, false),
    ] {
        let change = step(&order(from), to, &paid);
        let moved = change.order.as_ref().expect("an order step");
        assert_eq!((moved.transition.from(), moved.transition.to()), (from, to));
        assert_eq!(moved.reservation, ReservationEffect::Keep);
        assert_eq!(change.journal.is_some(), journal, "{to}");
        let topic = format!("order.{}", to.as_str().to_ascii_lowercase());
        assert_eq!(change.outbox.len(), 1);
        assert_eq!(change.outbox[0].topic, topic);
        assert_eq!(change.outbox[0].payload["status"], to.as_str());
        assert_eq!(change.outbox[0].payload["order_id"], "ord_1");
        assert!(change.payment.is_none() && change.refund.is_none() && change.event.is_none());
    }
}

#[test]
fn asking_for_the_status_the_order_is_in_writes_nothing() {
    for status in STEPS {
        let decided = decide(&order(status), status, &[], Utc::now()).expect("decides");
        assert_eq!(decided, Fulfilment::Already, "{status}");
    }
}

#[test]
fn skipping_or_going_back_is_a_transition_error() {
    for (from, to) in [
        (OrderStatus::PendingPayment, OrderStatus::Fulfilled),
        (OrderStatus::PendingPayment, OrderStatus::Fulfilling),
        (OrderStatus::Paid, OrderStatus::Fulfilled),
        (OrderStatus::Paid, OrderStatus::Done),
        (OrderStatus::Done, OrderStatus::Fulfilling),
        (OrderStatus::Cancelled, OrderStatus::Fulfilling),
        (OrderStatus::CancelledAfterPay, OrderStatus::Done),
    ] {
        match decide(&order(from), to, &[], Utc::now()) {
            Err(TxError::Transition(TransitionError { from: f, to: t, .. })) => {
                assert_eq!((f, t), (from.as_str(), to.as_str()));
            }
            other => panic!("{from} → {to}: {other:?}"),
        }
    }
}

#[test]
fn only_fulfilment_statuses_may_be_asked_for() {
    for to in [
        OrderStatus::Paid,
        OrderStatus::Cancelled,
        OrderStatus::PendingPayment,
    ] {
        match decide(&order(OrderStatus::Paid), to, &[], Utc::now()) {
            Err(TxError::Invalid { field, reason }) => {
                assert_eq!(field, "status");
                assert!(reason.contains(to.as_str()), "{reason}");
            }
            other => panic!("{to}: {other:?}"),
        }
    }
}

#[test]
fn revenue_is_the_capture_less_succeeded_refunds() {
    let settlements = [
        settled(
            payment("pay_1", PaymentStatus::Succeeded, 10_000),
            vec![
                refund("rfd_1", "pay_1", RefundStatus::Succeeded, 2_000),
                refund("rfd_2", "pay_1", RefundStatus::Failed, 3_000),
                refund("rfd_3", "pay_1", RefundStatus::Succeeded, 500),
            ],
        ),
        // A payment that failed captured nothing.
        settled(payment("pay_2", PaymentStatus::Failed, 10_000), vec![]),
    ];
    let change = step(
        &order(OrderStatus::Fulfilling),
        OrderStatus::Fulfilled,
        &settlements,
    );
    let journal = change.journal.expect("revenue");
    assert!(journal.is_balanced());
    assert_eq!(journal.kind(), REVENUE_JOURNAL);
    assert_eq!(journal.reference(), "ord_1");
    assert_eq!(
        entries(&journal),
        [
            ("customer_funds".to_owned(), 7_500),
            ("revenue".to_owned(), -7_500)
        ]
    );
}

#[test]
fn a_stray_capture_is_never_revenue() {
    // Paid twice: the second capture is refunded in full automatically — settled, at the
    // channel, or failed, it is not earned and does not hold FULFILLED back.
    for status in [
        RefundStatus::Succeeded,
        RefundStatus::Processing,
        RefundStatus::Failed,
    ] {
        let stray = payment("pay_2", PaymentStatus::Succeeded, 10_000);
        let settlements = [
            settled(payment("pay_1", PaymentStatus::Succeeded, 10_000), vec![]),
            settled(stray.clone(), vec![auto_refund(&stray, status)]),
        ];
        assert!(!settlements[0].is_stray() && settlements[1].is_stray());
        let journal = revenue_journal(&order(OrderStatus::Fulfilling), &settlements, Utc::now())
            .expect("decides")
            .expect("revenue");
        assert_eq!(
            entries(&journal)[0],
            ("customer_funds".to_owned(), 10_000),
            "{status}"
        );
    }
}

#[test]
fn a_refund_is_paid_from_revenue_only_for_the_paying_payment_of_a_fulfilled_order() {
    use OrderStatus::*;
    for (status, paying, from) in [
        (Paid, true, "customer_funds"),
        (Fulfilling, true, "customer_funds"),
        (Fulfilled, true, "revenue"),
        (Done, true, "revenue"),
        (Fulfilled, false, "customer_funds"),
        (Done, false, "customer_funds"),
        (CancelledAfterPay, false, "customer_funds"),
    ] {
        assert_eq!(
            refund_source(status, paying).as_str(),
            from,
            "{status} {paying}"
        );
    }
}

#[test]
fn a_refund_in_flight_holds_fulfilled_back() {
    for status in [RefundStatus::Requested, RefundStatus::Processing] {
        let settlements = [settled(
            payment("pay_1", PaymentStatus::Succeeded, 10_000),
            vec![refund("rfd_9", "pay_1", status, 100)],
        )];
        match decide(
            &order(OrderStatus::Fulfilling),
            OrderStatus::Fulfilled,
            &settlements,
            Utc::now(),
        ) {
            Err(TxError::RefundInFlight { order, refund }) => {
                assert_eq!((order.as_str(), refund.as_str()), ("ord_1", "rfd_9"));
            }
            other => panic!("{status}: {other:?}"),
        }
    }
    // Other steps do not depend on refunds.
    let settlements = [settled(
        payment("pay_1", PaymentStatus::Succeeded, 10_000),
        vec![refund("rfd_9", "pay_1", RefundStatus::Processing, 100)],
    )];
    step(
        &order(OrderStatus::Paid),
        OrderStatus::Fulfilling,
        &settlements,
    );
}

#[test]
fn a_fully_refunded_order_is_fulfilled_without_revenue() {
    let settlements = [settled(
        payment("pay_1", PaymentStatus::Succeeded, 10_000),
        vec![refund("rfd_1", "pay_1", RefundStatus::Succeeded, 10_000)],
    )];
    let change = step(
        &order(OrderStatus::Fulfilling),
        OrderStatus::Fulfilled,
        &settlements,
    );
    assert!(change.order.is_some());
    assert_eq!(change.journal, None);
}

#[test]
fn a_refund_after_fulfilment_reverses_revenue() {
    assert!(!revenue_recognised(OrderStatus::Fulfilling));
    assert!(revenue_recognised(OrderStatus::Fulfilled));
    assert!(revenue_recognised(OrderStatus::Done));
    let r = refund("rfd_1", "pay_1", RefundStatus::Processing, 1_500);
    let after = refund_journal(&r, "card", &Account::revenue(), Utc::now()).expect("journal");
    assert_eq!(
        entries(&after),
        [
            ("revenue".to_owned(), 1_500),
            ("channel_clearing:card".to_owned(), -1_500)
        ]
    );
    let before =
        refund_journal(&r, "card", &Account::customer_funds(), Utc::now()).expect("journal");
    assert_eq!(entries(&before)[0], ("customer_funds".to_owned(), 1_500));
}

/// The sum of every entry per account.
fn balances(journals: &[Journal]) -> std::collections::BTreeMap<String, i64> {
    let mut sums = std::collections::BTreeMap::new();
    for j in journals {
        for (account, minor) in entries(j) {
            *sums.entry(account).or_insert(0) += minor;
        }
    }
    sums
}

proptest! {
    /// Whatever refunds happen before and after fulfilment (each never more than is left), the
    /// ledger of one order ends sound: nothing is left held for the customer, revenue is the
    /// capture less every refund, and the channel owes exactly that.
    #[test]
    fn an_orders_ledger_ends_with_nothing_held(
        capture in 1_i64..1_000_000,
        before in proptest::collection::vec((1_i64..400_000, any::<bool>()), 0..5),
        after in proptest::collection::vec(1_i64..400_000, 0..5),
    ) {
        let at = Utc::now();
        let p = payment("pay_1", PaymentStatus::Succeeded, capture);
        let mut journals = vec![capture_journal(&p, at).expect("capture")];
        let (mut left, mut refunds) = (capture, Vec::new());
        for (i, (amount, succeeds)) in before.into_iter().enumerate() {
            if amount > left {
                continue;
            }
            let status = if succeeds { RefundStatus::Succeeded } else { RefundStatus::Failed };
            let r = refund(&format!("rfd_b{i}"), "pay_1", status, amount);
            if succeeds {
                left -= amount;
                let from = refund_source(OrderStatus::Paid, true);
                journals.push(refund_journal(&r, "card", &from, at).expect("refund"));
            }
            refunds.push(r);
        }
        let change = step(
            &order(OrderStatus::Fulfilling),
            OrderStatus::Fulfilled,
            &[settled(p, refunds)],
        );
        journals.extend(change.journal);
        for (i, amount) in after.into_iter().enumerate() {
            if amount > left {
                continue;
            }
            left -= amount;
            let r = refund(&format!("rfd_a{i}"), "pay_1", RefundStatus::Succeeded, amount);
            let from = refund_source(OrderStatus::Fulfilled, true);
            journals.push(refund_journal(&r, "card", &from, at).expect("refund"));
        }
        let sums = balances(&journals);
        prop_assert!(journals.iter().all(Journal::is_balanced));
        prop_assert_eq!(sums.get("customer_funds").copied().unwrap_or(0), 0);
        prop_assert_eq!(sums.get("revenue").copied().unwrap_or(0), -left);
        prop_assert_eq!(sums.get("channel_clearing:card").copied().unwrap_or(0), left);
    }
}

#[path = "fulfilment_guard_tests.rs"]
mod guard;
