use std::collections::{BTreeMap, HashMap};

use arbiter_engine::money::Money;
use chrono::{DateTime, Duration, Utc};
use iso_currency::Currency;
use proptest::prelude::*;

use super::*;
use crate::reconciliation::matching::{DifferenceKind, Run, reconcile};

fn eur(cents: i64) -> Money {
    Money::from_minor_units(cents, Currency::EUR)
}

fn at(hour: u32) -> DateTime<Utc> {
    format!("2026-12-06T{hour:02}:00:00Z")
        .parse()
        .expect("instant")
}

fn row(line: usize, kind: RowKind, ours: Option<&str>, txn: &str, gross: Money) -> StatementRow {
    StatementRow {
        line,
        id: format!("txn_{line}"),
        kind,
        channel_txn_id: txn.to_owned(),
        our_ref: ours.map(str::to_owned),
        gross,
        fee: Money::zero(gross.currency),
        net: gross,
        at: at(12),
    }
}

fn entry(kind: BookKind, ours: &str, txn: Option<&str>, amount: Money, done: bool) -> BookEntry {
    BookEntry {
        kind,
        our_ref: ours.to_owned(),
        channel_txn_id: txn.map(str::to_owned),
        amount,
        done,
        at: at(9),
    }
}

fn run(rows: &[StatementRow], book: &[BookEntry]) -> Outcome {
    reconcile(&Run {
        rows,
        book,
        until: at(23),
        settlement_delay: Duration::hours(1),
        fees: None,
    })
}

#[test]
fn a_second_row_for_the_same_movement_is_money_moved_twice() {
    let rows = vec![
        row(2, RowKind::Payment, Some("pay_a"), "ch_1", eur(1000)),
        row(3, RowKind::Payment, Some("pay_a"), "ch_2", eur(1000)),
    ];
    let book = vec![entry(BookKind::Capture, "pay_a", None, eur(1000), true)];
    let outcome = run(&rows, &book);
    assert_eq!((outcome.rows, outcome.matched), (2, 1));
    assert_eq!(outcome.differences.len(), 1, "{:#?}", outcome.differences);
    assert_eq!(outcome.differences[0].kind, DifferenceKind::MissingLocal);
    assert_eq!(outcome.differences[0].line, Some(3));
    assert!(outcome.differences[0].detail.contains("a second time"));
}

#[test]
fn fees_and_payouts_are_tallied_on_the_way_not_matched() {
    let mut fee_row = row(4, RowKind::Fee, None, "fee_1", eur(-200));
    fee_row.net = eur(-200);
    let rows = vec![
        row(2, RowKind::Payment, Some("pay_a"), "ch_1", eur(1000)),
        row(3, RowKind::Payout, None, "po_1", eur(-800)),
        fee_row,
    ];
    let book = vec![entry(BookKind::Capture, "pay_a", None, eur(1000), true)];
    let mut tally = Tally::default();
    let params = Params {
        until: at(23),
        settlement_delay: Duration::hours(1),
        fees: None,
    };
    let (mut rows, mut book) = (InOrder(rows.into_iter()), InOrder(book.into_iter()));
    let merged = reconcile_sorted(&mut rows, &mut book, &params, &mut tally);
    let outcome = futures_block_on(merged).expect("merged");
    assert_eq!((outcome.rows, outcome.matched), (1, 1));
    assert!(outcome.differences.is_empty());
    let settlement = tally.settlement("card");
    assert_eq!(
        settlement.fees.get(&Currency::EUR),
        Some(&rust_decimal::Decimal::new(200, 2))
    );
    assert_eq!(
        settlement.payouts.get(&Currency::EUR),
        Some(&rust_decimal::Decimal::new(800, 2))
    );
}

/// Polls a future that never waits (sorted lists) to its end.
fn futures_block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => unreachable!("a list does not wait"),
    }
}

/// The matching rule stated plainly, over maps: each row pairs with the entry of its id and
/// kind (else with the one of its channel id and kind among entries nothing else named), at
/// most once; the merge must find the same.
fn by_maps(rows: &[StatementRow], book: &[BookEntry]) -> BTreeMap<(DifferenceKind, String), usize> {
    let by_ref: HashMap<&str, usize> = book
        .iter()
        .enumerate()
        .map(|(i, e)| (e.our_ref.as_str(), i))
        .collect();
    let mut paired = vec![false; book.len()];
    let mut found: BTreeMap<(DifferenceKind, String), usize> = BTreeMap::new();
    let mut alone = Vec::new();
    for r in rows {
        let kind = match r.kind {
            RowKind::Payment => BookKind::Capture,
            RowKind::Refund => BookKind::Refund,
            _ => continue,
        };
        match r
            .our_ref
            .as_deref()
            .and_then(|o| by_ref.get(o))
            .copied()
            .filter(|i| book[*i].kind == kind)
        {
            Some(i) if paired[i] => {
                *found
                    .entry((
                        DifferenceKind::MissingLocal,
                        r.our_ref.clone().unwrap_or_default(),
                    ))
                    .or_default() += 1;
            }
            Some(i) => {
                paired[i] = true;
                for d in super::super::matching::compare(r, &book[i], None) {
                    *found.entry((d.kind, d.reference)).or_default() += 1;
                }
            }
            None => alone.push((r, kind)),
        }
    }
    let by_txn: HashMap<&str, usize> = book
        .iter()
        .enumerate()
        .filter(|(i, _)| !paired[*i])
        .filter_map(|(i, e)| Some((e.channel_txn_id.as_deref()?, i)))
        .collect();
    for (r, kind) in alone {
        match by_txn
            .get(r.channel_txn_id.as_str())
            .copied()
            .filter(|i| !paired[*i] && book[*i].kind == kind)
        {
            Some(i) => {
                paired[i] = true;
                for d in super::super::matching::compare(r, &book[i], None) {
                    *found.entry((d.kind, d.reference)).or_default() += 1;
                }
            }
            None => {
                let reference = r
                    .our_ref
                    .clone()
                    .unwrap_or_else(|| r.channel_txn_id.clone());
                *found
                    .entry((DifferenceKind::MissingLocal, reference))
                    .or_default() += 1;
            }
        }
    }
    for (i, e) in book.iter().enumerate() {
        if !paired[i] && e.done {
            *found
                .entry((DifferenceKind::MissingChannel, e.our_ref.clone()))
                .or_default() += 1;
        }
    }
    found
}

proptest! {
    #[test]
    fn the_merge_finds_what_the_plain_rule_finds(
        entries in proptest::collection::vec((0u8..40, any::<bool>(), any::<bool>(), 1i64..4, any::<bool>()), 0..30),
        rows in proptest::collection::vec((0u8..50, any::<bool>(), any::<bool>(), 1i64..4, 0u8..3), 0..40),
    ) {
        // Entries: unique ids (a payment's and a refund's never collide: their own prefixes).
        let mut seen_ids = std::collections::HashSet::new();
        let book: Vec<BookEntry> = entries
            .iter()
            .filter(|(id, refund, ..)| seen_ids.insert((*id, *refund)))
            .map(|(id, refund, with_txn, units, done)| {
                let (kind, ours, sign) = if *refund {
                    (BookKind::Refund, format!("re_{id:02}"), -1)
                } else {
                    (BookKind::Capture, format!("pay_{id:02}"), 1)
                };
                let txn = format!("t_{ours}");
                entry(kind, &ours, with_txn.then_some(txn.as_str()), eur(sign * units * 100), *done)
            })
            .collect();
        let statement: Vec<StatementRow> = rows
            .iter()
            .enumerate()
            .map(|(line, (id, refund, with_ours, units, txn_kind))| {
                let (kind, ours, sign) = if *refund {
                    (RowKind::Refund, format!("re_{id:02}"), -1)
                } else {
                    (RowKind::Payment, format!("pay_{id:02}"), 1)
                };
                let txn = match txn_kind {
                    0 => format!("t_{ours}"),
                    1 => format!("t_other_{line}"),
                    _ => format!("t_pay_{id:02}"),
                };
                row(line + 2, kind, with_ours.then_some(ours.as_str()), &txn, eur(sign * units * 100))
            })
            .collect();
        let outcome = run(&statement, &book);
        let mut merged: BTreeMap<(DifferenceKind, String), usize> = BTreeMap::new();
        for d in &outcome.differences {
            *merged.entry((d.kind, d.reference.clone())).or_default() += 1;
        }
        // Nothing is pending here: every entry is at 09:00, the delay starts at 22:00.
        prop_assert_eq!(outcome.pending, 0);
        prop_assert_eq!(merged, by_maps(&statement, &book));
    }
}
