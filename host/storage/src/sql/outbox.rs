//! The outbox feed and its retention, written once for both backends except for the queries
//! that walk the feed in its order, which is where they differ: on SQLite id order is commit
//! order (`sqlite/outbox.rs`); on PostgreSQL it is not, and the feed goes by writing
//! transaction (`postgres/outbox.rs`). Nothing is marked published.

use arbiter_transactions::TxError;
use arbiter_transactions::outbox::FeedRead;
use arbiter_transactions::store::OutboxStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::dialect::{Dialect, Serialized};
use crate::postgres::PgStore;
use crate::rows::StoredTime;
use crate::sqlite::SqliteStore;
use crate::transaction_rows::{OutboxRow, db};

/// The last event retention deleted: where the feed starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct Horizon {
    #[sqlx(rename = "last_id")]
    pub id: i64,
    /// Its writing transaction (PostgreSQL's feed order); NULL on SQLite.
    #[sqlx(rename = "last_txid")]
    pub txid: Option<i64>,
}

/// An event at the head of the feed, as retention weighs it.
#[derive(sqlx::FromRow)]
pub(crate) struct HeadRow<T> {
    pub id: i64,
    pub txid: Option<i64>,
    pub created_at: T,
}

const HORIZON: &str = "SELECT last_id, last_txid FROM outbox_horizon WHERE one = 1";

/// The leading run of `head` (the feed's first events after its start, in order) that may go:
/// created before `before`, and not past `up_to`, the relay's position, which goes last.
fn deletable<T: StoredTime>(
    head: Vec<HeadRow<T>>,
    before: DateTime<Utc>,
    up_to: Option<i64>,
) -> Result<Vec<(i64, Option<i64>)>, TxError> {
    let mut out = Vec::new();
    for row in head {
        if row.created_at.into_utc()? >= before {
            break;
        }
        out.push((row.id, row.txid));
        if Some(row.id) == up_to {
            break;
        }
    }
    Ok(out)
}

macro_rules! outbox_store {
    ($store:ty) => {
        #[async_trait]
        impl OutboxStore for $store {
            async fn events_after(&self, after: i64, limit: u32) -> Result<FeedRead, TxError> {
                if after > 0 {
                    let known: bool =
                        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $1)")
                            .bind(after)
                            .fetch_one(self.reader())
                            .await
                            .map_err(db)?;
                    if !known {
                        let horizon: Option<Horizon> = sqlx::query_as(HORIZON)
                            .fetch_optional(self.reader())
                            .await
                            .map_err(db)?;
                        return match horizon {
                            Some(h) if h.id == after => {
                                events(self.outbox_page_from(h, limit).await?)
                            }
                            Some(h) if after < h.id => Ok(FeedRead::Expired),
                            _ => Ok(FeedRead::Unknown),
                        };
                    }
                }
                events(self.outbox_page(after, limit).await?)
            }

            async fn feed_start(&self) -> Result<i64, TxError> {
                let horizon: Option<Horizon> = sqlx::query_as(HORIZON)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db)?;
                Ok(horizon.map_or(0, |h| h.id))
            }

            async fn prune_outbox(
                &self,
                before: DateTime<Utc>,
                up_to: Option<i64>,
                limit: u32,
            ) -> Result<u64, TxError> {
                let mut tx = self
                    .begin_serialized(Serialized::OutboxHorizon)
                    .await
                    .map_err(TxError::Store)?;
                let horizon: Option<Horizon> = sqlx::query_as(HORIZON)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?;
                if up_to == Some(0) || (up_to.is_some() && up_to == horizon.map(|h| h.id)) {
                    return Ok(0);
                }
                let head: Vec<HeadRow<<$store as Dialect>::Time>> =
                    <$store>::outbox_head(&mut tx, horizon, limit).await?;
                let gone = deletable(head, before, up_to)?;
                let Some(&(last_id, last_txid)) = gone.last() else {
                    return Ok(0);
                };
                let mut delete = sqlx::QueryBuilder::new("DELETE FROM outbox WHERE id IN (");
                let mut ids = delete.separated(", ");
                for (id, _) in &gone {
                    ids.push_bind(*id);
                }
                delete.push(")");
                let deleted = delete
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?
                    .rows_affected();
                sqlx::query(
                    "INSERT INTO outbox_horizon (one, last_id, last_txid) VALUES (1, $1, $2) \
                     ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id, \
                     last_txid = excluded.last_txid",
                )
                .bind(last_id)
                .bind(last_txid)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(deleted)
            }
        }
    };
}

fn events<T: StoredTime>(rows: Vec<OutboxRow<T>>) -> Result<FeedRead, TxError> {
    let events = rows
        .into_iter()
        .map(OutboxRow::into_event)
        .collect::<Result<_, _>>()?;
    Ok(FeedRead::Events(events))
}

outbox_store!(SqliteStore);
outbox_store!(PgStore);
