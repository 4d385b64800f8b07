//! A channel's chargeback file, as `arbiter labels import` sends it.
//!
//! CSV with a header row. Columns (order free, unknown columns ignored):
//! - `chargeback_id` (required): the channel's id; importing it twice for the same decision is
//!   a duplicate, for another decision a rejected row.
//! - `order_id` or `decision_id` (one required): what the chargeback is about. An order id is
//!   the transaction core's and labels the decision the core recorded for it: its captured
//!   payment's `payment.authorize` decision, else its latest payment's, else its
//!   `order.create` decision — never a decision a caller posted naming the order id.
//! - `amount` and `currency` (optional, together): checked against the decision's amount (same
//!   currency, at most the amount decided: a chargeback may be partial); a row that disagrees
//!   is rejected rather than labelling the wrong decision.
//! - `reason` (optional): the channel's reason code, kept as the label's note.
//!
//! Parsing is separate from storing so every row's fate is decided and reported.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Serialize;

use super::error::{FeedbackError, invalid};

/// One parsed row, still to be matched to a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargebackRow {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    pub chargeback_id: String,
    pub order_id: Option<String>,
    pub decision_id: Option<String>,
    pub amount: Option<(Decimal, String)>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RejectedRow {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub imported: u64,
    pub duplicates: u64,
    pub rejected: Vec<RejectedRow>,
}

const REQUIRED: &str = "chargeback_id";

fn cell(record: &csv::StringRecord, at: Option<usize>) -> Option<String> {
    at.and_then(|i| record.get(i))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Parses the file: `Err` when the file as a whole is unusable (no header, no
/// `chargeback_id` column), otherwise one entry per data row.
pub fn parse(bytes: &[u8]) -> Result<Vec<Result<ChargebackRow, RejectedRow>>, FeedbackError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| invalid("file", format!("unreadable CSV header: {e}")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let id_col = col(REQUIRED).ok_or_else(|| {
        invalid(
            "file",
            format!(
                "the header has no `{REQUIRED}` column (found: {})",
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let (order_col, decision_col) = (col("order_id"), col("decision_id"));
    if order_col.is_none() && decision_col.is_none() {
        return Err(invalid(
            "file",
            "the header needs an `order_id` or a `decision_id` column",
        ));
    }
    let (amount_col, currency_col, reason_col) = (col("amount"), col("currency"), col("reason"));
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let reject = |reason: String| Err(RejectedRow { line, reason });
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                rows.push(reject(format!("unreadable row: {e}")));
                continue;
            }
        };
        let Some(chargeback_id) = cell(&record, Some(id_col)) else {
            rows.push(reject("missing chargeback_id".into()));
            continue;
        };
        let order_id = cell(&record, order_col);
        let decision_id = cell(&record, decision_col);
        if order_id.is_none() && decision_id.is_none() {
            rows.push(reject("neither order_id nor decision_id is given".into()));
            continue;
        }
        let amount = match (cell(&record, amount_col), cell(&record, currency_col)) {
            (None, None) => None,
            (Some(a), Some(c)) => match Decimal::from_str(&a) {
                Ok(v) if v > Decimal::ZERO => Some((v, c.to_ascii_uppercase())),
                _ => {
                    rows.push(reject(format!("amount `{a}` is not a positive decimal")));
                    continue;
                }
            },
            _ => {
                rows.push(reject("amount and currency go together".into()));
                continue;
            }
        };
        rows.push(Ok(ChargebackRow {
            line,
            chargeback_id,
            order_id,
            decision_id,
            amount,
            reason: cell(&record, reason_col),
        }));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_parsed_or_rejected_with_their_line() {
        let file = b"chargeback_id,order_id,amount,currency,reason\n\
            cb_1,ord_1,129.99,usd,10.4\n\
            ,ord_2,1.00,USD,\n\
            cb_3,,,,\n\
            cb_4,ord_4,abc,USD,\n\
            cb_5,ord_5,5.00,,\n\
            cb_6,ord_6,,,13.1\n";
        let rows = parse(file).expect("parses");
        assert_eq!(rows.len(), 6);
        let first = rows[0].as_ref().expect("row 1");
        assert_eq!(first.line, 2);
        assert_eq!(first.amount, Some((Decimal::new(12999, 2), "USD".into())));
        assert_eq!(first.reason.as_deref(), Some("10.4"));
        let reasons: Vec<_> = rows[1..5]
            .iter()
            .map(|r| r.as_ref().expect_err("rejected").reason.clone())
            .collect();
        assert!(reasons[0].contains("chargeback_id"));
        assert!(reasons[1].contains("neither"));
        assert!(reasons[2].contains("`abc`"));
        assert!(reasons[3].contains("together"));
        assert_eq!(rows[1].as_ref().expect_err("line").line, 3);
        assert!(rows[5].is_ok());
    }

    #[test]
    fn a_file_without_the_id_column_is_refused_whole() {
        let err = parse(b"order_id,amount\nord_1,1.00\n").expect_err("no id column");
        assert!(err.to_string().contains("chargeback_id"), "{err}");
        let err = parse(b"chargeback_id,amount\ncb_1,1.00\n").expect_err("no target column");
        assert!(err.to_string().contains("order_id"), "{err}");
    }
}
