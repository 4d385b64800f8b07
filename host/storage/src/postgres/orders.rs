//! Orders on PostgreSQL: creation (idempotency key, order, items, reservation, expiry, history
//! in one group-committed write, see `group_commit`) and reads.

use arbiter_transactions::TxError;
use arbiter_transactions::due::ORDER_EXPIRY;
use arbiter_transactions::ids::{IdempotencyKey, OrderId};
use arbiter_transactions::order::{HistoryEntry, NewOrder, Order, OrderCreate};
use arbiter_transactions::status::{OrderStatus, Status};
use arbiter_transactions::store::OrderStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::PgStore;
use super::catalogue::reserve_in;
use crate::columns::to_json;
use crate::transaction_rows::{
    HistoryRow, ItemRow, ORDER_COLUMNS, OrderRow, db, inserted_order, minor, pg_ts as ts,
};

type Time = DateTime<Utc>;

#[async_trait]
impl OrderStore for PgStore {
    async fn create_order(&self, order: &NewOrder) -> Result<OrderCreate, TxError> {
        let new = order.clone();
        let created = self
            .group
            .run(move |conn| Box::pin(async move { create_order_in(conn, &new).await }))
            .await;
        match created {
            // Another transaction with the same key committed first (ours rolled back to its
            // savepoint, reservation included): answer with its order.
            Err(TxError::IdempotencyConflict { key }) => self
                .order_by_key(&order.idempotency_key)
                .await?
                .map(OrderCreate::Existing)
                .ok_or(TxError::IdempotencyConflict { key }),
            other => other,
        }
    }

    async fn order(&self, id: &OrderId) -> Result<Option<Order>, TxError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        order_where(&mut conn, "id", id.as_str()).await
    }

    async fn order_by_key(&self, key: &IdempotencyKey) -> Result<Option<Order>, TxError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        order_where(&mut conn, "idempotency_key", key.as_str()).await
    }

    async fn history(&self, entity: &str, id: &str) -> Result<Vec<HistoryEntry>, TxError> {
        let rows: Vec<HistoryRow<Time>> = sqlx::query_as(
            "SELECT from_status, to_status, note, at FROM status_history \
             WHERE entity = $1 AND entity_id = $2 ORDER BY id",
        )
        .bind(entity)
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(HistoryRow::into_entry)
            .collect::<Result<_, _>>()?)
    }
}

/// Creates the order inside the caller's write transaction (see `create_order`). A key that
/// another transaction inserted between our check and our insert is
/// [`TxError::IdempotencyConflict`]; the caller rolls back and reads that order.
async fn create_order_in(
    conn: &mut PgConnection,
    order: &NewOrder,
) -> Result<OrderCreate, TxError> {
    let request = to_json(&order.request, "order request")?;
    let total = minor(&order.total, "order total")?;
    // INVARIANT: one order per idempotency key, and an order exists only with its
    // reservation held. The key check, the stock updates and the inserts run under one
    // savepoint of a group-commit batch. Within a batch writes run in order, so a key used
    // twice is found by the check. Two replicas racing with one key both pass it; the UNIQUE
    // index on `idempotency_key` makes the second INSERT wait for the first batch to commit
    // and then do nothing, and that write rolls back to its savepoint, reservation included.
    if let Some(existing) =
        order_where(conn, "idempotency_key", order.idempotency_key.as_str()).await?
    {
        return Ok(OrderCreate::Existing(existing));
    }
    let reservation = order.reservation()?;
    reserve_in(conn, &reservation, order.created_at).await?;
    let inserted = sqlx::query(
        "INSERT INTO orders (id, idempotency_key, body_hash, status, user_id, request, \
         total_minor, currency, reservation_id, challenge_required, expires_at, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, FALSE, $10, $11, $11) \
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(order.id.as_str())
    .bind(order.idempotency_key.as_str())
    .bind(&order.body_hash)
    .bind(OrderStatus::Creating.as_str())
    .bind(&order.request.user)
    .bind(request)
    .bind(total)
    .bind(order.total.currency.code())
    .bind(order.reservation_id.as_str())
    .bind(ts(order.expires_at))
    .bind(ts(order.created_at))
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    if inserted.rows_affected() == 0 {
        return Err(TxError::IdempotencyConflict {
            key: order.idempotency_key.0.clone(),
        });
    }
    for (line, item) in order.items.iter().enumerate() {
        sqlx::query(
            "INSERT INTO order_items (order_id, line, sku, quantity, unit_price_minor, \
             currency) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(order.id.as_str())
        .bind(i64::try_from(line).unwrap_or(i64::MAX))
        .bind(item.sku.as_str())
        .bind(i64::from(item.quantity))
        .bind(minor(&item.unit_price, "unit price")?)
        .bind(item.unit_price.currency.code())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    insert_history(
        conn,
        OrderStatus::ENTITY,
        order.id.as_str(),
        None,
        OrderStatus::Creating.as_str(),
        "created",
        order.created_at,
    )
    .await?;
    sqlx::query(
        "INSERT INTO due_items (kind, key, due_at) VALUES ($1, $2, $3) \
         ON CONFLICT (kind, key) DO UPDATE SET due_at = excluded.due_at, leased_until = NULL",
    )
    .bind(ORDER_EXPIRY)
    .bind(order.id.as_str())
    .bind(ts(order.expires_at))
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(OrderCreate::Created(inserted_order(order)?))
}

/// The order whose `column` (`id` or `idempotency_key`, never user input) equals `value`.
pub(super) async fn order_where(
    conn: &mut PgConnection,
    column: &'static str,
    value: &str,
) -> Result<Option<Order>, TxError> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE {column} = $1");
    let row: Option<OrderRow<Time>> = sqlx::query_as(&sql)
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
pub(super) async fn insert_history(
    conn: &mut PgConnection,
    entity: &str,
    id: &str,
    from: Option<&str>,
    to: &str,
    note: &str,
    at: DateTime<Utc>,
) -> Result<(), TxError> {
    sqlx::query(
        "INSERT INTO status_history (entity, entity_id, from_status, to_status, note, at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(entity)
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(note)
    .bind(ts(at))
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}
