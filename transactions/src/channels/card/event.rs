//! The card channel's events as they reach our webhook: `Stripe-Signature` checked over the
//! raw body with the endpoint secret before anything parses it (see [`crate::signature`]),
//! then the event read into a [`Notice`]. One reader for the webhook route and the adapter.

use chrono::{DateTime, Duration, Utc};

use crate::channels::{ChannelError, Notice};
use crate::ids::EventId;
use crate::payment::{CARD, ChannelEvent};
use crate::signature::verify;

/// Why an event was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    /// The signature is missing or does not verify: `reason` is `missing`, `malformed`,
    /// `stale` or `mismatch`. Nothing of the body was read.
    Unverified {
        reason: &'static str,
        detail: String,
    },
    /// Signed, but not an event we read.
    Malformed(String),
    /// Signed and read, but its amount is in a currency we do not know: it cannot be the
    /// payment's.
    Mismatch { event_id: EventId, detail: String },
}

impl EventError {
    pub fn into_channel_error(self) -> ChannelError {
        match self {
            EventError::Unverified {
                reason: "stale",
                detail,
            } => ChannelError::NotForUs {
                channel: CARD,
                reason: detail,
            },
            EventError::Unverified { .. } => ChannelError::BadSignature { channel: CARD },
            EventError::Malformed(reason) | EventError::Mismatch { detail: reason, .. } => {
                ChannelError::Malformed {
                    channel: CARD,
                    what: "event",
                    reason,
                }
            }
        }
    }
}

/// Verifies `signature` over `raw` with `secret` (within `tolerance` of `now`), then reads the
/// event.
pub fn read(
    secret: &[u8],
    tolerance: Duration,
    signature: Option<&str>,
    raw: &[u8],
    now: DateTime<Utc>,
) -> Result<Notice, EventError> {
    let Some(header) = signature else {
        return Err(EventError::Unverified {
            reason: "missing",
            detail: "no signature header".into(),
        });
    };
    verify(secret, header, raw, now.timestamp(), tolerance).map_err(|e| {
        EventError::Unverified {
            reason: e.reason(),
            detail: e.to_string(),
        }
    })?;
    let event = ChannelEvent::parse(raw).map_err(|e| EventError::Malformed(e.to_string()))?;
    event.notice().map_err(|detail| EventError::Mismatch {
        event_id: event.id.clone(),
        detail,
    })
}
