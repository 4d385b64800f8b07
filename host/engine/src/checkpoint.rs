//! The checkpoints a caller asks about (the `event` of a request).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Checkpoint {
    #[serde(rename = "order.create")]
    OrderCreate,
    #[serde(rename = "payment.authorize")]
    PaymentAuthorize,
    #[serde(rename = "refund.request")]
    RefundRequest,
    #[serde(rename = "account.login")]
    AccountLogin,
    #[serde(rename = "promo.redeem")]
    PromoRedeem,
}

impl Checkpoint {
    pub const ALL: [Checkpoint; 5] = [
        Checkpoint::OrderCreate,
        Checkpoint::PaymentAuthorize,
        Checkpoint::RefundRequest,
        Checkpoint::AccountLogin,
        Checkpoint::PromoRedeem,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Checkpoint::OrderCreate => "order.create",
            Checkpoint::PaymentAuthorize => "payment.authorize",
            Checkpoint::RefundRequest => "refund.request",
            Checkpoint::AccountLogin => "account.login",
            Checkpoint::PromoRedeem => "promo.redeem",
        }
    }

    pub fn parse(s: &str) -> Option<Checkpoint> {
        Checkpoint::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether a request at this checkpoint must carry an amount.
    pub fn requires_amount(self) -> bool {
        matches!(
            self,
            Checkpoint::OrderCreate | Checkpoint::PaymentAuthorize | Checkpoint::RefundRequest
        )
    }
}
