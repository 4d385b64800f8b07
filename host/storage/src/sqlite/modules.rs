//! Policy module versions on SQLite: content-addressed per name, numbered densely per name.

use arbiter_engine::registry::{PolicyModule, StoredModule};
use arbiter_engine::store::{ModuleInsert, PolicyModuleStore, StoreError};
use async_trait::async_trait;

use super::SqliteStore;
use crate::columns::{stored_now, timestamp_text};
use crate::error::store_error;
use crate::rows::{ModuleRow, StoredModuleRow, module_columns};

#[async_trait]
impl PolicyModuleStore for SqliteStore {
    async fn insert_module(
        &self,
        name: &str,
        sha256: &str,
        size_bytes: i64,
        wasm: &[u8],
        precompiled: &[u8],
        created_by: &str,
    ) -> Result<ModuleInsert, StoreError> {
        // INVARIANT: one version per (name, sha256), and versions 1, 2, 3, … per name with no
        // gap and no reuse. The lookup and the `max + 1` insert run in one `BEGIN IMMEDIATE`
        // transaction on the single writer connection, so no other writer (in this process or
        // another) runs in between; the primary key and UNIQUE (name, sha256) are the backstop.
        let mut tx = self.begin_write().await?;
        let existing: Option<ModuleRow<String>> = sqlx::query_as(concat!(
            "SELECT ",
            module_columns!(),
            " FROM policy_modules WHERE name = ? AND sha256 = ?"
        ))
        .bind(name)
        .bind(sha256)
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        if let Some(row) = existing {
            tx.rollback().await.map_err(store_error)?;
            return row.into_module().map(ModuleInsert::Existing);
        }
        let created_at = stored_now();
        let version: i64 = sqlx::query_scalar(
            "INSERT INTO policy_modules \
             (name, version, sha256, size_bytes, wasm, precompiled, created_at, created_by) \
             SELECT ?, COALESCE(MAX(version), 0) + 1, ?, ?, ?, ?, ?, ? \
             FROM policy_modules WHERE name = ? \
             RETURNING version",
        )
        .bind(name)
        .bind(sha256)
        .bind(size_bytes)
        .bind(wasm)
        .bind(precompiled)
        .bind(timestamp_text(created_at))
        .bind(created_by)
        .bind(name)
        .fetch_one(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(ModuleInsert::Created(PolicyModule {
            name: name.to_owned(),
            version,
            sha256: sha256.to_owned(),
            size_bytes,
            created_at,
            created_by: created_by.to_owned(),
        }))
    }

    async fn get_module(
        &self,
        name: &str,
        version: i64,
    ) -> Result<Option<StoredModule>, StoreError> {
        let row: Option<StoredModuleRow<String>> = sqlx::query_as(concat!(
            "SELECT ",
            module_columns!(),
            ", wasm, precompiled FROM policy_modules WHERE name = ? AND version = ?"
        ))
        .bind(name)
        .bind(version)
        .fetch_optional(&self.reader)
        .await
        .map_err(store_error)?;
        row.map(StoredModuleRow::into_stored).transpose()
    }

    async fn list_modules(&self) -> Result<Vec<PolicyModule>, StoreError> {
        let rows: Vec<ModuleRow<String>> = sqlx::query_as(concat!(
            "SELECT ",
            module_columns!(),
            " FROM policy_modules ORDER BY name, version"
        ))
        .fetch_all(&self.reader)
        .await
        .map_err(store_error)?;
        rows.into_iter().map(ModuleRow::into_module).collect()
    }

    async fn list_module_versions(&self, name: &str) -> Result<Vec<PolicyModule>, StoreError> {
        let rows: Vec<ModuleRow<String>> = sqlx::query_as(concat!(
            "SELECT ",
            module_columns!(),
            " FROM policy_modules WHERE name = ? ORDER BY version"
        ))
        .bind(name)
        .fetch_all(&self.reader)
        .await
        .map_err(store_error)?;
        rows.into_iter().map(ModuleRow::into_module).collect()
    }
}
