//! WeChat Pay's side of the protocol, for the simulated channel and for tests: answers and
//! notifications signed with a platform key under its serial, resources sealed under the
//! merchant's APIv3 key, and the check of a merchant's `Authorization` header that the real
//! API makes before it answers.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::wire::{self, ApiV3Key, SCHEME};
use super::{TOLERANCE, nonce};
use crate::channels::keys::{SigningKey, VerifyingKey};
use crate::channels::{BEIJING, ChannelError, ChannelResponse};

pub struct WechatPlatform {
    serial: String,
    key: SigningKey,
    apiv3: ApiV3Key,
}

/// A notification ready to post: its headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNotification {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl WechatPlatform {
    pub fn new(serial: impl Into<String>, key: SigningKey, apiv3: ApiV3Key) -> WechatPlatform {
        WechatPlatform {
            serial: serial.into(),
            key,
            apiv3,
        }
    }

    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The `Wechatpay-*` headers that sign `body` at `at`.
    pub fn sign(
        &self,
        body: &[u8],
        at: DateTime<Utc>,
    ) -> Result<Vec<(String, String)>, ChannelError> {
        let (timestamp, nonce) = (at.timestamp().to_string(), nonce(32));
        let signature = self
            .key
            .sign_base64(&wire::answer_message(&timestamp, &nonce, body))?;
        Ok(vec![
            ("wechatpay-timestamp".into(), timestamp),
            ("wechatpay-nonce".into(), nonce),
            ("wechatpay-signature".into(), signature),
            ("wechatpay-serial".into(), self.serial.clone()),
            ("wechatpay-signature-type".into(), SCHEME.into()),
        ])
    }

    /// A signed answer: `status`, and `body` as JSON (none for `Value::Null`).
    pub fn answer(
        &self,
        status: u16,
        body: &Value,
        at: DateTime<Utc>,
    ) -> Result<ChannelResponse, ChannelError> {
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let mut headers = self.sign(&body, at)?;
        headers.push(("content-type".into(), "application/json".into()));
        Ok(ChannelResponse {
            status,
            headers,
            body,
        })
    }

    /// A notification of `event_type` whose resource (`original_type`: `transaction` or
    /// `refund`) is `plain`, sealed and signed at `at`.
    pub fn notification(
        &self,
        id: &str,
        event_type: &str,
        original_type: &str,
        plain: &Value,
        at: DateTime<Utc>,
    ) -> Result<SignedNotification, ChannelError> {
        let resource =
            self.apiv3
                .seal(original_type, original_type, plain.to_string().as_bytes())?;
        let envelope = json!({
            "id": id,
            "create_time": at
                .with_timezone(&BEIJING)
                .to_rfc3339_opts(SecondsFormat::Secs, false),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": "",
            "resource": resource,
        });
        let body = envelope.to_string().into_bytes();
        let mut headers = self.sign(&body, at)?;
        headers.push(("content-type".into(), "application/json".into()));
        Ok(SignedNotification { headers, body })
    }

    /// Whether `authorization` is `merchant`'s valid signature of this request, made within
    /// the tolerance of `now`, and names `mchid`.
    pub fn verify_request(
        merchant: &VerifyingKey,
        mchid: &str,
        authorization: &str,
        request: (&str, &str, &[u8]),
        now: DateTime<Utc>,
    ) -> bool {
        let (method, path, body) = request;
        let Some(params) = authorization.strip_prefix(SCHEME).map(str::trim) else {
            return false;
        };
        let field = |name: &str| {
            params.split(',').find_map(|part| {
                let (k, v) = part.trim().split_once('=')?;
                (k == name).then(|| v.trim_matches('"').to_owned())
            })
        };
        let (Some(who), Some(nonce), Some(signature), Some(timestamp)) = (
            field("mchid"),
            field("nonce_str"),
            field("signature"),
            field("timestamp").and_then(|t| t.parse::<i64>().ok()),
        ) else {
            return false;
        };
        let fresh = (now.timestamp() - timestamp).abs() <= TOLERANCE.num_seconds();
        let Ok(body) = std::str::from_utf8(body) else {
            return false;
        };
        let message = wire::request_message(method, path, timestamp, &nonce, body);
        who == mchid && fresh && merchant.verify_base64(message.as_bytes(), &signature)
    }
}
