//! Policy module versions, written once for both backends: content-addressed per name,
//! numbered densely per name.

use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_engine::registry::{ModuleKind, PolicyModule, StoredModule};
use arbiter_engine::store::{ModuleInsert, PolicyModuleStore, StoreError};
use async_trait::async_trait;

use crate::columns::stored_now;
use crate::dialect::{Dialect, Serialized};
use crate::error::store_error;
use crate::postgres::PgStore;
use crate::rows::{ModuleRow, StoredModuleRow, module_columns};
use crate::sqlite::SqliteStore;

/// `$byte_order`: the collation that sorts names byte by byte — SQLite's default, but not
/// necessarily the PostgreSQL database's.
macro_rules! module_store {
    ($store:ty, byte_order: $byte_order:literal) => {
        #[async_trait]
        impl PolicyModuleStore for $store {
            async fn insert_module(
                &self,
                name: &str,
                sha256: &str,
                size_bytes: i64,
                wasm: &[u8],
                precompiled: &[u8],
                source: Option<&str>,
                actor: &Actor,
            ) -> Result<ModuleInsert, StoreError> {
                // INVARIANT: one version per (name, sha256), and versions 1, 2, 3, … per name
                // with no gap and no reuse. The lookup and the `max + 1` insert run in a
                // transaction no other module writer enters (`begin_serialized`; uploads are
                // rare admin calls, so serialising them across names costs nothing that
                // matters); the primary key and UNIQUE (name, sha256) are the backstop.
                let mut tx = self.begin_serialized(Serialized::PolicyModules).await?;
                let existing: Option<ModuleRow<<$store as Dialect>::Time>> =
                    sqlx::query_as(concat!(
                        "SELECT ",
                        module_columns!(),
                        " FROM policy_modules WHERE name = $1 AND sha256 = $2"
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
                     (name, version, sha256, size_bytes, wasm, precompiled, created_at, \
                     created_by, source) SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, \
                     $5, $6, $7, $8 FROM policy_modules WHERE name = $1 RETURNING version",
                )
                .bind(name)
                .bind(sha256)
                .bind(size_bytes)
                .bind(wasm)
                .bind(precompiled)
                .bind(<$store>::time(created_at))
                .bind(&actor.id)
                .bind(source)
                .fetch_one(&mut *tx)
                .await
                .map_err(store_error)?;
                let module = PolicyModule {
                    name: name.to_owned(),
                    version,
                    sha256: sha256.to_owned(),
                    size_bytes,
                    created_at,
                    created_by: actor.id.clone(),
                    kind: if source.is_some() {
                        ModuleKind::Rules
                    } else {
                        ModuleKind::Wasm
                    },
                };
                <$store>::audit(&mut tx, actor, AuditRecord::module_uploaded(&module)).await?;
                tx.commit().await.map_err(store_error)?;
                Ok(ModuleInsert::Created(module))
            }

            async fn get_module(
                &self,
                name: &str,
                version: i64,
            ) -> Result<Option<StoredModule>, StoreError> {
                let row: Option<StoredModuleRow<<$store as Dialect>::Time>> =
                    sqlx::query_as(concat!(
                        "SELECT ",
                        module_columns!(),
                        ", wasm, precompiled, source FROM policy_modules WHERE name = $1 AND version = $2"
                    ))
                    .bind(name)
                    .bind(version)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(store_error)?;
                row.map(StoredModuleRow::into_stored).transpose()
            }

            async fn list_modules(&self) -> Result<Vec<PolicyModule>, StoreError> {
                let rows: Vec<ModuleRow<<$store as Dialect>::Time>> = sqlx::query_as(concat!(
                    "SELECT ",
                    module_columns!(),
                    " FROM policy_modules ORDER BY name",
                    $byte_order,
                    ", version"
                ))
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter().map(ModuleRow::into_module).collect()
            }

            async fn list_module_versions(
                &self,
                name: &str,
            ) -> Result<Vec<PolicyModule>, StoreError> {
                let rows: Vec<ModuleRow<<$store as Dialect>::Time>> = sqlx::query_as(concat!(
                    "SELECT ",
                    module_columns!(),
                    " FROM policy_modules WHERE name = $1 ORDER BY version"
                ))
                .bind(name)
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter().map(ModuleRow::into_module).collect()
            }
        }
    };
}

module_store!(SqliteStore, byte_order: "");
module_store!(PgStore, byte_order: " COLLATE \"C\"");
