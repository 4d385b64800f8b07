//! API keys, written once for both backends.

use arbiter_engine::keys::ApiKey;
use arbiter_engine::store::{KeyStore, StoreError};
use async_trait::async_trait;

use crate::columns::scopes_text;
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::postgres::PgStore;
use crate::rows::KeyRow;
use crate::sqlite::SqliteStore;

macro_rules! key_store {
    ($store:ty) => {
        #[async_trait]
        impl KeyStore for $store {
            async fn insert_key(&self, key: &ApiKey) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO api_keys (id, hash, scopes, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&key.id)
                .bind(&key.hash)
                .bind(scopes_text(&key.scopes))
                .bind(<$store>::time(key.created_at))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                tx.commit().await.map_err(store_error)
            }

            async fn all_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
                let rows: Vec<KeyRow<<$store as Dialect>::Time>> = sqlx::query_as(
                    "SELECT id, hash, scopes, created_at FROM api_keys ORDER BY created_at, id",
                )
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter().map(KeyRow::into_key).collect()
            }
        }
    };
}

key_store!(SqliteStore);
key_store!(PgStore);
