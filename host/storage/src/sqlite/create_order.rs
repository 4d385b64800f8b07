//! Order creation on SQLite: the idempotency-key check, the stock reservation, the order with
//! its items, its first history row and its expiry entry, as a series of statements inside
//! one savepoint of the single writer's group-committed batch. SQLite has no data-modifying
//! CTEs, so the one-statement form PostgreSQL uses to save network round trips
//! (`postgres/create_order.rs`) cannot be written here; each statement is a hop to sqlx's
//! in-process SQLite worker instead.

use arbiter_transactions::TxError;
use arbiter_transactions::due::ORDER_EXPIRY;
use arbiter_transactions::order::{NewOrder, OrderCreate};
use arbiter_transactions::status::{OrderStatus, Status};
use sqlx::SqliteConnection;

use super::SqliteStore;
use crate::columns::to_json;
use crate::dialect::Dialect;
use crate::transaction_rows::{db, inserted_order, minor};

impl SqliteStore {
    /// Creates the order inside the caller's write transaction (see `create_order`). A key that
    /// another transaction inserted between our check and our insert is
    /// [`TxError::IdempotencyConflict`]; the caller rolls back and reads that order.
    pub(crate) async fn create_order_in(
        conn: &mut SqliteConnection,
        order: &NewOrder,
    ) -> Result<OrderCreate, TxError> {
        let request = to_json(&order.request, "order request")?;
        let total = minor(&order.total, "order total")?;
        // INVARIANT: one order per idempotency key, and an order exists only with its
        // reservation held. The key check, the stock updates and the inserts run under one
        // savepoint of a `BEGIN IMMEDIATE` transaction on the single writer (a group-commit batch
        // runs its writes one after another, so the check sees every earlier write of the batch);
        // the UNIQUE index on `idempotency_key` is the backstop.
        if let Some(existing) =
            SqliteStore::order_where(conn, "idempotency_key", order.idempotency_key.as_str())
                .await?
        {
            return Ok(OrderCreate::Existing(existing));
        }
        let reservation = order.reservation()?;
        SqliteStore::reserve_in(conn, &reservation, order.created_at).await?;
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
        .bind(SqliteStore::time(order.expires_at))
        .bind(SqliteStore::time(order.created_at))
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
        SqliteStore::insert_history(
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
        .bind(SqliteStore::time(order.expires_at))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
        Ok(OrderCreate::Created(inserted_order(order)?))
    }
}
