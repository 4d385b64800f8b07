//! The refund-count guard `FULFILLED` hands the store: it names every payment the revenue was
//! earned from, with the number of refunds read, and nothing else.

use super::*;

#[test]
fn fulfilled_guards_the_refund_count_it_read_of_each_payment_it_earns_from() {
    let paying = payment("pay_1", PaymentStatus::Succeeded, 10_000);
    let stray = payment("pay_2", PaymentStatus::Succeeded, 10_000);
    let auto = auto_refund(&stray, RefundStatus::Processing);
    let settlements = [
        settled(
            paying,
            vec![
                refund("rfd_1", "pay_1", RefundStatus::Succeeded, 2_000),
                refund("rfd_2", "pay_1", RefundStatus::Failed, 500),
            ],
        ),
        settled(stray, vec![auto]),
        settled(payment("pay_3", PaymentStatus::Failed, 10_000), vec![]),
    ];
    let change = step(
        &order(OrderStatus::Fulfilling),
        OrderStatus::Fulfilled,
        &settlements,
    );
    assert_eq!(
        change.refund_counts,
        [RefundCountGuard {
            payment_id: PaymentId::from("pay_1"),
            count: 2,
        }]
    );
    assert_eq!(
        entries(change.journal.as_ref().expect("revenue"))[1].1,
        -8_000
    );
}

#[test]
fn fulfilled_without_revenue_still_guards_the_refunds() {
    // Refunded in full: nothing to earn, but a refund appearing before the commit would still
    // be paid from the wrong account if the step went through.
    let settlements = [settled(
        payment("pay_1", PaymentStatus::Succeeded, 10_000),
        vec![refund("rfd_1", "pay_1", RefundStatus::Succeeded, 10_000)],
    )];
    let change = step(
        &order(OrderStatus::Fulfilling),
        OrderStatus::Fulfilled,
        &settlements,
    );
    assert_eq!(change.journal, None);
    assert_eq!(change.refund_counts.len(), 1);
    assert_eq!(change.refund_counts[0].count, 1);
}

#[test]
fn the_other_steps_carry_no_guard() {
    let settlements = [settled(
        payment("pay_1", PaymentStatus::Succeeded, 10_000),
        vec![refund("rfd_1", "pay_1", RefundStatus::Succeeded, 1_000)],
    )];
    for (from, to) in [
        (OrderStatus::Paid, OrderStatus::Fulfilling),
        (OrderStatus::Fulfilled, OrderStatus::Done),
    ] {
        let change = step(&order(from), to, &settlements);
        assert!(change.refund_counts.is_empty(), "{to}");
    }
}
