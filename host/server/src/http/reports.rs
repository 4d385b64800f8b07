//! `/v1/reports/outcomes`: decisions by action, intercept, challenge and false-positive rates,
//! fraud caught and missed, review turnaround.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::params::Query;
use crate::http::problem::ApiError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutcomeQuery {
    /// Start of the window (inclusive); default 30 days before `to`.
    pub from: Option<DateTime<Utc>>,
    /// End of the window (exclusive); default now.
    pub to: Option<DateTime<Utc>>,
    /// Only decisions made by this policy set version.
    pub policy_set_version: Option<i64>,
}

/// The outcome report over a window. Rates are `null` when their denominator is zero; values
/// are exact decimals per currency. Definitions: `arbiter_engine::feedback::report`.
#[utoipa::path(get, path = "/v1/reports/outcomes", operation_id = "outcome_report", tag = "reports", params(OutcomeQuery),
    responses((status = 200, description = "The report", body = Object),
        (status = 400, description = "Invalid window: a date that does not parse, outside years 1 to 9999, or `from` not before `to` (`invalid_query`)")))]
pub async fn outcomes(
    State(app): State<AppState>,
    _: Caller,
    Query(q): Query<OutcomeQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let report = app
        .reports
        .outcomes(q.from, q.to, q.policy_set_version)
        .await
        .map_err(ApiError::from_query)?;
    serde_json::to_value(report)
        .map(Json)
        .map_err(|e| ApiError::Internal(e.to_string()))
}
