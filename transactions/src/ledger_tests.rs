use super::*;
use iso_currency::Currency;
use proptest::prelude::*;

fn usd(minor: i64) -> Money {
    Money::from_minor_units(minor, Currency::USD)
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

#[test]
fn a_balanced_journal_is_built_and_an_unbalanced_one_refused() {
    let ok = Journal::new(
        "payment.captured",
        "pay_1",
        vec![
            Entry::debit(Account::channel_clearing("card"), usd(1000)),
            Entry::credit(Account::customer_funds(), usd(1000)),
        ],
        now(),
    )
    .expect("balanced");
    assert!(ok.is_balanced());
    let err = Journal::new(
        "payment.captured",
        "pay_1",
        vec![
            Entry::debit(Account::channel_clearing("card"), usd(1000)),
            Entry::credit(Account::customer_funds(), usd(999)),
        ],
        now(),
    )
    .expect_err("unbalanced");
    assert!(matches!(err, TxError::UnbalancedJournal { ref currency, .. } if currency == "USD"));
}

#[test]
fn balance_is_per_currency_and_degenerate_journals_are_refused() {
    let eur = Money::from_minor_units(1000, Currency::EUR);
    let mixed = Journal::new(
        "fx",
        "x",
        vec![
            Entry::debit(Account::revenue(), usd(1000)),
            Entry::credit(Account::customer_funds(), eur),
        ],
        now(),
    );
    assert!(matches!(mixed, Err(TxError::UnbalancedJournal { .. })));
    assert!(matches!(
        Journal::new(
            "one",
            "x",
            vec![Entry::debit(Account::revenue(), usd(0))],
            now()
        ),
        Err(TxError::InvalidJournal { .. })
    ));
    let zero = Journal::new(
        "zero",
        "x",
        vec![
            Entry::debit(Account::revenue(), usd(0)),
            Entry::credit(Account::customer_funds(), usd(0)),
        ],
        now(),
    );
    assert!(matches!(zero, Err(TxError::InvalidJournal { .. })));
}

#[test]
fn check_finds_unbalanced_journals_and_wrong_balances() {
    let j = Journal::new(
        "payment.captured",
        "pay_1",
        vec![
            Entry::debit(Account::channel_clearing("card"), usd(500)),
            Entry::credit(Account::customer_funds(), usd(500)),
        ],
        now(),
    )
    .expect("balanced");
    let balances = vec![
        Balance {
            account: Account::channel_clearing("card"),
            amount: usd(500),
        },
        Balance {
            account: Account::customer_funds(),
            amount: usd(-500),
        },
    ];
    assert!(check(std::slice::from_ref(&j), &balances).is_sound());
    let wrong = vec![balances[0].clone()];
    let report = check(std::slice::from_ref(&j), &wrong);
    assert_eq!(report.mismatched_balances.len(), 1);
    let forged = Journal::stored(
        JournalId::from("jnl_forged"),
        "x".into(),
        "y".into(),
        vec![Entry::debit(Account::revenue(), usd(1))],
        now(),
    );
    let report = check(&[j, forged], &balances);
    assert_eq!(
        report.unbalanced_journals,
        vec![JournalId::from("jnl_forged")]
    );
}

#[test]
fn a_reversal_negates_every_entry() {
    let j = Journal::new(
        "payment.captured",
        "pay_1",
        vec![
            Entry::debit(Account::channel_clearing("card"), usd(700)),
            Entry::credit(Account::customer_funds(), usd(700)),
        ],
        now(),
    )
    .expect("balanced");
    let r = j
        .reversal("payment.reversed", now())
        .expect("reversal balances");
    let report = check(&[j, r], &[]);
    assert!(report.is_sound(), "{report:?}");
}

proptest! {
    /// Any set of transfers (each a debit and its credit) balances, and dropping any one entry
    /// makes it refused.
    #[test]
    fn transfers_balance_and_any_missing_leg_is_refused(
        amounts in prop::collection::vec(1i64..1_000_000, 1..8),
        drop in any::<prop::sample::Index>(),
    ) {
        let mut entries = Vec::new();
        for (i, a) in amounts.iter().enumerate() {
            entries.push(Entry::debit(Account(format!("a{i}")), usd(*a)));
            entries.push(Entry::credit(Account(format!("b{i}")), usd(*a)));
        }
        prop_assert!(Journal::new("t", "r", entries.clone(), now()).is_ok());
        entries.remove(drop.index(entries.len()));
        let refused = Journal::new("t", "r", entries, now());
        prop_assert!(refused.is_err());
    }
}
