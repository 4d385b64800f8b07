//! Policy set versions, the active-version pointer and approvals, written once for both
//! backends. The
//! set's parts are JSON: `JSONB` on PostgreSQL (bound as text, cast in and out), text on SQLite.

use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_engine::policy_set::{Approval, ModuleRef, PolicySet, Thresholds, Weights};
use arbiter_engine::store::{PolicySetStore, StoreError};
use async_trait::async_trait;
use chrono::Utc;

use crate::columns::to_json;
use crate::dialect::{Dialect, Serialized};
use crate::error::{missing_policy_set, store_error};
use crate::postgres::PgStore;
use crate::rows::PolicySetRow;
use crate::sqlite::SqliteStore;

/// `$jsonb`: the cast that makes a bound text a JSON column value; `$as_text`: the cast that
/// reads one back as text.
macro_rules! policy_set_store {
    ($store:ty, jsonb: $jsonb:literal, as_text: $as_text:literal) => {
        #[async_trait]
        impl PolicySetStore for $store {
            async fn insert_policy_set(
                &self,
                thresholds: Thresholds,
                weights: Weights,
                policies: &[ModuleRef],
                actor: &Actor,
            ) -> Result<PolicySet, StoreError> {
                // INVARIANT: versions are 1, 2, 3, … with no gap and no reuse. `max + 1` is
                // read and written by one statement in a transaction no other policy-set
                // writer enters (`begin_serialized`); the primary key is the backstop.
                let mut tx = self.begin_serialized(Serialized::PolicySets).await?;
                let version: i64 = sqlx::query_scalar(concat!(
                    "INSERT INTO policy_sets (version, thresholds, weights, policies, \
                     created_at) SELECT COALESCE(MAX(version), 0) + 1, $1",
                    $jsonb,
                    ", $2",
                    $jsonb,
                    ", $3",
                    $jsonb,
                    ", $4 FROM policy_sets RETURNING version"
                ))
                .bind(to_json(&thresholds, "thresholds")?)
                .bind(to_json(&weights, "weights")?)
                .bind(to_json(&policies, "policy modules")?)
                .bind(<$store>::time(Utc::now()))
                .fetch_one(&mut *tx)
                .await
                .map_err(store_error)?;
                let set = PolicySet {
                    version,
                    thresholds,
                    weights,
                    policies: policies.to_vec(),
                };
                <$store>::audit(&mut tx, actor, AuditRecord::policy_set_created(&set)).await?;
                tx.commit().await.map_err(store_error)?;
                Ok(set)
            }

            async fn get_policy_set(&self, version: i64) -> Result<Option<PolicySet>, StoreError> {
                let row: Option<PolicySetRow> = sqlx::query_as(concat!(
                    "SELECT version, thresholds",
                    $as_text,
                    " AS thresholds, weights",
                    $as_text,
                    " AS weights, policies",
                    $as_text,
                    " AS policies FROM policy_sets WHERE version = $1"
                ))
                .bind(version)
                .fetch_optional(self.reader())
                .await
                .map_err(store_error)?;
                row.map(PolicySetRow::into_policy_set).transpose()
            }

            async fn list_policy_sets(
                &self,
                before: Option<i64>,
                limit: i64,
            ) -> Result<Vec<PolicySet>, StoreError> {
                let rows: Vec<PolicySetRow> = sqlx::query_as(concat!(
                    "SELECT version, thresholds",
                    $as_text,
                    " AS thresholds, weights",
                    $as_text,
                    " AS weights, policies",
                    $as_text,
                    " AS policies FROM policy_sets WHERE version < $1 ORDER BY version DESC LIMIT $2"
                ))
                .bind(before.unwrap_or(i64::MAX))
                .bind(limit)
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter().map(PolicySetRow::into_policy_set).collect()
            }

            async fn active_policy_set(&self) -> Result<Option<i64>, StoreError> {
                sqlx::query_scalar("SELECT active_version FROM policy_state WHERE id = 1")
                    .fetch_optional(self.reader())
                    .await
                    .map_err(store_error)
            }

            async fn set_active_policy_set(
                &self,
                version: i64,
                actor: &Actor,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO policy_state (id, active_version) VALUES (1, $1) \
                     ON CONFLICT (id) DO UPDATE SET active_version = excluded.active_version",
                )
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(|e| missing_policy_set(e, version))?;
                let record = AuditRecord::policy_set_activated(version);
                <$store>::audit(&mut tx, actor, record).await?;
                tx.commit().await.map_err(store_error)
            }

            async fn approve_policy_set(
                &self,
                approval: &Approval,
                actor: &Actor,
            ) -> Result<bool, StoreError> {
                let mut tx = self.begin_write().await?;
                // INVARIANT: one approval per key and version; the primary key decides.
                let added = sqlx::query(
                    "INSERT INTO policy_set_approvals (version, approved_by, approved_at, note) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (version, approved_by) DO NOTHING",
                )
                .bind(approval.version)
                .bind(&approval.approved_by)
                .bind(<$store>::time(approval.approved_at))
                .bind(&approval.note)
                .execute(&mut *tx)
                .await
                .map_err(|e| missing_policy_set(e, approval.version))?
                .rows_affected()
                    == 1;
                if added {
                    let record = AuditRecord::policy_set_approved(approval);
                    <$store>::audit(&mut tx, actor, record).await?;
                }
                tx.commit().await.map_err(store_error)?;
                Ok(added)
            }

            async fn policy_set_approvals(
                &self,
                version: i64,
            ) -> Result<Vec<Approval>, StoreError> {
                let rows: Vec<(i64, String, <$store as Dialect>::Time, Option<String>)> =
                    sqlx::query_as(
                        "SELECT version, approved_by, approved_at, note \
                         FROM policy_set_approvals WHERE version = $1 \
                         ORDER BY approved_at, approved_by",
                    )
                    .bind(version)
                    .fetch_all(self.reader())
                    .await
                    .map_err(store_error)?;
                rows.into_iter()
                    .map(|(version, approved_by, at, note)| {
                        Ok(Approval {
                            version,
                            approved_by,
                            approved_at: crate::rows::StoredTime::into_utc(at)?,
                            note,
                        })
                    })
                    .collect()
            }
        }
    };
}

policy_set_store!(SqliteStore, jsonb: "", as_text: "");
policy_set_store!(PgStore, jsonb: "::jsonb", as_text: "::text");
