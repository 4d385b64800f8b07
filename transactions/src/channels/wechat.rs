//! WeChat Pay API v3, as its official SDKs speak it.
//!
//! - **Requests** are JSON over HTTPS, each with `Authorization: WECHATPAY2-SHA256-RSA2048
//!   mchid=…,nonce_str=…,signature=…,timestamp=…,serial_no=…`: SHA256withRSA by the merchant's
//!   API key over `"{METHOD}\n{path?query}\n{timestamp}\n{nonce}\n{body}\n"`, `serial_no` naming
//!   the merchant certificate that key belongs to.
//! - **Answers and notifications** are signed by WeChat Pay over
//!   `"{Wechatpay-Timestamp}\n{Wechatpay-Nonce}\n{body}\n"` with the platform key that
//!   `Wechatpay-Serial` names (a platform certificate's serial or a `PUB_KEY_ID_…`); several
//!   keys are held at once so a rotation needs no restart, and an unknown serial is refused. A
//!   notification's timestamp must be within [`TOLERANCE`] of now (a replay is refused), and its
//!   `resource` is sealed with AEAD_AES_256_GCM under the APIv3 key: tampering fails to open.
//!   An answer without a valid signature is at most an error, never a fact about a payment.
//! - A notification is answered with `204` once taken; anything else makes WeChat Pay retry.
//!
//! Operations: Native pay (a `code_url` for a QR code), query by `out_trade_no`, close, refund
//! and refund query. Amounts are fen; only CNY.

mod notification;
pub mod platform;
pub mod statement;
mod wire;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::keys::{SigningKey, VerifyingKey};
use super::{
    Acknowledgement, ChannelError, ChannelRequest, ChannelResponse, ClientAction, Closing, Created,
    HttpMethod, Inbound, Notice, PaymentChannel, PaymentState, RefundState,
};
use crate::payment::{Payment, Refund};
pub use wire::{ApiV3Key, Envelope, Resource, SCHEME, answer_message, request_message};
use wire::{RefundRecord, Transaction, fen, malformed, refund_state, trade_state};

/// The channel's name: in accounts (`channel_clearing:wechat`), routing and the callback log.
pub const WECHAT: &str = "wechat";
/// WeChat Pay's API host.
pub const BASE_URL: &str = "https://api.mch.weixin.qq.com";
/// How far a notification's timestamp may be from now: WeChat Pay's SDKs use five minutes.
pub const TOLERANCE: Duration = Duration::minutes(5);

/// What a WeChat Pay merchant is configured with.
pub struct WechatConfig {
    pub mchid: String,
    /// The app (official account, mini program) the payments are for.
    pub appid: String,
    /// [`BASE_URL`], or a simulator's.
    pub base_url: String,
    /// Where WeChat Pay posts notifications (our `/v1/webhooks/wechat`).
    pub notify_url: String,
    /// The merchant API certificate's serial, which `serial_no` names.
    pub merchant_serial: String,
    pub merchant_key: SigningKey,
    pub apiv3_key: ApiV3Key,
    /// The platform's public keys by serial: two during a rotation.
    pub platform_keys: Vec<(String, VerifyingKey)>,
}

pub struct Wechat {
    config: WechatConfig,
    /// The platform keys by serial, replaced whole when the operator rotates one in
    /// ([`Wechat::replace_platform_keys`]); `config.platform_keys` is only the first set.
    platform_keys: std::sync::RwLock<Vec<(String, VerifyingKey)>>,
}

/// `len` random characters from `[0-9A-Z]`, for nonces.
pub(crate) fn nonce(len: usize) -> String {
    const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut bytes = vec![0u8; len];
    // The system's randomness does not fail on the platforms we run on; a zeroed nonce would
    // still be a valid (if predictable) one.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// A verified answer: the status and the body WeChat Pay signed.
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    fn refused(&self) -> ChannelError {
        ChannelError::Refused {
            channel: WECHAT,
            code: if self.code().is_empty() {
                self.status.to_string()
            } else {
                self.code().to_owned()
            },
            message: self
                .body
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

impl Wechat {
    pub fn new(config: WechatConfig) -> Wechat {
        let keys = config.platform_keys.clone();
        Wechat {
            config,
            platform_keys: std::sync::RwLock::new(keys),
        }
    }

    /// Replaces the platform keys (a rotation without a restart: the new key beside the old
    /// until the old is retired); the serials now held.
    pub fn replace_platform_keys(&self, keys: Vec<(String, VerifyingKey)>) -> Vec<String> {
        let serials = keys.iter().map(|(s, _)| s.clone()).collect();
        *self
            .platform_keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = keys;
        serials
    }

    /// The serials of the platform keys held now.
    pub fn platform_serials(&self) -> Vec<String> {
        self.platform_keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(s, _)| s.clone())
            .collect()
    }

    pub fn mchid(&self) -> &str {
        &self.config.mchid
    }

    /// A signed request to `path` (with its query) on the API host.
    fn request(
        &self,
        method: HttpMethod,
        path: &str,
        body: Option<&Value>,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let body = body.map(Value::to_string).unwrap_or_default();
        let verb = match method {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        };
        let nonce = nonce(32);
        let timestamp = now.timestamp();
        let message = request_message(verb, path, timestamp, &nonce, &body);
        let signature = self.config.merchant_key.sign_base64(message.as_bytes())?;
        let mut headers = vec![
            (
                "authorization".to_owned(),
                wire::authorization(
                    &self.config.mchid,
                    &nonce,
                    &signature,
                    timestamp,
                    &self.config.merchant_serial,
                ),
            ),
            ("accept".to_owned(), "application/json".to_owned()),
        ];
        if method == HttpMethod::Post {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        Ok(ChannelRequest {
            method,
            url: format!("{}{path}", self.config.base_url),
            headers,
            body: body.into_bytes(),
        })
    }

    /// The platform key `serial` names.
    fn platform_key(&self, serial: &str) -> Result<VerifyingKey, ChannelError> {
        self.platform_keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .find(|(s, _)| s == serial)
            .map(|(_, k)| k.clone())
            .ok_or_else(|| ChannelError::UnknownKey {
                channel: WECHAT,
                serial: serial.chars().take(64).collect(),
            })
    }

    /// Whether the `Wechatpay-*` headers carry a valid signature of `body`.
    fn verify(
        &self,
        header: impl Fn(&str) -> Option<String>,
        body: &[u8],
    ) -> Result<(), ChannelError> {
        let bad = ChannelError::BadSignature { channel: WECHAT };
        if header("wechatpay-signature-type").is_some_and(|t| t != SCHEME) {
            return Err(bad);
        }
        let (Some(signature), Some(timestamp), Some(nonce), Some(serial)) = (
            header("wechatpay-signature"),
            header("wechatpay-timestamp"),
            header("wechatpay-nonce"),
            header("wechatpay-serial"),
        ) else {
            return Err(bad);
        };
        let key = self.platform_key(&serial)?;
        if key.verify_base64(&answer_message(&timestamp, &nonce, body), &signature) {
            Ok(())
        } else {
            Err(bad)
        }
    }

    /// An answer whose signature verified; an unsigned (or badly signed) error is only a
    /// refusal, an unsigned success is refused outright.
    fn answer(&self, response: &ChannelResponse) -> Result<Answer, ChannelError> {
        let body = if response.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&response.body)
                .map_err(|e| malformed("answer", e.to_string()))?
        };
        let answer = Answer {
            status: response.status,
            body,
        };
        let header = |name: &str| response.header(name).map(str::to_owned);
        match self.verify(header, &response.body) {
            Ok(()) => Ok(answer),
            Err(_) if !(200..300).contains(&response.status) => Err(answer.refused()),
            Err(e) => Err(e),
        }
    }

    /// A successful, verified answer parsed as `T`.
    fn read<T: serde::de::DeserializeOwned>(
        &self,
        what: &'static str,
        answer: Answer,
    ) -> Result<T, ChannelError> {
        if !(200..300).contains(&answer.status) {
            return Err(answer.refused());
        }
        serde_json::from_value(answer.body).map_err(|e| malformed(what, e.to_string()))
    }

    fn ours(&self, mchid: &str) -> Result<(), ChannelError> {
        if mchid == self.config.mchid {
            Ok(())
        } else {
            Err(ChannelError::NotForUs {
                channel: WECHAT,
                reason: "for another merchant".into(),
            })
        }
    }
}

impl PaymentChannel for Wechat {
    fn name(&self) -> &'static str {
        WECHAT
    }

    fn statements(&self) -> Option<&dyn super::statement::StatementChannel> {
        Some(self)
    }

    /// Native pay: the answer's `code_url` is what the buyer scans.
    fn create_payment(
        &self,
        payment: &Payment,
        description: &str,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let body = json!({
            "appid": self.config.appid,
            "mchid": self.config.mchid,
            "description": description,
            "out_trade_no": payment.channel_payment_id.0,
            "notify_url": self.config.notify_url,
            "amount": {"total": fen(&payment.amount)?, "currency": "CNY"},
        });
        self.request(
            HttpMethod::Post,
            "/v3/pay/transactions/native",
            Some(&body),
            now,
        )
    }

    fn read_created(&self, response: &ChannelResponse) -> Result<Created, ChannelError> {
        #[derive(serde::Deserialize)]
        struct Prepay {
            code_url: String,
        }
        let created: Prepay = self.read("prepay", self.answer(response)?)?;
        Ok(Created {
            action: ClientAction::QrCode(created.code_url),
            reference: None,
        })
    }

    fn query_payment(
        &self,
        payment: &Payment,
        _reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{}?mchid={}",
            payment.channel_payment_id.0, self.config.mchid
        );
        self.request(HttpMethod::Get, &path, None, now)
    }

    fn read_payment_state(&self, response: &ChannelResponse) -> Result<PaymentState, ChannelError> {
        let answer = self.answer(response)?;
        if answer.status == 404 && answer.code() == "ORDER_NOT_EXIST" {
            return Ok(PaymentState::Unknown);
        }
        let transaction: Transaction = self.read("transaction", answer)?;
        self.ours(&transaction.mchid)?;
        trade_state(&transaction)
    }

    fn close_payment(
        &self,
        payment: &Payment,
        _reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{}/close",
            payment.channel_payment_id.0
        );
        self.request(
            HttpMethod::Post,
            &path,
            Some(&json!({"mchid": self.config.mchid})),
            now,
        )
    }

    /// `204` is closed; `ORDER_NOT_EXIST` never created; any other refusal the channel signed
    /// (paid, or finished) is for a query to settle. Unsigned refusals settle nothing.
    fn read_closing(&self, response: &ChannelResponse) -> Result<Closing, ChannelError> {
        let answer = self.answer(response)?;
        match (answer.status, answer.code()) {
            (200..=299, _) => Ok(Closing::Closed),
            (_, "ORDER_NOT_EXIST") => Ok(Closing::NeverCreated),
            (400..=499, _) => Ok(Closing::QueryFirst),
            _ => Err(answer.refused()),
        }
    }

    fn refund(
        &self,
        refund: &Refund,
        payment: &Payment,
        _reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let body = json!({
            "out_trade_no": payment.channel_payment_id.0,
            "out_refund_no": refund.channel_refund_id.0,
            "reason": refund.reason,
            "notify_url": self.config.notify_url,
            "amount": {
                "refund": fen(&refund.amount)?,
                "total": fen(&payment.amount)?,
                "currency": "CNY",
            },
        });
        self.request(
            HttpMethod::Post,
            "/v3/refund/domestic/refunds",
            Some(&body),
            now,
        )
    }

    /// The refund's answer: the refund as the channel holds it.
    fn read_refund(
        &self,
        refund: &Refund,
        response: &ChannelResponse,
    ) -> Result<RefundState, ChannelError> {
        self.read_refund_state(refund, response)
    }

    /// A refund query's answer (the same shape as the refund's).
    fn read_refund_state(
        &self,
        _refund: &Refund,
        response: &ChannelResponse,
    ) -> Result<RefundState, ChannelError> {
        let answer = self.answer(response)?;
        if answer.status == 404 && answer.code() == "RESOURCE_NOT_EXISTS" {
            return Ok(RefundState::Unknown);
        }
        let record: RefundRecord = self.read("refund", answer)?;
        refund_state(&record)
    }

    fn query_refund(
        &self,
        refund: &Refund,
        _payment: &Payment,
        _reference: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ChannelRequest, ChannelError> {
        let path = format!("/v3/refund/domestic/refunds/{}", refund.channel_refund_id.0);
        self.request(HttpMethod::Get, &path, None, now)
    }

    fn notification(
        &self,
        inbound: Inbound<'_>,
        now: DateTime<Utc>,
    ) -> Result<Notice, ChannelError> {
        self.verified_notice(inbound, now)
    }

    /// `204` once taken; otherwise a 500 in WeChat Pay's error form, and it retries.
    fn acknowledge(&self, accepted: bool) -> Acknowledgement {
        notification::acknowledgement(accepted)
    }
}

#[cfg(test)]
mod tests;
