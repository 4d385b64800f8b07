//! WeChat Pay API v3's wire format, without keys: the two signed messages, the `Authorization`
//! header, the encrypted `resource` of a notification (AEAD_AES_256_GCM under the APIv3 key),
//! amounts in fen and the trade- and refund-state tables.

use arbiter_engine::money::Money;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use iso_currency::Currency;
use serde::{Deserialize, Serialize};

use super::WECHAT;
use crate::channels::{ChannelError, PaymentState, RefundState};

/// The signature scheme's name, in `Authorization` and `Wechatpay-Signature-Type`.
pub const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// What a merchant signs for a request: `"{METHOD}\n{path?query}\n{timestamp}\n{nonce}\n{body}\n"`.
pub fn request_message(
    method: &str,
    path: &str,
    timestamp: i64,
    nonce: &str,
    body: &str,
) -> String {
    format!("{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n")
}

/// What WeChat Pay signs for an answer or a notification: `"{timestamp}\n{nonce}\n{body}\n"`.
pub fn answer_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(body.len() + 64);
    message.extend_from_slice(timestamp.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(nonce.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(body);
    message.push(b'\n');
    message
}

/// The `Authorization` header value.
pub fn authorization(
    mchid: &str,
    nonce: &str,
    signature: &str,
    timestamp: i64,
    serial: &str,
) -> String {
    format!(
        r#"{SCHEME} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",timestamp="{timestamp}",serial_no="{serial}""#
    )
}

/// The APIv3 key: 32 bytes set in the merchant platform, which notifications' resources are
/// encrypted under. Never printed.
#[derive(Clone)]
pub struct ApiV3Key([u8; 32]);

impl std::fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiV3Key(..)")
    }
}

impl ApiV3Key {
    /// The key as the merchant platform shows it: 32 ASCII characters.
    pub fn parse(text: &str) -> Result<ApiV3Key, ChannelError> {
        let bytes: [u8; 32] = text
            .trim()
            .as_bytes()
            .try_into()
            .map_err(|_| ChannelError::Key {
                what: "WeChat Pay APIv3 key",
                reason: "must be 32 characters".into(),
            })?;
        Ok(ApiV3Key(bytes))
    }

    fn key(&self) -> Result<LessSafeKey, ChannelError> {
        UnboundKey::new(&AES_256_GCM, &self.0)
            .map(LessSafeKey::new)
            .map_err(|_| ChannelError::Key {
                what: "WeChat Pay APIv3 key",
                reason: "not an AES-256 key".into(),
            })
    }

    /// Opens a notification's resource: the plaintext, or `None` when it does not
    /// authenticate (tampered, or sealed under another key).
    pub fn open(&self, resource: &Resource) -> Result<Option<Vec<u8>>, ChannelError> {
        let Ok(nonce) = Nonce::try_assume_unique_for_key(resource.nonce.as_bytes()) else {
            return Ok(None);
        };
        let Ok(mut sealed) = STANDARD.decode(&resource.ciphertext) else {
            return Ok(None);
        };
        let aad = Aad::from(
            resource
                .associated_data
                .as_deref()
                .unwrap_or_default()
                .as_bytes(),
        );
        Ok(self
            .key()?
            .open_in_place(nonce, aad, &mut sealed)
            .ok()
            .map(|plain| plain.to_vec()))
    }

    /// Seals `plain` as WeChat Pay does (for the simulated channel): a fresh 12-character
    /// nonce, base64 of ciphertext and tag.
    pub fn seal(
        &self,
        original_type: &str,
        associated_data: &str,
        plain: &[u8],
    ) -> Result<Resource, ChannelError> {
        let nonce = super::nonce(12);
        let mut in_out = plain.to_vec();
        self.key()?
            .seal_in_place_append_tag(
                Nonce::try_assume_unique_for_key(nonce.as_bytes())
                    .map_err(|_| malformed("nonce", "not 12 bytes"))?,
                Aad::from(associated_data.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| malformed("resource", "cannot be sealed"))?;
        Ok(Resource {
            original_type: original_type.into(),
            algorithm: "AEAD_AES_256_GCM".into(),
            ciphertext: STANDARD.encode(in_out),
            associated_data: Some(associated_data.into()),
            nonce,
        })
    }
}

/// A notification: its id, type, and the encrypted resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: String,
    pub create_time: String,
    pub resource_type: String,
    pub event_type: String,
    #[serde(default)]
    pub summary: String,
    pub resource: Resource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub original_type: String,
    pub algorithm: String,
    pub ciphertext: String,
    #[serde(default)]
    pub associated_data: Option<String>,
    pub nonce: String,
}

/// The amount of a transaction or a refund: fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    #[serde(default)]
    pub total: Option<i64>,
    #[serde(default)]
    pub refund: Option<i64>,
    #[serde(default = "cny")]
    pub currency: String,
}

fn cny() -> String {
    "CNY".into()
}

/// A transaction as queries answer and `TRANSACTION.*` notifications carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub mchid: String,
    pub out_trade_no: String,
    #[serde(default)]
    pub transaction_id: Option<String>,
    pub trade_state: String,
    #[serde(default)]
    pub amount: Option<Amount>,
}

/// A refund as the refund API answers and `REFUND.*` notifications carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRecord {
    #[serde(default)]
    pub mchid: Option<String>,
    pub out_trade_no: String,
    pub out_refund_no: String,
    /// `status` in answers, `refund_status` in notifications.
    #[serde(alias = "refund_status")]
    pub status: String,
    pub amount: Amount,
}

pub(super) fn malformed(what: &'static str, reason: impl Into<String>) -> ChannelError {
    ChannelError::Malformed {
        channel: WECHAT,
        what,
        reason: reason.into(),
    }
}

/// Fen of a CNY amount.
pub(super) fn fen(amount: &Money) -> Result<i64, ChannelError> {
    if amount.currency != Currency::CNY {
        return Err(ChannelError::Currency {
            channel: WECHAT,
            currency: amount.currency.code().to_owned(),
        });
    }
    amount
        .checked_minor_units()
        .ok_or_else(|| malformed("amount", "not a whole number of fen"))
}

/// A CNY amount of `fen`, positive.
pub(super) fn money(fen: Option<i64>, currency: &str) -> Result<Money, ChannelError> {
    let fen = fen
        .filter(|f| *f >= 0)
        .ok_or_else(|| malformed("amount", "missing or negative"))?;
    Money::from_stored(fen, currency)
        .filter(|m| m.currency == Currency::CNY)
        .ok_or_else(|| malformed("amount", format!("currency `{currency}`")))
}

/// A transaction's state.
pub(super) fn trade_state(t: &Transaction) -> Result<PaymentState, ChannelError> {
    match t.trade_state.as_str() {
        // PAYERROR: the bank declined; the buyer may scan and pay again.
        "NOTPAY" | "USERPAYING" | "PAYERROR" => Ok(PaymentState::Pending),
        // REFUND: paid, then (partly) refunded: refunds are followed on their own.
        "SUCCESS" | "REFUND" => {
            let amount = t
                .amount
                .as_ref()
                .ok_or_else(|| malformed("transaction", "paid without `amount`"))?;
            Ok(PaymentState::Paid {
                amount: money(amount.total, &amount.currency)?,
                channel_trade_id: t
                    .transaction_id
                    .clone()
                    .filter(|id| !id.is_empty())
                    .ok_or_else(|| malformed("transaction", "paid without `transaction_id`"))?,
            })
        }
        "CLOSED" | "REVOKED" => Ok(PaymentState::Closed),
        other => Err(malformed(
            "transaction",
            format!("unknown trade_state `{other}`"),
        )),
    }
}

/// A refund's state.
pub(super) fn refund_state(r: &RefundRecord) -> Result<RefundState, ChannelError> {
    match r.status.as_str() {
        "SUCCESS" => Ok(RefundState::Succeeded {
            amount: money(r.amount.refund, &r.amount.currency)?,
        }),
        "PROCESSING" => Ok(RefundState::Processing),
        "CLOSED" | "ABNORMAL" => Ok(RefundState::Failed {
            reason: format!("refund status `{}`", r.status),
        }),
        other => Err(malformed("refund", format!("unknown status `{other}`"))),
    }
}
