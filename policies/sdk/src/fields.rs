//! The plain values a [`Context`](crate::Context)'s accessors return: the checkpoint, the
//! amount, velocity windows and link-graph features. Copies of a few bytes each, with the
//! small helpers nearly every policy wants.

use crate::layout;

/// The checkpoint (the `event` of a decision request) being decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Checkpoint {
    OrderCreate,
    PaymentAuthorize,
    RefundRequest,
    AccountLogin,
    PromoRedeem,
}

/// The transaction amount. `value` is in major units (129.99 for USD 129.99) for
/// thresholds; `minor_units` and `currency` are exact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Amount<'a> {
    pub value: f64,
    pub minor_units: i64,
    pub currency: &'a str,
}

/// Count and amount sum of earlier decisions for one entity, over two windows. Sums are in
/// major units of the current request's currency (other currencies are counted, not summed).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WindowStats {
    pub count_1h: u32,
    pub sum_1h: f64,
    pub count_24h: u32,
    pub sum_24h: f64,
}

/// Velocity per entity kind; `None` when the request does not name that entity.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Velocity {
    pub user: WindowStats,
    pub device: Option<WindowStats>,
    pub card: Option<WindowStats>,
    pub ip: Option<WindowStats>,
    pub email: Option<WindowStats>,
}

/// Link-graph features of the entities in this request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GraphFeatures {
    /// Entities in the connected group of this request's entities.
    pub group_entities: u32,
    /// Distinct users in that group.
    pub group_users: u32,
    pub users_per_device: u32,
    pub users_per_card: u32,
    pub users_per_address: u32,
    pub users_per_phone: u32,
    pub cards_per_device: u32,
    pub cards_per_user: u32,
    /// Hops to the nearest fraud-marked entity, if one is within the search bound.
    pub hops_to_fraud: Option<u8>,
    /// Share of fraud-marked users in the 2-hop neighbourhood, 0..=1.
    pub fraud_share_2hop: f32,
    /// Combined graph score, 0..=1.
    pub score: f32,
}

impl Checkpoint {
    /// The checkpoint of a layout code, if the code is one.
    pub(crate) fn from_code(code: u8) -> Option<Checkpoint> {
        use layout::checkpoint as code_of;
        Some(match code {
            code_of::ORDER_CREATE => Checkpoint::OrderCreate,
            code_of::PAYMENT_AUTHORIZE => Checkpoint::PaymentAuthorize,
            code_of::REFUND_REQUEST => Checkpoint::RefundRequest,
            code_of::ACCOUNT_LOGIN => Checkpoint::AccountLogin,
            code_of::PROMO_REDEEM => Checkpoint::PromoRedeem,
            _ => return None,
        })
    }

    /// The checkpoint as it is written in a decision request's `event` (`payment.authorize`).
    pub fn as_str(self) -> &'static str {
        match self {
            Checkpoint::OrderCreate => "order.create",
            Checkpoint::PaymentAuthorize => "payment.authorize",
            Checkpoint::RefundRequest => "refund.request",
            Checkpoint::AccountLogin => "account.login",
            Checkpoint::PromoRedeem => "promo.redeem",
        }
    }

    /// The checkpoint's code in the context layout.
    pub fn code(self) -> u8 {
        use layout::checkpoint as code_of;
        match self {
            Checkpoint::OrderCreate => code_of::ORDER_CREATE,
            Checkpoint::PaymentAuthorize => code_of::PAYMENT_AUTHORIZE,
            Checkpoint::RefundRequest => code_of::REFUND_REQUEST,
            Checkpoint::AccountLogin => code_of::ACCOUNT_LOGIN,
            Checkpoint::PromoRedeem => code_of::PROMO_REDEEM,
        }
    }
}

impl WindowStats {
    /// Mean amount of the earlier decisions in the last hour, in major units; `None` when
    /// there were none.
    pub fn mean_1h(&self) -> Option<f64> {
        (self.count_1h > 0).then(|| self.sum_1h / f64::from(self.count_1h))
    }
}

/// An isolated request: a group of one entity, no other users or cards, no fraud nearby.
impl Default for GraphFeatures {
    fn default() -> Self {
        GraphFeatures {
            group_entities: 1,
            group_users: 1,
            users_per_device: 1,
            users_per_card: 1,
            users_per_address: 1,
            users_per_phone: 1,
            cards_per_device: 1,
            cards_per_user: 1,
            hops_to_fraud: None,
            fraud_share_2hop: 0.0,
            score: 0.0,
        }
    }
}
