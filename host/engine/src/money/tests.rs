use super::*;

fn wire(value: &str, currency: &str) -> MoneyWire {
    MoneyWire {
        value: value.into(),
        currency: currency.into(),
    }
}

#[test]
fn parses_usd_with_two_decimals() {
    let m = Money::parse("amount", &wire("129.99", "USD")).expect("valid");
    assert_eq!(m.minor_units(), 12999);
    assert_eq!(m.currency.code(), "USD");
}

#[test]
fn trailing_zeros_do_not_count_as_decimals() {
    let m = Money::parse("amount", &wire("5.000", "JPY")).expect("valid");
    assert_eq!(m.minor_units(), 5);
}

#[test]
fn refuses_more_decimals_than_the_currency_allows() {
    let err = Money::parse("amount", &wire("1.001", "USD")).unwrap_err();
    assert!(matches!(
        err,
        RequestError::TooManyDecimals { allowed: 2, .. }
    ));
    let err = Money::parse("amount", &wire("1.5", "JPY")).unwrap_err();
    assert!(matches!(
        err,
        RequestError::TooManyDecimals { allowed: 0, .. }
    ));
}

#[test]
fn minor_units_round_trip_exactly_and_arithmetic_is_checked() {
    let usd = Currency::USD;
    let m = Money::from_minor_units(12999, usd);
    assert_eq!(m.amount.to_string(), "129.99");
    assert_eq!(m.checked_minor_units(), Some(12999));
    assert_eq!(
        Money::from_minor_units(-5, usd).checked_minor_units(),
        Some(-5)
    );
    assert_eq!(
        Money::from_minor_units(7, Currency::JPY).amount,
        Decimal::from(7)
    );
    let sub_cent = Money {
        amount: Decimal::new(1001, 3),
        currency: usd,
    };
    assert_eq!(sub_cent.checked_minor_units(), None, "never rounds");
    let sum = m
        .checked_add(&Money::from_minor_units(1, usd))
        .expect("same currency");
    assert_eq!(sum.checked_minor_units(), Some(13000));
    assert_eq!(m.checked_add(&Money::zero(Currency::EUR)), None);
    assert_eq!(m.checked_sub(&m).map(|d| d.amount.is_zero()), Some(true));
    assert_eq!(
        m.checked_mul(3).and_then(|t| t.checked_minor_units()),
        Some(38997)
    );
    assert_eq!(m.negated().checked_minor_units(), Some(-12999));
}

#[test]
fn refuses_negative_unknown_and_garbage() {
    assert!(matches!(
        Money::parse("amount", &wire("-1", "USD")),
        Err(RequestError::NegativeAmount { .. })
    ));
    assert!(matches!(
        Money::parse("amount", &wire("1", "XYZ")),
        Err(RequestError::UnknownCurrency { .. })
    ));
    assert!(matches!(
        Money::parse("amount", &wire("ten", "USD")),
        Err(RequestError::InvalidAmount { .. })
    ));
}

#[test]
fn huge_amounts_are_out_of_range_never_a_panic() {
    for value in [
        "79228162514264337593543950335",
        "79228162514264337593543950336",
        "9223372036854775807",
        "1000000000000",
        "99999999999999999999999999999999999999999999.99",
    ] {
        let err = Money::parse("amount", &wire(value, "USD")).expect_err(value);
        assert!(
            matches!(&err, RequestError::AmountOutOfRange { field, max }
                if field == "amount.value" && max == "999999999999.99"),
            "{value}: {err:?}"
        );
        assert_eq!(err.code(), "amount_out_of_range");
    }
    let largest = Money::parse("amount", &wire("999999999999.99", "USD")).expect("the maximum");
    assert_eq!(largest.minor_units(), 99_999_999_999_999);
    assert_eq!(largest.checked_minor_units(), Some(99_999_999_999_999));
    // Four-decimal currencies stay far inside i64 minor units too.
    let clf = Money::parse("amount", &wire("999999999999.9999", "CLF")).expect("CLF");
    assert_eq!(clf.minor_units(), 9_999_999_999_999_999);
    // Leading zeros are not digits of the amount.
    let padded = format!("{}1.50", "0".repeat(100));
    assert_eq!(
        Money::parse("amount", &wire(&padded, "USD"))
            .expect("padded")
            .minor_units(),
        150
    );
}

#[test]
fn only_plain_decimals_are_amounts() {
    for value in [
        "1e30", "1E+5", "1e5", "1_000", "+5", ".5", "5.", "1,000.00", "0x10", "１２", "", "-",
        "1 000", "NaN", "inf", "1.2.3", "--1",
    ] {
        let err = Money::parse("amount", &wire(value, "USD")).expect_err(value);
        assert!(
            matches!(&err, RequestError::InvalidAmount { field, .. } if field == "amount.value"),
            "{value}: {err:?}"
        );
    }
    // Precision beyond Decimal's is refused, never rounded to a smaller amount.
    assert!(matches!(
        Money::parse("amount", &wire("1.00000000000000000000000000001", "USD")),
        Err(RequestError::TooManyDecimals { allowed: 2, .. })
    ));
    assert!(Money::parse("amount", &wire("-0.00", "USD")).is_ok());
    assert!(Money::parse("amount", &wire(" 12.50 ", "USD")).is_ok());
}

#[test]
fn minor_units_saturate_instead_of_panicking() {
    let huge = Money {
        amount: Decimal::MAX,
        currency: Currency::USD,
    };
    assert_eq!(huge.minor_units(), i64::MAX);
    assert_eq!(huge.checked_minor_units(), None);
    let negative = Money {
        amount: Decimal::MIN,
        currency: Currency::USD,
    };
    assert_eq!(negative.minor_units(), i64::MIN);
}

#[test]
fn an_echoed_value_is_cut() {
    let long = "x".repeat(10_000);
    let err = Money::parse("amount", &wire(&long, "USD")).expect_err("garbage");
    assert!(err.to_string().len() < 300, "{err}");
    let err = Money::parse("amount", &wire("1", &long)).expect_err("currency");
    assert!(err.to_string().len() < 300, "{err}");
}

#[test]
fn the_written_scale_is_kept_when_it_fits() {
    let m = Money::parse("amount", &wire("500.00", "USD")).expect("valid");
    assert_eq!(m.amount.to_string(), "500.00");
    assert_eq!(m.to_wire().value, "500");
    let m = Money::parse("amount", &wire(&format!("1.{}", "0".repeat(40)), "USD")).expect("valid");
    assert_eq!(m.minor_units(), 100);
}
