use iso_currency::Currency;

use super::*;
use crate::reconciliation::statement::RowKind;

fn eur(cents: i64) -> Money {
    Money::from_minor_units(cents, Currency::EUR)
}

fn at(hour: u32) -> DateTime<Utc> {
    format!("2026-12-06T{hour:02}:00:00Z")
        .parse()
        .expect("instant")
}

/// 2.9 % + 0.30, as a card schedule.
fn card_fees() -> FeeSchedule {
    FeeSchedule {
        rate: Decimal::new(29, 3),
        fixed: Decimal::new(30, 2),
        returned_on_refund: false,
    }
}

fn row(line: usize, kind: RowKind, ours: &str, gross: Money) -> StatementRow {
    let fee = card_fees().fee(&gross);
    StatementRow {
        line,
        id: format!("txn_{line}"),
        kind,
        channel_txn_id: format!("ch_{ours}"),
        our_ref: Some(ours.to_owned()),
        gross,
        fee,
        net: gross.checked_sub(&fee).expect("net"),
        at: at(12),
    }
}

fn entry(kind: BookKind, ours: &str, amount: Money, done: bool, hour: u32) -> BookEntry {
    BookEntry {
        kind,
        our_ref: ours.to_owned(),
        channel_txn_id: None,
        amount,
        done,
        at: at(hour),
    }
}

#[test]
fn the_schedule_rounds_half_away_from_zero() {
    assert_eq!(card_fees().fee(&eur(4250)), eur(153)); // 1.2325 + 0.30
    let alipay = FeeSchedule::parse("alipay", "0.006").expect("alipay");
    assert_eq!(alipay.fee(&eur(-4250)), eur(-26)); // 25.5 cents given back
}

#[test]
fn every_planted_difference_is_found_and_nothing_else() {
    use BookKind::{Capture, Refund};
    let mut rows = vec![
        row(2, RowKind::Payment, "pi_ok", eur(4250)),
        row(3, RowKind::Refund, "re_ok", eur(-1000)),
        row(4, RowKind::Payment, "pi_amount", eur(999)),
        row(
            5,
            RowKind::Payment,
            "pi_currency",
            Money::from_minor_units(1000, Currency::USD),
        ),
        row(6, RowKind::Payment, "pi_failed_here", eur(1000)),
        row(7, RowKind::Payment, "pi_stranger", eur(1000)),
        row(8, RowKind::Payment, "pi_fee", eur(1000)),
    ];
    rows[6].fee = eur(100);
    // A payout and a fee row are not payments: not matched, not differences.
    let mut payout = row(9, RowKind::Payout, "po_1", eur(-5000));
    payout.our_ref = None;
    rows.push(payout);
    // Found by the channel's id when the statement carries none of ours.
    let mut by_txn = row(10, RowKind::Payment, "pi_txn", eur(500));
    by_txn.our_ref = None;
    rows.push(by_txn);

    let mut txn_entry = entry(Capture, "pi_txn", eur(500), true, 9);
    txn_entry.channel_txn_id = Some("ch_pi_txn".into());
    let book = vec![
        entry(Capture, "pi_ok", eur(4250), true, 9),
        entry(Refund, "re_ok", eur(-1000), true, 10),
        entry(Capture, "pi_amount", eur(1000), true, 9),
        entry(Capture, "pi_currency", eur(1000), true, 9),
        entry(Capture, "pi_failed_here", eur(1000), false, 9),
        entry(Capture, "pi_fee", eur(1000), true, 9),
        txn_entry,
        // Captured in the morning, not on the statement: missing at the channel.
        entry(Capture, "pi_lost", eur(700), true, 8),
        // Captured an hour before the statement ends: still within the settlement delay.
        entry(Capture, "pi_late", eur(700), true, 23),
        // Never done: not expected on the statement.
        entry(Capture, "pi_open", eur(700), false, 8),
    ];
    let outcome = reconcile(&Run {
        rows: &rows,
        book: &book,
        until: "2026-12-07T00:00:00Z".parse().expect("instant"),
        settlement_delay: Duration::hours(2),
        fees: Some(&card_fees()),
    });
    let mut found: Vec<(DifferenceKind, &str)> = outcome
        .differences
        .iter()
        .map(|d| (d.kind, d.reference.as_str()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (DifferenceKind::MissingLocal, "pi_stranger"),
            (DifferenceKind::MissingChannel, "pi_lost"),
            (DifferenceKind::AmountMismatch, "pi_amount"),
            (DifferenceKind::CurrencyMismatch, "pi_currency"),
            (DifferenceKind::StatusMismatch, "pi_failed_here"),
            (DifferenceKind::FeeUnexpected, "pi_fee"),
        ],
        "{:#?}",
        outcome.differences
    );
    assert_eq!(
        (outcome.rows, outcome.matched, outcome.pending),
        (8, 3, 1),
        "pi_ok, re_ok and pi_txn match; pi_late is pending"
    );
    assert!((outcome.difference_rate() - 6.0 / 8.0).abs() < 1e-9);
    let lost = outcome
        .differences
        .iter()
        .find(|d| d.kind == DifferenceKind::MissingChannel)
        .expect("lost");
    assert_eq!(lost.line, None);
    assert!(lost.detail.contains("captured 7.00 EUR"), "{}", lost.detail);
}

#[test]
fn a_refund_row_never_matches_a_capture_of_the_same_id() {
    let rows = vec![row(2, RowKind::Refund, "pi_same", eur(-1000))];
    let book = vec![entry(BookKind::Capture, "pi_same", eur(1000), true, 9)];
    let outcome = reconcile(&Run {
        rows: &rows,
        book: &book,
        until: "2026-12-07T00:00:00Z".parse().expect("instant"),
        settlement_delay: Duration::zero(),
        fees: None,
    });
    let kinds: Vec<DifferenceKind> = outcome.differences.iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        vec![DifferenceKind::MissingLocal, DifferenceKind::MissingChannel]
    );
}

#[test]
fn a_row_whose_ref_names_another_kind_is_still_found_by_the_channels_id() {
    // A refund row carrying the payment's id (as some reports do) and the refund's own id
    // at the channel.
    let mut refund_row = row(2, RowKind::Refund, "pi_paid", eur(-1000));
    refund_row.channel_txn_id = "re_channel".into();
    let mut refund = entry(BookKind::Refund, "re_ours", eur(-1000), true, 9);
    refund.channel_txn_id = Some("re_channel".into());
    let book = vec![
        entry(BookKind::Capture, "pi_paid", eur(1000), true, 8),
        refund,
    ];
    let outcome = reconcile(&Run {
        rows: &[refund_row],
        book: &book,
        until: "2026-12-06T10:00:00Z".parse().expect("instant"),
        settlement_delay: Duration::zero(),
        fees: None,
    });
    assert_eq!(outcome.matched, 1, "{:#?}", outcome.differences);
    let kinds: Vec<DifferenceKind> = outcome.differences.iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        vec![DifferenceKind::MissingChannel],
        "the capture is not on it"
    );
}

#[test]
fn a_fee_schedule_is_read_as_an_operator_writes_it() {
    assert_eq!(FeeSchedule::parse("card", "0.029+0.30"), Ok(card_fees()));
    let alipay = FeeSchedule::parse("alipay", "0.006").expect("alipay");
    assert_eq!(
        alipay,
        FeeSchedule {
            rate: Decimal::new(6, 3),
            fixed: Decimal::ZERO,
            returned_on_refund: true,
        }
    );
    for bad in ["", "2.9", "-0.01", "0.029+x", "0.029+-1"] {
        assert!(FeeSchedule::parse("card", bad).is_err(), "{bad}");
    }
}

#[test]
fn a_refund_costs_no_fee_at_the_card_and_gives_the_rate_back_at_alipay() {
    assert_eq!(card_fees().fee(&eur(-1000)), eur(0));
    let cny = |fen| Money::from_minor_units(fen, Currency::CNY);
    let alipay = FeeSchedule::parse("alipay", "0.006").expect("alipay");
    assert_eq!(alipay.fee(&cny(10_000)), cny(60));
    assert_eq!(alipay.fee(&cny(-3_000)), cny(-18));
}
