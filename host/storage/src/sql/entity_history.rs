//! An entity's decisions, written once for both backends: a walk along the entity's chain
//! ([`arbiter_engine::entity_chain`]) from a decision, one recursive query that follows each
//! stored body's `chain.<kind>` to the previous decision by primary key, joined to the
//! `decision_features` projection (not the 2–3 kB body) for what a reviewer and the usual
//! behaviour read. Nothing is written for it: the chain is part of the decision's body.

use arbiter_engine::backtest::replay::ReplayInput;
use arbiter_engine::lists::ListKind;
use arbiter_engine::store::StoreError;
use arbiter_engine::usual::{EntityHistoryStore, PastDecision};
use async_trait::async_trait;

use crate::columns::from_json;
use crate::dialect::Dialect;
use crate::error::store_error;
use crate::feedback_rows::parse_action;
use crate::postgres::PgStore;
use crate::rows::StoredTime;
use crate::sqlite::SqliteStore;

#[derive(sqlx::FromRow)]
struct PastRow<T> {
    decision_id: String,
    created_at: T,
    action: String,
    score: f64,
    replay: String,
}

impl<T: StoredTime> PastRow<T> {
    fn into_past(self) -> Result<PastDecision, StoreError> {
        let replay: ReplayInput = from_json(&self.replay, "replay input")?;
        Ok(PastDecision {
            created_at: self.created_at.into_utc()?,
            action: parse_action(&self.action)?,
            score: self.score,
            context: replay.context,
            decision_id: self.decision_id,
        })
    }
}

/// The walk from `$1`, at most `$2` decisions, newest first. `start` is the bound start (with
/// the cast PostgreSQL needs), `previous` the expression of a body's `chain.<kind>`; the kind
/// comes from [`ListKind`], never from a caller's text.
fn walk_sql(start: &str, previous: &str) -> String {
    format!(
        "WITH RECURSIVE walk (id, n) AS ( \
             SELECT {start}, 1 \
             UNION ALL \
             SELECT {previous}, walk.n + 1 FROM walk \
             JOIN decisions d ON d.decision_id = walk.id WHERE walk.n < $2) \
         SELECT f.decision_id, f.created_at, f.action, f.score, f.replay \
         FROM walk JOIN decision_features f ON f.decision_id = walk.id ORDER BY walk.n"
    )
}

/// `$start`: the walk's first id as bound; `$previous`: a closure from a kind's name to the
/// expression of the body's previous decision for it.
macro_rules! entity_history_store {
    ($store:ty, start: $start:literal, previous: $previous:expr) => {
        #[async_trait]
        impl EntityHistoryStore for $store {
            async fn entity_decisions(
                &self,
                kind: ListKind,
                from: &str,
                limit: u32,
            ) -> Result<Vec<PastDecision>, StoreError> {
                let previous: fn(&str) -> String = $previous;
                let sql = walk_sql($start, &previous(kind.as_str()));
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

entity_history_store!(SqliteStore, start: "$1", previous: |kind| format!(
    "json_extract(d.body, '$.chain.{kind}')"
));
entity_history_store!(PgStore, start: "$1::text", previous: |kind| format!(
    "d.body->'chain'->>'{kind}'"
));
