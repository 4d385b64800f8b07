//! Alipay's open platform with RSA2 signatures, as the official SDKs speak it.
//!
//! - **Requests** are the public parameters (`app_id`, `method`, `format`, `charset`,
//!   `sign_type=RSA2`, `timestamp` in Beijing time, `version`, `notify_url`) and `biz_content`
//!   (a JSON object), signed with SHA256withRSA by the app's private key over the *sign
//!   content* — every parameter but `sign` whose value is not empty, sorted by name,
//!   `name=value` joined by `&`, values as they are, not URL-encoded — and sent form-encoded to
//!   the gateway.
//! - **Answers** are `{"<method>_response": {...}, "sign": "..."}`, the signature taken by
//!   Alipay's key over the exact text of the response object, so it is checked on the bytes as
//!   received (serde_json's `RawValue`), never on a re-encoding. `code` `10000` is success;
//!   otherwise `sub_code` says why. An answer without a signature is only ever an error, and
//!   is never taken as a fact about a payment.
//! - **Notifications** are form-encoded POSTs; their sign content leaves out `sign` and
//!   `sign_type`. Alipay retries until it reads `success`, so the host answers that only once
//!   the change has committed.
//!
//! Trades: `alipay.trade.precreate` (a QR code for the buyer), `.query`, `.close`, `.refund`
//! and `.fastpay.refund.query`. Amounts are yuan with two decimals; only CNY.

pub mod platform;
pub mod statement;
mod wire;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::keys::{SigningKey, VerifyingKey};
use super::{
    Acknowledgement, ChannelError, ChannelRequest, ChannelResponse, ClientAction, Closing, Created,
    HttpMethod, Inbound, Notice, NoticeState, PaymentChannel, PaymentState, RefundState,
};
use crate::payment::{Payment, Refund};
pub use wire::sign_content;
use wire::{Failure, Reply, beijing, malformed, read_yuan, trade_state, yuan};

/// The channel's name: in accounts (`channel_clearing:alipay`), routing and the callback log.
pub const ALIPAY: &str = "alipay";
/// Alipay's production gateway.
pub const GATEWAY: &str = "https://openapi.alipay.com/gateway.do";
/// The success code of every answer.
pub(super) const SUCCESS: &str = "10000";

/// What an Alipay merchant app is configured with.
pub struct AlipayConfig {
    pub app_id: String,
    /// The gateway URL: [`GATEWAY`], the sandbox's, or a simulator's.
    pub gateway: String,
    /// Where Alipay posts notifications (our `/v1/webhooks/alipay`).
    pub notify_url: String,
    /// The app's private key (Alipay holds its public half).
    pub app_key: SigningKey,
    /// Alipay's public key, which answers and notifications are checked with.
    pub platform_key: VerifyingKey,
}

/// The Alipay adapter: builds signed requests and reads verified answers and notifications.
pub struct Alipay {
    config: AlipayConfig,
}

impl Alipay {
    pub fn new(config: AlipayConfig) -> Alipay {
        Alipay { config }
    }

    pub fn app_id(&self) -> &str {
        &self.config.app_id
    }

    /// A signed request for `method` with `biz_content`.
    fn request(
        &self,
        method: &str,
        biz_content: &Value,
        notify: bool,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let timestamp = beijing(now);
        let biz = biz_content.to_string();
        let mut params: Vec<(&str, &str)> = vec![
            ("app_id", &self.config.app_id),
            ("method", method),
            ("format", "JSON"),
            ("charset", "utf-8"),
            ("sign_type", "RSA2"),
            ("timestamp", &timestamp),
            ("version", "1.0"),
            ("biz_content", &biz),
        ];
        if notify {
            params.push(("notify_url", &self.config.notify_url));
        }
        let content = sign_content(params.iter().copied(), &["sign"]);
        let sign = self.config.app_key.sign_base64(content.as_bytes())?;
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params {
            form.append_pair(k, v);
        }
        form.append_pair("sign", &sign);
        Ok(ChannelRequest {
            method: HttpMethod::Post,
            url: self.config.gateway.clone(),
            headers: vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded;charset=utf-8".into(),
            )],
            body: form.finish().into_bytes(),
        })
    }

    /// The answer to `method`, its signature checked on the exact bytes of its response
    /// object: the success's fields, or the failure Alipay signed.
    fn reply(
        &self,
        method: &str,
        response: &ChannelResponse,
    ) -> Result<Result<Reply, Failure>, ChannelError> {
        let node_name = format!("{}_response", method.replace('.', "_"));
        let envelope: BTreeMap<String, &RawValue> = serde_json::from_slice(&response.body)
            .map_err(|e| malformed("answer", e.to_string()))?;
        let node = envelope
            .get(&node_name)
            .or_else(|| envelope.get("error_response"))
            .ok_or_else(|| malformed("answer", format!("no `{node_name}`")))?;
        let fields: Map<String, Value> =
            serde_json::from_str(node.get()).map_err(|e| malformed("answer", e.to_string()))?;
        let sign = envelope
            .get("sign")
            .and_then(|s| serde_json::from_str::<String>(s.get()).ok());
        let succeeded = fields.get("code").and_then(Value::as_str) == Some(SUCCESS);
        match sign {
            Some(sign)
                if self
                    .config
                    .platform_key
                    .verify_base64(node.get().as_bytes(), &sign) => {}
            // Alipay leaves some gateway errors unsigned; such an answer can only be an error,
            // and says nothing we act on (not even "no such trade").
            None if !succeeded => return Err(Failure::of(&fields).refused()),
            _ => return Err(ChannelError::BadSignature { channel: ALIPAY }),
        }
        Ok(if succeeded {
            Ok(Reply { fields })
        } else {
            Err(Failure::of(&fields))
        })
    }
}

impl PaymentChannel for Alipay {
    fn name(&self) -> &'static str {
        ALIPAY
    }

    fn statements(&self) -> Option<&dyn super::statement::StatementChannel> {
        Some(self)
    }

    /// `alipay.trade.precreate`: a trade the buyer pays by scanning the answer's QR code.
    fn create_payment(
        &self,
        payment: &Payment,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let biz = json!({
            "out_trade_no": payment.channel_payment_id.0,
            "total_amount": yuan(&payment.amount)?,
            "subject": subject,
        });
        self.request("alipay.trade.precreate", &biz, true, now)
    }

    fn read_created(&self, response: &ChannelResponse) -> Result<Created, ChannelError> {
        let reply = self
            .reply("alipay.trade.precreate", response)?
            .map_err(Failure::refused)?;
        Ok(Created {
            action: ClientAction::QrCode(reply.required("qr_code")?.to_owned()),
            reference: None,
        })
    }

    /// `alipay.trade.query` of the payment.
    fn query_payment(
        &self,
        payment: &Payment,
        _reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let biz = json!({"out_trade_no": payment.channel_payment_id.0});
        self.request("alipay.trade.query", &biz, false, now)
    }

    fn read_payment_state(&self, response: &ChannelResponse) -> Result<PaymentState, ChannelError> {
        match self.reply("alipay.trade.query", response)? {
            Ok(reply) => trade_state(
                reply.required("trade_status")?,
                reply.text("total_amount"),
                reply.text("trade_no"),
            ),
            Err(f) if f.code == "ACQ.TRADE_NOT_EXIST" => Ok(PaymentState::Unknown),
            Err(f) => Err(f.refused()),
        }
    }

    /// `alipay.trade.close` of an unpaid payment.
    fn close_payment(
        &self,
        payment: &Payment,
        _reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let biz = json!({"out_trade_no": payment.channel_payment_id.0});
        self.request("alipay.trade.close", &biz, false, now)
    }

    fn read_closing(&self, response: &ChannelResponse) -> Result<Closing, ChannelError> {
        match self.reply("alipay.trade.close", response)? {
            Ok(_) => Ok(Closing::Closed),
            Err(f) if f.code == "ACQ.TRADE_NOT_EXIST" => Ok(Closing::NeverCreated),
            // Paid or finished: not closable. What it is, a query says.
            Err(f) if f.code == "ACQ.TRADE_STATUS_ERROR" => Ok(Closing::QueryFirst),
            Err(f) => Err(f.refused()),
        }
    }

    /// `alipay.trade.refund` of `refund`, keyed by our refund's channel id
    /// (`out_request_no`), so a retry is the same refund.
    fn refund(
        &self,
        refund: &Refund,
        payment: &Payment,
        _reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let biz = json!({
            "out_trade_no": payment.channel_payment_id.0,
            "out_request_no": refund.channel_refund_id.0,
            "refund_amount": yuan(&refund.amount)?,
            "refund_reason": refund.reason,
        });
        self.request("alipay.trade.refund", &biz, false, now)
    }

    /// The refund's answer: `fund_change` `Y` is money moved now; `N` is a request Alipay
    /// had already taken (a retry), whose outcome the refund query gives.
    fn read_refund(
        &self,
        refund: &Refund,
        response: &ChannelResponse,
    ) -> Result<RefundState, ChannelError> {
        match self.reply("alipay.trade.refund", response)? {
            Ok(reply) if reply.text("fund_change") == Some("Y") => Ok(RefundState::Succeeded {
                amount: refund.amount,
            }),
            Ok(_) => Ok(RefundState::Processing),
            Err(f) => Err(f.refused()),
        }
    }

    /// `alipay.trade.fastpay.refund.query` of `refund`.
    fn query_refund(
        &self,
        refund: &Refund,
        payment: &Payment,
        _reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let biz = json!({
            "out_trade_no": payment.channel_payment_id.0,
            "out_request_no": refund.channel_refund_id.0,
        });
        self.request("alipay.trade.fastpay.refund.query", &biz, false, now)
    }

    /// A refund query's answer: a refund Alipay knows has `refund_amount`, and succeeded when
    /// `refund_status` is `REFUND_SUCCESS` or absent (Alipay's own rule); an answer without
    /// `refund_amount` is a refund it does not know.
    fn read_refund_state(
        &self,
        _refund: &Refund,
        response: &ChannelResponse,
    ) -> Result<RefundState, ChannelError> {
        let reply = self
            .reply("alipay.trade.fastpay.refund.query", response)?
            .map_err(Failure::refused)?;
        let Some(amount) = reply.text("refund_amount") else {
            return Ok(RefundState::Unknown);
        };
        match reply.text("refund_status") {
            None | Some("REFUND_SUCCESS") => Ok(RefundState::Succeeded {
                amount: read_yuan("refund_amount", amount)?,
            }),
            Some("REFUND_PROCESSING") => Ok(RefundState::Processing),
            Some(other) => Ok(RefundState::Failed {
                reason: format!("refund_status `{other}`"),
            }),
        }
    }

    /// A notification's form body, verified with Alipay's key and checked to be for this app.
    fn notification(
        &self,
        inbound: Inbound<'_>,
        _now: DateTime<Utc>,
    ) -> Result<Notice, ChannelError> {
        let params: Vec<(String, String)> = url::form_urlencoded::parse(inbound.body)
            .into_owned()
            .collect();
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let sign = get("sign").ok_or(ChannelError::BadSignature { channel: ALIPAY })?;
        if get("sign_type").is_some_and(|t| t != "RSA2") {
            return Err(ChannelError::BadSignature { channel: ALIPAY });
        }
        let content = sign_content(
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &["sign", "sign_type"],
        );
        if !self
            .config
            .platform_key
            .verify_base64(content.as_bytes(), sign)
        {
            return Err(ChannelError::BadSignature { channel: ALIPAY });
        }
        if get("app_id") != Some(self.config.app_id.as_str()) {
            return Err(ChannelError::NotForUs {
                channel: ALIPAY,
                reason: "the notification is for another app".into(),
            });
        }
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| malformed("notification", format!("no `{name}`")))
        };
        let notice_id = required("notify_id")?.to_owned();
        let channel_payment_id = required("out_trade_no")?.to_owned();
        // A refund's notification names the refund (`out_biz_no`) and the trade's refunded
        // total; the refund's own amount and outcome come from a refund query.
        if let Some(refund) = get("out_biz_no").filter(|v| !v.is_empty()) {
            return Ok(Notice {
                notice_id,
                channel_payment_id,
                state: NoticeState::RefundChanged {
                    channel_refund_id: refund.to_owned(),
                },
            });
        }
        let state = trade_state(
            required("trade_status")?,
            get("total_amount"),
            get("trade_no"),
        )?;
        Ok(Notice {
            notice_id,
            channel_payment_id,
            state: NoticeState::Payment(state),
        })
    }

    /// What Alipay is answered: `success` once the notification is taken (it retries anything
    /// else, for about a day).
    fn acknowledge(&self, accepted: bool) -> Acknowledgement {
        Acknowledgement {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body: if accepted {
                b"success".to_vec()
            } else {
                b"fail".to_vec()
            },
        }
    }
}

#[cfg(test)]
mod tests;
