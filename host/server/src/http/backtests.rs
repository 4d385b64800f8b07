//! `/v1/backtests`: replay a candidate policy set over stored decisions and compare it with
//! what was decided and what the labels say. A run is started (`202`), polled, listed and
//! cancelled here; the replay itself is `services::backtests`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use arbiter_engine::Checkpoint;
use arbiter_engine::backtest::{Backtest, BacktestSpec, LabelPolicy, ListsMode, Progress, Sample};
use arbiter_engine::feedback::LabelKind;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::names;
use crate::http::params::{Path, Query, page_size};
use crate::http::problem::ApiError;
use crate::services::backtests::MAX_LIST;

/// Replay a share of the window only: the same rate and seed keep the same decisions.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleDoc {
    /// Share of the window's decisions replayed: above 0, at most 1.
    #[schema(exclusive_minimum = 0, maximum = 1)]
    pub rate: f64,
    /// Default 0.
    #[schema(value_type = Option<i64>, minimum = 0)]
    pub seed: Option<u64>,
}

/// Which labels count as fraud, and when a label is old enough to trust.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelPolicyDoc {
    /// Label kinds counted as fraud (default: every kind but `legit`). `legit` always counts
    /// as legitimate; a kind left out counts as unknown.
    #[schema(schema_with = names::label_kinds)]
    pub fraud: Option<Vec<String>>,
    /// Decisions younger than this many days when the run starts count as unlabelled
    /// (default 0, at most 365): a chargeback may still arrive.
    #[schema(maximum = 365)]
    pub maturity_days: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBacktest {
    /// The policy set version to try.
    pub candidate: i64,
    /// The set to compare with. Absent: each decision as it was recorded.
    pub baseline: Option<i64>,
    /// Decisions made at or after this instant (RFC 3339) …
    pub from: DateTime<Utc>,
    /// … and before this one; at most 366 days after `from`. A future `to` stops at the
    /// run's start.
    pub to: DateTime<Utc>,
    /// Only decisions of this checkpoint.
    #[schema(schema_with = names::checkpoint)]
    pub checkpoint: Option<String>,
    pub sample: Option<SampleDoc>,
    /// A model version to score the candidate with. Absent: each decision's recorded score.
    pub candidate_model: Option<i64>,
    /// `recorded` (default): the list verdicts and watch hits as decided; `current`: the
    /// lists as they are now.
    #[schema(schema_with = names::lists_mode)]
    pub lists: Option<String>,
    pub labels: Option<LabelPolicyDoc>,
    /// Scores for the threshold sweep, strictly ascending, 1 to 101 of them (default 0 to
    /// 100 in steps of 5).
    #[schema(min_items = 1, max_items = 101)]
    pub thresholds: Option<Vec<f64>>,
}

fn invalid(field: &str, message: String) -> ApiError {
    ApiError::Invalid {
        code: "invalid_value",
        field: field.to_owned(),
        message,
    }
}

impl StartBacktest {
    fn into_spec(self) -> Result<BacktestSpec, ApiError> {
        let checkpoint = match self.checkpoint.as_deref() {
            None => None,
            Some(c) => Some(Checkpoint::parse(c).ok_or_else(|| {
                let known: Vec<_> = Checkpoint::ALL.iter().map(|c| c.as_str()).collect();
                invalid(
                    "checkpoint",
                    format!("`{c}` is not one of {}", known.join(", ")),
                )
            })?),
        };
        let lists = match self.lists.as_deref() {
            None => ListsMode::Recorded,
            Some(m) => ListsMode::parse(m).ok_or_else(|| {
                invalid("lists", format!("`{m}` is not one of recorded, current"))
            })?,
        };
        let mut labels = LabelPolicy::default();
        if let Some(l) = self.labels {
            if let Some(fraud) = l.fraud {
                labels.fraud = fraud
                    .iter()
                    .map(|k| k.parse::<LabelKind>())
                    .collect::<Result<_, _>>()
                    .map_err(|e| invalid("labels.fraud", e))?;
            }
            labels.maturity_days = l.maturity_days.unwrap_or(0);
        }
        Ok(BacktestSpec {
            candidate: self.candidate,
            baseline: self.baseline,
            from: self.from,
            to: self.to,
            checkpoint,
            sample: self.sample.map(|s| Sample {
                rate: s.rate,
                seed: s.seed.unwrap_or(0),
            }),
            candidate_model: self.candidate_model,
            lists,
            labels,
            thresholds: self.thresholds,
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProgressView {
    /// Decisions read so far.
    #[schema(value_type = i64, minimum = 0)]
    pub read: u64,
    /// Decisions in the window when the run started.
    #[schema(value_type = i64, minimum = 0)]
    pub total: u64,
}

impl From<Progress> for ProgressView {
    fn from(p: Progress) -> Self {
        ProgressView {
            read: p.read,
            total: p.total,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BacktestView {
    pub backtest_id: String,
    /// `running`, `succeeded`, `failed` or `cancelled`.
    pub status: String,
    /// The request as the run understood it, defaults filled in.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    pub progress: ProgressView,
    /// Once `succeeded`: the fingerprint, coverage, the baseline × candidate transitions
    /// (counts, money per currency in minor units, example decision ids), scorecards at
    /// reject and at challenge-or-reject, per-rule hits, co-firing rules, the threshold sweep
    /// and the determinism check. See `policies/README.md`.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// The id of the key that started it.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<Backtest> for BacktestView {
    fn from(b: Backtest) -> Self {
        BacktestView {
            status: b.status.as_str().to_owned(),
            spec: serde_json::to_value(&b.spec).unwrap_or_default(),
            progress: b.progress.into(),
            result: b
                .result
                .as_ref()
                .map(|r| serde_json::to_value(r).unwrap_or_default()),
            error: b.error,
            created_by: b.created_by,
            created_at: b.created_at,
            finished_at: b.finished_at,
            backtest_id: b.backtest_id,
        }
    }
}

/// A run in a listing: its headline figures, not its whole report.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BacktestSummary {
    pub backtest_id: String,
    pub status: String,
    pub candidate: i64,
    pub baseline: Option<i64>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub progress: ProgressView,
    /// Once `succeeded`: decisions replayed, decisions whose answer changed, determinism
    /// faults, and the fingerprint's id.
    #[schema(value_type = Option<i64>, minimum = 0)]
    pub replayed: Option<u64>,
    #[schema(value_type = Option<i64>, minimum = 0)]
    pub changed: Option<u64>,
    #[schema(value_type = Option<i64>, minimum = 0)]
    pub determinism_faults: Option<u64>,
    pub fingerprint: Option<String>,
    pub error: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<Backtest> for BacktestSummary {
    fn from(b: Backtest) -> Self {
        let r = b.result.as_ref();
        BacktestSummary {
            status: b.status.as_str().to_owned(),
            candidate: b.spec.candidate,
            baseline: b.spec.baseline,
            from: b.spec.from,
            to: b.spec.to,
            progress: b.progress.into(),
            replayed: r.map(|r| r.report.coverage.replayed),
            changed: r.map(|r| r.report.changed),
            determinism_faults: r.map(|r| r.report.determinism.faults),
            fingerprint: r.map(|r| r.fingerprint.id.clone()),
            error: b.error,
            created_by: b.created_by,
            created_at: b.created_at,
            finished_at: b.finished_at,
            backtest_id: b.backtest_id,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BacktestPage {
    /// Newest first.
    pub items: Vec<BacktestSummary>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The `next` of the previous page: runs started before it.
    pub before: Option<String>,
    /// At most this many runs (1 to 100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Start a backtest: `202` with the run, which replays in the background.
#[utoipa::path(post, path = "/v1/backtests", operation_id = "start_backtest", tag = "backtests",
    request_body = StartBacktest,
    responses((status = 202, body = BacktestView),
        (status = 404, description = "The candidate or baseline set, or the candidate model, does not exist"),
        (status = 422, description = "A field is out of its range (`invalid_value`), or a set's module cannot load"),
        (status = 429, description = "This replica runs its limit of backtests (`backtests_busy`, with `Retry-After`); retry when one ends")))]
pub async fn start(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<StartBacktest>,
) -> Result<(StatusCode, Json<BacktestView>), ApiError> {
    let spec = body.into_spec()?;
    let run = app.backtests.start(spec, &caller.actor()).await?;
    Ok((StatusCode::ACCEPTED, Json(run.into())))
}

/// Backtests, newest first.
#[utoipa::path(get, path = "/v1/backtests", operation_id = "list_backtests", tag = "backtests",
    params(ListQuery),
    responses((status = 200, body = BacktestPage),
        (status = 400, description = "`limit` out of range (`invalid_query`)")))]
pub async fn list(
    State(app): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<BacktestPage>, ApiError> {
    let limit = page_size("limit", q.limit, 20, 1..=MAX_LIST)?;
    let runs = app.backtests.list(q.before.as_deref(), limit).await?;
    let next = (runs.len() == limit as usize)
        .then(|| runs.last().map(|b| b.backtest_id.clone()))
        .flatten();
    Ok(Json(BacktestPage {
        items: runs.into_iter().map(BacktestSummary::from).collect(),
        next,
    }))
}

/// A backtest: its progress while it runs, its report once it has succeeded.
#[utoipa::path(get, path = "/v1/backtests/{backtest_id}", operation_id = "get_backtest", tag = "backtests",
    params(("backtest_id" = String, Path, description = "A backtest's id, as `POST /v1/backtests` answered it")),
    responses((status = 200, body = BacktestView), (status = 404, description = "No such backtest")))]
pub async fn get(
    State(app): State<AppState>,
    Path(backtest_id): Path<String>,
) -> Result<Json<BacktestView>, ApiError> {
    Ok(Json(app.backtests.get(&backtest_id).await?.into()))
}

/// Cancel a running backtest (it stops within a second); a run that has ended is returned
/// unchanged.
#[utoipa::path(delete, path = "/v1/backtests/{backtest_id}", operation_id = "cancel_backtest", tag = "backtests",
    params(("backtest_id" = String, Path, description = "A backtest's id, as `POST /v1/backtests` answered it")),
    responses((status = 200, body = BacktestView), (status = 404, description = "No such backtest")))]
pub async fn cancel(
    State(app): State<AppState>,
    caller: Caller,
    Path(backtest_id): Path<String>,
) -> Result<Json<BacktestView>, ApiError> {
    Ok(Json(
        app.backtests
            .cancel(&backtest_id, &caller.actor())
            .await?
            .into(),
    ))
}
