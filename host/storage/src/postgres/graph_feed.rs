//! The link graph's feed on PostgreSQL (migration `0018_graph_feed.sql`): every new decision's
//! entities go into `decision_links` in the decision's own transaction, and replicas page
//! through those rows and through `labels` in commit order.
//!
//! The order is the outbox feed's (`outbox.rs`): rows are handed out only below the oldest
//! running transaction (`pg_snapshot_xmin(pg_current_snapshot())`), in `(txid, id)` order.
//! Every transaction that can still commit has a txid at or above that horizon, so a row that
//! commits late lands ahead of every follower's position, never behind it. Positions travel
//! as text (`txid::text`): sqlx has no `xid8` type, and a `u64` is what a txid is. The text
//! gets its own name (`position`): under the name `txid` it would be what `ORDER BY txid`
//! sorts by, as text ("10" before "9"), and the feed index would go unused.

use arbiter_engine::Decision;
use arbiter_engine::graph_feed::{FedDecision, FedLabel, FeedPosition, FeedRead, GraphFeed};
use arbiter_engine::store::{DecisionEntities, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::PgStore;
use super::decisions::entities_from_row;
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::feedback_rows::parse_label;

/// The position's transaction id (as text) and the replica, then the columns of an
/// `EntitiesRow` (`decisions.rs`): decision id, instant, user, device, card, email, phone, address and IP.
type LinkRow = (
    String,
    String,
    String,
    DateTime<Utc>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn txid(text: &str) -> Result<u64, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("transaction id `{text}` is not a number")))
}

/// A row as the feed hands it out; one the `own` replica wrote (when given) comes with its id
/// and instant only: the query left its entities out.
fn fed_decision(row: LinkRow, own: Option<&str>) -> Result<FedDecision, StoreError> {
    let (tx, replica, id, at, user, device, card, email, phone, address, ip) = row;
    let entities = if own == Some(replica.as_str()) {
        DecisionEntities {
            decision_id: id,
            created_at: at,
            ..DecisionEntities::default()
        }
    } else {
        entities_from_row((id, at, user, device, card, email, phone, address, ip))?
    };
    Ok(FedDecision {
        position: FeedPosition {
            txid: txid(&tx)?,
            id: entities.decision_id.clone(),
        },
        replica,
        entities,
    })
}

impl PgStore {
    /// The feed: PostgreSQL is where several replicas share one database.
    pub(crate) fn feed(&self) -> Option<&dyn GraphFeed> {
        Some(self)
    }

    /// The feed rows of a batch's new decisions, in the batch's transaction.
    pub(crate) async fn write_links(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        decisions: &[&Decision],
    ) -> Result<(), StoreError> {
        if decisions.is_empty() {
            return Ok(());
        }
        let column = |f: fn(&Decision) -> Option<&str>| -> Vec<Option<&str>> {
            decisions.iter().map(|d| f(d)).collect()
        };
        sqlx::query(
            "INSERT INTO decision_links (decision_id, replica, created_at, user_id, device_id, \
             card_fingerprint, email, phone, shipping_address_hash, ip) \
             SELECT d, $2, c, u, dv, ca, e, p, a, i \
             FROM UNNEST($1::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], \
                         $7::text[], $8::text[], $9::text[], $10::text[]) \
                  AS t(d, c, u, dv, ca, e, p, a, i)",
        )
        .bind(column(|d| Some(d.decision_id.0.as_str())))
        .bind(&*self.replica)
        .bind(
            decisions
                .iter()
                .map(|d| PgStore::time(d.created_at))
                .collect::<Vec<_>>(),
        )
        .bind(column(|d| Some(d.context.user_id.as_str())))
        .bind(column(|d| d.context.device_id.as_deref()))
        .bind(column(|d| d.context.card_fingerprint.as_deref()))
        .bind(column(|d| d.context.email.as_deref()))
        .bind(column(|d| d.context.phone.as_deref()))
        .bind(column(|d| d.context.shipping_address_hash.as_deref()))
        .bind(column(|d| d.context.ip.as_deref()))
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

#[async_trait]
impl GraphFeed for PgStore {
    fn replica(&self) -> &str {
        &self.replica
    }

    async fn horizon(&self) -> Result<FeedPosition, StoreError> {
        let xmin: String =
            sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
                .fetch_one(self.reader())
                .await
                .map_err(store_error)?;
        Ok(FeedPosition::at(txid(&xmin)?))
    }

    async fn decisions_after(
        &self,
        after: &FeedPosition,
        read: FeedRead,
        limit: u32,
    ) -> Result<Vec<FedDecision>, StoreError> {
        // `$6` NULL (own rows whole): `replica = NULL` is never true.
        let own = read.own_as_positions.then_some(&*self.replica);
        let rows: Vec<LinkRow> = sqlx::query_as(
            "SELECT txid::text AS position, replica, decision_id, created_at, \
             CASE WHEN replica = $6 THEN NULL ELSE user_id END, \
             CASE WHEN replica = $6 THEN NULL ELSE device_id END, \
             CASE WHEN replica = $6 THEN NULL ELSE card_fingerprint END, \
             CASE WHEN replica = $6 THEN NULL ELSE email END, \
             CASE WHEN replica = $6 THEN NULL ELSE phone END, \
             CASE WHEN replica = $6 THEN NULL ELSE shipping_address_hash END, \
             CASE WHEN replica = $6 THEN NULL ELSE ip END \
             FROM decision_links \
             WHERE (txid, decision_id) > ($1::text::xid8, $2) \
               AND txid < COALESCE($3::text::xid8, pg_snapshot_xmin(pg_current_snapshot())) \
               AND ($4::timestamptz IS NULL OR created_at >= $4) \
             ORDER BY txid, decision_id LIMIT $5",
        )
        .bind(after.txid.to_string())
        .bind(&after.id)
        .bind(read.until.map(|t| t.to_string()))
        .bind(read.since.map(PgStore::time))
        .bind(i64::from(limit))
        .bind(own)
        .fetch_all(self.reader())
        .await
        .map_err(store_error)?;
        rows.into_iter().map(|row| fed_decision(row, own)).collect()
    }

    async fn labels_after(
        &self,
        after: &FeedPosition,
        limit: u32,
    ) -> Result<Vec<FedLabel>, StoreError> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT txid::text AS position, label_id, decision_id, label FROM labels \
             WHERE (txid, label_id) > ($1::text::xid8, $2) \
               AND txid < pg_snapshot_xmin(pg_current_snapshot()) \
             ORDER BY txid, label_id LIMIT $3",
        )
        .bind(after.txid.to_string())
        .bind(&after.id)
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|(tx, label_id, decision_id, label)| {
                Ok(FedLabel {
                    position: FeedPosition {
                        txid: txid(&tx)?,
                        id: label_id,
                    },
                    decision_id,
                    kind: parse_label(&label)?,
                })
            })
            .collect()
    }

    async fn prune_decisions(&self, before: DateTime<Utc>, limit: u32) -> Result<u64, StoreError> {
        // The oldest rows in feed order, of which those made before `before`: an index range
        // of `limit` entries, never a scan of the table for rows that are not there.
        let done = sqlx::query(
            "DELETE FROM decision_links WHERE ctid = ANY(ARRAY( \
                 SELECT ctid FROM decision_links ORDER BY txid, decision_id LIMIT $2)) \
             AND created_at < $1",
        )
        .bind(PgStore::time(before))
        .bind(i64::from(limit))
        .execute(self.writer())
        .await
        .map_err(store_error)?;
        Ok(done.rows_affected())
    }
}
