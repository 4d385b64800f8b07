//! Decisions by entity, written once for both backends: the `decision_entities` rows a
//! decision writes with itself, joined to its `decision_features` projection (not the 2–3 kB
//! body) for the columns and the context a reviewer and the usual behaviour read.

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

/// `$text`: the cast that gives a bound NULL its type where PostgreSQL cannot infer one.
macro_rules! entity_history_store {
    ($store:ty, text: $text:literal) => {
        #[async_trait]
        impl EntityHistoryStore for $store {
            async fn entity_decisions(
                &self,
                kind: ListKind,
                value: &str,
                before: Option<&str>,
                limit: u32,
            ) -> Result<Vec<PastDecision>, StoreError> {
                // One range of the projection's primary key, newest first (decision ids are
                // UUIDv7), then one primary-key lookup per row in `decision_features`.
                let rows: Vec<PastRow<<$store as Dialect>::Time>> = sqlx::query_as(concat!(
                    "SELECT f.decision_id, f.created_at, f.action, f.score, f.replay \
                     FROM decision_entities e \
                     JOIN decision_features f ON f.decision_id = e.decision_id \
                     WHERE e.kind = $1 AND e.entity = $2 AND ($3",
                    $text,
                    " IS NULL OR e.decision_id < $3) \
                     ORDER BY e.decision_id DESC LIMIT $4"
                ))
                .bind(kind.as_str())
                .bind(value)
                .bind(before)
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(store_error)?;
                rows.into_iter().map(PastRow::into_past).collect()
            }
        }
    };
}

entity_history_store!(SqliteStore, text: "");
entity_history_store!(PgStore, text: "::text");
