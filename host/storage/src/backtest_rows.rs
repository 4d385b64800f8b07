//! Row types of the backtest tables (`backtests`, and the decisions a backtest reads), generic
//! over the timestamp column type like the rows in `rows.rs`.

use arbiter_engine::backtest::shadow::ShadowRow;
use arbiter_engine::backtest::{Backtest, BacktestStatus, Progress, RecordedRow};
use arbiter_engine::store::StoreError;

use crate::columns::from_json;
use crate::feedback_rows::{parse_action, parse_label};
use crate::rows::StoredTime;

fn count(n: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative {what} `{n}`")))
}

#[derive(sqlx::FromRow)]
pub(crate) struct BacktestRow<T> {
    backtest_id: String,
    status: String,
    spec: String,
    read_count: i64,
    total_count: i64,
    result: Option<String>,
    error: Option<String>,
    created_by: String,
    created_at: T,
    finished_at: Option<T>,
}

/// The columns a [`BacktestRow`] reads, in its order.
pub(crate) const BACKTEST_COLUMNS: &str = "backtest_id, status, spec, read_count, total_count, \
     result, error, created_by, created_at, finished_at";

impl<T: StoredTime> BacktestRow<T> {
    pub fn into_backtest(self) -> Result<Backtest, StoreError> {
        Ok(Backtest {
            status: BacktestStatus::parse(&self.status)
                .ok_or_else(|| StoreError::Corrupt(format!("backtest status `{}`", self.status)))?,
            spec: from_json(&self.spec, "backtest spec")?,
            progress: Progress {
                read: count(self.read_count, "read count")?,
                total: count(self.total_count, "total count")?,
            },
            result: self
                .result
                .as_deref()
                .map(|r| from_json(r, "backtest result"))
                .transpose()?,
            error: self.error,
            created_by: self.created_by,
            created_at: self.created_at.into_utc()?,
            finished_at: self.finished_at.map(StoredTime::into_utc).transpose()?,
            backtest_id: self.backtest_id,
        })
    }
}

/// One decision's columns, its stored form (`body`, `packed`) and its latest label.
#[derive(sqlx::FromRow)]
pub(crate) struct FeaturesRow<T> {
    decision_id: String,
    created_at: T,
    policy_set_version: i64,
    model_version: Option<i64>,
    action: String,
    score: f64,
    body: Option<String>,
    packed: Option<Vec<u8>>,
    label: Option<String>,
}

impl<T: StoredTime> FeaturesRow<T> {
    /// The row with its columns parsed; the replay input stays encoded (see [`RecordedRow`]).
    pub fn into_recorded(self) -> Result<RecordedRow, StoreError> {
        Ok(RecordedRow {
            created_at: self.created_at.into_utc()?,
            policy_set_version: self.policy_set_version,
            model_version: self.model_version,
            action: parse_action(&self.action)?,
            score: self.score,
            replay: crate::stored_decision::undecoded_input(self.body, self.packed),
            label: self.label.as_deref().map(parse_label).transpose()?,
            decision_id: self.decision_id,
        })
    }
}

/// One decision with a shadow result, and its latest label.
#[derive(sqlx::FromRow)]
pub(crate) struct ShadowFeaturesRow<T> {
    decision_id: String,
    created_at: T,
    action: String,
    shadow_action: String,
    shadow_score: f64,
    amount_minor: Option<i64>,
    currency: Option<String>,
    shadow_hits: Option<String>,
    label: Option<String>,
}

impl<T: StoredTime> ShadowFeaturesRow<T> {
    pub fn into_row(self) -> Result<ShadowRow, StoreError> {
        Ok(ShadowRow {
            created_at: self.created_at.into_utc()?,
            action: parse_action(&self.action)?,
            shadow_action: parse_action(&self.shadow_action)?,
            shadow_score: self.shadow_score,
            amount: self.currency.zip(self.amount_minor),
            hits: self
                .shadow_hits
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter(|h| !h.is_empty())
                .map(str::to_owned)
                .collect(),
            label: self.label.as_deref().map(parse_label).transpose()?,
            decision_id: self.decision_id,
        })
    }
}

/// A `COUNT(*)` as the store answered it.
pub(crate) fn stored_count(n: i64) -> Result<u64, StoreError> {
    count(n, "count")
}
