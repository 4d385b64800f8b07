//! A run's fingerprint: what its report was computed from, hashed, so two runs over the same
//! sets and the same data carry the same id and a report can be cited.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use arbiter_engine::backtest::{BacktestSpec, Fingerprint, ListsMode, Watermark};
use arbiter_engine::pipeline::ActivePolicy;

/// The fingerprint of a run of `spec` with these sets over data at `watermark`. `as_of`
/// enters the hash only where it changes the result: when it cuts the window short or sets
/// the label maturity. Current lists are not pinned (they are read as they are).
pub fn of(
    spec: &BacktestSpec,
    candidate: &Arc<ActivePolicy>,
    candidate_modules: Vec<String>,
    baseline: Option<&(Arc<ActivePolicy>, Vec<String>)>,
    watermark: &Watermark,
    as_of: DateTime<Utc>,
) -> Fingerprint {
    let as_of_matters = spec.to > as_of || spec.labels.maturity_days > 0;
    let hashed = serde_json::json!({
        "spec": spec,
        "candidate_set": candidate.set,
        "candidate_modules": candidate_modules,
        "baseline_set": baseline.map(|(set, _)| &set.set),
        "baseline_modules": baseline.map(|(_, m)| m),
        "decisions": watermark.decisions,
        "last_decision_id": watermark.last_decision_id,
        "labels": watermark.labels,
        "last_label_at": watermark.last_label_at,
        "as_of": as_of_matters.then_some(as_of),
        "lists": spec.lists == ListsMode::Current,
    });
    let id = hex::encode(Sha256::digest(hashed.to_string().as_bytes()));
    Fingerprint {
        id,
        candidate_modules,
        baseline_modules: baseline.map(|(_, m)| m.clone()),
        decisions: watermark.decisions,
        last_decision_id: watermark.last_decision_id.clone(),
        labels: watermark.labels,
        last_label_at: watermark.last_label_at,
        as_of,
    }
}
