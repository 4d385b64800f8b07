//! The audit log, written once for both backends. Entries are appended only by
//! [`SqliteStore::audit`] / [`PgStore::audit`], which every audited change calls inside its
//! own transaction: the change and its entry commit together or not at all. Read newest
//! first, filtered, in pages keyed by id. Ids increase in append order (an identity / rowid
//! column); two PostgreSQL replicas appending at once may commit out of id order, which only
//! matters to a reader paging at that instant. The detail is JSON: `JSONB` on PostgreSQL,
//! text on SQLite.

use arbiter_engine::audit::{Actor, AuditEntry, AuditFilter, AuditRecord};
use arbiter_engine::store::{AuditStore, StoreError};
use async_trait::async_trait;

use crate::columns::{stored_now, to_json};
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::postgres::PgStore;
use crate::rows::AuditRow;
use crate::sqlite::SqliteStore;

/// `$conn`: the backend's connection (what `&mut *tx` is); `$jsonb`: the cast that makes a
/// bound text a JSON column value; `$as_text`: the cast that reads one back as text.
macro_rules! audit_store {
    ($store:ty, $conn:ty, jsonb: $jsonb:literal, as_text: $as_text:literal) => {
        impl $store {
            /// Appends `record`, done by `actor` now, inside the caller's transaction.
            pub(crate) async fn audit(
                conn: &mut $conn,
                actor: &Actor,
                record: AuditRecord,
            ) -> Result<(), StoreError> {
                sqlx::query(concat!(
                    "INSERT INTO audit_log (at, actor, actor_id, action, target, detail) \
                     VALUES ($1, $2, $3, $4, $5, $6",
                    $jsonb,
                    ")"
                ))
                .bind(<$store>::time(stored_now()))
                .bind(&actor.name)
                .bind(&actor.id)
                .bind(record.action)
                .bind(&record.target)
                .bind(to_json(&record.detail, "audit detail")?)
                .execute(conn)
                .await
                .map_err(store_error)?;
                Ok(())
            }
        }

        #[async_trait]
        impl AuditStore for $store {
            async fn list_audit(
                &self,
                filter: &AuditFilter,
                limit: u32,
            ) -> Result<Vec<AuditEntry>, StoreError> {
                // One static statement: an absent filter binds NULL and matches every row.
                let rows: Vec<AuditRow<<$store as Dialect>::Time>> = sqlx::query_as(concat!(
                    "SELECT id, at, actor, actor_id, action, target, detail",
                    $as_text,
                    " AS detail FROM audit_log \
                     WHERE id < COALESCE($1, 9223372036854775807) \
                     AND ($2 IS NULL OR actor = $2) AND ($3 IS NULL OR action = $3) \
                     AND ($4 IS NULL OR target = $4) AND ($5 IS NULL OR at >= $5) \
                     AND ($6 IS NULL OR at < $6) \
                     ORDER BY id DESC LIMIT $7"
                ))
                .bind(filter.before_id)
                .bind(filter.actor.as_deref())
                .bind(filter.action.as_deref())
                .bind(filter.target.as_deref())
                .bind(filter.from.map(<$store>::time))
                .bind(filter.to.map(<$store>::time))
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter().map(AuditRow::into_entry).collect()
            }
        }
    };
}

audit_store!(SqliteStore, sqlx::SqliteConnection, jsonb: "", as_text: "");
audit_store!(PgStore, sqlx::PgConnection, jsonb: "::jsonb", as_text: "::text");
