//! Alipay's trade bill (`业务明细`): a zip holding GBK-encoded CSV files — the detail file,
//! whose rows sit between `#`-lines (account, dates, `业务明细列表` … `业务明细列表结束`,
//! totals, export time), and a summary file (`汇总`). The detail file is the one whose header
//! starts with `支付宝交易号` (file names in such zips are GBK without the UTF-8 flag, so they
//! cannot be trusted). Fields often carry trailing tabs. A trade row (`业务类型` `交易`) books
//! `订单金额（元）`; a refund row (`退款`) books it negative and names its request in
//! `退款批次号/请求号`; `服务费（元）` is the fee as Alipay signs it (negative when charged), so
//! the fee taken is its negation. Times are Beijing time; money is CNY with two decimals. The
//! `#交易合计：N笔，退款合计：M笔` line is checked against the rows read.

use std::io::Read;

use iso_currency::Currency;

use super::statement::{
    Booked, MAX_ROWS, RowKind, StatementError, StatementRow, beijing_time, major_units, unique_ids,
};

/// The largest detail file read out of a bill: a bill is refused rather than inflated past it.
pub const MAX_DETAIL_BYTES: u64 = 1 << 30;

const TRADE_NO: &str = "支付宝交易号";
const OUT_TRADE_NO: &str = "商户订单号";
const BUSINESS: &str = "业务类型";
const FINISHED: &str = "完成时间";
const AMOUNT: &str = "订单金额（元）";
const FEE: &str = "服务费（元）";
const REFUND_NO: &str = "退款批次号/请求号";

/// Reads a bill zip, or refuses it with the line of its detail file and the problem.
pub fn read(zip_bytes: &[u8]) -> Result<Vec<StatementRow>, StatementError> {
    let detail = detail_file(zip_bytes)?;
    read_detail(&detail)
}

/// The detail file's text, decoded from GBK.
fn detail_file(zip_bytes: &[u8]) -> Result<String, StatementError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes))
        .map_err(|e| StatementError::file(format!("not a readable zip: {e}")))?;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| StatementError::file(format!("entry {i}: {e}")))?;
        if entry.size() > MAX_DETAIL_BYTES {
            return Err(StatementError::file(format!(
                "an entry of {} bytes, over {MAX_DETAIL_BYTES}",
                entry.size()
            )));
        }
        let mut bytes = Vec::new();
        (&mut entry)
            .take(MAX_DETAIL_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| StatementError::file(format!("entry {i} is damaged: {e}")))?;
        let text = gbk(&bytes)?;
        if text
            .lines()
            .any(|l| l.trim_start_matches('\u{feff}').starts_with(TRADE_NO))
        {
            return Ok(text);
        }
    }
    Err(StatementError::file(format!(
        "no detail file (a header starting `{TRADE_NO}`) in the zip"
    )))
}

/// GBK text, or the first line that is not GBK.
fn gbk(bytes: &[u8]) -> Result<String, StatementError> {
    if let Some(text) = encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(bytes)
    {
        return Ok(text.into_owned());
    }
    let line = bytes
        .split(|b| *b == b'\n')
        .position(|l| {
            encoding_rs::GBK
                .decode_without_bom_handling_and_without_replacement(l)
                .is_none()
        })
        .map_or(0, |i| i + 1);
    Err(StatementError::at(line, "not GBK text"))
}

/// The counts of `#交易合计：N笔，退款合计：M笔`.
fn totals(line: &str) -> Option<(usize, usize)> {
    let rest = line.strip_prefix("#交易合计：")?;
    let (trades, rest) = rest.split_once("笔，退款合计：")?;
    let refunds = rest.strip_suffix("笔")?;
    Some((trades.trim().parse().ok()?, refunds.trim().parse().ok()?))
}

fn read_detail(text: &str) -> Result<Vec<StatementRow>, StatementError> {
    let lines: Vec<&str> = text.lines().collect();
    let header_at = lines
        .iter()
        .position(|l| l.trim_start_matches('\u{feff}').starts_with(TRADE_NO))
        .ok_or_else(|| StatementError::file("no header"))?;
    let names: Vec<&str> = lines[header_at]
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(str::trim)
        .collect();
    let column = |name: &str| {
        names
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| StatementError::at(header_at + 1, format!("no `{name}` column")))
    };
    let (trade_at, out_trade_at, business_at, finished_at, amount_at, fee_at, refund_at) = (
        column(TRADE_NO)?,
        column(OUT_TRADE_NO)?,
        column(BUSINESS)?,
        column(FINISHED)?,
        column(AMOUNT)?,
        column(FEE)?,
        column(REFUND_NO)?,
    );

    let mut rows = Vec::new();
    let mut counted = (0usize, 0usize);
    let mut totals_seen = None;
    for (i, raw) in lines.iter().enumerate().skip(header_at + 1) {
        let line = i + 1;
        if raw.starts_with('#') {
            if let Some(t) = totals(raw.trim()) {
                totals_seen = Some((line, t));
            }
            continue;
        }
        if raw.trim().is_empty() {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(StatementError::at(
                line,
                format!("more than {MAX_ROWS} rows"),
            ));
        }
        let fields: Vec<&str> = raw.split(',').map(str::trim).collect();
        let fail = |problem: String| StatementError::at(line, problem);
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
        let yuan = |i: usize, name: &str| {
            major_units(required(i, name)?, Currency::CNY)
                .map_err(|p| fail(format!("`{name}`: {p}")))
        };
        let trade = required(trade_at, TRADE_NO)?.to_owned();
        let gross = yuan(amount_at, AMOUNT)?;
        let fee = yuan(fee_at, FEE)?.negated();
        let (kind, id, our_ref) = match required(business_at, BUSINESS)? {
            "交易" => {
                counted.0 += 1;
                (
                    RowKind::Payment,
                    trade.clone(),
                    required(out_trade_at, OUT_TRADE_NO)?,
                )
            }
            "退款" => {
                counted.1 += 1;
                let request = required(refund_at, REFUND_NO)?;
                (RowKind::Refund, format!("{trade}/{request}"), request)
            }
            other => (
                RowKind::Other(other.to_owned()),
                trade.clone(),
                fields[out_trade_at],
            ),
        };
        rows.push(
            Booked {
                line,
                id,
                kind,
                channel_txn_id: trade,
                our_ref,
                gross,
                fee,
                at: beijing_time(required(finished_at, FINISHED)?).map_err(fail)?,
            }
            .row()?,
        );
    }
    match totals_seen {
        Some((_, said)) if said == counted => {}
        Some((line, (trades, refunds))) => {
            return Err(StatementError::at(
                line,
                format!(
                    "the totals say {trades} trades and {refunds} refunds, the file has {} and {}",
                    counted.0, counted.1
                ),
            ));
        }
        None => {
            return Err(StatementError::file(
                "no `#交易合计` line: the bill is cut short",
            ));
        }
    }
    unique_ids(&rows)?;
    Ok(rows)
}

#[cfg(test)]
mod tests;
