//! `/v1/rates`: the exchange-rate table amounts are converted into the reporting currency
//! with (`amount.reporting` for rules and policies). Setting one is a policy change: every
//! later decision compares its amount through it.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_engine::money::RateTableWire;
use arbiter_engine::money::reporting::StoredRateTable;

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::JsonBody;
use crate::http::names;
use crate::http::problem::ApiError;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRatesBody {
    /// ISO 4217 code of the currency amounts are converted into.
    #[schema(schema_with = names::currency)]
    pub reporting_currency: String,
    /// Currency code → how many units of the reporting currency one unit is worth, as a
    /// decimal string with at most 9 digits each side of the point; at most 300 rates. A currency without a
    /// rate has no reporting amount (rules comparing it are false).
    #[schema(schema_with = names::rates)]
    pub rates: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RatesView {
    /// 0: no table was ever set (only the reporting currency converts, at 1).
    pub version: i64,
    pub reporting_currency: String,
    pub rates: BTreeMap<String, String>,
    /// Absent for version 0.
    pub created_at: Option<DateTime<Utc>>,
    pub created_by: Option<String>,
}

impl From<StoredRateTable> for RatesView {
    fn from(t: StoredRateTable) -> Self {
        RatesView {
            version: t.version,
            reporting_currency: t.table.reporting_currency,
            rates: t.table.rates,
            created_at: Some(t.created_at),
            created_by: Some(t.created_by),
        }
    }
}

/// The rate table in force.
#[utoipa::path(get, path = "/v1/rates", tag = "policies",
    responses((status = 200, body = RatesView)))]
pub async fn current(State(app): State<AppState>, _: Caller) -> Result<Json<RatesView>, ApiError> {
    if let Some(stored) = app.rates.current().await? {
        return Ok(Json(stored.into()));
    }
    let identity = app.rates.in_force().to_wire();
    Ok(Json(RatesView {
        version: 0,
        reporting_currency: identity.reporting_currency,
        rates: identity.rates,
        created_at: None,
        created_by: None,
    }))
}

/// Set a new rate table version; it is in force for every later decision (each decision
/// records the version and rate it used). The same table as the one in force changes
/// nothing (200).
#[utoipa::path(post, path = "/v1/rates", tag = "policies", request_body = SetRatesBody,
    responses((status = 201, body = RatesView, description = "A new version is in force"),
        (status = 200, body = RatesView, description = "The table in force is already this one"),
        (status = 422, description = "Unknown currency, or a rate that is not a positive decimal (`field` names it)")))]
pub async fn set(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<SetRatesBody>,
) -> Result<(StatusCode, Json<RatesView>), ApiError> {
    let wire = RateTableWire {
        reporting_currency: body.reporting_currency,
        rates: body.rates,
    };
    let outcome = app.rates.set(wire, &caller.actor()).await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(outcome.table.into())))
}
