//! The card channel's statement: Stripe's balance transactions as CSV, one row per balance
//! transaction, with the columns `id`, `type`, `source`, `amount`, `fee`, `net`, `currency`,
//! `created` and `reporting_category` (in any order; more columns are ignored; a header
//! written `Created (UTC)` or `Reporting Category` as the Dashboard exports it is the same
//! column), or as the Reporting API's itemized balance report names them
//! (`balance_transaction_id`, `gross`, `source_id`, `created_utc`, no `type`: the category
//! says what a row is). Amounts are major
//! units with exactly the currency's decimals and `net` must equal `amount - fee`; `created`
//! is `YYYY-MM-DD HH:MM:SS` in UTC, or Unix seconds. Stripe's reports can add metadata
//! columns: `payment_metadata[channel_payment_id]` carries our id for a payment and
//! `refund_metadata[channel_refund_id]` ours for a refund (the `source` is Stripe's charge or
//! refund id, which we do not keep).

use chrono::{DateTime, NaiveDateTime, Utc};
use iso_currency::Currency;

use super::statement::{MAX_ROWS, RowKind, StatementError, StatementRow, major_units, unique_ids};

const REQUIRED: [&str; 8] = [
    "id",
    "source",
    "amount",
    "fee",
    "net",
    "currency",
    "created",
    "reporting_category",
];
const OUR_PAYMENT: &str = "payment_metadata[channel_payment_id]";
const OUR_REFUND: &str = "refund_metadata[channel_refund_id]";

/// A header as matched: lower case, without the Dashboard's ` (UTC)`, spaces as `_`
/// (`Reporting Category`), and the Reporting API's itemized names as the export's.
fn column_name(header: &str) -> String {
    let name = header
        .trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_lowercase()
        .trim_end_matches(" (utc)")
        .replace(' ', "_");
    match name.as_str() {
        "balance_transaction_id" => "id".into(),
        "gross" => "amount".into(),
        "source_id" => "source".into(),
        "created_utc" => "created".into(),
        _ => name,
    }
}

fn kind(stripe_type: &str) -> RowKind {
    match stripe_type {
        "charge" | "payment" => RowKind::Payment,
        "refund" | "payment_refund" => RowKind::Refund,
        "stripe_fee" | "application_fee" | "fee" => RowKind::Fee,
        "payout" => RowKind::Payout,
        other => RowKind::Other(other.to_owned()),
    }
}

fn instant(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(seconds) = text.parse::<i64>() {
        return DateTime::from_timestamp(seconds, 0)
            .ok_or_else(|| format!("`{text}` is out of range"));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .map(|t| t.and_utc())
        .map_err(|_| format!("`{text}` is not `YYYY-MM-DD HH:MM:SS` nor Unix seconds"))
}

/// Reads a whole balance transactions CSV, or refuses it with the line and the problem.
pub fn read(bytes: &[u8]) -> Result<Vec<StatementRow>, StatementError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| StatementError::at(1, format!("the header: {e}")))?
        .clone();
    let names: Vec<String> = headers.iter().map(column_name).collect();
    let column = |name: &str| names.iter().position(|n| n == name);
    let mut at = [0usize; REQUIRED.len()];
    for (slot, name) in at.iter_mut().zip(REQUIRED) {
        *slot = column(name).ok_or_else(|| StatementError::at(1, format!("no `{name}` column")))?;
    }
    let [
        id_at,
        source_at,
        amount_at,
        fee_at,
        net_at,
        currency_at,
        created_at,
        category_at,
    ] = at;
    // The export has `type`; the Reporting API's itemized report has only the category.
    let type_at = column("type").unwrap_or(category_at);
    let (our_payment, our_refund) = (column(OUR_PAYMENT), column(OUR_REFUND));

    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            StatementError::at(line, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        if rows.len() == MAX_ROWS {
            return Err(StatementError::at(
                line,
                format!("more than {MAX_ROWS} rows"),
            ));
        }
        let field = |i: usize| record.get(i).unwrap_or_default().trim();
        let fail = |problem: String| StatementError::at(line, problem);
        let required = |i: usize, name: &str| {
            let value = field(i);
            if value.is_empty() {
                Err(fail(format!("`{name}` is empty")))
            } else {
                Ok(value)
            }
        };
        let code = required(currency_at, "currency")?.to_ascii_uppercase();
        let currency_of = Currency::from_code(&code)
            .ok_or_else(|| fail(format!("`{code}` is not a currency")))?;
        let money = |i: usize, name: &str| {
            major_units(required(i, name)?, currency_of).map_err(|p| fail(format!("`{name}`: {p}")))
        };
        let (gross, fee, net) = (
            money(amount_at, "amount")?,
            money(fee_at, "fee")?,
            money(net_at, "net")?,
        );
        if gross.checked_sub(&fee) != Some(net) {
            return Err(fail(format!(
                "`net` {} is not `amount` {} less `fee` {}",
                net.amount, gross.amount, fee.amount
            )));
        }
        let row_id = required(id_at, "id")?.to_owned();
        let kind = kind(required(type_at, "type")?);
        // Our id: the refund's on a refund row, the payment's on any other.
        let our_ref = match kind {
            RowKind::Refund => our_refund,
            _ => our_payment,
        };
        rows.push(StatementRow {
            line,
            kind,
            channel_txn_id: match field(source_at) {
                "" => row_id.clone(),
                s => s.to_owned(),
            },
            id: row_id,
            our_ref: our_ref
                .map(field)
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
            gross,
            fee,
            net,
            at: instant(required(created_at, "created")?).map_err(fail)?,
        });
    }
    unique_ids(&rows)?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arbiter_engine::money::Money;

    const HEADER: &str = "id,type,source,amount,fee,net,currency,created,reporting_category\n";

    fn eur(cents: i64) -> Money {
        Money::from_minor_units(cents, Currency::EUR)
    }

    #[test]
    fn rows_are_read_in_any_column_order_with_the_dashboards_headers() {
        let csv = "\u{feff}Created (UTC),id,Type,Source,Amount,Fee,Net,Currency,Reporting Category,payment_metadata[channel_payment_id]\n\
                   2026-12-06 10:00:00,txn_1,charge,ch_1,42.50,1.53,40.97,eur,charge,pi_ours1\n\
                   1796551200,txn_2,refund,re_1,-10.00,0.00,-10.00,eur,refund,\n\
                   2026-12-06 23:59:59,txn_3,payout,po_1,-30.97,0.00,-30.97,eur,payout,\n";
        let rows = read(csv.as_bytes()).expect("read");
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0],
            StatementRow {
                line: 2,
                id: "txn_1".into(),
                kind: RowKind::Payment,
                channel_txn_id: "ch_1".into(),
                our_ref: Some("pi_ours1".into()),
                gross: eur(4250),
                fee: eur(153),
                net: eur(4097),
                at: "2026-12-06T10:00:00Z".parse().expect("instant"),
            }
        );
        assert_eq!(
            (rows[1].kind.clone(), rows[1].gross),
            (RowKind::Refund, eur(-1000))
        );
        assert_eq!(rows[1].our_ref, None);
        assert_eq!(rows[2].kind, RowKind::Payout);
    }

    #[test]
    fn the_reporting_apis_itemized_report_reads_the_same() {
        let csv = "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,source_id,payment_metadata[channel_payment_id],refund_metadata[channel_refund_id]\n\
                   txn_1,2026-12-06 10:00:00,eur,42.50,1.53,40.97,charge,ch_1,pi_ours1,\n\
                   txn_2,2026-12-06 11:00:00,eur,-10.00,0.00,-10.00,refund,re_1,,re_ours1\n\
                   txn_3,2026-12-06 12:00:00,eur,-2.00,0.00,-2.00,fee,fee_1,,\n\
                   txn_4,2026-12-06 23:00:00,eur,-28.97,0.00,-28.97,payout,po_1,,\n";
        let rows = read(csv.as_bytes()).expect("reads");
        assert_eq!(
            rows.iter().map(|r| r.kind.clone()).collect::<Vec<_>>(),
            [
                RowKind::Payment,
                RowKind::Refund,
                RowKind::Fee,
                RowKind::Payout
            ]
        );
        assert_eq!(rows[0].our_ref.as_deref(), Some("pi_ours1"));
        assert_eq!(rows[1].our_ref.as_deref(), Some("re_ours1"));
        assert_eq!((rows[0].gross, rows[0].fee), (eur(4250), eur(153)));
        assert_eq!(rows[1].channel_txn_id, "re_1");
    }

    #[test]
    fn a_bad_statement_is_refused_whole_with_its_line_named() {
        let refused = |body: &str| read(format!("{HEADER}{body}").as_bytes()).expect_err("refused");
        let ok = "txn_1,charge,ch_1,42.50,1.53,40.97,eur,2026-12-06 10:00:00,charge\n";
        for (body, line, says) in [
            (
                "txn_1,charge,ch_1,42.5,1.53,40.97,eur,2026-12-06 10:00:00,charge\n",
                2,
                "decimals",
            ),
            (
                "txn_1,charge,ch_1,42.50,1.53,40.00,eur,2026-12-06 10:00:00,charge\n",
                2,
                "less `fee`",
            ),
            (
                "txn_1,charge,ch_1,42.50,1.53,40.97,xyz,2026-12-06 10:00:00,charge\n",
                2,
                "not a currency",
            ),
            (
                "txn_1,charge,ch_1,42.50,1.53,40.97,eur,yesterday,charge\n",
                2,
                "YYYY-MM-DD",
            ),
            (
                ",charge,ch_1,42.50,1.53,40.97,eur,2026-12-06 10:00:00,charge\n",
                2,
                "`id` is empty",
            ),
            ("txn_1,charge,ch_1,42.50\n", 2, "fields"),
        ] {
            let e = refused(body);
            assert_eq!(e.line, line, "{body}: {e}");
            assert!(e.to_string().contains(says), "{body}: {e}");
        }
        let twice = refused(&format!("{ok}{}", ok.replace("ch_1", "ch_2")));
        assert_eq!(twice.line, 3, "{twice}");
        assert!(twice.problem.contains("twice"), "{twice}");
        let no_net = read(b"id,type,source,amount,fee,currency,created,reporting_category\n")
            .expect_err("refused");
        assert_eq!(
            (no_net.line, no_net.problem.as_str()),
            (1, "no `net` column")
        );
        let latin1 = read(
            &[
                HEADER.as_bytes(),
                b"txn_\xe9,charge,ch,1.00,0.00,1.00,eur,1,charge\n",
            ]
            .concat(),
        )
        .expect_err("refused");
        assert_eq!(latin1.line, 2, "{latin1}");
    }
}
