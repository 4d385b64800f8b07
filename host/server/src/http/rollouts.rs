//! `/v1/rollouts`: traffic-split rollouts of a candidate policy set.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_engine::registry::{Guard, RolloutMode};

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::body::{JsonBody, OptionalJsonBody};
use crate::http::names;
use crate::http::problem::ApiError;
use crate::services::policies::{NewRollout, RolloutView};

/// Roll back by itself when the candidate does worse than the stable set.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuardDoc {
    /// Candidate reject rate may exceed the stable one by at most this many points.
    pub max_reject_rate_increase_pts: Option<f64>,
    /// Candidate challenge rate may exceed the stable one by at most this many points.
    pub max_challenge_rate_increase_pts: Option<f64>,
    /// Candidate decisions with a faulting module, in percent, at most.
    pub max_fault_rate: Option<f64>,
    /// Candidate decisions seen before the guard may trip (a JSON integer: at most 2^63 - 1).
    #[schema(value_type = i64, minimum = 0)]
    pub min_decisions: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRollout {
    pub policy_set_version: i64,
    /// 0 to 100: the share of users (by a hash of `user.id`) the candidate takes. Required
    /// for a live rollout; a shadow rollout defaults to 100 (shadowing costs the slice no
    /// risk, and a small slice gives too few shadow verdicts to judge).
    #[schema(maximum = 100)]
    pub percent: Option<u8>,
    /// `live` (the candidate decides for its slice, the default) or `shadow` (evaluated and
    /// recorded only).
    #[serde(default)]
    #[schema(schema_with = names::rollout_mode)]
    pub mode: Option<String>,
    pub guard: Option<GuardDoc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CurrentRollout {
    pub stable: i64,
    pub candidate: Option<i64>,
    pub percent: u8,
    pub mode: Option<String>,
    pub rollout_id: Option<i64>,
    pub guard: Option<GuardDoc>,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    /// For a shadow rollout: the candidate's recorded answers against the live set's over
    /// the run so far, as a backtest reports them (transitions with example decision ids,
    /// scorecards against the labels, per-rule hits, coverage). The run's first 200,000
    /// decisions at most; `shadow_summary_partial` says when there were more.
    #[schema(value_type = Option<Object>)]
    pub shadow_summary: Option<serde_json::Value>,
    pub shadow_summary_partial: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoLiveBody {
    /// 0 to 100: the share of users the candidate now decides for.
    #[schema(maximum = 100)]
    pub percent: u8,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackBody {
    pub reason: Option<String>,
}

impl From<RolloutView> for CurrentRollout {
    fn from(v: RolloutView) -> Self {
        match v.rollout {
            None => CurrentRollout {
                stable: v.stable,
                candidate: None,
                percent: 0,
                mode: None,
                rollout_id: None,
                guard: None,
                started_at: None,
                shadow_summary: None,
                shadow_summary_partial: None,
            },
            Some(r) => CurrentRollout {
                stable: v.stable,
                candidate: Some(r.candidate),
                percent: r.percent,
                mode: Some(r.mode.as_str().to_owned()),
                rollout_id: Some(r.id),
                guard: r.guard.map(|g| GuardDoc {
                    max_reject_rate_increase_pts: g.max_reject_rate_increase_pts,
                    max_challenge_rate_increase_pts: g.max_challenge_rate_increase_pts,
                    max_fault_rate: g.max_fault_rate,
                    min_decisions: g.min_decisions,
                }),
                started_at: Some(r.started_at),
                shadow_summary: None,
                shadow_summary_partial: None,
            },
        }
    }
}

/// Start a rollout of a candidate set (one at a time).
#[utoipa::path(post, path = "/v1/rollouts", operation_id = "start_rollout", tag = "rollouts", request_body = StartRollout,
    responses((status = 201, body = CurrentRollout), (status = 409, description = "A rollout is already active"),
        (status = 422, description = "Bad percent, mode, guard or set")))]
pub async fn start(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<StartRollout>,
) -> Result<(StatusCode, Json<CurrentRollout>), ApiError> {
    let mode = match body.mode.as_deref() {
        None => RolloutMode::Live,
        Some(m) => RolloutMode::parse(m).ok_or_else(|| ApiError::Invalid {
            code: "invalid_value",
            field: "mode".into(),
            message: format!("`{m}` is not one of live, shadow"),
        })?,
    };
    if body
        .guard
        .as_ref()
        .is_some_and(|g| i64::try_from(g.min_decisions).is_err())
    {
        return Err(ApiError::Invalid {
            code: "invalid_value",
            field: "guard.min_decisions".into(),
            message: "must be at most 9223372036854775807".into(),
        });
    }
    let percent = match (body.percent, mode) {
        (Some(percent), _) => percent,
        (None, RolloutMode::Shadow) => 100,
        (None, RolloutMode::Live) => {
            return Err(ApiError::Invalid {
                code: "invalid_value",
                field: "percent".into(),
                message: "a live rollout names its share of traffic (0 to 100)".into(),
            });
        }
    };
    let new = NewRollout {
        policy_set_version: body.policy_set_version,
        percent,
        mode,
        guard: body.guard.map(|g| Guard {
            max_reject_rate_increase_pts: g.max_reject_rate_increase_pts,
            max_challenge_rate_increase_pts: g.max_challenge_rate_increase_pts,
            max_fault_rate: g.max_fault_rate,
            min_decisions: g.min_decisions,
        }),
    };
    let view = app.policies.start_rollout(new, &caller.actor()).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Turn the shadow rollout live for a share of users: the same run, now deciding for its
/// slice (audited as `rollout.go_live`). Needs what a live start needs.
#[utoipa::path(post, path = "/v1/rollouts/current/live", operation_id = "go_live", tag = "rollouts", request_body = GoLiveBody,
    responses((status = 200, body = CurrentRollout),
        (status = 404, description = "No rollout in progress"),
        (status = 409, description = "The rollout is live already, or the set is not cleared for live traffic (`activation_guarded`)"),
        (status = 422, description = "Bad percent")))]
pub async fn go_live(
    State(app): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<GoLiveBody>,
) -> Result<Json<CurrentRollout>, ApiError> {
    let view = app.policies.go_live(body.percent, &caller.actor()).await?;
    Ok(Json(view.into()))
}

/// What serves traffic: the stable set and the candidate, if any.
#[utoipa::path(get, path = "/v1/rollouts/current", operation_id = "current_rollout", tag = "rollouts",
    responses((status = 200, body = CurrentRollout)))]
pub async fn current(
    State(app): State<AppState>,
    _: Caller,
) -> Result<Json<CurrentRollout>, ApiError> {
    let view = app.policies.current().await?;
    let shadow = view
        .rollout
        .as_ref()
        .filter(|r| r.mode == RolloutMode::Shadow)
        .map(|r| (r.candidate, r.started_at));
    let mut out = CurrentRollout::from(view);
    if let Some((candidate, since)) = shadow {
        let summary = app.backtests.shadow_summary(candidate, since).await?;
        out.shadow_summary = Some(serde_json::to_value(&summary.report).unwrap_or_default());
        out.shadow_summary_partial = Some(summary.partial);
    }
    Ok(Json(out))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoteBody {
    /// Promote a candidate with no modules, or one that has neither served traffic in this
    /// rollout nor passed a backtest; the audit log records what was overridden.
    pub force: Option<bool>,
}

/// Make the candidate the stable set for all traffic. The body is optional.
#[utoipa::path(post, path = "/v1/rollouts/current/promote", operation_id = "promote_rollout", tag = "rollouts",
    request_body(content = Option<PromoteBody>, description = "Optional"),
    responses((status = 200, body = CurrentRollout), (status = 404, description = "No active rollout"),
        (status = 409, description = "The candidate has no modules, or has neither served traffic nor passed a backtest (`unsafe_policy_change`); send `{\"force\": true}` to promote anyway")))]
pub async fn promote(
    State(app): State<AppState>,
    caller: Caller,
    OptionalJsonBody(body): OptionalJsonBody<PromoteBody>,
) -> Result<Json<CurrentRollout>, ApiError> {
    let force = body.and_then(|b| b.force).unwrap_or(false);
    Ok(Json(
        app.policies.promote(&caller.actor(), force).await?.into(),
    ))
}

/// Send all traffic back to the stable set.
#[utoipa::path(post, path = "/v1/rollouts/current/rollback", operation_id = "rollback_rollout", tag = "rollouts",
    responses((status = 200, body = CurrentRollout), (status = 404, description = "No active rollout")))]
pub async fn rollback(
    State(app): State<AppState>,
    caller: Caller,
    OptionalJsonBody(body): OptionalJsonBody<RollbackBody>,
) -> Result<Json<CurrentRollout>, ApiError> {
    // The body is optional: `{"reason": "…"}` or nothing.
    let reason = body.and_then(|b| b.reason);
    Ok(Json(
        app.policies.rollback(&caller.actor(), reason).await?.into(),
    ))
}
