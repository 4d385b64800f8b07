//! Row types of the feedback tables (reviews, labels, training jobs, model versions), generic
//! over the timestamp column type like the rows in `rows.rs`.

use arbiter_engine::action::Action;
use arbiter_engine::feedback::{
    Claim, Escalation, JobStatus, Label, LabelKind, LabelSource, LabelledOutcome, ModelVersion,
    Resolution, Review, ReviewOutcome, ReviewStatus, TrainingJob,
};
use arbiter_engine::store::StoreError;

use crate::columns::from_json;
use crate::rows::StoredTime;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} `{value}`"))
}

pub(crate) fn parse_label(s: &str) -> Result<LabelKind, StoreError> {
    s.parse().map_err(|_| corrupt("label", s))
}

pub(crate) fn parse_label_source(s: &str) -> Result<LabelSource, StoreError> {
    s.parse().map_err(|_| corrupt("label source", s))
}

pub(crate) fn parse_action(s: &str) -> Result<Action, StoreError> {
    match s {
        "accept" => Ok(Action::Accept),
        "challenge" => Ok(Action::Challenge),
        "reject" => Ok(Action::Reject),
        "none" => Ok(Action::None),
        other => Err(corrupt("action", other)),
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ReviewRow<T> {
    review_id: String,
    decision_id: String,
    status: String,
    opened_at: T,
    resolved_at: Option<T>,
    outcome: Option<String>,
    label: Option<String>,
    reviewer: Option<String>,
    note: Option<String>,
    resolved_by: Option<String>,
    claimed_by: Option<String>,
    claimed_by_name: Option<String>,
    claimed_until: Option<T>,
    escalated_at: Option<T>,
    escalated_by: Option<String>,
    escalation_note: Option<String>,
}

impl<T: StoredTime> ReviewRow<T> {
    pub fn into_review(self) -> Result<Review, StoreError> {
        let status =
            ReviewStatus::parse(&self.status).ok_or_else(|| corrupt("status", &self.status))?;
        let resolution = match (self.outcome, self.label, self.reviewer) {
            (Some(outcome), Some(label), Some(reviewer)) => Some(Resolution {
                outcome: ReviewOutcome::parse(&outcome)
                    .ok_or_else(|| corrupt("outcome", &outcome))?,
                label: parse_label(&label)?,
                reviewer,
                note: self.note,
            }),
            _ => None,
        };
        let claim = match (self.claimed_by, self.claimed_until) {
            (Some(key_id), Some(until)) => Some(Claim {
                reviewer: self.claimed_by_name.unwrap_or_else(|| key_id.clone()),
                key_id,
                until: until.into_utc()?,
            }),
            _ => None,
        };
        let escalation = match (self.escalated_at, self.escalated_by) {
            (Some(at), Some(by)) => Some(Escalation {
                by,
                at: at.into_utc()?,
                note: self.escalation_note,
            }),
            _ => None,
        };
        Ok(Review {
            review_id: self.review_id,
            decision_id: self.decision_id,
            status,
            opened_at: self.opened_at.into_utc()?,
            resolved_at: self.resolved_at.map(StoredTime::into_utc).transpose()?,
            resolution,
            resolved_by: self.resolved_by,
            claim,
            escalation,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct LabelRow<T> {
    label_id: String,
    decision_id: String,
    label: String,
    source: String,
    external_id: Option<String>,
    note: Option<String>,
    created_by: String,
    created_at: T,
}

impl<T: StoredTime> LabelRow<T> {
    pub fn into_label(self) -> Result<Label, StoreError> {
        Ok(Label {
            label_id: self.label_id,
            decision_id: self.decision_id,
            kind: parse_label(&self.label)?,
            source: self
                .source
                .parse::<LabelSource>()
                .map_err(|_| corrupt("source", &self.source))?,
            external_id: self.external_id,
            note: self.note,
            created_by: self.created_by,
            created_at: self.created_at.into_utc()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct JobRow<T> {
    job_id: String,
    status: String,
    created_by: String,
    created_at: T,
    finished_at: Option<T>,
    model_version: Option<i64>,
    error: Option<String>,
}

impl<T: StoredTime> JobRow<T> {
    pub fn into_job(self) -> Result<TrainingJob, StoreError> {
        Ok(TrainingJob {
            status: JobStatus::parse(&self.status)
                .ok_or_else(|| corrupt("job status", &self.status))?,
            job_id: self.job_id,
            created_by: self.created_by,
            created_at: self.created_at.into_utc()?,
            finished_at: self.finished_at.map(StoredTime::into_utc).transpose()?,
            model_version: self.model_version,
            error: self.error,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ModelVersionRow<T> {
    version: i64,
    artifact: String,
    job_id: Option<String>,
    created_by: String,
    created_at: T,
}

impl<T: StoredTime> ModelVersionRow<T> {
    pub fn into_version(self) -> Result<ModelVersion, StoreError> {
        Ok(ModelVersion {
            version: self.version,
            artifact: from_json(&self.artifact, "model artifact")?,
            job_id: self.job_id,
            created_by: self.created_by,
            created_at: self.created_at.into_utc()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct LabelledOutcomeRow {
    action: String,
    label: String,
    amount_minor: Option<i64>,
    currency: Option<String>,
}

impl LabelledOutcomeRow {
    pub fn into_outcome(self) -> Result<LabelledOutcome, StoreError> {
        Ok(LabelledOutcome {
            action: parse_action(&self.action)?,
            label: parse_label(&self.label)?,
            amount_minor: self.amount_minor,
            currency: self.currency,
        })
    }
}

/// Seconds between two stored times.
pub(crate) fn turnaround<T: StoredTime>(opened: T, resolved: T) -> Result<f64, StoreError> {
    let (o, r) = (opened.into_utc()?, resolved.into_utc()?);
    Ok((r - o).num_milliseconds() as f64 / 1000.0)
}
