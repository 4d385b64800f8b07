//! The catalogue and stock, written once for both backends: SKUs, stock levels and
//! reservations. Every stock change is a conditional UPDATE whose condition is the invariant:
//! on SQLite it runs inside a `BEGIN IMMEDIATE` transaction on the single writer connection; on
//! PostgreSQL it takes the SKU row's lock, and a writer that waited for that lock re-evaluates
//! the condition against the committed row (READ COMMITTED). Either way no two writers ever
//! take the same available units, however many replicas run.
//!
//! The steps other stores run inside their own transactions (`reserve_in`, `finish_in`,
//! `line_refusal`, `load_reservation`) are associated functions of each store, taking its
//! connection type.

use arbiter_transactions::TxError;
use arbiter_transactions::catalogue::{
    Line, NewReservation, Product, Reservation, ReservationStatus, SkuView, StockLevel,
};
use arbiter_transactions::ids::{ReservationId, Sku};
use arbiter_transactions::store::CatalogueStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::columns::stored_now;
use crate::dialect::Dialect;
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::transaction_rows::{LineRow, ReservationRow, SkuRow, db, minor, moved};

const SKU_COLUMNS: &str = "SELECT sku, title, price_minor, currency, total, reserved, sold \
    FROM skus WHERE sku = $1";

fn missing(id: &ReservationId) -> TxError {
    TxError::NotFound {
        entity: "reservation",
        id: id.0.clone(),
    }
}

/// `$conn`: the backend's connection type, which the steps run inside a caller's transaction take.
macro_rules! catalogue_store {
    ($store:ty, conn: $conn:ty) => {
        #[async_trait]
        impl CatalogueStore for $store {
            async fn put_product(&self, product: &Product) -> Result<SkuView, TxError> {
                let now = <$store>::time(stored_now());
                let row: SkuRow = sqlx::query_as(
                    "INSERT INTO skus (sku, title, price_minor, currency, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (sku) DO UPDATE SET \
                     title = excluded.title, price_minor = excluded.price_minor, \
                     currency = excluded.currency, updated_at = excluded.updated_at \
                     RETURNING sku, title, price_minor, currency, total, reserved, sold",
                )
                .bind(product.sku.as_str())
                .bind(&product.title)
                .bind(minor(&product.price, "price")?)
                .bind(product.price.currency.code())
                .bind(now)
                .fetch_one(self.writer())
                .await
                .map_err(db)?;
                Ok(row.into_view()?)
            }

            async fn sku(&self, sku: &Sku) -> Result<Option<SkuView>, TxError> {
                let row: Option<SkuRow> = sqlx::query_as(SKU_COLUMNS)
                    .bind(sku.as_str())
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db)?;
                Ok(row.map(SkuRow::into_view).transpose()?)
            }

            async fn set_stock_total(&self, sku: &Sku, total: i64) -> Result<StockLevel, TxError> {
                if total < 0 {
                    return Err(TxError::invalid("total", "must not be negative"));
                }
                let mut tx = self.begin_write().await?;
                // INVARIANT: reserved + sold <= total. The condition and the write are one
                // statement (under SQLite's writer lock; on PostgreSQL the UPDATE locks the SKU
                // row and re-checks its condition after any concurrent reservation commits), so
                // no reservation lands between the check and the update.
                let updated: Option<SkuRow> = sqlx::query_as(
                    "UPDATE skus SET total = $1, updated_at = $2 \
                     WHERE sku = $3 AND reserved + sold <= $1 \
                     RETURNING sku, title, price_minor, currency, total, reserved, sold",
                )
                .bind(total)
                .bind(<$store>::time(stored_now()))
                .bind(sku.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
                let Some(row) = updated else {
                    let current: Option<SkuRow> = sqlx::query_as(SKU_COLUMNS)
                        .bind(sku.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db)?;
                    return Err(match current {
                        None => TxError::NotFound {
                            entity: "sku",
                            id: sku.0.clone(),
                        },
                        Some(row) => {
                            let stock = row.into_view()?.stock;
                            TxError::StockBelowCommitted {
                                sku: sku.0.clone(),
                                total,
                                committed: stock.reserved + stock.sold,
                            }
                        }
                    });
                };
                tx.commit().await.map_err(db)?;
                Ok(row.into_view()?.stock)
            }

            async fn reserve(&self, reservation: &NewReservation) -> Result<Reservation, TxError> {
                let mut tx = self.begin_write().await?;
                <$store>::reserve_in(&mut tx, reservation, stored_now()).await?;
                let stored = <$store>::load_reservation(&mut tx, &reservation.id).await?;
                tx.commit().await.map_err(db)?;
                stored.ok_or_else(|| missing(&reservation.id))
            }

            async fn release_reservation(
                &self,
                id: &ReservationId,
            ) -> Result<Reservation, TxError> {
                self.finish(id, ReservationStatus::Released).await
            }

            async fn confirm_reservation(
                &self,
                id: &ReservationId,
            ) -> Result<Reservation, TxError> {
                self.finish(id, ReservationStatus::Confirmed).await
            }

            async fn reservation(
                &self,
                id: &ReservationId,
            ) -> Result<Option<Reservation>, TxError> {
                let mut conn = self.reader().acquire().await.map_err(db)?;
                <$store>::load_reservation(&mut conn, id).await
            }
        }

        impl $store {
            async fn finish(
                &self,
                id: &ReservationId,
                to: ReservationStatus,
            ) -> Result<Reservation, TxError> {
                let mut tx = self.begin_write().await?;
                <$store>::finish_in(&mut tx, id, to, stored_now()).await?;
                let stored = <$store>::load_reservation(&mut tx, id).await?;
                tx.commit().await.map_err(db)?;
                stored.ok_or_else(|| missing(id))
            }

            /// Holds every line of `reservation` inside the caller's write transaction, or returns
            /// [`TxError::OutOfStock`] for the first short SKU (the caller then drops the
            /// transaction, which rolls back the lines already held).
            pub(crate) async fn reserve_in(
                conn: &mut $conn,
                reservation: &NewReservation,
                now: DateTime<Utc>,
            ) -> Result<(), TxError> {
                sqlx::query(
                    "INSERT INTO reservations (id, status, expires_at, created_at, updated_at) \
                     VALUES ($1, 'held', $2, $3, $3)",
                )
                .bind(reservation.id.as_str())
                .bind(<$store>::time(reservation.expires_at))
                .bind(<$store>::time(now))
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                for line in reservation.lines() {
                    let wanted = i64::from(line.quantity);
                    // INVARIANT: never oversell. The availability check is the UPDATE's own
                    // condition. On SQLite no other writer runs between reading
                    // `total - reserved - sold` and adding to `reserved` (`BEGIN IMMEDIATE` on
                    // the single writer). On PostgreSQL the UPDATE takes the SKU row's lock, and
                    // a concurrent reserver blocked on it re-evaluates the condition against the
                    // committed row; lines are taken in SKU order (`NewReservation` sorts them),
                    // so two multi-line reservations cannot deadlock. The CHECK is the backstop.
                    let held = sqlx::query(
                        "UPDATE skus SET reserved = reserved + $1, updated_at = $2 \
                         WHERE sku = $3 AND total - reserved - sold >= $1",
                    )
                    .bind(wanted)
                    .bind(<$store>::time(now))
                    .bind(line.sku.as_str())
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                    if held.rows_affected() == 0 {
                        return Err(<$store>::line_refusal(conn, line).await);
                    }
                    sqlx::query(
                        "INSERT INTO reservation_lines (reservation_id, sku, quantity) VALUES ($1, \
                         $2, $3)",
                    )
                    .bind(reservation.id.as_str())
                    .bind(line.sku.as_str())
                    .bind(wanted)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                }
                Ok(())
            }

            /// Why `line` could not be held: its SKU is missing from the catalogue, or short of
            /// stock (with what is available now). Read after the refused UPDATE, which wrote
            /// nothing to that row.
            pub(crate) async fn line_refusal(conn: &mut $conn, line: &Line) -> TxError {
                let available: Result<Option<i64>, _> =
                    sqlx::query_scalar("SELECT total - reserved - sold FROM skus WHERE sku = $1")
                        .bind(line.sku.as_str())
                        .fetch_optional(&mut *conn)
                        .await;
                match available {
                    Err(e) => db(e),
                    Ok(None) => TxError::NotFound {
                        entity: "sku",
                        id: line.sku.0.clone(),
                    },
                    Ok(Some(available)) => TxError::OutOfStock {
                        sku: line.sku.0.clone(),
                        available,
                        wanted: i64::from(line.quantity),
                    },
                }
            }

            /// Moves a held reservation to `to` (confirmed: reserved → sold; released: reserved →
            /// available) inside the caller's write transaction; a reservation not held is
            /// `StatusChanged`.
            pub(crate) async fn finish_in(
                conn: &mut $conn,
                id: &ReservationId,
                to: ReservationStatus,
                now: DateTime<Utc>,
            ) -> Result<(), TxError> {
                // INVARIANT: a reservation is confirmed or released once. The `status = 'held'`
                // condition lets one finisher through: under SQLite's writer lock, or on
                // PostgreSQL after the row lock, where a second finisher re-checks it against
                // the committed row and matches nothing.
                let done = sqlx::query(
                    "UPDATE reservations SET status = $1, updated_at = $2 WHERE id = $3 AND status \
                     = 'held'",
                )
                .bind(to.as_str())
                .bind(<$store>::time(now))
                .bind(id.as_str())
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                if done.rows_affected() == 0 {
                    let actual: Option<String> =
                        sqlx::query_scalar("SELECT status FROM reservations WHERE id = $1")
                            .bind(id.as_str())
                            .fetch_optional(&mut *conn)
                            .await
                            .map_err(db)?;
                    return Err(moved("reservation", id.as_str(), "held", actual));
                }
                let sold: i64 = if to == ReservationStatus::Confirmed {
                    1
                } else {
                    0
                };
                let lines = <$store>::lines_of(conn, id).await?;
                for line in lines {
                    let line = line.into_line()?;
                    sqlx::query(
                        "UPDATE skus SET reserved = reserved - $1, sold = sold + $1 * $2, \
                         updated_at = $3 \
                         WHERE sku = $4",
                    )
                    .bind(i64::from(line.quantity))
                    .bind(sold)
                    .bind(<$store>::time(now))
                    .bind(line.sku.as_str())
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                }
                Ok(())
            }

            pub(crate) async fn load_reservation(
                conn: &mut $conn,
                id: &ReservationId,
            ) -> Result<Option<Reservation>, TxError> {
                let row: Option<ReservationRow<<$store as Dialect>::Time>> =
                    sqlx::query_as("SELECT id, status, expires_at FROM reservations WHERE id = $1")
                        .bind(id.as_str())
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(db)?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let lines = <$store>::lines_of(conn, id).await?;
                Ok(Some(row.into_reservation(lines)?))
            }

            /// A reservation's lines, in SKU order (the lock order).
            async fn lines_of(
                conn: &mut $conn,
                id: &ReservationId,
            ) -> Result<Vec<LineRow>, TxError> {
                sqlx::query_as(
                    "SELECT sku, quantity FROM reservation_lines WHERE reservation_id = $1 \
                     ORDER BY sku",
                )
                .bind(id.as_str())
                .fetch_all(&mut *conn)
                .await
                .map_err(db)
            }
        }
    };
}

catalogue_store!(SqliteStore, conn: sqlx::SqliteConnection);
catalogue_store!(PgStore, conn: sqlx::PgConnection);
