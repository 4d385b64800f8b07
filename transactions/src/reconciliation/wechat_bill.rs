//! WeChat Pay's trade bill (`tradebill`, `bill_type=ALL`): UTF-8 CSV text whose every field
//! starts with a backtick (so spreadsheets keep long numbers as text), a header of Chinese
//! column names, the rows, then a summary block — a header line starting `总交易单数` and one
//! line of totals. A row with `交易状态` `SUCCESS` is a payment (`应结订单金额`, named by
//! `微信订单号` and our `商户订单号`); `REFUND` is a refund (`退款金额`, booked negative, named
//! by `微信退款单号` and our `商户退款单号`). `手续费` is written with up to five decimals and
//! must be whole fen; other amounts take two. Times are Beijing time; money is CNY. The
//! summary's row count is checked against the rows read, so a bill cut short is refused.

use iso_currency::Currency;
use rust_decimal::Decimal;

use arbiter_engine::money::Money;

use super::statement::{
    Booked, MAX_ROWS, RowKind, StatementError, StatementRow, beijing_time, major_units, unique_ids,
};

const TIME: &str = "交易时间";
const TRANSACTION_ID: &str = "微信订单号";
const OUT_TRADE_NO: &str = "商户订单号";
const STATE: &str = "交易状态";
const CURRENCY: &str = "货币种类";
const SETTLED: &str = "应结订单金额";
const REFUND_ID: &str = "微信退款单号";
const OUT_REFUND_NO: &str = "商户退款单号";
const REFUNDED: &str = "退款金额";
const FEE: &str = "手续费";
const SUMMARY: &str = "总交易单数";

/// A field without its backtick.
fn field(raw: &str) -> &str {
    let raw = raw.trim();
    raw.strip_prefix('`').unwrap_or(raw).trim()
}

/// The fee: two or five decimals, whole fen.
fn fee(text: &str) -> Result<Money, String> {
    let amount: Decimal = text
        .parse()
        .map_err(|_| format!("`{text}` is not an amount"))?;
    if ![2, 5].contains(&amount.scale()) {
        return Err(format!(
            "`{text}` has {} decimals, a fee takes 2 or 5",
            amount.scale()
        ));
    }
    let fen = amount.normalize();
    if fen.scale() > 2 {
        return Err(format!("`{text}` is not a whole number of fen"));
    }
    Ok(Money {
        amount: fen.round_dp(2),
        currency: Currency::CNY,
    })
}

/// Reads a whole trade bill, or refuses it with the line and the problem.
pub fn read(bytes: &[u8]) -> Result<Vec<StatementRow>, StatementError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        StatementError::at(line, "not UTF-8 text")
    })?;
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let (_, header) = lines.next().ok_or_else(|| StatementError::file("empty"))?;
    let names: Vec<&str> = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(field)
        .collect();
    let column = |name: &str| {
        names
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| StatementError::at(1, format!("no `{name}` column")))
    };
    let at = [
        column(TIME)?,
        column(TRANSACTION_ID)?,
        column(OUT_TRADE_NO)?,
        column(STATE)?,
        column(CURRENCY)?,
        column(SETTLED)?,
        column(REFUND_ID)?,
        column(OUT_REFUND_NO)?,
        column(REFUNDED)?,
        column(FEE)?,
    ];
    let [
        time_at,
        txn_at,
        out_trade_at,
        state_at,
        currency_at,
        settled_at,
        refund_at,
        out_refund_at,
        refunded_at,
        fee_at,
    ] = at;

    let mut rows = Vec::new();
    let mut summary = None;
    while let Some((line, raw)) = lines.next() {
        if raw.trim().is_empty() {
            continue;
        }
        let fail = |problem: String| StatementError::at(line, problem);
        if field(raw.split(',').next().unwrap_or_default()) == SUMMARY {
            let (totals_line, totals) = lines
                .next()
                .ok_or_else(|| fail("a summary header without its totals".into()))?;
            let count = totals
                .split(',')
                .next()
                .map(field)
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| StatementError::at(totals_line, "the row count is not a number"))?;
            summary = Some((totals_line, count));
            break;
        }
        if rows.len() == MAX_ROWS {
            return Err(fail(format!("more than {MAX_ROWS} rows")));
        }
        let fields: Vec<&str> = raw.split(',').map(field).collect();
        if fields.len() != names.len() {
            return Err(fail(format!(
                "{} fields, the header has {}",
                fields.len(),
                names.len()
            )));
        }
        let required = |i: usize, name: &str| match fields[i] {
            "" => Err(fail(format!("`{name}` is empty"))),
            v => Ok(v),
        };
        if required(currency_at, CURRENCY)? != "CNY" {
            return Err(fail(format!(
                "`{}`: only CNY is settled",
                fields[currency_at]
            )));
        }
        let yuan = |i: usize, name: &str| {
            major_units(required(i, name)?, Currency::CNY)
                .map_err(|p| fail(format!("`{name}`: {p}")))
        };
        let transaction = required(txn_at, TRANSACTION_ID)?.to_owned();
        let (kind, id, our_ref, gross) = match required(state_at, STATE)? {
            "SUCCESS" => (
                RowKind::Payment,
                transaction.clone(),
                required(out_trade_at, OUT_TRADE_NO)?,
                yuan(settled_at, SETTLED)?,
            ),
            "REFUND" => (
                RowKind::Refund,
                required(refund_at, REFUND_ID)?.to_owned(),
                required(out_refund_at, OUT_REFUND_NO)?,
                yuan(refunded_at, REFUNDED)?.negated(),
            ),
            other => (
                RowKind::Other(other.to_owned()),
                transaction.clone(),
                fields[out_trade_at],
                yuan(settled_at, SETTLED)?,
            ),
        };
        let fee = fee(required(fee_at, FEE)?).map_err(|p| fail(format!("`{FEE}`: {p}")))?;
        rows.push(
            Booked {
                line,
                id,
                kind,
                channel_txn_id: transaction,
                our_ref,
                gross,
                fee,
                at: beijing_time(required(time_at, TIME)?).map_err(fail)?,
            }
            .row()?,
        );
    }
    match summary {
        Some((_, count)) if count == rows.len() => {}
        Some((line, count)) => {
            return Err(StatementError::at(
                line,
                format!(
                    "the summary counts {count} rows, the bill has {}",
                    rows.len()
                ),
            ));
        }
        None => return Err(StatementError::file("no summary: the bill is cut short")),
    }
    unique_ids(&rows)?;
    Ok(rows)
}

#[cfg(test)]
mod tests;
