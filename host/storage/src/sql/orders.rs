//! Orders, written once for both backends: creation runs the backend's own
//! `create_order_in` in a group-committed batch (`sqlite/create_order.rs`,
//! `postgres/create_order.rs`: the one-statement creation is PostgreSQL's), reads, and the
//! status-history row every change writes.

use arbiter_transactions::TxError;
use arbiter_transactions::ids::{IdempotencyKey, OrderId};
use arbiter_transactions::order::{HistoryEntry, NewOrder, Order, OrderCreate};
use arbiter_transactions::store::OrderStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::dialect::Dialect;
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::transaction_rows::{HistoryRow, ItemRow, ORDER_COLUMNS, OrderRow, db};

/// `$conn`: the backend's connection type, which the steps run inside a caller's transaction
/// take.
macro_rules! order_store {
    ($store:ty, conn: $conn:ty) => {
        #[async_trait]
        impl OrderStore for $store {
            async fn create_order(&self, order: &NewOrder) -> Result<OrderCreate, TxError> {
                let new = order.clone();
                let created = self
                    .order_writer()
                    .run(move |conn| {
                        Box::pin(async move { <$store>::create_order_in(conn, &new).await })
                    })
                    .await;
                match created {
                    // Another transaction with the same key committed first (ours rolled back to
                    // its savepoint, reservation included): answer with its order.
                    Err(TxError::IdempotencyConflict { key }) => self
                        .order_by_key(&order.idempotency_key)
                        .await?
                        .map(OrderCreate::Existing)
                        .ok_or(TxError::IdempotencyConflict { key }),
                    other => other,
                }
            }

            async fn order(&self, id: &OrderId) -> Result<Option<Order>, TxError> {
                let mut conn = self.reader().acquire().await.map_err(db)?;
                <$store>::order_where(&mut conn, "id", id.as_str()).await
            }

            async fn order_by_key(&self, key: &IdempotencyKey) -> Result<Option<Order>, TxError> {
                let mut conn = self.reader().acquire().await.map_err(db)?;
                <$store>::order_where(&mut conn, "idempotency_key", key.as_str()).await
            }

            async fn history(&self, entity: &str, id: &str) -> Result<Vec<HistoryEntry>, TxError> {
                let rows: Vec<HistoryRow<<$store as Dialect>::Time>> = sqlx::query_as(
                    "SELECT from_status, to_status, note, at FROM status_history \
                     WHERE entity = $1 AND entity_id = $2 ORDER BY id",
                )
                .bind(entity)
                .bind(id)
                .fetch_all(self.reader())
                .await
                .map_err(db)?;
                Ok(rows
                    .into_iter()
                    .map(HistoryRow::into_entry)
                    .collect::<Result<_, _>>()?)
            }
        }

        impl $store {
            /// The order whose `column` (`id` or `idempotency_key`, never user input) equals
            /// `value`.
            pub(crate) async fn order_where(
                conn: &mut $conn,
                column: &'static str,
                value: &str,
            ) -> Result<Option<Order>, TxError> {
                let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE {column} = $1");
                let row: Option<OrderRow<<$store as Dialect>::Time>> = sqlx::query_as(&sql)
                    .bind(value)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db)?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let items: Vec<ItemRow> = sqlx::query_as(
                    "SELECT sku, quantity, unit_price_minor, currency FROM order_items \
                     WHERE order_id = $1 ORDER BY line",
                )
                .bind(row.id())
                .fetch_all(&mut *conn)
                .await
                .map_err(db)?;
                Ok(Some(row.into_order(items)?))
            }

            /// Records one status change.
            pub(crate) async fn insert_history(
                conn: &mut $conn,
                entity: &str,
                id: &str,
                from: Option<&str>,
                to: &str,
                note: &str,
                at: DateTime<Utc>,
            ) -> Result<(), TxError> {
                sqlx::query(
                    "INSERT INTO status_history (entity, entity_id, from_status, to_status, note, \
                     at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(entity)
                .bind(id)
                .bind(from)
                .bind(to)
                .bind(note)
                .bind(<$store>::time(at))
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                Ok(())
            }
        }
    };
}

order_store!(SqliteStore, conn: sqlx::SqliteConnection);
order_store!(PgStore, conn: sqlx::PgConnection);
