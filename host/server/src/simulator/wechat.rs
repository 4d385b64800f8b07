//! A simulated WeChat Pay API v3 (under `/sim/wechat/v3/…`): it checks the merchant's
//! `WECHATPAY2-SHA256-RSA2048` authorization over the method, path, time, nonce and body as
//! WeChat Pay does (a bad one is `401 SIGN_ERROR`), keeps trades in memory, and signs every
//! answer with its platform key under its serial — Native pay, query, close, refund and refund
//! query, with WeChat Pay's codes. A payment reported paid, and a refund once taken, are
//! notified to the merchant's `notify_url`: sealed under the APIv3 key, signed.

use std::sync::Arc;

use arbiter_engine::money::Money;
use arbiter_transactions::channels::keys::VerifyingKey;
use arbiter_transactions::channels::wechat::platform::WechatPlatform;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use iso_currency::Currency;
use serde_json::{Value, json};

use super::delivery::{self, Delivery, Outgoing};
use super::statements::{Desk, Naming, movements, wechat_bill, written};
use super::trades::{Closed, Refunded, Trade, TradeStatus, Trades};
use super::{Reported, SimError, channel_response};

/// Where the simulated API is mounted; the merchant signs paths without it.
pub const PREFIX: &str = "/sim/wechat";

pub struct WechatSim {
    pub mchid: String,
    /// Where this server is reached: bill download addresses point here.
    public_url: String,
    /// Statement plants and download tokens.
    pub desk: Desk,
    platform: WechatPlatform,
    merchant: VerifyingKey,
    trades: Trades,
    http: reqwest::Client,
    /// Protocol calls still to answer with an outage (`503`), as told by a trigger.
    failing: super::Outage,
}

fn fen(m: &Money) -> i64 {
    m.checked_minor_units().unwrap_or_default()
}

fn trade_state(status: TradeStatus) -> &'static str {
    match status {
        TradeStatus::Waiting => "NOTPAY",
        TradeStatus::Paid => "SUCCESS",
        TradeStatus::Closed => "CLOSED",
    }
}

impl WechatSim {
    /// The next `calls` protocol calls answer `503` (a channel outage).
    pub fn fail_next(&self, calls: u32) {
        self.failing.set(calls);
    }

    pub fn new(
        mchid: String,
        platform: WechatPlatform,
        merchant: VerifyingKey,
        http: reqwest::Client,
        public_url: &str,
    ) -> WechatSim {
        WechatSim {
            mchid,
            public_url: public_url.to_owned(),
            desk: Desk::default(),
            platform,
            merchant,
            trades: Trades::default(),
            http,
            failing: super::Outage::default(),
        }
    }

    fn signed(&self, status: StatusCode, body: Value) -> Response {
        match self.platform.answer(status.as_u16(), &body, Utc::now()) {
            Ok(response) => channel_response(response),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        }
    }

    fn error(&self, status: StatusCode, code: &str, message: &str) -> Response {
        self.signed(status, json!({"code": code, "message": message}))
    }

    /// Whether the request carries the merchant's valid authorization.
    fn authorized(
        &self,
        method: &Method,
        uri: &OriginalUri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> bool {
        let full = uri
            .0
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or_default();
        let path = full.strip_prefix(PREFIX).unwrap_or(full);
        let authorization = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        WechatPlatform::verify_request(
            &self.merchant,
            &self.mchid,
            authorization,
            (method.as_str(), path, body),
            Utc::now(),
        )
    }

    fn transaction(&self, number: &str, t: &Trade) -> Value {
        json!({
            "mchid": self.mchid, "appid": "sim", "out_trade_no": number,
            "transaction_id": t.trade_no, "trade_type": "NATIVE",
            "trade_state": trade_state(t.status), "trade_state_desc": "",
            "amount": {"total": fen(&t.amount), "payer_total": fen(&t.amount),
                       "currency": "CNY", "payer_currency": "CNY"},
        })
    }

    /// Every route of the simulated API: the operation from the method and path.
    pub async fn api(
        State(sim): State<Arc<WechatSim>>,
        method: Method,
        uri: OriginalUri,
        headers: HeaderMap,
        Path(rest): Path<String>,
        body: Bytes,
    ) -> Response {
        if sim.failing.take() {
            return super::outage();
        }
        if !sim.authorized(&method, &uri, &headers, &body) {
            return sim.error(
                StatusCode::UNAUTHORIZED,
                "SIGN_ERROR",
                "signature check failed",
            );
        }
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let text = |name: &str| json.get(name).and_then(Value::as_str);
        let parts: Vec<&str> = rest.split('/').collect();
        match (method.as_str(), parts.as_slice()) {
            ("POST", ["pay", "transactions", "native"]) => {
                let (Some(number), Some(total)) =
                    (text("out_trade_no"), json["amount"]["total"].as_i64())
                else {
                    return sim.error(
                        StatusCode::BAD_REQUEST,
                        "PARAM_ERROR",
                        "out_trade_no and amount.total",
                    );
                };
                let amount = Money::from_minor_units(total, Currency::CNY);
                let notify = text("notify_url").unwrap_or_default();
                match sim.trades.open(
                    number,
                    amount,
                    notify,
                    text("description").unwrap_or_default(),
                ) {
                    Some(_) => sim.signed(
                        StatusCode::OK,
                        json!({"code_url": format!("weixin://wxpay/bizpayurl?pr=sim{number}")}),
                    ),
                    None => sim.error(
                        StatusCode::BAD_REQUEST,
                        "INVALID_REQUEST",
                        "the order exists with other details",
                    ),
                }
            }
            ("GET", ["pay", "transactions", "out-trade-no", number]) => {
                match sim.trades.get(number) {
                    None => sim.error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "no such order"),
                    Some(t) => sim.signed(StatusCode::OK, sim.transaction(number, &t)),
                }
            }
            ("POST", ["pay", "transactions", "out-trade-no", number, "close"]) => {
                match sim.trades.close(number) {
                    Closed::NoSuchTrade => {
                        sim.error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "no such order")
                    }
                    Closed::AlreadyPaid => {
                        sim.error(StatusCode::BAD_REQUEST, "ORDERPAID", "the order is paid")
                    }
                    Closed::Closed => sim.signed(StatusCode::NO_CONTENT, Value::Null),
                }
            }
            ("POST", ["refund", "domestic", "refunds"]) => sim.refund(&json).await,
            ("GET", ["refund", "domestic", "refunds", number]) => {
                match sim.trades.find_refund(number) {
                    None => sim.error(
                        StatusCode::NOT_FOUND,
                        "RESOURCE_NOT_EXISTS",
                        "no such refund",
                    ),
                    Some((trade_number, t, r)) => sim.signed(
                        StatusCode::OK,
                        refund_record(&trade_number, &t, &r.number, &r.amount, "SUCCESS"),
                    ),
                }
            }
            ("GET", ["bill", "tradebill"]) => sim.bill_address(uri.0.query()),
            ("GET", ["billdownload", "file"]) => sim.bill(uri.0.query()),
            _ => sim.error(StatusCode::NOT_FOUND, "NOT_FOUND", "not simulated"),
        }
    }

    /// `GET /v3/bill/tradebill?bill_date=…`: where to download the day's bill and its SHA-1.
    fn bill_address(&self, query: Option<&str>) -> Response {
        let params: Vec<(String, String)> =
            url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        let date = params
            .iter()
            .find(|(k, _)| k == "bill_date")
            .and_then(|(_, v)| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok());
        let Some(date) = date else {
            return self.error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "bill_date");
        };
        if !written(date, true, Utc::now()) {
            return self.error(
                StatusCode::BAD_REQUEST,
                "NO_STATEMENT_EXIST",
                "the bill of that day does not exist",
            );
        }
        let bill = self.bill_of(date);
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &bill);
        self.signed(
            StatusCode::OK,
            json!({
                "hash_type": "SHA1",
                "hash_value": hex::encode(digest.as_ref()),
                "download_url": format!("{}{PREFIX}/v3/billdownload/file?token={}",
                                        self.public_url, self.desk.token_for_file(bill)),
            }),
        )
    }

    /// `GET /v3/billdownload/file?token=…`: the bill itself, unsigned.
    fn bill(&self, query: Option<&str>) -> Response {
        let token = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        match self.desk.file(&token) {
            Some(bill) => (StatusCode::OK, bill).into_response(),
            None => self.error(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "no such bill"),
        }
    }

    fn bill_of(&self, date: chrono::NaiveDate) -> Vec<u8> {
        let naming = Naming {
            payment: &|number: &str| Some(number.to_owned()),
            refund: &|number: &str, trade: &Trade| {
                Some((number.to_owned(), format!("50{}{number}", trade.trade_no)))
            },
        };
        let window = arbiter_transactions::reconciliation::day::window("wechat", date);
        let lines = movements(
            "wechat",
            &self.trades.all(),
            &naming,
            window,
            &self.desk.plants.get(),
        );
        wechat_bill(&lines, &self.mchid)
    }

    /// A refund is taken `PROCESSING`, then notified `SUCCESS` a moment later, as WeChat Pay
    /// refunds to a balance.
    async fn refund(self: &Arc<Self>, json: &Value) -> Response {
        let text = |name: &str| json.get(name).and_then(Value::as_str);
        let (Some(number), Some(refund_number), Some(fen)) = (
            text("out_trade_no"),
            text("out_refund_no"),
            json["amount"]["refund"].as_i64(),
        ) else {
            return self.error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "out_trade_no, out_refund_no, amount.refund",
            );
        };
        let amount = Money::from_minor_units(fen, Currency::CNY);
        let trade = self.trades.get(number);
        match (self.trades.refund(number, refund_number, amount), trade) {
            (Refunded::NoSuchTrade, _) | (_, None) => self.error(
                StatusCode::NOT_FOUND,
                "RESOURCE_NOT_EXISTS",
                "no such order",
            ),
            (Refunded::NotPaid, _) => self.error(
                StatusCode::FORBIDDEN,
                "TRADE_ERROR",
                "the order is not paid",
            ),
            (Refunded::Exceeds, _) => {
                self.error(StatusCode::FORBIDDEN, "NOT_ENOUGH", "more than is left")
            }
            (Refunded::Repeat(r), Some(t)) => self.signed(
                StatusCode::OK,
                refund_record(number, &t, &r.number, &r.amount, "SUCCESS"),
            ),
            (Refunded::New(r), Some(t)) => {
                let notify = text("notify_url").unwrap_or(&t.notify_url).to_owned();
                // The notification names the state `refund_status`, and the merchant.
                let mut record = refund_record(number, &t, &r.number, &r.amount, "SUCCESS");
                if let Some(fields) = record.as_object_mut() {
                    fields.remove("status");
                    fields.insert("refund_status".into(), json!("SUCCESS"));
                    fields.insert("mchid".into(), json!(self.mchid));
                }
                let sim = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    if let Ok(outgoing) =
                        sim.notification("REFUND.SUCCESS", "refund", &record, notify)
                    {
                        delivery::post(&sim.http, &outgoing).await;
                    }
                });
                self.signed(
                    StatusCode::OK,
                    refund_record(number, &t, &r.number, &r.amount, "PROCESSING"),
                )
            }
        }
    }

    fn notification(
        &self,
        event_type: &str,
        original_type: &str,
        plain: &Value,
        url: String,
    ) -> Result<Outgoing, SimError> {
        let id = format!("EV-{}", uuid::Uuid::now_v7().simple());
        let signed = self
            .platform
            .notification(&id, event_type, original_type, plain, Utc::now())
            .map_err(|e| SimError::Signing(e.to_string()))?;
        Ok(Outgoing {
            url,
            headers: signed.headers,
            body: signed.body,
        })
    }

    /// The buyer paid, or the order closed unpaid (WeChat Pay notifies only payments).
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
        let status = trade_state(trade.status);
        if trade.status != TradeStatus::Paid {
            return Ok(Reported {
                notice_id: String::new(),
                status: status.to_owned(),
                attempts: Vec::new(),
            });
        }
        let outgoing = self.notification(
            "TRANSACTION.SUCCESS",
            "transaction",
            &self.transaction(number, &trade),
            trade.notify_url.clone(),
        )?;
        let notice_id = serde_json::from_slice::<Value>(&outgoing.body)
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_owned))
            .unwrap_or_default();
        Ok(Reported {
            notice_id,
            status: status.to_owned(),
            attempts: delivery::deliver(&self.http, outgoing, delivery).await,
        })
    }
}

fn refund_record(
    number: &str,
    trade: &Trade,
    refund_number: &str,
    amount: &Money,
    status: &str,
) -> Value {
    json!({
        "refund_id": format!("SIMR{refund_number}"), "out_refund_no": refund_number,
        "transaction_id": trade.trade_no, "out_trade_no": number,
        "status": status,
        "amount": {"total": fen(&trade.amount), "refund": fen(amount), "currency": "CNY",
                   "payer_total": fen(&trade.amount), "payer_refund": fen(amount)},
    })
}
