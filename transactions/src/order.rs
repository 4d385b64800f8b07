//! Orders: what a client asks for ([`OrderRequest`]), the priced order the service hands a
//! store ([`NewOrder`]), the stored [`Order`], and the history rows every transition leaves.

use arbiter_engine::money::Money;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalogue::{Line, NewReservation};
use crate::error::TxError;
use crate::ids::{IdempotencyKey, OrderId, ReservationId, Sku};
use crate::risk::RiskRecord;
use crate::status::OrderStatus;

/// A shipping destination, passed to the risk host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipping {
    pub address: String,
    pub country: Option<String>,
}

/// The body of `POST /v1/orders`. Carries no prices: they come from the catalogue only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    pub items: Vec<Line>,
    pub user: String,
    #[serde(default)]
    pub device: Option<String>,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub shipping: Option<Shipping>,
    #[serde(default)]
    pub payment_method: Option<String>,
}

impl OrderRequest {
    /// The hash an idempotency key is bound to: SHA-256 of the request's canonical JSON (field
    /// order fixed by the struct), so the same request hashes the same however it was sent.
    pub fn body_hash(&self) -> String {
        let canonical = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(&canonical))
    }
}

/// One priced line of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    pub sku: Sku,
    pub quantity: u32,
    /// The catalogue price when the order was created.
    pub unit_price: Money,
}

/// A priced order, ready to be stored in `CREATING` with its reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub id: OrderId,
    pub idempotency_key: IdempotencyKey,
    pub body_hash: String,
    pub request: OrderRequest,
    pub items: Vec<OrderItem>,
    pub total: Money,
    pub reservation_id: ReservationId,
    /// When an unpaid order is cancelled and its stock released.
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl NewOrder {
    /// The reservation that holds this order's items until `expires_at`.
    pub fn reservation(&self) -> Result<NewReservation, TxError> {
        let lines: Vec<Line> = self
            .items
            .iter()
            .map(|i| Line {
                sku: i.sku.clone(),
                quantity: i.quantity,
            })
            .collect();
        NewReservation::new(self.reservation_id.clone(), &lines, self.expires_at)
    }
}

/// A stored order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub idempotency_key: IdempotencyKey,
    pub body_hash: String,
    pub status: OrderStatus,
    pub request: OrderRequest,
    pub items: Vec<OrderItem>,
    pub total: Money,
    pub reservation_id: ReservationId,
    /// The risk host answered `challenge`: the client must step up before paying.
    pub challenge_required: bool,
    /// The `order.create` decision, once asked.
    pub risk: Option<RiskRecord>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What `create_order` did with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderCreate {
    /// Stored, with its reservation held.
    Created(Order),
    /// The key was used before, for this order (its body hash is for the caller to compare).
    Existing(Order),
}

/// One status change of an order, payment or refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// `None` for the row that records creation.
    pub from: Option<String>,
    pub to: String,
    pub note: String,
    pub at: DateTime<Utc>,
}
