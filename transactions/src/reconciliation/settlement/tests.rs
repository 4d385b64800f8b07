use arbiter_engine::money::Money;
use chrono::{DateTime, NaiveDate, Utc};
use iso_currency::Currency;
use rust_decimal::Decimal;

use super::*;
use crate::ledger::{Account, Entry, Journal};
use crate::reconciliation::statement::{RowKind, StatementRow};

fn money(minor: i64, currency: Currency) -> Money {
    Money::from_minor_units(minor, currency)
}

fn usd(cents: i64) -> Money {
    money(cents, Currency::USD)
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 6).expect("date")
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("instant")
}

fn row(line: usize, kind: RowKind, gross: Money, fee: Money) -> StatementRow {
    StatementRow {
        line,
        id: format!("txn_{line}"),
        kind,
        channel_txn_id: format!("ch_{line}"),
        our_ref: None,
        gross,
        fee,
        net: gross.checked_sub(&fee).expect("net"),
        at: at("2026-12-06T12:00:00Z"),
    }
}

/// What a capture or a refund posts on the clearing account, as the webhook's journals do.
fn movement(kind: &str, channel: &str, amount: Money, when: &str) -> Journal {
    let clearing = Account::channel_clearing(channel);
    let entries = if amount.amount.is_sign_positive() {
        vec![
            Entry::debit(clearing, amount),
            Entry::credit(Account::customer_funds(), amount),
        ]
    } else {
        vec![
            Entry::debit(Account::customer_funds(), amount.negated()),
            Entry::credit(clearing, amount.negated()),
        ]
    };
    Journal::new(kind, "pay_1", entries, at(when)).expect("journal")
}

fn dec(minor: i64) -> Decimal {
    Decimal::new(minor, 2)
}

#[test]
fn a_card_day_settled_from_its_statement_leaves_nothing_in_clearing() {
    // Two payments, a refund, a fee on its own row, and the payout of what is left.
    let rows = vec![
        row(2, RowKind::Payment, usd(10_000), usd(320)),
        row(3, RowKind::Payment, usd(5_000), usd(175)),
        row(4, RowKind::Refund, usd(-2_000), usd(0)),
        row(5, RowKind::Fee, usd(-100), usd(0)),
        row(6, RowKind::Payout, usd(-12_405), usd(0)),
    ];
    let settlement = Settlement::of("card", &rows);
    assert_eq!(settlement.fees.get(&Currency::USD), Some(&dec(595)));
    assert_eq!(settlement.payouts.get(&Currency::USD), Some(&dec(12_405)));

    let reference = reference("card", day(), "st_1");
    let posted = settlement
        .journals(&reference, at("2026-12-07T06:00:00Z"))
        .expect("journals");
    assert_eq!(
        posted.iter().map(Journal::kind).collect::<Vec<_>>(),
        [FEES_KIND, PAYOUT_KIND]
    );
    let mut journals = vec![
        movement(
            "payment.captured",
            "card",
            usd(10_000),
            "2026-12-06T09:00:00Z",
        ),
        movement(
            "payment.captured",
            "card",
            usd(5_000),
            "2026-12-06T23:59:59Z",
        ),
        movement(
            "refund.succeeded",
            "card",
            usd(-2_000),
            "2026-12-06T15:00:00Z",
        ),
        // The next day's capture is not the day's.
        movement("payment.captured", "card", usd(700), "2026-12-07T00:00:00Z"),
    ];
    journals.extend(posted);
    let results = day_results(&journals, "card", day());
    assert_eq!(
        results,
        [DayResult {
            currency: Currency::USD,
            captured: dec(15_000),
            refunded: dec(2_000),
            fees: dec(595),
            paid_out: dec(12_405),
            net_revenue: dec(12_405),
            clearing: Decimal::ZERO,
        }]
    );
}

#[test]
fn a_chinese_channel_pays_out_the_days_net_and_counts_days_in_beijing_time() {
    let cny = |fen| money(fen, Currency::CNY);
    let rows = vec![
        row(6, RowKind::Payment, cny(10_000), cny(60)),
        row(7, RowKind::Refund, cny(-3_000), cny(-18)),
    ];
    let settlement = Settlement::of("alipay", &rows);
    assert_eq!(settlement.fees.get(&Currency::CNY), Some(&dec(42)));
    assert_eq!(settlement.payouts.get(&Currency::CNY), Some(&dec(6_958)));

    let mut journals = settlement
        .journals(
            &reference("alipay", day(), "st_a"),
            at("2026-12-07T01:00:00Z"),
        )
        .expect("journals");
    // 2026-12-05 17:00 UTC is 01:00 on the 6th in Beijing: the day's.
    journals.push(movement(
        "payment.captured",
        "alipay",
        cny(10_000),
        "2026-12-05T17:00:00Z",
    ));
    journals.push(movement(
        "refund.succeeded",
        "alipay",
        cny(-3_000),
        "2026-12-06T10:00:00Z",
    ));
    // 2026-12-06 17:00 UTC is already the 7th in Beijing.
    journals.push(movement(
        "payment.captured",
        "alipay",
        cny(500),
        "2026-12-06T17:00:00Z",
    ));
    let results = day_results(&journals, "alipay", day());
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].clearing, Decimal::ZERO);
    assert_eq!(results[0].net_revenue, dec(6_958));
    // Another channel's day is untouched by these.
    assert!(day_results(&journals, "wechat", day()).is_empty());
}

#[test]
fn a_corrected_statement_reverses_the_settlement_it_replaces() {
    let first = Settlement::of(
        "card",
        &[
            row(2, RowKind::Payment, usd(10_000), usd(320)),
            row(3, RowKind::Payout, usd(-9_680), usd(0)),
        ],
    );
    let corrected = Settlement::of(
        "card",
        &[
            row(2, RowKind::Payment, usd(10_000), usd(300)),
            row(3, RowKind::Payout, usd(-9_700), usd(0)),
        ],
    );
    let posted = first
        .journals(
            &reference("card", day(), "st_1"),
            at("2026-12-07T06:00:00Z"),
        )
        .expect("first");
    let mut journals = vec![movement(
        "payment.captured",
        "card",
        usd(10_000),
        "2026-12-06T09:00:00Z",
    )];
    journals.extend(reversals(&posted, at("2026-12-08T06:00:00Z")).expect("reversals"));
    journals.extend(posted);
    journals.extend(
        corrected
            .journals(
                &reference("card", day(), "st_2"),
                at("2026-12-08T06:00:00Z"),
            )
            .expect("corrected"),
    );
    let results = day_results(&journals, "card", day());
    assert_eq!(results[0].fees, dec(300));
    assert_eq!(results[0].paid_out, dec(9_700));
    assert_eq!(results[0].clearing, Decimal::ZERO);
    assert!(journals.iter().all(Journal::is_balanced));
}

#[test]
fn an_unsettled_day_shows_what_the_channel_still_owes() {
    let journals = vec![movement(
        "payment.captured",
        "card",
        usd(4_200),
        "2026-12-06T09:00:00Z",
    )];
    let results = day_results(&journals, "card", day());
    assert_eq!(results[0].clearing, dec(4_200));
    assert_eq!(results[0].fees, Decimal::ZERO);
}

#[test]
fn nothing_is_posted_for_a_statement_without_fees_or_payouts() {
    let settlement = Settlement::of(
        "card",
        &[row(
            2,
            RowKind::Other("adjustment".into()),
            usd(-500),
            usd(0),
        )],
    );
    assert_eq!(settlement, Settlement::default());
    assert!(
        settlement
            .journals(
                &reference("card", day(), "st_1"),
                at("2026-12-07T06:00:00Z")
            )
            .expect("journals")
            .is_empty()
    );
}
