//! The outbox feed, written once for both backends except for the page query itself, which
//! is where they differ: on SQLite id order is commit order (`sqlite/outbox.rs`); on
//! PostgreSQL it is not, and the feed pages by writing transaction (`postgres/outbox.rs`).
//! Nothing is marked published.

use arbiter_transactions::TxError;
use arbiter_transactions::outbox::OutboxEvent;
use arbiter_transactions::store::OutboxStore;
use async_trait::async_trait;

use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::transaction_rows::{OutboxRow, db};

macro_rules! outbox_store {
    ($store:ty) => {
        #[async_trait]
        impl OutboxStore for $store {
            async fn events_after(
                &self,
                after: i64,
                limit: u32,
            ) -> Result<Option<Vec<OutboxEvent>>, TxError> {
                if after > 0 {
                    let known: bool =
                        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $1)")
                            .bind(after)
                            .fetch_one(self.reader())
                            .await
                            .map_err(db)?;
                    if !known {
                        return Ok(None);
                    }
                }
                let events = self
                    .outbox_page(after, limit)
                    .await?
                    .into_iter()
                    .map(OutboxRow::into_event)
                    .collect::<Result<_, _>>()?;
                Ok(Some(events))
            }
        }
    };
}

outbox_store!(SqliteStore);
outbox_store!(PgStore);
