//! `/v1/models`: training jobs, model versions with their metrics, activation (champion) and
//! shadow (challenger).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use arbiter_engine::feedback::{ModelSlot, ModelVersion, TrainingJob};

use crate::app_state::AppState;
use crate::http::auth::Caller;
use crate::http::params::Path;
use crate::http::problem::ApiError;
use crate::services::feedback::ModelsView;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobView {
    pub job_id: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The model version it produced.
    pub model_version: Option<i64>,
    pub error: Option<String>,
}

impl From<TrainingJob> for JobView {
    fn from(j: TrainingJob) -> Self {
        JobView {
            job_id: j.job_id,
            status: j.status.as_str().to_owned(),
            created_by: j.created_by,
            created_at: j.created_at,
            finished_at: j.finished_at,
            model_version: j.model_version,
            error: j.error,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ModelView {
    pub version: i64,
    pub learner: Option<String>,
    /// ROC AUC, PR AUC, precision and recall at the live thresholds, calibration table —
    /// measured on the held-out newer part of the labels.
    #[schema(value_type = Object)]
    pub metrics: serde_json::Value,
    pub job_id: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub active: bool,
    pub shadow: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ModelsPage {
    pub active: Option<i64>,
    pub shadow: Option<i64>,
    pub versions: Vec<ModelView>,
}

/// A version in the path: anything but an integer names no model.
fn parse_version(version: &str) -> Result<i64, ApiError> {
    version.parse().map_err(|_| ApiError::NotFound {
        what: "model version",
        id: version.to_owned(),
    })
}

fn model_view(v: ModelVersion, active: Option<i64>, shadow: Option<i64>) -> ModelView {
    ModelView {
        learner: v
            .artifact
            .get("learner")
            .and_then(|l| l.as_str())
            .map(str::to_owned),
        metrics: v
            .artifact
            .get("metrics")
            .cloned()
            .unwrap_or(serde_json::Value::Null),
        active: active == Some(v.version),
        shadow: shadow == Some(v.version),
        version: v.version,
        job_id: v.job_id,
        created_by: v.created_by,
        created_at: v.created_at,
    }
}

impl From<ModelsView> for ModelsPage {
    fn from(m: ModelsView) -> Self {
        ModelsPage {
            active: m.active,
            shadow: m.shadow,
            versions: m
                .versions
                .into_iter()
                .map(|v| model_view(v, m.active, m.shadow))
                .collect(),
        }
    }
}

/// Start training on every labelled decision (latest label each), split by time. 202 with the
/// job; 409 `too_few_labels` naming how many of each class are needed.
#[utoipa::path(post, path = "/v1/models/train", operation_id = "train_model", tag = "models",
    responses((status = 202, body = JobView), (status = 409, description = "Too few labels")))]
pub async fn train(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let job = app.models.train(&caller.actor()).await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

/// A training job's state.
#[utoipa::path(get, path = "/v1/models/jobs/{job_id}", operation_id = "get_training_job", tag = "models",
    params(("job_id" = String, Path, description = "A training job's id, as `POST /v1/models/train` answered it")),
    responses((status = 200, body = JobView), (status = 404, description = "No such job")))]
pub async fn job(
    State(app): State<AppState>,
    _: Caller,
    Path(job_id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    Ok(Json(app.models.job(&job_id).await?.into()))
}

/// Every model version with its metrics, and which is active and which in shadow.
#[utoipa::path(get, path = "/v1/models", operation_id = "list_models", tag = "models",
    responses((status = 200, body = ModelsPage)))]
pub async fn list(State(app): State<AppState>, _: Caller) -> Result<Json<ModelsPage>, ApiError> {
    Ok(Json(app.models.versions().await?.into()))
}

/// One model version with its metrics.
#[utoipa::path(get, path = "/v1/models/{version}", operation_id = "get_model", tag = "models",
    params(("version" = i64, Path, minimum = 1, description = "A model version")),
    responses((status = 200, body = ModelView), (status = 404, description = "No such version")))]
pub async fn get(
    State(app): State<AppState>,
    _: Caller,
    Path(version): Path<String>,
) -> Result<Json<ModelView>, ApiError> {
    let v = app.models.version(parse_version(&version)?).await?;
    let slots = app.models.versions().await?;
    Ok(Json(model_view(v, slots.active, slots.shadow)))
}

/// Make a version the active model (hot-swapped; every later decision records it).
#[utoipa::path(post, path = "/v1/models/{version}/activate", operation_id = "activate_model", tag = "models",
    params(("version" = i64, Path, minimum = 1, description = "A model version")),
    responses((status = 200, body = ModelsPage), (status = 404, description = "No such version")))]
pub async fn activate(
    State(app): State<AppState>,
    caller: Caller,
    Path(version): Path<String>,
) -> Result<Json<ModelsPage>, ApiError> {
    let view = app
        .models
        .assign(
            ModelSlot::Active,
            Some(parse_version(&version)?),
            &caller.actor(),
        )
        .await?;
    Ok(Json(view.into()))
}

/// Run a version in shadow beside the active one: scored and recorded on every decision
/// (`layers.model_shadow`), never used.
#[utoipa::path(post, path = "/v1/models/{version}/shadow", operation_id = "shadow_model", tag = "models",
    params(("version" = i64, Path, minimum = 1, description = "A model version")),
    responses((status = 200, body = ModelsPage), (status = 404, description = "No such version")))]
pub async fn shadow(
    State(app): State<AppState>,
    caller: Caller,
    Path(version): Path<String>,
) -> Result<Json<ModelsPage>, ApiError> {
    let view = app
        .models
        .assign(
            ModelSlot::Shadow,
            Some(parse_version(&version)?),
            &caller.actor(),
        )
        .await?;
    Ok(Json(view.into()))
}

/// Stop the shadow model.
#[utoipa::path(delete, path = "/v1/models/shadow", operation_id = "stop_shadow_model", tag = "models",
    responses((status = 200, body = ModelsPage)))]
pub async fn stop_shadow(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<ModelsPage>, ApiError> {
    let view = app
        .models
        .assign(ModelSlot::Shadow, None, &caller.actor())
        .await?;
    Ok(Json(view.into()))
}
