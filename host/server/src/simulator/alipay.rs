//! A simulated Alipay open-platform gateway (`POST /sim/alipay/gateway.do`): it checks the
//! merchant's RSA2 signature and app id as the real gateway does (a bad one gets Alipay's
//! unsigned `error_response`), keeps trades in memory, and signs every answer with its own
//! platform key — `precreate`, `query`, `close`, `refund` and `fastpay.refund.query`, with
//! Alipay's codes. On a trigger it settles a trade and posts the signed `trade_status_sync`
//! notification to the trade's `notify_url`.

use std::sync::Arc;

use arbiter_engine::money::Money;
use arbiter_transactions::channels::BEIJING;
use arbiter_transactions::channels::alipay::platform::AlipayPlatform;
use arbiter_transactions::channels::keys::VerifyingKey;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use iso_currency::Currency;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::delivery::{self, Delivery, Outgoing};
use super::statements::{Desk, Naming, alipay_bill, movements, written};
use super::trades::{Closed, Refunded, TradeStatus, Trades};
use super::{Reported, SimError, channel_response};

pub struct AlipaySim {
    pub app_id: String,
    /// Where this server is reached: bill download addresses point here.
    public_url: String,
    /// Statement plants and download tokens.
    pub desk: Desk,
    platform: AlipayPlatform,
    /// The merchant app's public key: requests are checked with it.
    merchant: VerifyingKey,
    trades: Trades,
    http: reqwest::Client,
    /// Protocol calls still to answer with an outage (`503`), as told by a trigger.
    failing: super::Outage,
}

/// The bill query: a download address for a day's trade bill.
const BILL_METHOD: &str = "alipay.data.dataservice.bill.downloadurl.query";

fn failure(sub_code: &str, sub_msg: &str) -> Value {
    json!({"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg})
}

fn yuan(m: &Money) -> String {
    format!("{:.2}", m.amount)
}

fn read_yuan(text: Option<&str>) -> Option<Money> {
    let amount: Decimal = text?.parse().ok()?;
    (amount.scale() <= 2 && amount > Decimal::ZERO).then_some(Money {
        amount,
        currency: Currency::CNY,
    })
}

impl AlipaySim {
    /// The next `calls` protocol calls answer `503` (a channel outage).
    pub fn fail_next(&self, calls: u32) {
        self.failing.set(calls);
    }

    pub fn new(
        app_id: String,
        platform: AlipayPlatform,
        merchant: VerifyingKey,
        http: reqwest::Client,
        public_url: &str,
    ) -> AlipaySim {
        AlipaySim {
            app_id,
            public_url: public_url.to_owned(),
            desk: Desk::default(),
            platform,
            merchant,
            trades: Trades::default(),
            http,
            failing: super::Outage::default(),
        }
    }

    /// `POST /sim/alipay/gateway.do`.
    pub async fn gateway(State(sim): State<Arc<AlipaySim>>, body: Bytes) -> Response {
        if sim.failing.take() {
            return super::outage();
        }
        let unsigned = |sub_code: &str, sub_msg: &str| {
            let body = json!({"error_response": {"code": "40002", "msg": "Invalid Arguments",
                                                 "sub_code": sub_code, "sub_msg": sub_msg}});
            (
                [("content-type", "application/json;charset=utf-8")],
                body.to_string(),
            )
                .into_response()
        };
        let Some(params) = AlipayPlatform::verify_request(&sim.merchant, &body) else {
            return unsigned("isv.invalid-signature", "signature check failed");
        };
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        if get("app_id") != Some(sim.app_id.as_str()) {
            return unsigned("isv.invalid-app-id", "no such app");
        }
        let method = get("method").unwrap_or_default().to_owned();
        let biz: Value = get("biz_content")
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        let node = sim.answer(&method, &biz, get("notify_url"));
        match sim.platform.answer(&method, &node) {
            Ok(response) => channel_response(response),
            Err(e) => {
                (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
            }
        }
    }

    /// The answer to the bill query: where to download the day's trade bill, or
    /// `isp.bill_not_exist` for a day not begun.
    fn bill_address(&self, biz: &Value) -> Value {
        let date = biz
            .get("bill_date")
            .and_then(Value::as_str)
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        match (date, biz.get("bill_type").and_then(Value::as_str)) {
            (Some(date), Some("trade")) if written(date, true, Utc::now()) => json!({
                "code": "10000", "msg": "Success",
                "bill_download_url": format!("{}/sim/alipay/bills/{}", self.public_url,
                                             self.desk.token_for(date)),
            }),
            (Some(_), Some("trade")) => failure("isp.bill_not_exist", "账单不存在"),
            _ => failure("isv.invalid-parameter", "bill_type and bill_date"),
        }
    }

    /// `GET /sim/alipay/bills/{token}`: the day's bill zip.
    pub async fn bill(
        State(sim): State<Arc<AlipaySim>>,
        axum::extract::Path(token): axum::extract::Path<String>,
    ) -> Response {
        let Some(date) = sim.desk.date_of(&token) else {
            return (axum::http::StatusCode::NOT_FOUND, "no such bill").into_response();
        };
        let naming = Naming {
            payment: &|number: &str| Some(number.to_owned()),
            refund: &|number: &str, trade: &super::trades::Trade| {
                Some((number.to_owned(), trade.trade_no.clone()))
            },
        };
        let window = arbiter_transactions::reconciliation::day::window("alipay", date);
        let lines = movements(
            "alipay",
            &sim.trades.all(),
            &naming,
            window,
            &sim.desk.plants.get(),
        );
        (
            [("content-type", "application/zip")],
            alipay_bill(&lines, "20880000000000000156"),
        )
            .into_response()
    }

    /// The response object for `method`.
    fn answer(&self, method: &str, biz: &Value, notify_url: Option<&str>) -> Value {
        let text = |name: &str| biz.get(name).and_then(Value::as_str);
        let success = |mut fields: Value| {
            fields["code"] = json!("10000");
            fields["msg"] = json!("Success");
            fields
        };
        if method == BILL_METHOD {
            return self.bill_address(biz);
        }
        let Some(number) = text("out_trade_no") else {
            return failure("ACQ.INVALID_PARAMETER", "out_trade_no is required");
        };
        match method {
            "alipay.trade.precreate" => {
                let Some(amount) = read_yuan(text("total_amount")) else {
                    return failure("ACQ.INVALID_PARAMETER", "total_amount");
                };
                let subject = text("subject").unwrap_or_default();
                match self
                    .trades
                    .open(number, amount, notify_url.unwrap_or_default(), subject)
                {
                    Some(_) => success(json!({"out_trade_no": number,
                                              "qr_code": format!("https://qr.alipay.com/sim{number}")})),
                    None => failure(
                        "ACQ.CONTEXT_INCONSISTENT",
                        "the trade exists with other details",
                    ),
                }
            }
            "alipay.trade.query" => match self.trades.get(number) {
                None => failure("ACQ.TRADE_NOT_EXIST", "no such trade"),
                Some(t) => success(json!({
                    "out_trade_no": number,
                    "trade_no": t.trade_no,
                    "trade_status": trade_status(t.status),
                    "total_amount": yuan(&t.amount),
                })),
            },
            "alipay.trade.close" => match self.trades.close(number) {
                Closed::NoSuchTrade => failure("ACQ.TRADE_NOT_EXIST", "no such trade"),
                Closed::AlreadyPaid => failure("ACQ.TRADE_STATUS_ERROR", "the trade is paid"),
                Closed::Closed => success(json!({"out_trade_no": number})),
            },
            "alipay.trade.refund" => {
                let (Some(request), Some(amount)) =
                    (text("out_request_no"), read_yuan(text("refund_amount")))
                else {
                    return failure("ACQ.INVALID_PARAMETER", "out_request_no and refund_amount");
                };
                match self.trades.refund(number, request, amount) {
                    Refunded::NoSuchTrade => failure("ACQ.TRADE_NOT_EXIST", "no such trade"),
                    Refunded::NotPaid => failure("ACQ.TRADE_STATUS_ERROR", "the trade is not paid"),
                    Refunded::Exceeds => {
                        failure("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "more than is left")
                    }
                    Refunded::New(r) => success(json!({"out_trade_no": number, "fund_change": "Y",
                                                       "refund_fee": yuan(&r.amount)})),
                    Refunded::Repeat(r) => {
                        success(json!({"out_trade_no": number, "fund_change": "N",
                                                          "refund_fee": yuan(&r.amount)}))
                    }
                }
            }
            "alipay.trade.fastpay.refund.query" => {
                let request = text("out_request_no").unwrap_or_default();
                match self.trades.refund_of(number, request) {
                    None => success(json!({"out_trade_no": number, "out_request_no": request})),
                    Some(r) => success(json!({"out_trade_no": number, "out_request_no": request,
                                              "refund_amount": yuan(&r.amount),
                                              "refund_status": "REFUND_SUCCESS"})),
                }
            }
            _ => failure("ACQ.INVALID_METHOD", "not simulated"),
        }
    }

    /// The buyer paid (`paid`) or the trade closed unpaid; the notification delivered as
    /// `delivery` says.
    pub async fn report(
        &self,
        number: &str,
        paid: bool,
        delivery: Delivery,
    ) -> Result<Reported, SimError> {
        let trade = self
            .trades
            .settle(number, paid)
            .ok_or(SimError::NoSuchTrade)?;
        tokio::time::sleep(delivery.delay).await;
        let notify_id = uuid::Uuid::now_v7().simple().to_string();
        let now = Utc::now()
            .with_timezone(&BEIJING)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        let status = trade_status(trade.status);
        let amount = yuan(&trade.amount);
        let params = [
            ("notify_time", now.as_str()),
            ("notify_type", "trade_status_sync"),
            ("notify_id", &notify_id),
            ("app_id", &self.app_id),
            ("charset", "utf-8"),
            ("version", "1.0"),
            ("trade_no", &trade.trade_no),
            ("out_trade_no", number),
            ("trade_status", status),
            ("total_amount", &amount),
            ("subject", &trade.subject),
            ("gmt_payment", now.as_str()),
        ];
        let body = self
            .platform
            .notification(&params)
            .map_err(|e| SimError::Signing(e.to_string()))?;
        let outgoing = Outgoing {
            url: trade.notify_url.clone(),
            headers: vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded;charset=utf-8".into(),
            )],
            body,
        };
        Ok(Reported {
            notice_id: notify_id,
            status: status.to_owned(),
            attempts: delivery::deliver(&self.http, outgoing, delivery).await,
        })
    }
}

fn trade_status(status: TradeStatus) -> &'static str {
    match status {
        TradeStatus::Waiting => "WAIT_BUYER_PAY",
        TradeStatus::Paid => "TRADE_SUCCESS",
        TradeStatus::Closed => "TRADE_CLOSED",
    }
}
