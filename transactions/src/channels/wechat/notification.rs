//! A WeChat Pay notification, taken apart in the order that keeps a forger from costing us
//! anything: the signature, serial and timestamp checked on the raw body first, then the
//! resource opened with the APIv3 key, then read and checked to be this merchant's.

use chrono::{DateTime, Utc};

use super::wire::{Envelope, RefundRecord, Transaction, malformed, refund_state, trade_state};
use super::{TOLERANCE, WECHAT, Wechat};
use crate::channels::{Acknowledgement, ChannelError, Inbound, Notice, NoticeState};

impl Wechat {
    /// A notification: signature, timestamp and serial checked on the raw body, then the
    /// resource opened with the APIv3 key and read.
    pub(super) fn verified_notice(
        &self,
        inbound: Inbound<'_>,
        now: DateTime<Utc>,
    ) -> Result<Notice, ChannelError> {
        let header = |name: &str| inbound.header(name).map(str::to_owned);
        self.verify(header, inbound.body)?;
        let timestamp: i64 = inbound
            .header("wechatpay-timestamp")
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| malformed("notification", "Wechatpay-Timestamp is not a number"))?;
        if (now.timestamp() - timestamp).abs() > TOLERANCE.num_seconds() {
            return Err(ChannelError::NotForUs {
                channel: WECHAT,
                reason: format!(
                    "signed at {timestamp}, outside {} s of now",
                    TOLERANCE.num_seconds()
                ),
            });
        }
        let envelope: Envelope = serde_json::from_slice(inbound.body)
            .map_err(|e| malformed("notification", e.to_string()))?;
        if envelope.resource.algorithm != "AEAD_AES_256_GCM" {
            return Err(malformed(
                "notification",
                format!("algorithm `{}`", envelope.resource.algorithm),
            ));
        }
        let plain = self
            .config
            .apiv3_key
            .open(&envelope.resource)?
            .ok_or(ChannelError::BadSignature { channel: WECHAT })?;
        if envelope.event_type.starts_with("REFUND.") {
            let record: RefundRecord =
                serde_json::from_slice(&plain).map_err(|e| malformed("refund", e.to_string()))?;
            if let Some(mchid) = &record.mchid {
                self.ours(mchid)?;
            }
            return Ok(Notice {
                notice_id: envelope.id,
                channel_payment_id: record.out_trade_no.clone(),
                state: NoticeState::Refund {
                    channel_refund_id: record.out_refund_no.clone(),
                    state: refund_state(&record)?,
                },
            });
        }
        let transaction: Transaction =
            serde_json::from_slice(&plain).map_err(|e| malformed("transaction", e.to_string()))?;
        self.ours(&transaction.mchid)?;
        Ok(Notice {
            notice_id: envelope.id,
            channel_payment_id: transaction.out_trade_no.clone(),
            state: NoticeState::Payment(trade_state(&transaction)?),
        })
    }
}

/// `204` once taken; otherwise a 500 in WeChat Pay's error form, and it retries.
pub(super) fn acknowledgement(accepted: bool) -> Acknowledgement {
    if accepted {
        Acknowledgement {
            status: 204,
            content_type: "application/json",
            body: Vec::new(),
        }
    } else {
        Acknowledgement {
            status: 500,
            content_type: "application/json",
            body: br#"{"code":"FAIL","message":"not taken; send it again"}"#.to_vec(),
        }
    }
}
