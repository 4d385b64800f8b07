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
//! Parsing is separate from storing so every row's fate is decided and reported. A row with a
//! raw card number or a NUL character in any cell, or a value over its length limit, is
//! rejected naming the column; the number is never stored or echoed.

use arbiter_engine::card_scan::contains_card_number;
use arbiter_engine::money::{Money, MoneyWire};
use arbiter_engine::request::longer_than;
use rust_decimal::Decimal;
use serde::Serialize;

use super::error::{FeedbackError, invalid};
use super::limits::{MAX_NOTE_CHARS, MAX_REF_CHARS};

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
    if headers
        .iter()
        .any(|h| contains_card_number(h.as_bytes()) || h.contains('\0'))
    {
        return Err(invalid(
            "file",
            "a header cell holds a raw card number or a NUL character",
        ));
    }
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
        if let Some(reason) = unsafe_cell(&headers, &record) {
            rows.push(reject(reason));
            continue;
        }
        let limits = [
            (Some(id_col), MAX_REF_CHARS),
            (order_col, MAX_REF_CHARS),
            (decision_col, MAX_REF_CHARS),
            (reason_col, MAX_NOTE_CHARS),
        ];
        if let Some((at, max)) = limits
            .into_iter()
            .find(|&(at, max)| cell(&record, at).is_some_and(|v| longer_than(&v, max)))
        {
            let name = at.and_then(|i| headers.get(i)).unwrap_or_default();
            rows.push(reject(format!(
                "column `{name}` is longer than {max} characters"
            )));
            continue;
        }
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
            (Some(a), Some(c)) => {
                let wire = MoneyWire {
                    value: a,
                    currency: c.to_ascii_uppercase(),
                };
                match Money::parse("amount", &wire) {
                    Ok(m) if m.amount > Decimal::ZERO => {
                        Some((m.amount, m.currency.code().to_owned()))
                    }
                    Ok(_) => {
                        rows.push(reject("amount must be positive".into()));
                        continue;
                    }
                    Err(e) => {
                        rows.push(reject(e.to_string()));
                        continue;
                    }
                }
            }
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

/// Why a row must not be stored at all, naming the column: a raw card number or a NUL
/// character in any cell (including columns the import ignores: the file is not kept either
/// way, but a card number in it is a mistake worth saying).
fn unsafe_cell(headers: &csv::StringRecord, record: &csv::StringRecord) -> Option<String> {
    record.iter().enumerate().find_map(|(i, v)| {
        let what = if contains_card_number(v.as_bytes()) {
            "looks like a raw card number"
        } else if v.contains('\0') {
            "contains the NUL character"
        } else {
            return None;
        };
        let name = headers.get(i).unwrap_or("(unnamed)");
        Some(format!("column `{name}` {what}"))
    })
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
    fn rows_with_a_card_number_nul_or_overlong_cell_are_rejected_naming_the_column() {
        let long = "x".repeat(MAX_NOTE_CHARS + 1);
        let file = format!(
            "chargeback_id,order_id,reason\n\
             cb-pan,ord-r7,card 4111111111111111\n\
             cb-ok,ord-r8,card fingerprint fp_1\n\
             cb-nul,ord-r9,a\0b\n\
             cb-long,ord-r10,{long}\n\
             cb-id,5555-5555-5555-4444,\n\
             chk-109-1764787915,order 2026-12-03-0042-17,10.4\n"
        );
        let rows = parse(file.as_bytes()).expect("parses");
        let reason = |i: usize| rows[i].as_ref().expect_err("rejected").reason.clone();
        assert_eq!(reason(0), "column `reason` looks like a raw card number");
        assert!(rows[1].is_ok());
        assert_eq!(reason(2), "column `reason` contains the NUL character");
        assert_eq!(
            reason(3),
            format!("column `reason` is longer than {MAX_NOTE_CHARS} characters")
        );
        assert_eq!(reason(4), "column `order_id` looks like a raw card number");
        assert!(rows[5].is_ok(), "ordinary ids are not card numbers");
        for r in &rows {
            if let Err(rejected) = r {
                assert!(!rejected.reason.contains("4111"));
            }
        }
        let err = parse(b"chargeback_id,4111111111111111\ncb,1\n").expect_err("header");
        assert!(!err.to_string().contains("4111"), "{err}");
    }

    #[test]
    fn amounts_are_read_strictly() {
        let file = b"chargeback_id,order_id,amount,currency\n\
            cb_1,ord_1,1e5,USD\n\
            cb_2,ord_2,79228162514264337593543950335,USD\n\
            cb_3,ord_3,0,USD\n\
            cb_4,ord_4,12.5,eur\n";
        let rows = parse(file).expect("parses");
        let reason = |i: usize| rows[i].as_ref().expect_err("rejected").reason.clone();
        assert!(reason(0).contains("plain decimal"), "{}", reason(0));
        assert!(reason(1).contains("out of range"), "{}", reason(1));
        assert!(reason(2).contains("positive"), "{}", reason(2));
        let ok = rows[3].as_ref().expect("row 5");
        assert_eq!(ok.amount, Some((Decimal::new(125, 1), "EUR".into())));
    }

    #[test]
    fn a_file_without_the_id_column_is_refused_whole() {
        let err = parse(b"order_id,amount\nord_1,1.00\n").expect_err("no id column");
        assert!(err.to_string().contains("chargeback_id"), "{err}");
        let err = parse(b"chargeback_id,amount\ncb_1,1.00\n").expect_err("no target column");
        assert!(err.to_string().contains("order_id"), "{err}");
    }
}
