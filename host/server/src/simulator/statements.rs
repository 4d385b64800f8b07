//! What the simulated channels write in their statements: the day's movements of their own
//! trades (payments when paid, refunds when taken), each with the channel's fee, with the
//! differences a test planted (`POST /v1/channels/{name}/statement-plants`), written the way
//! each channel writes its statement — the card's itemized balance report (with the day's
//! payout), Alipay's GBK bill zip, WeChat Pay's backticked bill.

use std::io::Write;
use std::sync::Mutex;

use arbiter_engine::money::Money;
use arbiter_transactions::channels::BEIJING;
use arbiter_transactions::reconciliation::matching::FeeSchedule;
use chrono::{DateTime, Utc};
use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::trades::{Trade, TradeStatus};

/// The fee schedule a simulated channel charges: the card 2.9 % + 0.30 (and keeps it on a
/// refund), Alipay and WeChat Pay 0.6 % (given back on a refund).
pub fn fee_schedule(channel: &str) -> FeeSchedule {
    let text = if channel == "card" {
        "0.029+0.30"
    } else {
        "0.006"
    };
    FeeSchedule::parse(channel, text).unwrap_or(FeeSchedule {
        rate: Decimal::ZERO,
        fixed: Decimal::ZERO,
        returned_on_refund: false,
    })
}

/// What a plant does to the statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlantKind {
    /// The payment left off the statement: `missing_channel`.
    Drop,
    /// The payment for one minor unit more: `amount_mismatch`.
    Amount,
    /// The payment in another currency: `currency_mismatch` (the card only: the Chinese
    /// bills are CNY only).
    Currency,
    /// The payment's fee one minor unit over the schedule: `fee_unexpected`.
    Fee,
    /// A payment we never made: `missing_local`.
    Extra,
    /// An unpaid payment shown paid: `status_mismatch`.
    Paid,
}

/// A difference a test plants in the simulated channel's next statements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Plant {
    pub kind: PlantKind,
    /// Our payment's id at the channel: every kind but `extra` names one.
    #[schema(max_length = 128)]
    pub reference: Option<String>,
    /// `currency` only: the ISO 4217 code the statement shows instead.
    #[schema(max_length = 3)]
    pub currency: Option<String>,
}

impl Plant {
    /// Refuses a plant without what its kind needs: the field at fault and why.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let needs_reference = self.kind != PlantKind::Extra;
        match (&self.reference, needs_reference) {
            (None, true) => return Err(("reference", "this kind names a payment".into())),
            (Some(_), false) => return Err(("reference", "`extra` names no payment".into())),
            _ => {}
        }
        match (&self.currency, self.kind == PlantKind::Currency) {
            (Some(code), true) if Currency::from_code(&code.to_ascii_uppercase()).is_some() => {
                Ok(())
            }
            (Some(code), true) => Err(("currency", format!("`{code}` is not a currency"))),
            (None, true) => Err(("currency", "`currency` names the currency to show".into())),
            (Some(_), false) => Err(("currency", "only `currency` takes one".into())),
            (None, false) => Ok(()),
        }
    }

    fn names(&self, ours: &str) -> bool {
        self.reference.as_deref() == Some(ours)
    }
}

/// The plants in force, replaced as a whole by each request.
#[derive(Default)]
pub struct Plants(Mutex<Vec<Plant>>);

impl Plants {
    pub fn set(&self, plants: Vec<Plant>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = plants;
    }

    pub fn get(&self) -> Vec<Plant> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovementKind {
    Payment,
    Refund,
}

/// One line of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub kind: MovementKind,
    /// Our payment's id at the channel.
    pub payment: String,
    /// Our refund's id at the channel, on a refund.
    pub refund: Option<String>,
    /// The channel's id of the trade.
    pub trade_no: String,
    /// The channel's id of the line: the trade's, or the refund's own.
    pub theirs: String,
    /// Signed: a refund negative.
    pub gross: Money,
    pub fee: Money,
    pub at: DateTime<Utc>,
}

/// Our refund id and the channel's own id of a refund, by its number in the book.
pub type RefundNaming<'a> = &'a dyn Fn(&str, &Trade) -> Option<(String, String)>;

/// How a channel names a trade and a refund in its statement.
pub struct Naming<'a> {
    /// Our payment id of a trade, by its number in the simulator's book.
    pub payment: &'a dyn Fn(&str) -> Option<String>,
    /// Our refund id and the channel's own id of a refund, by its number in the book;
    /// `None` when the refund is not done (not on a statement).
    pub refund: RefundNaming<'a>,
}

/// The movements of `trades` in `[from, to)`, with `channel`'s fees and `plants` applied.
pub fn movements(
    channel: &str,
    trades: &[(String, Trade)],
    naming: &Naming<'_>,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    plants: &[Plant],
) -> Vec<Movement> {
    let schedule = fee_schedule(channel);
    let inside = |at: &DateTime<Utc>| (from..to).contains(at);
    let shown_paid = |ours: &str| {
        plants
            .iter()
            .any(|p| p.kind == PlantKind::Paid && p.names(ours))
    };
    let mut lines = Vec::new();
    for (number, trade) in trades {
        let Some(ours) = (naming.payment)(number) else {
            continue;
        };
        let paid_at = match (trade.status, trade.paid_at) {
            (TradeStatus::Paid, Some(at)) => Some(at),
            (TradeStatus::Waiting, _) if shown_paid(&ours) => {
                Some(Utc::now().min(to - chrono::Duration::seconds(1)))
            }
            _ => None,
        };
        if let Some(at) = paid_at.filter(inside) {
            lines.push(Movement {
                kind: MovementKind::Payment,
                payment: ours.clone(),
                refund: None,
                trade_no: trade.trade_no.clone(),
                theirs: trade.trade_no.clone(),
                gross: trade.amount,
                fee: schedule.fee(&trade.amount),
                at,
            });
        }
        for refund in trade.refunds.iter().filter(|r| inside(&r.at)) {
            let Some((refund_ours, theirs)) = (naming.refund)(&refund.number, trade) else {
                continue;
            };
            let gross = refund.amount.negated();
            lines.push(Movement {
                kind: MovementKind::Refund,
                payment: ours.clone(),
                refund: Some(refund_ours),
                trade_no: trade.trade_no.clone(),
                theirs,
                gross,
                fee: schedule.fee(&gross),
                at: refund.at,
            });
        }
    }
    lines.sort_by(|a, b| a.at.cmp(&b.at).then(a.theirs.cmp(&b.theirs)));
    plant(
        lines,
        plants,
        &schedule,
        from.max(to - chrono::Duration::hours(1)),
    )
}

fn plant(
    mut lines: Vec<Movement>,
    plants: &[Plant],
    schedule: &FeeSchedule,
    extra_at: DateTime<Utc>,
) -> Vec<Movement> {
    for p in plants {
        let named = |l: &Movement| {
            l.kind == MovementKind::Payment && p.reference.as_deref() == Some(l.payment.as_str())
        };
        match p.kind {
            PlantKind::Drop => lines.retain(|l| !named(l)),
            PlantKind::Amount => {
                for l in lines.iter_mut().filter(|l| named(l)) {
                    let unit = Money::from_minor_units(1, l.gross.currency);
                    l.gross = l.gross.checked_add(&unit).unwrap_or(l.gross);
                    l.fee = schedule.fee(&l.gross);
                }
            }
            PlantKind::Currency => {
                let Some(to) = p
                    .currency
                    .as_deref()
                    .and_then(|c| Currency::from_code(&c.to_ascii_uppercase()))
                else {
                    continue;
                };
                for l in lines.iter_mut().filter(|l| named(l)) {
                    l.gross = Money {
                        amount: l.gross.amount,
                        currency: to,
                    };
                    l.fee = schedule.fee(&l.gross);
                }
            }
            PlantKind::Fee => {
                for l in lines.iter_mut().filter(|l| named(l)) {
                    let unit = Money::from_minor_units(1, l.fee.currency);
                    l.fee = l.fee.checked_add(&unit).unwrap_or(l.fee);
                }
            }
            PlantKind::Extra => {
                let currency = lines.first().map_or(Currency::USD, |l| l.gross.currency);
                let gross = Money::from_minor_units(777, currency);
                let stranger = format!("stranger{}", uuid::Uuid::now_v7().simple());
                lines.push(Movement {
                    kind: MovementKind::Payment,
                    payment: stranger.clone(),
                    refund: None,
                    trade_no: format!("SIM{stranger}"),
                    theirs: format!("SIM{stranger}"),
                    gross,
                    fee: schedule.fee(&gross),
                    at: extra_at,
                });
            }
            PlantKind::Paid => {}
        }
    }
    lines
}

fn major(m: &Money) -> String {
    let mut amount = m.amount;
    amount.rescale(m.exponent());
    amount.to_string()
}

/// The card's itemized balance report (`balance_change_from_activity.itemized.3`) with the
/// day's payout of its net in each currency, as CSV.
pub fn card_report(lines: &[Movement], payout_at: DateTime<Utc>) -> Vec<u8> {
    let mut csv = arbiter_transactions::channels::card::statement::columns().join(",");
    csv.push('\n');
    let mut net: std::collections::BTreeMap<Currency, Money> = Default::default();
    for (i, l) in lines.iter().enumerate() {
        let line_net = l.gross.checked_sub(&l.fee).unwrap_or(l.gross);
        let sum = net
            .entry(l.gross.currency)
            .or_insert(Money::zero(l.gross.currency));
        *sum = sum.checked_add(&line_net).unwrap_or(*sum);
        let (category, source, payment, refund) = match l.kind {
            MovementKind::Payment => ("charge", format!("ch_{}", l.theirs), l.payment.as_str(), ""),
            MovementKind::Refund => (
                "refund",
                l.theirs.clone(),
                "",
                l.refund.as_deref().unwrap_or_default(),
            ),
        };
        csv.push_str(&format!(
            "txn_sim{i:06},{},{},{},{},{},{category},{source},{payment},{refund}\n",
            l.at.format("%Y-%m-%d %H:%M:%S"),
            l.gross.currency.code().to_ascii_lowercase(),
            major(&l.gross),
            major(&l.fee),
            major(&line_net),
        ));
    }
    for (i, (currency, sum)) in net.iter().enumerate() {
        let out = sum.negated();
        csv.push_str(&format!(
            "txn_simpo{i},{},{},{},0.00,{},payout,po_sim{i},,\n",
            payout_at.format("%Y-%m-%d %H:%M:%S"),
            currency.code().to_ascii_lowercase(),
            major(&out),
            major(&out),
        ));
    }
    csv.into_bytes()
}

const ALIPAY_HEADER: &str = "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注";

fn beijing(at: DateTime<Utc>) -> String {
    at.with_timezone(&BEIJING)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Alipay's trade bill: a zip of a summary and the GBK detail file.
pub fn alipay_bill(lines: &[Movement], account: &str) -> Vec<u8> {
    let mut detail = format!(
        "#支付宝业务明细查询\r\n#账号：[{account}]\r\n#-----------------------------------------业务明细列表----------------------------------------\r\n{ALIPAY_HEADER}\r\n"
    );
    let (mut trades, mut refunds) = (0, 0);
    for l in lines {
        let (business, request) = match l.kind {
            MovementKind::Payment => {
                trades += 1;
                ("交易", "")
            }
            MovementKind::Refund => {
                refunds += 1;
                ("退款", l.refund.as_deref().unwrap_or_default())
            }
        };
        let amount = major(&l.gross);
        detail.push_str(&format!(
            "{}\t,{}\t,{business},Order\t,{at},{at},,,,,buyer@example.com\t,{amount},{amount},0.00,0.00,0.00,0.00,0.00,,0.00,0.00,{request}\t,{},0.00,\r\n",
            l.trade_no,
            l.payment,
            major(&l.fee.negated()),
            at = beijing(l.at),
        ));
    }
    detail.push_str("#-----------------------------------------业务明细列表结束------------------------------------\r\n");
    detail.push_str(&format!("#交易合计：{trades}笔，退款合计：{refunds}笔\r\n"));
    detail.push_str(&format!("#导出时间：[{}]\r\n", beijing(Utc::now())));
    let summary = format!(
        "#支付宝业务汇总查询\r\n门店编号,门店名称,交易订单总笔数,退款订单总笔数\r\n,,{trades},{refunds}\r\n"
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    let mut write = |name: &str, text: &str| -> zip::result::ZipResult<()> {
        zip.start_file(name, options)?;
        zip.write_all(&encoding_rs::GBK.encode(text).0)?;
        Ok(())
    };
    let written = write(&format!("{account}_summary.csv"), &summary)
        .and_then(|()| write(&format!("{account}_detail.csv"), &detail));
    match written.and_then(|()| zip.finish()) {
        Ok(cursor) => cursor.into_inner(),
        Err(_) => Vec::new(),
    }
}

const WECHAT_HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";

/// WeChat Pay's trade bill (`bill_type=ALL`): backticked fields, then the summary.
pub fn wechat_bill(lines: &[Movement], mchid: &str) -> Vec<u8> {
    let mut bill = format!("{WECHAT_HEADER}\r\n");
    let (mut settled, mut refunded, mut fees) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for l in lines {
        let currency = l.gross.currency.code();
        let fee = {
            let mut f = l.fee.amount;
            f.rescale(5);
            f.to_string()
        };
        fees += l.fee.amount;
        let row = match l.kind {
            MovementKind::Payment => {
                settled += l.gross.amount;
                let amount = major(&l.gross);
                format!(
                    "`{},`wxsim,`{mchid},`0,`,`{},`{},`oUser,`NATIVE,`SUCCESS,`OTHERS,`{currency},`{amount},`0.00,`0,`0,`0.00,`0.00,`,`,`Order,`,`{fee},`0.60%,`{amount},`0.00,`",
                    beijing(l.at),
                    l.trade_no,
                    l.payment
                )
            }
            MovementKind::Refund => {
                let amount = major(&l.gross.negated());
                refunded += l.gross.amount.abs();
                format!(
                    "`{},`wxsim,`{mchid},`0,`,`{},`{},`oUser,`NATIVE,`REFUND,`OTHERS,`{currency},`0.00,`0.00,`{},`{},`{amount},`0.00,`ORIGINAL,`SUCCESS,`Order,`,`{fee},`0.60%,`0.00,`{amount},`",
                    beijing(l.at),
                    l.trade_no,
                    l.payment,
                    l.theirs,
                    l.refund.as_deref().unwrap_or_default(),
                )
            }
        };
        bill.push_str(&row);
        bill.push_str("\r\n");
    }
    let mut fee_total = fees;
    fee_total.rescale(5);
    bill.push_str("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n");
    bill.push_str(&format!(
        "`{},`{settled:.2},`{refunded:.2},`0.00,`{fee_total},`{settled:.2},`{refunded:.2}\r\n",
        lines.len()
    ));
    bill.into_bytes()
}

/// A simulated channel's statement counter: the plants in force and the download tokens it
/// handed out (a token names a day; a download without a known token is refused).
#[derive(Default)]
pub struct Desk {
    pub plants: Plants,
    tokens: Mutex<std::collections::HashMap<String, chrono::NaiveDate>>,
    /// Files written when their address was handed out (their digest went with it).
    files: Mutex<std::collections::HashMap<String, Vec<u8>>>,
}

impl Desk {
    /// A fresh download token for `date`.
    pub fn token_for(&self, date: chrono::NaiveDate) -> String {
        let token = format!("{}", uuid::Uuid::new_v4().simple());
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(token.clone(), date);
        token
    }

    /// A fresh download token for a file written now.
    pub fn token_for_file(&self, file: Vec<u8>) -> String {
        let token = format!("{}", uuid::Uuid::new_v4().simple());
        self.files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(token.clone(), file);
        token
    }

    pub fn file(&self, token: &str) -> Option<Vec<u8>> {
        self.files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(token)
            .cloned()
    }

    pub fn date_of(&self, token: &str) -> Option<chrono::NaiveDate> {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(token)
            .copied()
    }
}

/// Whether a channel whose days are Beijing days (`beijing`) or UTC days has written
/// `date`'s statement by `now`: the day has begun (a simulator hands out the running day's
/// statement so far; a real channel waits for the day to end).
pub fn written(date: chrono::NaiveDate, beijing: bool, now: DateTime<Utc>) -> bool {
    let today = if beijing {
        now.with_timezone(&BEIJING).date_naive()
    } else {
        now.date_naive()
    };
    date <= today
}
