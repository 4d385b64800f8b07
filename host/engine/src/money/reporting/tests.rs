use std::collections::BTreeMap;

use iso_currency::Currency;

use super::{RateTable, RateTableWire};
use crate::error::RequestError;
use crate::money::{Money, MoneyWire};

fn wire(reporting: &str, rates: &[(&str, &str)]) -> RateTableWire {
    RateTableWire {
        reporting_currency: reporting.into(),
        rates: rates
            .iter()
            .map(|(c, r)| ((*c).to_owned(), (*r).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn money(value: &str, currency: &str) -> Money {
    Money::parse(
        "amount",
        &MoneyWire {
            value: value.into(),
            currency: currency.into(),
        },
    )
    .expect("valid money")
}

fn table() -> RateTable {
    RateTable::parse(&wire("USD", &[("EUR", "1.08"), ("JPY", "0.0067")]), 3).expect("valid")
}

#[test]
fn yen_convert_to_what_they_are_worth() {
    let converted = table()
        .convert(&money("5000", "JPY"))
        .expect("JPY has a rate");
    assert_eq!(converted.value, "33.50");
    assert_eq!(converted.currency, "USD");
    assert_eq!(converted.approx, 33.5);
    assert_eq!(converted.rate, "0.0067");
    assert_eq!(converted.rate_version, 3);
}

#[test]
fn the_reporting_currency_converts_at_one_and_others_need_a_rate() {
    let t = table();
    assert_eq!(
        t.convert(&money("129.99", "USD")).expect("USD").value,
        "129.99"
    );
    assert!(t.convert(&money("10", "GBP")).is_none());
    let identity = RateTable::identity(Currency::USD);
    assert_eq!(identity.version, 0);
    assert_eq!(
        identity.convert(&money("1.5", "USD")).expect("USD").value,
        "1.50"
    );
    assert!(identity.convert(&money("1.5", "EUR")).is_none());
}

/// Half to even at the reporting currency's decimals: 0.125 → 0.12, 0.135 → 0.14; a
/// zero-decimal reporting currency rounds to whole units.
#[test]
fn conversion_rounds_half_to_even_at_the_reporting_decimals() {
    let t = RateTable::parse(&wire("USD", &[("EUR", "0.5")]), 1).expect("valid");
    assert_eq!(t.convert(&money("0.25", "EUR")).expect("EUR").value, "0.12");
    assert_eq!(t.convert(&money("0.27", "EUR")).expect("EUR").value, "0.14");
    let yen = RateTable::parse(&wire("JPY", &[("USD", "149.5")]), 1).expect("valid");
    assert_eq!(
        yen.convert(&money("1.00", "USD")).expect("USD").value,
        "150"
    );
    assert_eq!(
        yen.convert(&money("3.00", "USD")).expect("USD").value,
        "448"
    );
}

#[test]
fn the_largest_amount_at_the_largest_rate_does_not_overflow() {
    let t = RateTable::parse(&wire("USD", &[("EUR", "999999999.999999999")]), 1).expect("ok");
    let converted = t
        .convert(&money("999999999999.99", "EUR"))
        .expect("fits a Decimal");
    assert!(converted.approx > 9.9e20);
}

#[test]
fn bad_tables_are_refused_naming_the_field() {
    let refused = |w: RateTableWire| RateTable::parse(&w, 1).expect_err("refused");
    assert!(matches!(
        refused(wire("XYZ", &[])),
        RequestError::UnknownCurrency { field, .. } if field == "reporting_currency"
    ));
    assert!(matches!(
        refused(wire("USD", &[("QQQ", "1")])),
        RequestError::UnknownCurrency { field, .. } if field == "rates.QQQ"
    ));
    for bad in [
        "",
        "0",
        "0.000",
        "-1",
        "1e3",
        "1.",
        ".5",
        "1,5",
        " 1",
        "1234567890",
        "0.0000000001",
    ] {
        let error = refused(wire("USD", &[("EUR", bad)]));
        assert!(
            matches!(&error, RequestError::InvalidValue { field, .. } if field == "rates.EUR"),
            "{bad}: {error}"
        );
    }
    assert!(matches!(
        refused(wire("USD", &[("USD", "1.1")])),
        RequestError::InvalidValue { field, .. } if field == "rates.USD"
    ));
    assert!(RateTable::parse(&wire("USD", &[("USD", "1.000")]), 1).is_ok());
}

#[test]
fn a_table_reads_back_as_written() {
    let t = table();
    assert_eq!(
        t.to_wire(),
        wire("USD", &[("EUR", "1.08"), ("JPY", "0.0067")])
    );
    assert_eq!(RateTable::parse(&t.to_wire(), 3).expect("valid"), t);
}
