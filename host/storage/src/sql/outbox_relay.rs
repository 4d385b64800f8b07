//! The outbox relay's lease and position (`outbox_relay`), written once for both backends.

use arbiter_transactions::TxError;
use arbiter_transactions::outbox_relay::{RelayPosition, RelayStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::dialect::Dialect;
use crate::postgres::PgStore;
use crate::rows::StoredTime;
use crate::sqlite::SqliteStore;
use crate::transaction_rows::db;

macro_rules! relay_store {
    ($store:ty) => {
        #[async_trait]
        impl RelayStore for $store {
            async fn take_relay(
                &self,
                name: &str,
                holder: &str,
                until: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> Result<Option<i64>, TxError> {
                // INVARIANT: one holder at a time: the insert, the renewal by its holder and the
                // takeover of a lapsed lease are one statement on the relay's row, so of two
                // replicas asking at once one writes it and the other finds it held.
                sqlx::query_scalar(
                    "INSERT INTO outbox_relay (name, holder, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                     expires_at = excluded.expires_at \
                     WHERE outbox_relay.holder = excluded.holder \
                     OR outbox_relay.expires_at <= $4 \
                     RETURNING after_id",
                )
                .bind(name)
                .bind(holder)
                .bind(<$store>::time(until))
                .bind(<$store>::time(now))
                .fetch_optional(self.writer())
                .await
                .map_err(db)
            }

            async fn record_relayed(
                &self,
                name: &str,
                holder: &str,
                after: i64,
                until: DateTime<Utc>,
                at: DateTime<Utc>,
            ) -> Result<bool, TxError> {
                let recorded = sqlx::query(
                    "UPDATE outbox_relay SET after_id = $1, expires_at = $2, relayed_at = $3 \
                     WHERE name = $4 AND holder = $5",
                )
                .bind(after)
                .bind(<$store>::time(until))
                .bind(<$store>::time(at))
                .bind(name)
                .bind(holder)
                .execute(self.writer())
                .await
                .map_err(db)?;
                Ok(recorded.rows_affected() == 1)
            }

            async fn relay_position(&self, name: &str) -> Result<Option<RelayPosition>, TxError> {
                let row: Option<(
                    String,
                    <$store as Dialect>::Time,
                    i64,
                    Option<<$store as Dialect>::Time>,
                )> = sqlx::query_as(
                    "SELECT holder, expires_at, after_id, relayed_at FROM outbox_relay \
                         WHERE name = $1",
                )
                .bind(name)
                .fetch_optional(self.reader())
                .await
                .map_err(db)?;
                row.map(|(holder, expires_at, after, relayed_at)| {
                    Ok(RelayPosition {
                        holder,
                        expires_at: expires_at.into_utc()?,
                        after,
                        relayed_at: relayed_at.map(StoredTime::into_utc).transpose()?,
                    })
                })
                .transpose()
                .map_err(TxError::Store)
            }
        }
    };
}

relay_store!(SqliteStore);
relay_store!(PgStore);
