//! API keys on SQLite.

use arbiter_engine::keys::ApiKey;
use arbiter_engine::store::{KeyStore, StoreError};
use async_trait::async_trait;

use super::SqliteStore;
use crate::columns::{scopes_text, timestamp_text};
use crate::error::store_error;
use crate::rows::KeyRow;

#[async_trait]
impl KeyStore for SqliteStore {
    async fn insert_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO api_keys (id, hash, scopes, created_at) VALUES (?, ?, ?, ?)")
            .bind(&key.id)
            .bind(&key.hash)
            .bind(scopes_text(&key.scopes))
            .bind(timestamp_text(key.created_at))
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        tx.commit().await.map_err(store_error)
    }

    async fn all_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let rows: Vec<KeyRow<String>> = sqlx::query_as(
            "SELECT id, hash, scopes, created_at FROM api_keys ORDER BY created_at, id",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(store_error)?;
        rows.into_iter().map(KeyRow::into_key).collect()
    }
}
