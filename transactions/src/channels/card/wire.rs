//! Stripe's wire format, as far as the card adapter reads it: the PaymentIntent and Refund
//! objects, a list of refunds, the error body, and amounts in minor units.

use std::collections::BTreeMap;

use arbiter_engine::money::Money;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::channels::{ChannelError, ChannelResponse, PaymentState, RefundState};
use crate::payment::CARD;

pub(super) fn malformed(what: &'static str, reason: impl Into<String>) -> ChannelError {
    ChannelError::Malformed {
        channel: CARD,
        what,
        reason: reason.into(),
    }
}

/// Minor units, as Stripe writes amounts.
pub(super) fn minor(amount: &Money) -> Result<i64, ChannelError> {
    amount
        .checked_minor_units()
        .ok_or_else(|| malformed("amount", "not a whole number of minor units"))
}

/// An amount Stripe wrote: minor units and a lower-case currency.
fn money(amount: i64, currency: &str) -> Result<Money, ChannelError> {
    Money::from_stored(amount, &currency.to_ascii_uppercase()).ok_or(ChannelError::Currency {
        channel: CARD,
        currency: currency.to_owned(),
    })
}

/// `{"error": {...}}`, with a 4xx or 5xx status.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ApiError,
}

#[derive(Debug, Deserialize)]
pub(super) struct ApiError {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl ApiError {
    pub(super) fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    pub(super) fn refused(self) -> ChannelError {
        ChannelError::Refused {
            channel: CARD,
            code: self.code.unwrap_or(self.kind),
            message: self.message.unwrap_or_default(),
        }
    }
}

/// The answer as a `T` (2xx) or Stripe's error (4xx, 5xx with an error body).
pub(super) fn answer<T: DeserializeOwned>(
    response: &ChannelResponse,
) -> Result<Result<T, ApiError>, ChannelError> {
    if (200..300).contains(&response.status) {
        return serde_json::from_slice(&response.body)
            .map(Ok)
            .map_err(|e| malformed("answer", e.to_string()));
    }
    match serde_json::from_slice::<ErrorBody>(&response.body) {
        Ok(body) => Ok(Err(body.error)),
        Err(_) => Err(ChannelError::Refused {
            channel: CARD,
            code: response.status.to_string(),
            message: "an answer without Stripe's error body".into(),
        }),
    }
}

/// A PaymentIntent.
#[derive(Debug, Deserialize)]
pub(super) struct Intent {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub amount_received: i64,
    pub currency: String,
    #[serde(default)]
    pub client_secret: Option<String>,
}

impl Intent {
    /// `succeeded` is paid (for what was received), `canceled` closed, anything else waits for
    /// the buyer (`requires_payment_method`, `requires_confirmation`, `requires_action`,
    /// `processing`).
    pub(super) fn state(&self) -> Result<PaymentState, ChannelError> {
        Ok(match self.status.as_str() {
            "succeeded" => PaymentState::Paid {
                amount: money(self.amount_received, &self.currency)?,
                channel_trade_id: self.id.clone(),
            },
            "canceled" => PaymentState::Closed,
            _ => PaymentState::Pending,
        })
    }
}

/// A Refund.
#[derive(Debug, Deserialize)]
pub(super) struct StripeRefund {
    pub status: String,
    pub amount: i64,
    pub currency: String,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub failure_reason: Option<String>,
}

impl StripeRefund {
    /// `succeeded`; `failed` or `canceled`; anything else (`pending`, `requires_action`) is
    /// still under way.
    pub(super) fn state(&self) -> Result<RefundState, ChannelError> {
        Ok(match self.status.as_str() {
            "succeeded" => RefundState::Succeeded {
                amount: money(self.amount, &self.currency)?,
            },
            "failed" | "canceled" => RefundState::Failed {
                reason: self
                    .failure_reason
                    .clone()
                    .unwrap_or_else(|| format!("refund status `{}`", self.status)),
            },
            _ => RefundState::Processing,
        })
    }
}

/// `{"object": "list", "data": [...], "has_more": …}`.
#[derive(Debug, Deserialize)]
pub(super) struct RefundList {
    pub data: Vec<StripeRefund>,
    #[serde(default)]
    pub has_more: bool,
}
