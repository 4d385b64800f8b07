//! Alipay's wire format, without keys: the sign content, the Beijing-time instants, amounts in
//! yuan, the trade-status table, and the shape of a verified answer. The adapter in the parent
//! module signs and checks with these.

use std::collections::BTreeMap;

use arbiter_engine::money::Money;
use chrono::{DateTime, Utc};
use iso_currency::Currency;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::ALIPAY;
use crate::channels::{BEIJING, ChannelError, PaymentState};

/// The sign content of `params`: those not named in `skip` and not empty, sorted by name,
/// `name=value` joined by `&`.
pub fn sign_content<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    skip: &[&str],
) -> String {
    let sorted: BTreeMap<&str, &str> = params
        .into_iter()
        .filter(|(k, v)| !v.is_empty() && !skip.contains(k))
        .collect();
    let mut out = String::new();
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

pub(super) fn beijing(at: DateTime<Utc>) -> String {
    at.with_timezone(&BEIJING)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

pub(super) fn malformed(what: &'static str, reason: impl Into<String>) -> ChannelError {
    ChannelError::Malformed {
        channel: ALIPAY,
        what,
        reason: reason.into(),
    }
}

/// Yuan with two decimals, as Alipay writes amounts.
pub(super) fn yuan(amount: &Money) -> Result<String, ChannelError> {
    if amount.currency != Currency::CNY {
        return Err(ChannelError::Currency {
            channel: ALIPAY,
            currency: amount.currency.code().to_owned(),
        });
    }
    Ok(format!("{:.2}", amount.amount))
}

/// An amount Alipay wrote: yuan, at most two decimals, positive.
pub(super) fn read_yuan(what: &'static str, text: &str) -> Result<Money, ChannelError> {
    let amount: Decimal = text
        .parse()
        .map_err(|_| malformed(what, format!("`{text}` is not an amount")))?;
    if amount.scale() > 2 || amount.is_sign_negative() {
        return Err(malformed(
            what,
            format!("`{text}` is not an amount in yuan"),
        ));
    }
    Ok(Money {
        amount,
        currency: Currency::CNY,
    })
}

/// A verified answer's fields, `code` `10000`.
pub(super) struct Reply {
    pub(super) fields: Map<String, Value>,
}

impl Reply {
    pub(super) fn text(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }

    pub(super) fn required(&self, name: &'static str) -> Result<&str, ChannelError> {
        self.text(name)
            .ok_or_else(|| malformed("answer", format!("no `{name}`")))
    }
}

/// A verified answer that is not a success: Alipay's `sub_code` (or `code`) and message.
pub(super) struct Failure {
    pub(super) code: String,
    pub(super) message: String,
}

impl Failure {
    /// Alipay's reason: the `sub_code` where there is one (the business reason), else `code`.
    pub(super) fn of(fields: &Map<String, Value>) -> Failure {
        let text = |k: &str| {
            fields
                .get(k)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
        };
        Failure {
            code: text("sub_code")
                .or(text("code"))
                .unwrap_or("none")
                .to_owned(),
            message: text("sub_msg")
                .or(text("msg"))
                .unwrap_or_default()
                .to_owned(),
        }
    }

    pub(super) fn refused(self) -> ChannelError {
        ChannelError::Refused {
            channel: ALIPAY,
            code: self.code,
            message: self.message,
        }
    }
}

/// A trade status with its amount and trade number, as a payment state.
pub(super) fn trade_state(
    status: &str,
    total_amount: Option<&str>,
    trade_no: Option<&str>,
) -> Result<PaymentState, ChannelError> {
    match status {
        "WAIT_BUYER_PAY" => Ok(PaymentState::Pending),
        "TRADE_SUCCESS" | "TRADE_FINISHED" => Ok(PaymentState::Paid {
            amount: read_yuan(
                "total_amount",
                total_amount.ok_or_else(|| malformed("trade", "paid without `total_amount`"))?,
            )?,
            channel_trade_id: trade_no
                .filter(|t| !t.is_empty())
                .ok_or_else(|| malformed("trade", "paid without `trade_no`"))?
                .to_owned(),
        }),
        "TRADE_CLOSED" => Ok(PaymentState::Closed),
        other => Err(malformed(
            "trade",
            format!("unknown trade_status `{other}`"),
        )),
    }
}
