//! The catalogue and its stock: SKUs with a price, stock levels, and reservations that hold
//! units while an order waits for payment (reserve, then confirm on payment or release on
//! cancellation). Stock is conserved: `reserved + sold <= total` always, and a unit is never
//! reserved twice — the stores enforce that with a conditional update under a lock.

use arbiter_engine::money::Money;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::TxError;
use crate::ids::{ReservationId, Sku};

/// How long an unpaid order holds its stock by default.
pub const DEFAULT_RESERVATION_TTL: Duration = Duration::minutes(15);

/// A sellable item and its price; the only source of prices for orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub sku: Sku,
    pub title: String,
    pub price: Money,
}

impl Product {
    /// Refuses an empty SKU or title, and a price that is zero, negative or finer than the
    /// currency's minor unit (it is stored in minor units). A zero price would make an order
    /// with nothing to capture: no payment can be taken for it, no journal posted.
    pub fn new(sku: Sku, title: String, price: Money) -> Result<Product, TxError> {
        if sku.0.trim().is_empty() || sku.0.len() > 64 {
            return Err(TxError::invalid("sku", "must be 1 to 64 characters"));
        }
        if title.trim().is_empty() {
            return Err(TxError::invalid("title", "must not be empty"));
        }
        match price.checked_minor_units() {
            Some(minor) if minor > 0 => Ok(Product { sku, title, price }),
            _ => Err(TxError::invalid(
                "price.value",
                "must be a positive amount in the currency's minor units",
            )),
        }
    }
}

/// A SKU's units: `total` owned, `reserved` held by live reservations, `sold` confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub total: i64,
    pub reserved: i64,
    pub sold: i64,
}

impl StockLevel {
    pub fn available(&self) -> i64 {
        self.total - self.reserved - self.sold
    }
    /// The conservation law every store keeps.
    pub fn is_conserved(&self) -> bool {
        self.reserved >= 0 && self.sold >= 0 && self.reserved + self.sold <= self.total
    }
}

/// A product with its stock, as `GET /v1/skus/{sku}` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuView {
    pub product: Product,
    pub stock: StockLevel,
}

/// Where a reservation is: held until confirmed (sold) or released (back to available).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    Held,
    Confirmed,
    Released,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Held => "held",
            ReservationStatus::Confirmed => "confirmed",
            ReservationStatus::Released => "released",
        }
    }
    pub fn parse(s: &str) -> Option<ReservationStatus> {
        [Self::Held, Self::Confirmed, Self::Released]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Units of one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub sku: Sku,
    #[serde(rename = "qty")]
    pub quantity: u32,
}

/// A request to hold stock until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReservation {
    pub id: ReservationId,
    /// At least one line; at most one line per SKU, sorted by SKU (so every writer locks SKU
    /// rows in the same order and two multi-line reservations cannot deadlock).
    lines: Vec<Line>,
    pub expires_at: DateTime<Utc>,
}

impl NewReservation {
    /// Merges lines of the same SKU and sorts them; refuses no lines or a zero quantity.
    pub fn new(
        id: ReservationId,
        lines: &[Line],
        expires_at: DateTime<Utc>,
    ) -> Result<NewReservation, TxError> {
        if lines.is_empty() {
            return Err(TxError::invalid("items", "at least one item"));
        }
        let mut merged: Vec<Line> = Vec::new();
        for line in lines {
            if line.quantity == 0 {
                return Err(TxError::invalid("items.qty", "must be at least 1"));
            }
            match merged.iter_mut().find(|l| l.sku == line.sku) {
                Some(l) => {
                    l.quantity = l
                        .quantity
                        .checked_add(line.quantity)
                        .ok_or_else(|| TxError::invalid("items.qty", "too large"))?;
                }
                None => merged.push(line.clone()),
            }
        }
        merged.sort_by(|a, b| a.sku.cmp(&b.sku));
        Ok(NewReservation {
            id,
            lines: merged,
            expires_at,
        })
    }

    pub fn lines(&self) -> &[Line] {
        &self.lines
    }
}

/// A stored reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub id: ReservationId,
    pub status: ReservationStatus,
    pub lines: Vec<Line>,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use iso_currency::Currency;

    fn line(sku: &str, quantity: u32) -> Line {
        Line {
            sku: Sku::from(sku),
            quantity,
        }
    }

    #[test]
    fn reservation_lines_are_merged_and_sorted() {
        let r = NewReservation::new(
            ReservationId::generate(),
            &[line("b", 1), line("a", 2), line("b", 3)],
            Utc::now(),
        )
        .expect("valid");
        assert_eq!(r.lines(), &[line("a", 2), line("b", 4)]);
        assert!(NewReservation::new(ReservationId::generate(), &[], Utc::now()).is_err());
        assert!(
            NewReservation::new(ReservationId::generate(), &[line("a", 0)], Utc::now()).is_err()
        );
    }

    #[test]
    fn products_refuse_sub_cent_zero_and_negative_prices() {
        let price = |minor| Money::from_minor_units(minor, Currency::USD);
        assert!(Product::new(Sku::from("A-1"), "Mug".into(), price(1299)).is_ok());
        assert!(Product::new(Sku::from("A-1"), "Mug".into(), price(1)).is_ok());
        for minor in [0, -1, i64::MIN] {
            assert!(
                matches!(
                    Product::new(Sku::from("A-1"), "Mug".into(), price(minor)),
                    Err(TxError::Invalid { field, .. }) if field == "price.value"
                ),
                "{minor}"
            );
        }
        assert!(Product::new(Sku::from(""), "Mug".into(), price(1)).is_err());
        let sub_cent = Money {
            amount: rust_decimal::Decimal::new(1, 3),
            currency: Currency::USD,
        };
        assert!(Product::new(Sku::from("A-1"), "Mug".into(), sub_cent).is_err());
    }

    #[test]
    fn available_and_conservation() {
        let s = StockLevel {
            total: 10,
            reserved: 3,
            sold: 2,
        };
        assert_eq!(s.available(), 5);
        assert!(s.is_conserved());
        assert!(
            !StockLevel {
                total: 1,
                reserved: 1,
                sold: 1
            }
            .is_conserved()
        );
    }
}
