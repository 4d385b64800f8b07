//! API keys, written once for both backends.

use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_engine::keys::ApiKey;
use arbiter_engine::store::{KeyRevocation, KeyStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::columns::scopes_text;
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::postgres::PgStore;
use crate::rows::KeyRow;
use crate::sqlite::SqliteStore;

/// The select of whole keys, followed by a filter (or none).
macro_rules! select_keys {
    ($filter:literal) => {
        concat!(
            "SELECT id, name, hash, scopes, created_by, created_at, expires_at, last_used_at, \
             revoked_at FROM api_keys ",
            $filter
        )
    };
}

macro_rules! key_store {
    ($store:ty) => {
        #[async_trait]
        impl KeyStore for $store {
            async fn insert_key(&self, key: &ApiKey, actor: &Actor) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO api_keys (id, name, hash, scopes, created_by, created_at, \
                     expires_at, last_used_at, revoked_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&key.id)
                .bind(&key.name)
                .bind(&key.hash)
                .bind(scopes_text(&key.scopes))
                .bind(&key.created_by)
                .bind(<$store>::time(key.created_at))
                .bind(key.expires_at.map(<$store>::time))
                .bind(key.last_used_at.map(<$store>::time))
                .bind(key.revoked_at.map(<$store>::time))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                <$store>::audit(&mut tx, actor, AuditRecord::key_created(key)).await?;
                tx.commit().await.map_err(store_error)
            }

            async fn all_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
                let rows: Vec<KeyRow<<$store as Dialect>::Time>> =
                    sqlx::query_as(select_keys!("ORDER BY created_at, id"))
                        .fetch_all(self.reader())
                        .await
                        .map_err(store_error)?;
                rows.into_iter().map(KeyRow::into_key).collect()
            }

            async fn revoke_key(
                &self,
                id: &str,
                at: DateTime<Utc>,
                actor: &Actor,
            ) -> Result<Option<KeyRevocation>, StoreError> {
                // INVARIANT: `revoked_at` is set once. The `IS NULL` condition makes a second
                // revocation write nothing; of two racing ones, PostgreSQL re-checks it after
                // the first commits (the row lock), SQLite's write lock runs them one by one.
                let mut tx = self.begin_write().await?;
                let revoked = sqlx::query(
                    "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                )
                .bind(id)
                .bind(<$store>::time(at))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?
                .rows_affected();
                let row: Option<KeyRow<<$store as Dialect>::Time>> =
                    sqlx::query_as(select_keys!("WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(store_error)?;
                let Some(row) = row else { return Ok(None) };
                let key = row.into_key()?;
                if revoked == 1 {
                    <$store>::audit(&mut tx, actor, AuditRecord::key_revoked(&key)).await?;
                }
                tx.commit().await.map_err(store_error)?;
                Ok(Some(if revoked == 1 {
                    KeyRevocation::Revoked(key)
                } else {
                    KeyRevocation::AlreadyRevoked(key)
                }))
            }

            async fn record_key_uses(
                &self,
                uses: &[(String, DateTime<Utc>)],
            ) -> Result<(), StoreError> {
                if uses.is_empty() {
                    return Ok(());
                }
                // One statement per key used since the last flush, in one transaction: a
                // handful of rows every few seconds, never one write per request.
                let mut tx = self.begin_write().await?;
                for (id, at) in uses {
                    sqlx::query(
                        "UPDATE api_keys SET last_used_at = $2 \
                         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)",
                    )
                    .bind(id)
                    .bind(<$store>::time(*at))
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
                }
                tx.commit().await.map_err(store_error)
            }
        }
    };
}

key_store!(SqliteStore);
key_store!(PgStore);
