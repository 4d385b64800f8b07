//! Rule snoozes, written once for both backends.

use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_engine::snooze::RuleSnooze;
use arbiter_engine::store::{SnoozeFilter, SnoozeStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::columns::parse_list_kind;
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::postgres::PgStore;
use crate::rows::StoredTime;
use crate::sqlite::SqliteStore;

macro_rules! snooze_columns {
    () => {
        "id, rule, kind, value, reason, expires_at, created_at, created_by, created_by_name, \
         revoked_at"
    };
}

#[derive(sqlx::FromRow)]
struct SnoozeRow<T> {
    id: String,
    rule: String,
    kind: String,
    value: String,
    reason: String,
    expires_at: T,
    created_at: T,
    created_by: String,
    created_by_name: String,
    revoked_at: Option<T>,
}

impl<T: StoredTime> SnoozeRow<T> {
    fn into_snooze(self) -> Result<RuleSnooze, StoreError> {
        Ok(RuleSnooze {
            id: self.id,
            rule: self.rule,
            kind: parse_list_kind(&self.kind)?,
            value: self.value,
            reason: self.reason,
            expires_at: self.expires_at.into_utc()?,
            created_at: self.created_at.into_utc()?,
            created_by: self.created_by,
            created_by_name: self.created_by_name,
            revoked_at: self.revoked_at.map(StoredTime::into_utc).transpose()?,
        })
    }
}

/// `$text`, `$time`: the casts that give a bound NULL its type where PostgreSQL cannot infer
/// one (SQLite needs none).
macro_rules! snooze_store {
    ($store:ty, text: $text:literal, time: $time:literal) => {
        #[async_trait]
        impl SnoozeStore for $store {
            async fn insert_snooze(
                &self,
                snooze: &RuleSnooze,
                actor: &Actor,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(concat!(
                    "INSERT INTO rule_snoozes (",
                    snooze_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)"
                ))
                .bind(&snooze.id)
                .bind(&snooze.rule)
                .bind(snooze.kind.as_str())
                .bind(&snooze.value)
                .bind(&snooze.reason)
                .bind(<$store>::time(snooze.expires_at))
                .bind(<$store>::time(snooze.created_at))
                .bind(&snooze.created_by)
                .bind(&snooze.created_by_name)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                <$store>::audit(&mut tx, actor, AuditRecord::snooze_created(snooze)).await?;
                tx.commit().await.map_err(store_error)
            }

            async fn list_snoozes(
                &self,
                filter: &SnoozeFilter,
                limit: u32,
            ) -> Result<Vec<RuleSnooze>, StoreError> {
                let rows: Vec<SnoozeRow<<$store as Dialect>::Time>> = sqlx::query_as(concat!(
                    "SELECT ",
                    snooze_columns!(),
                    " FROM rule_snoozes WHERE ($1",
                    $text,
                    " IS NULL OR kind = $1) AND ($2",
                    $text,
                    " IS NULL OR value = $2) AND ($3",
                    $text,
                    " IS NULL OR rule = $3) AND ($4",
                    $time,
                    " IS NULL OR (revoked_at IS NULL AND expires_at > $4)) \
                     ORDER BY created_at DESC, id DESC LIMIT $5"
                ))
                .bind(filter.kind.map(|k| k.as_str()))
                .bind(filter.value.as_deref())
                .bind(filter.rule.as_deref())
                .bind(filter.live_at.map(<$store>::time))
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter().map(SnoozeRow::into_snooze).collect()
            }

            async fn get_snooze(&self, id: &str) -> Result<Option<RuleSnooze>, StoreError> {
                let row: Option<SnoozeRow<<$store as Dialect>::Time>> = sqlx::query_as(concat!(
                    "SELECT ",
                    snooze_columns!(),
                    " FROM rule_snoozes WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(self.reader())
                .await
                .map_err(store_error)?;
                row.map(SnoozeRow::into_snooze).transpose()
            }

            async fn revoke_snooze(
                &self,
                id: &str,
                actor: &Actor,
                at: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                // INVARIANT: revoked once; the conditional UPDATE decides between concurrent
                // revocations, and only the winner writes the audit entry.
                let mut tx = self.begin_write().await?;
                let revoked = sqlx::query(
                    "UPDATE rule_snoozes SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                )
                .bind(<$store>::time(at))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?
                .rows_affected()
                    == 1;
                if revoked {
                    <$store>::audit(&mut tx, actor, AuditRecord::snooze_revoked(id)).await?;
                }
                tx.commit().await.map_err(store_error)?;
                Ok(revoked)
            }
        }
    };
}

snooze_store!(SqliteStore, text: "", time: "");
snooze_store!(PgStore, text: "::text", time: "::timestamptz");
