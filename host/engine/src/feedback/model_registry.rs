//! Model versions and training jobs as the host stores them. The artifact itself (coefficients,
//! standardisation, metrics) is opaque JSON here: `arbiter-models` owns its shape.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<JobStatus> {
        [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Succeeded,
            JobStatus::Failed,
        ]
        .into_iter()
        .find(|j| j.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingJob {
    pub job_id: String,
    pub status: JobStatus,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub model_version: Option<i64>,
    pub error: Option<String>,
}

impl TrainingJob {
    pub fn generate_id() -> String {
        format!("job_{}", uuid::Uuid::now_v7().simple())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    pub version: i64,
    /// The artifact as `arbiter-models` serialised it.
    pub artifact: serde_json::Value,
    pub job_id: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// The two places a model version can run: enforced (`active`, the champion) or scored and
/// recorded only (`shadow`, the challenger).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelSlot {
    Active,
    Shadow,
}

impl ModelSlot {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelSlot::Active => "active",
            ModelSlot::Shadow => "shadow",
        }
    }
}
