//! `/v1/policy-sets`: versioned sets of modules and thresholds.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use arbiter_engine::policy_set::{Approval, FailMode, ModuleRef, PolicySet, Thresholds, Weights};

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::{JsonBody, OptionalJsonBody};
use crate::http::names;
use crate::http::params::{Path, Query, page_size};
use crate::http::problem::ApiError;
use crate::services::policies::NewPolicySet;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModuleRefDoc {
    pub name: String,
    pub version: i64,
    /// `open` (ignore a faulting module, the default) or `closed` (a fault challenges).
    #[serde(default)]
    #[schema(schema_with = names::fail_mode)]
    pub fail_mode: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdsDoc {
    pub challenge: f64,
    pub reject: f64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightsDoc {
    pub watch: f64,
    pub graph: f64,
    pub model: f64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePolicySet {
    pub policies: Vec<ModuleRefDoc>,
    pub thresholds: ThresholdsDoc,
    pub weights: Option<WeightsDoc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicySetView {
    pub version: i64,
    pub policies: Vec<ModuleRefDoc>,
    pub thresholds: ThresholdsDoc,
    pub weights: WeightsDoc,
}

impl From<PolicySet> for PolicySetView {
    fn from(s: PolicySet) -> Self {
        PolicySetView {
            version: s.version,
            policies: s
                .policies
                .into_iter()
                .map(|p| ModuleRefDoc {
                    name: p.name,
                    version: p.version,
                    fail_mode: Some(p.fail_mode.as_str().to_owned()),
                })
                .collect(),
            thresholds: ThresholdsDoc {
                challenge: s.thresholds.challenge,
                reject: s.thresholds.reject,
            },
            weights: WeightsDoc {
                watch: s.weights.watch,
                graph: s.weights.graph,
                model: s.weights.model,
            },
        }
    }
}

/// A policy set version from the path; anything but a number is a set that does not exist.
fn set_version(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound {
        what: "policy set",
        id: raw.to_owned(),
    })
}

fn fail_mode(i: usize, raw: Option<&str>) -> Result<FailMode, ApiError> {
    let Some(raw) = raw else {
        return Ok(FailMode::default());
    };
    FailMode::parse(raw).ok_or_else(|| ApiError::Invalid {
        code: "invalid_value",
        field: format!("policies[{i}].fail_mode"),
        message: format!("`{raw}` is not one of open, closed"),
    })
}

/// Create a policy set version.
#[utoipa::path(post, path = "/v1/policy-sets", tag = "policies", request_body = CreatePolicySet,
    responses((status = 201, body = PolicySetView), (status = 422, description = "Unknown module or bad thresholds")))]
pub async fn create_set(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreatePolicySet>,
) -> Result<(StatusCode, Json<PolicySetView>), ApiError> {
    let mut policies = Vec::with_capacity(body.policies.len());
    for (i, p) in body.policies.into_iter().enumerate() {
        policies.push(ModuleRef {
            fail_mode: fail_mode(i, p.fail_mode.as_deref())?,
            name: p.name,
            version: p.version,
        });
    }
    let new = NewPolicySet {
        policies,
        thresholds: Thresholds {
            challenge: body.thresholds.challenge,
            reject: body.thresholds.reject,
        },
        weights: body.weights.map(|w| Weights {
            watch: w.watch,
            graph: w.graph,
            model: w.model,
        }),
    };
    let set = app.policies.create_set(new, &caller.actor()).await?;
    Ok((StatusCode::CREATED, Json(set.into())))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListSetsQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Versions below this one (the previous page's `next`).
    #[param(minimum = 1)]
    pub before: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicySetPage {
    /// Newest first.
    pub items: Vec<PolicySetView>,
    /// The version serving traffic (a rollout's stable set).
    pub active: i64,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next: Option<i64>,
}

/// Every policy set version, newest first, with the one serving traffic.
#[utoipa::path(get, path = "/v1/policy-sets", operation_id = "list_sets", tag = "policies", params(ListSetsQuery),
    responses((status = 200, body = PolicySetPage),
        (status = 400, description = "`limit` or `before` out of range (`invalid_query`)")))]
pub async fn list_sets(
    State(app): State<AppState>,
    _: Caller,
    Query(q): Query<ListSetsQuery>,
) -> Result<Json<PolicySetPage>, ApiError> {
    let limit = page_size("limit", q.limit, 50, 1..=200)?;
    if q.before.is_some_and(|b| b < 1) {
        return Err(ApiError::InvalidQuery {
            param: "before".into(),
            message: "must be at least 1".into(),
        });
    }
    let sets = app.policies.list_sets(q.before, limit).await?;
    let next = (sets.len() == limit as usize)
        .then(|| sets.last().map(|s| s.version))
        .flatten();
    Ok(Json(PolicySetPage {
        items: sets.into_iter().map(PolicySetView::from).collect(),
        active: app.policies.active_version(),
        next,
    }))
}

/// One policy set version.
#[utoipa::path(get, path = "/v1/policy-sets/{version}", tag = "policies", params(("version" = i64, Path)),
    responses((status = 200, body = PolicySetView), (status = 404, description = "No such version")))]
pub async fn get_set(
    State(app): State<AppState>,
    _: Caller,
    Path(version): Path<String>,
) -> Result<Json<PolicySetView>, ApiError> {
    let v = set_version(&version)?;
    Ok(Json(app.policies.get_set(v).await?.into()))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// Why it may go live (at most 500 characters).
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApprovalView {
    /// The approving key's id.
    pub approved_by: String,
    pub approved_at: chrono::DateTime<chrono::Utc>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApprovalsView {
    pub version: i64,
    /// Oldest first.
    pub approvals: Vec<ApprovalView>,
}

impl ApprovalsView {
    fn new(version: i64, approvals: Vec<Approval>) -> ApprovalsView {
        ApprovalsView {
            version,
            approvals: approvals
                .into_iter()
                .map(|a| ApprovalView {
                    approved_by: a.approved_by,
                    approved_at: a.approved_at,
                    note: a.note,
                })
                .collect(),
        }
    }
}

/// Approve a policy set for live traffic: the second key of a maker-checker deployment
/// (`--require-approval`). A key approves a version once; approving again changes nothing.
/// The body is optional.
#[utoipa::path(post, path = "/v1/policy-sets/{version}/approve", operation_id = "approve_set", tag = "policies",
    params(("version" = i64, Path, minimum = 1, description = "A policy set version")),
    request_body(content = Option<ApproveBody>, description = "Optional"),
    responses((status = 200, body = ApprovalsView), (status = 404, description = "No such version"),
        (status = 422, description = "The note is too long (`invalid_value`)")))]
pub async fn approve_set(
    State(app): State<AppState>,
    caller: Caller,
    Path(version): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<ApproveBody>,
) -> Result<Json<ApprovalsView>, ApiError> {
    let v = set_version(&version)?;
    let note = body.and_then(|b| b.note);
    let approvals = app.policies.approve(v, note, &caller.actor()).await?;
    Ok(Json(ApprovalsView::new(v, approvals)))
}

/// Who approved a policy set for live traffic, when and why (oldest first). An approval
/// counts toward a `--require-approval` activation only while its key is live and holds
/// `policy:approve`.
#[utoipa::path(get, path = "/v1/policy-sets/{version}/approvals", operation_id = "set_approvals", tag = "policies",
    params(("version" = i64, Path, minimum = 1, description = "A policy set version")),
    responses((status = 200, body = ApprovalsView), (status = 404, description = "No such version")))]
pub async fn approvals(
    State(app): State<AppState>,
    _: Caller,
    Path(version): Path<String>,
) -> Result<Json<ApprovalsView>, ApiError> {
    let v = set_version(&version)?;
    Ok(Json(ApprovalsView::new(
        v,
        app.policies.approvals(v).await?,
    )))
}
