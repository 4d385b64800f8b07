//! Labels, written once for both backends (a review's label is written with its resolution,
//! in `reviews.rs`).
//!
//! "Latest label" is the newest label of a decision by `(created_at, label_id)`; both are
//! time-ordered, so ties on the clock are broken by the v7 id.

use arbiter_engine::Decision;
use arbiter_engine::audit::{Actor, AuditRecord};
use arbiter_engine::feedback::{Label, LabelInsert, LabelKind, LabelStore, NewLabel};
use arbiter_engine::store::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::columns::stored_now;
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::feedback_rows::{LabelRow, parse_label};
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::stored_decision::{StoredDecision, decision_columns};

/// A decision with its latest label.
#[derive(sqlx::FromRow)]
struct LabelledRow {
    #[sqlx(flatten)]
    decision: StoredDecision,
    label: String,
}

impl LabelledRow {
    fn into_pair(self) -> Result<(Decision, LabelKind), StoreError> {
        Ok((self.decision.into_decision()?, parse_label(&self.label)?))
    }
}

macro_rules! label_columns {
    () => {
        "label_id, decision_id, label, source, external_id, note, created_by, created_at"
    };
}

/// The latest label of every labelled decision, as the subquery `x` (`rn = 1` is the latest).
macro_rules! latest_labels {
    () => {
        "(SELECT decision_id, label, ROW_NUMBER() OVER \
         (PARTITION BY decision_id ORDER BY created_at DESC, label_id DESC) AS rn FROM labels) x"
    };
}
pub(crate) use latest_labels;

/// `$as_text`: the cast that reads a JSON body back as text.
macro_rules! label_store {
    ($store:ty, as_text: $as_text:literal) => {
        #[async_trait]
        impl LabelStore for $store {
            async fn insert_label(
                &self,
                label: &NewLabel,
                actor: &Actor,
            ) -> Result<LabelInsert, StoreError> {
                let at = stored_now();
                let id = Label::generate_id();
                // INVARIANT: an external row is imported once; the partial unique index
                // decides (on PostgreSQL a concurrent duplicate waits for the first
                // transaction, then does nothing).
                // INVARIANT: a label names a stored decision. The statement reads the decision
                // itself (PostgreSQL's partitioned `decisions` takes no foreign key): retention
                // dropping a partition locks `decisions`, so the label either sees the decision
                // kept (moved to `decisions_held`) or sees it gone, never in between.
                let mut tx = self.begin_write().await?;
                let written = sqlx::query(
                    "INSERT INTO labels (label_id, decision_id, label, source, external_id, \
                     note, created_by, created_at) \
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
                     WHERE EXISTS (SELECT 1 FROM decisions WHERE decision_id = $2) \
                     ON CONFLICT (source, external_id) WHERE external_id IS NOT NULL DO NOTHING",
                )
                .bind(&id)
                .bind(&label.decision_id)
                .bind(label.kind.as_str())
                .bind(label.source.as_str())
                .bind(&label.external_id)
                .bind(&label.note)
                .bind(&actor.id)
                .bind(<$store>::time(at))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?
                .rows_affected();
                let row: Option<LabelRow<<$store as Dialect>::Time>> = if written == 1 {
                    sqlx::query_as(concat!(
                        "SELECT ",
                        label_columns!(),
                        " FROM labels WHERE label_id = $1"
                    ))
                    .bind(&id)
                    .fetch_optional(&mut *tx)
                    .await
                } else {
                    sqlx::query_as(concat!(
                        "SELECT ",
                        label_columns!(),
                        " FROM labels WHERE source = $1 AND external_id = $2"
                    ))
                    .bind(label.source.as_str())
                    .bind(&label.external_id)
                    .fetch_optional(&mut *tx)
                    .await
                }
                .map_err(store_error)?;
                // Nothing written and no earlier import of the row: the decision is not there.
                let Some(row) = row else {
                    return Ok(LabelInsert::NoDecision);
                };
                let stored = row.into_label()?;
                if written == 1 {
                    <$store>::audit(&mut tx, actor, AuditRecord::label_created(&stored)).await?;
                }
                tx.commit().await.map_err(store_error)?;
                Ok(if written == 1 {
                    LabelInsert::Created(stored)
                } else {
                    LabelInsert::Duplicate(stored)
                })
            }

            async fn labels_for_decision(
                &self,
                decision_id: &str,
            ) -> Result<Vec<Label>, StoreError> {
                let rows: Vec<LabelRow<<$store as Dialect>::Time>> = sqlx::query_as(concat!(
                    "SELECT ",
                    label_columns!(),
                    " FROM labels WHERE decision_id = $1 ORDER BY created_at, label_id"
                ))
                .bind(decision_id)
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter().map(LabelRow::into_label).collect()
            }

            async fn labelled_decisions(&self) -> Result<Vec<(Decision, LabelKind)>, StoreError> {
                let rows: Vec<LabelledRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    decision_columns!($as_text),
                    ", x.label FROM ",
                    latest_labels!(),
                    " JOIN decisions d ON d.decision_id = x.decision_id WHERE x.rn = 1 \
                     ORDER BY d.created_at, d.decision_id"
                ))
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter().map(LabelledRow::into_pair).collect()
            }

            async fn fraud_labelled_decisions(
                &self,
                since: DateTime<Utc>,
            ) -> Result<Vec<(Decision, LabelKind)>, StoreError> {
                let rows: Vec<LabelledRow> = sqlx::query_as(concat!(
                    "SELECT ",
                    decision_columns!($as_text),
                    ", x.label FROM ",
                    latest_labels!(),
                    " JOIN decisions d ON d.decision_id = x.decision_id \
                     WHERE x.rn = 1 AND x.label <> 'legit' AND d.created_at >= $1 \
                     ORDER BY d.created_at"
                ))
                .bind(<$store>::time(since))
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter().map(LabelledRow::into_pair).collect()
            }
        }
    };
}

label_store!(SqliteStore, as_text: "");
label_store!(PgStore, as_text: "::text");
