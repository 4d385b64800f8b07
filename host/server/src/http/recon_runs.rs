//! `POST /v1/reconciliation/runs`: a channel's statement of a day (the one imported last)
//! matched against the payment book of that day, recorded with a ticket per new difference and
//! the statement's fees and payout posted in the ledger (once per statement). Scope `admin`;
//! `arbiter recon run` and the daily job do the same.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::problem::ApiError;
use crate::http::statements::{StatementView, channel_field, channel_names};
use crate::services::reconciliation::DayRun;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// `card`, `alipay` or `wechat`.
    #[schema(schema_with = channel_names)]
    pub channel: String,
    /// The statement day (`YYYY-MM-DD`; Beijing days for Alipay and WeChat Pay).
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DifferenceView {
    /// `missing_local`, `missing_channel`, `amount_mismatch`, `currency_mismatch`,
    /// `status_mismatch` or `fee_unexpected`.
    pub kind: String,
    /// Our id at the channel, or the channel's own when we have no record.
    pub reference: String,
    /// The statement line, when a row is involved.
    pub line: Option<usize>,
    pub detail: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RunView {
    /// The run's id (`rr_…`); its tickets name it.
    pub id: String,
    pub statement: StatementView,
    /// Payment and refund rows of the statement.
    pub rows: usize,
    pub matched: usize,
    /// Ours near the day's end, not due on this statement yet.
    pub pending: usize,
    /// Differences per row (the goal: below 0.0001).
    pub difference_rate: f64,
    /// Differences by kind.
    pub by_kind: BTreeMap<String, usize>,
    pub differences: Vec<DifferenceView>,
    /// No difference and nothing pending: the day's clearing account should be zero.
    pub clean: bool,
    /// Tickets this run opened (a difference the day holds a ticket for opens none).
    pub opened: usize,
    /// Open tickets of the day this run no longer found.
    pub cleared: usize,
    /// Whether this run posted the statement's fees and payout (once per statement).
    pub settled: bool,
    /// Whether fees were checked against the channel's schedule (`--fee-schedule`).
    pub fees_checked: bool,
}

impl RunView {
    pub fn new(day: DayRun) -> RunView {
        let clean = day.run.is_clean();
        let outcome = day.run.outcome;
        let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
        for d in &outcome.differences {
            *by_kind.entry(d.kind.as_str().to_owned()).or_default() += 1;
        }
        RunView {
            id: day.run.id,
            statement: StatementView::new(day.statement, false),
            rows: outcome.rows,
            matched: outcome.matched,
            pending: outcome.pending,
            difference_rate: outcome.difference_rate(),
            by_kind,
            differences: outcome
                .differences
                .into_iter()
                .map(|d| DifferenceView {
                    kind: d.kind.as_str().to_owned(),
                    reference: d.reference,
                    line: d.line,
                    detail: d.detail,
                })
                .collect(),
            clean,
            opened: day.recorded.opened,
            cleared: day.recorded.cleared,
            settled: day.recorded.settled,
            fees_checked: day.fees_checked,
        }
    }
}

/// Reconcile a channel's day: match its statement (the one imported last) against the payment
/// book of that day, open a ticket per new difference, clear the day's tickets no longer
/// found, and post the statement's fees and payout in the ledger once.
#[utoipa::path(post, path = "/v1/reconciliation/runs", operation_id = "run_reconciliation",
    tag = "reconciliation", request_body = RunRequest,
    responses(
        (status = 200, body = RunView),
        (status = 404, description = "No statement of that channel and day imported"),
        (status = 410, description = "The day's statement expired (`statement_expired`): retention took its file and rows; import the file again"),
        (status = 422, description = "Invalid field"),
    ))]
pub async fn run(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<RunRequest>,
) -> Result<Json<RunView>, ApiError> {
    channel_field(&body.channel)?;
    let day = app
        .reconciliation
        .reconcile_day(&body.channel, body.date, &caller.actor())
        .await?;
    Ok(Json(RunView::new(day)))
}
