//! An entity's decisions, written once for both backends: a walk along the entity's chain
//! ([`arbiter_engine::entity_chain`]) from a decision, one recursive query that follows each
//! stored decision's previous one of the kind (`stored_decision::walk_previous_sql`) by
//! primary key, reading each decision's context for what a reviewer and the usual behaviour
//! read. Nothing is written for it: the chain is stored with the decision.

use arbiter_engine::lists::ListKind;
use arbiter_engine::store::StoreError;
use arbiter_engine::usual::{EntityHistoryStore, PastDecision};
use async_trait::async_trait;

use crate::dialect::Dialect;
use crate::error::store_error;
use crate::feedback_rows::parse_action;
use crate::postgres::PgStore;
use crate::rows::StoredTime;
use crate::sqlite::SqliteStore;
use crate::stored_decision;

#[derive(sqlx::FromRow)]
struct PastRow<T> {
    decision_id: String,
    created_at: T,
    action: String,
    score: f64,
    body: Option<String>,
    packed: Option<Vec<u8>>,
}

impl<T: StoredTime> PastRow<T> {
    fn into_past(self) -> Result<PastDecision, StoreError> {
        let json = stored_decision::json_of(self.body, self.packed)?;
        let context = stored_decision::context_of(&json).map_err(|e| {
            StoreError::Corrupt(format!("context of decision `{}`: {e}", self.decision_id))
        })?;
        Ok(PastDecision {
            created_at: self.created_at.into_utc()?,
            action: parse_action(&self.action)?,
            score: self.score,
            context,
            decision_id: self.decision_id,
        })
    }
}

/// The walk from `$1`, at most `$2` decisions, newest first. `start` is the bound start (with
/// the cast PostgreSQL needs), `previous` the expression of a decision's previous one of the
/// kind; the kind comes from [`ListKind`], never from a caller's text. `as_text` reads the
/// JSON body as text.
fn walk_sql(start: &str, previous: &str, as_text: &str) -> String {
    format!(
        "WITH RECURSIVE walk (id, n) AS ( \
             SELECT {start}, 1 \
             UNION ALL \
             SELECT {previous}, walk.n + 1 FROM walk \
             JOIN decisions d ON d.decision_id = walk.id WHERE walk.n < $2) \
         SELECT d.decision_id, d.created_at, d.action, d.score, d.body{as_text} AS body, \
         d.packed FROM walk JOIN decisions d ON d.decision_id = walk.id ORDER BY walk.n"
    )
}

/// `$start`: the walk's first id as bound; `$postgres`: which backend's SQL.
macro_rules! entity_history_store {
    ($store:ty, start: $start:literal, postgres: $postgres:literal) => {
        #[async_trait]
        impl EntityHistoryStore for $store {
            async fn entity_decisions(
                &self,
                kind: ListKind,
                from: &str,
                limit: u32,
            ) -> Result<Vec<PastDecision>, StoreError> {
                let previous = stored_decision::walk_previous_sql(kind, $postgres);
                let as_text = if $postgres { "::text" } else { "" };
                let sql = walk_sql($start, &previous, as_text);
                let rows: Vec<PastRow<<$store as Dialect>::Time>> = sqlx::query_as(&sql)
                    .bind(from)
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await
                    .map_err(store_error)?;
                rows.into_iter().map(PastRow::into_past).collect()
            }
        }
    };
}

entity_history_store!(SqliteStore, start: "$1", postgres: false);
entity_history_store!(PgStore, start: "$1::text", postgres: true);
