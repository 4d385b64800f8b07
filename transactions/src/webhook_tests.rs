use super::*;
use crate::catalogue::Line;
use crate::channels::{PaymentState, RefundState};
use crate::ids::EventId;
use crate::ids::{ChannelPaymentId, OrderId, PaymentId, ReservationId, Sku};
use crate::order::OrderRequest;
use arbiter_engine::money::Money;

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
        total: usd(1000),
        reservation_id: ReservationId::from("rsv_1"),
        challenge_required: false,
        risk: None,
        expires_at: now,
        created_at: now,
        updated_at: now,
    }
}

fn payment(status: PaymentStatus) -> Payment {
    let now = Utc::now();
    Payment {
        id: PaymentId::from("pay_1"),
        order_id: OrderId::from("ord_1"),
        idempotency_key: IdempotencyKey::from("pk"),
        body_hash: String::new(),
        channel: "card".into(),
        channel_payment_id: ChannelPaymentId::from("pi_1"),
        status,
        amount: usd(1000),
        risk: None,
        created_at: now,
        updated_at: now,
    }
}

fn paid(minor: i64, currency: &str) -> PaymentState {
    PaymentState::Paid {
        amount: Money::from_stored(minor, currency).expect("a known currency"),
        channel_trade_id: "pi_1".into(),
    }
}

fn id() -> EventId {
    EventId::from("evt_1")
}

#[test]
fn a_success_for_a_pending_order_pays_it_with_a_capture_journal() {
    let ok = paid(1000, "USD");
    let decided = payment_event(
        &id(),
        &ok,
        &payment(PaymentStatus::Processing),
        &order(OrderStatus::PendingPayment),
        Utc::now(),
    )
    .expect("decides");
    assert_eq!(decided.verdict, Verdict::Applied);
    let change = decided.change.expect("a change");
    let step = change.order.expect("order step");
    assert_eq!(step.transition.to(), OrderStatus::Paid);
    assert_eq!(step.reservation, ReservationEffect::Confirm);
    let journal = change.journal.expect("journal");
    assert_eq!(journal.kind(), "payment.captured");
    assert!(journal.is_balanced());
    assert!(change.new_refund.is_none());
    assert!(change.event.is_some() && change.due_done.is_some());
}

#[test]
fn mismatched_amount_or_currency_is_flagged_without_a_change() {
    for (amount, currency) in [(999, "USD"), (1000, "EUR")] {
        let e = paid(amount, currency);
        let decided = payment_event(
            &id(),
            &e,
            &payment(PaymentStatus::Processing),
            &order(OrderStatus::PendingPayment),
            Utc::now(),
        )
        .expect("decides");
        assert_eq!(decided.verdict, Verdict::Mismatch, "{amount} {currency}");
        assert!(decided.change.is_none());
    }
}

#[test]
fn a_success_for_a_cancelled_order_is_refunded_in_full() {
    let ok = paid(1000, "USD");
    let decided = payment_event(
        &id(),
        &ok,
        &payment(PaymentStatus::Processing),
        &order(OrderStatus::Cancelled),
        Utc::now(),
    )
    .expect("decides");
    let change = decided.change.expect("a change");
    assert_eq!(
        change.order.map(|s| s.transition.to()),
        Some(OrderStatus::CancelledAfterPay)
    );
    assert_eq!(change.new_refund.map(|r| r.amount), Some(usd(1000)));
    assert_eq!(
        change.refund.map(|s| s.transition.to()),
        Some(RefundStatus::Processing)
    );
}

#[test]
fn terminal_payments_do_not_move_again() {
    let ok = paid(1000, "USD");
    let failed = PaymentState::Closed;
    let pending = order(OrderStatus::PendingPayment);
    let dup = payment_event(
        &id(),
        &ok,
        &payment(PaymentStatus::Succeeded),
        &pending,
        Utc::now(),
    )
    .expect("decides");
    assert_eq!((dup.verdict, dup.change), (Verdict::Duplicate, None));
    let late = payment_event(
        &id(),
        &ok,
        &payment(PaymentStatus::Failed),
        &pending,
        Utc::now(),
    )
    .expect("decides");
    assert_eq!(late.verdict, Verdict::Ignored);
    let fail = payment_event(
        &id(),
        &failed,
        &payment(PaymentStatus::Processing),
        &pending,
        Utc::now(),
    )
    .expect("decides");
    let change = fail.change.expect("a change");
    assert_eq!(
        change.payment.map(|s| s.transition.to()),
        Some(PaymentStatus::Failed)
    );
    assert!(
        change.order.is_none() && change.journal.is_none(),
        "the order keeps waiting"
    );
}

#[test]
fn a_payment_still_open_at_the_channel_moves_nothing() {
    for state in [PaymentState::Pending, PaymentState::Unknown] {
        let decided = payment_event(
            &id(),
            &state,
            &payment(PaymentStatus::Processing),
            &order(OrderStatus::PendingPayment),
            Utc::now(),
        )
        .expect("decides");
        assert_eq!((decided.verdict, decided.change), (Verdict::Ignored, None));
    }
}

#[test]
fn a_refund_report_settles_the_refund_once_and_flags_a_wrong_amount() {
    let now = Utc::now();
    let refund = |status| Refund {
        id: RefundId::from("re_x"),
        payment_id: PaymentId::from("pay_1"),
        idempotency_key: IdempotencyKey::from("rk"),
        body_hash: String::new(),
        channel_refund_id: ChannelRefundId::from("re_1"),
        status,
        amount: usd(400),
        reason: "returned".into(),
        created_at: now,
        updated_at: now,
    };
    let from = Account::customer_funds();
    let decide = |state: &RefundState, status| {
        refund_event(&id(), state, &refund(status), "card", &from, now).expect("decides")
    };
    let ok = RefundState::Succeeded { amount: usd(400) };
    let applied = decide(&ok, RefundStatus::Processing);
    assert_eq!(applied.verdict, Verdict::Applied);
    let change = applied.change.expect("change");
    assert!(change.journal.expect("journal").is_balanced());
    assert_eq!(
        decide(&ok, RefundStatus::Succeeded).verdict,
        Verdict::Duplicate
    );
    let wrong = RefundState::Succeeded { amount: usd(401) };
    assert_eq!(
        decide(&wrong, RefundStatus::Processing).verdict,
        Verdict::Mismatch
    );
    let failed = RefundState::Failed {
        reason: "closed".into(),
    };
    let change = decide(&failed, RefundStatus::Processing)
        .change
        .expect("change");
    assert!(change.journal.is_none());
    assert_eq!(
        decide(&RefundState::Processing, RefundStatus::Processing).verdict,
        Verdict::Ignored
    );
}
