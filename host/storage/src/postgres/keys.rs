//! API keys on PostgreSQL.

use arbiter_engine::keys::ApiKey;
use arbiter_engine::store::{KeyStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::PgStore;
use crate::columns::scopes_text;
use crate::error::store_error;
use crate::rows::KeyRow;

#[async_trait]
impl KeyStore for PgStore {
    async fn insert_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO api_keys (id, hash, scopes, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&key.id)
            .bind(&key.hash)
            .bind(scopes_text(&key.scopes))
            .bind(key.created_at)
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(store_error)
    }

    async fn all_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let rows: Vec<KeyRow<DateTime<Utc>>> = sqlx::query_as(
            "SELECT id, hash, scopes, created_at FROM api_keys ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.into_iter().map(KeyRow::into_key).collect()
    }
}
