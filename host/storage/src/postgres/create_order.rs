//! Order creation on PostgreSQL as ONE statement: the idempotency-key check, the stock
//! reservation, the order with its items, its first history row and its expiry entry.
//!
//! Order creation runs on one group-commit writer (`group_commit`), whose batches are a series
//! of loopback round trips on one connection. Written as eight statements, creation was eight
//! round trips and that writer saturated near 500 orders/s (BENCHMARKS.md, "Orders"). Written
//! as data-modifying CTEs it is one; PostgreSQL runs the parts in one snapshot and checks the
//! foreign keys at the end of the statement, so the order may name the reservation the same
//! statement inserts.
//!
//! A write that fails (a key already used, stock short) reports it in the statement's result
//! and returns an error: the group commit then rolls the write back to its savepoint, which
//! undoes whatever part of the statement did run (say, one SKU of two reserved).

use arbiter_transactions::TxError;
use arbiter_transactions::catalogue::NewReservation;
use arbiter_transactions::due::ORDER_EXPIRY;
use arbiter_transactions::order::{NewOrder, OrderCreate};
use arbiter_transactions::status::{OrderStatus, Status};
use sqlx::PgConnection;

use super::PgStore;
use crate::columns::to_json;
use crate::dialect::Dialect;
use crate::transaction_rows::{db, inserted_order, minor};

/// `$1` id, `$2` idempotency key, `$3` body hash, `$4` status (`CREATING`), `$5` user,
/// `$6` request JSON, `$7` total, `$8` currency, `$9` reservation id, `$10` expires at,
/// `$11` created at, `$12`/`$13` the reservation's SKUs and quantities (one per SKU, in SKU
/// order), `$14`–`$17` the items' SKUs, quantities, unit prices and currencies (in line
/// order), `$18` the order entity name, `$19` the due-queue kind.
///
/// Returns the id of the order already holding the key (then nothing else ran), the SKUs
/// whose stock was reserved, and whether the order was inserted.
const CREATE_ORDER: &str = "\
WITH existing AS (
    SELECT id FROM orders WHERE idempotency_key = $2
), wanted AS (
    SELECT * FROM unnest($12::text[], $13::bigint[]) AS w (sku, quantity)
), held AS (
    -- INVARIANT: never oversell. The availability check is the UPDATE's own condition: the
    -- UPDATE takes the SKU row's lock, and a concurrent reserver blocked on that lock
    -- re-evaluates it against the committed row before writing. The CHECK is the backstop.
    UPDATE skus AS s SET reserved = s.reserved + w.quantity, updated_at = $11
    FROM wanted AS w
    WHERE s.sku = w.sku AND s.total - s.reserved - s.sold >= w.quantity
      AND NOT EXISTS (SELECT 1 FROM existing)
    RETURNING s.sku
), reservation AS (
    INSERT INTO reservations (id, status, expires_at, created_at, updated_at)
    SELECT $9, 'held', $10, $11, $11
    WHERE NOT EXISTS (SELECT 1 FROM existing)
      AND (SELECT count(*) FROM held) = (SELECT count(*) FROM wanted)
    RETURNING id
), reservation_lines AS (
    INSERT INTO reservation_lines (reservation_id, sku, quantity)
    SELECT r.id, w.sku, w.quantity FROM reservation AS r CROSS JOIN wanted AS w
), created AS (
    INSERT INTO orders (id, idempotency_key, body_hash, status, user_id, request, total_minor,
        currency, reservation_id, challenge_required, expires_at, created_at, updated_at)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, r.id, FALSE, $10, $11, $11 FROM reservation AS r
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
), items AS (
    INSERT INTO order_items (order_id, line, sku, quantity, unit_price_minor, currency)
    SELECT o.id, i.line - 1, i.sku, i.quantity, i.price, i.currency
    FROM created AS o
    CROSS JOIN unnest($14::text[], $15::bigint[], $16::bigint[], $17::text[])
        WITH ORDINALITY AS i (sku, quantity, price, currency, line)
), history AS (
    INSERT INTO status_history (entity, entity_id, from_status, to_status, note, at)
    SELECT $18, o.id, NULL, $4, 'created', $11 FROM created AS o
), due AS (
    INSERT INTO due_items (kind, key, due_at)
    SELECT $19, o.id, $10 FROM created AS o
    ON CONFLICT (kind, key) DO UPDATE SET due_at = excluded.due_at, leased_until = NULL
)
SELECT (SELECT id FROM existing) AS existing,
       ARRAY(SELECT sku FROM held) AS held,
       EXISTS (SELECT 1 FROM created) AS created";

impl PgStore {
    /// Creates the order inside the caller's write transaction (see `create_order`). A key that
    /// another transaction inserted between our check and our insert is
    /// [`TxError::IdempotencyConflict`]; the caller rolls back and reads that order.
    ///
    /// INVARIANT: one order per idempotency key, and an order exists only with its reservation
    /// held. Within a batch writes run in order, so a key used twice is found by `existing`. Two
    /// replicas racing with one key both pass that check; the UNIQUE index on `idempotency_key`
    /// makes the second INSERT wait for the first batch to commit and then do nothing, and that
    /// write rolls back to its savepoint, reservation included (`replicas_story`).
    pub(crate) async fn create_order_in(
        conn: &mut PgConnection,
        order: &NewOrder,
    ) -> Result<OrderCreate, TxError> {
        let request = to_json(&order.request, "order request")?;
        let total = minor(&order.total, "order total")?;
        let reservation = order.reservation()?;
        let (skus, quantities): (Vec<&str>, Vec<i64>) = reservation
            .lines()
            .iter()
            .map(|l| (l.sku.as_str(), i64::from(l.quantity)))
            .unzip();
        // INVARIANT: two writes that reserve the same SKUs lock them in one order (SKU order),
        // so they cannot deadlock. One SKU needs no ordering; several are locked in order first,
        // because the statement's UPDATE takes its rows in whatever order its join yields them.
        if skus.len() > 1 {
            sqlx::query("SELECT sku FROM skus WHERE sku = ANY($1) ORDER BY sku FOR UPDATE")
                .bind(&skus)
                .fetch_all(&mut *conn)
                .await
                .map_err(db)?;
        }
        let mut prices = Vec::with_capacity(order.items.len());
        for item in &order.items {
            prices.push(minor(&item.unit_price, "unit price")?);
        }
        let (existing, held, created): (Option<String>, Vec<String>, bool) =
            sqlx::query_as(CREATE_ORDER)
                .bind(order.id.as_str())
                .bind(order.idempotency_key.as_str())
                .bind(&order.body_hash)
                .bind(OrderStatus::Creating.as_str())
                .bind(&order.request.user)
                .bind(request)
                .bind(total)
                .bind(order.total.currency.code())
                .bind(order.reservation_id.as_str())
                .bind(PgStore::time(order.expires_at))
                .bind(PgStore::time(order.created_at))
                .bind(&skus)
                .bind(&quantities)
                .bind(
                    order
                        .items
                        .iter()
                        .map(|i| i.sku.as_str())
                        .collect::<Vec<_>>(),
                )
                .bind(
                    order
                        .items
                        .iter()
                        .map(|i| i64::from(i.quantity))
                        .collect::<Vec<_>>(),
                )
                .bind(&prices)
                .bind(
                    order
                        .items
                        .iter()
                        .map(|i| i.unit_price.currency.code())
                        .collect::<Vec<_>>(),
                )
                .bind(OrderStatus::ENTITY)
                .bind(ORDER_EXPIRY)
                .fetch_one(&mut *conn)
                .await
                .map_err(db)?;
        if let Some(id) = existing {
            let found = PgStore::order_where(conn, "id", &id).await?;
            return found
                .map(OrderCreate::Existing)
                .ok_or_else(|| TxError::IdempotencyConflict {
                    key: order.idempotency_key.0.clone(),
                });
        }
        if held.len() < skus.len() {
            return Err(PgStore::stock_refusal(conn, &reservation, &held).await);
        }
        if !created {
            return Err(TxError::IdempotencyConflict {
                key: order.idempotency_key.0.clone(),
            });
        }
        Ok(OrderCreate::Created(inserted_order(order)?))
    }

    /// Why a reservation was refused: the first SKU (in SKU order) not held. Its row was not
    /// written by the refused statement, so what it reads is what the reservation was held against.
    async fn stock_refusal(
        conn: &mut PgConnection,
        reservation: &NewReservation,
        held: &[String],
    ) -> TxError {
        match reservation
            .lines()
            .iter()
            .find(|l| !held.iter().any(|h| h == l.sku.as_str()))
        {
            Some(line) => PgStore::line_refusal(conn, line).await,
            None => TxError::Store(arbiter_engine::store::StoreError::Backend(
                "a reservation was refused with every SKU held".into(),
            )),
        }
    }
}
