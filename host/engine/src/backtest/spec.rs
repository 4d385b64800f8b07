//! What a risk engineer asks a backtest for, and the limits that keep one run affordable.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::labels::{LabelPolicy, MAX_MATURITY_DAYS};
use crate::checkpoint::Checkpoint;
use crate::clock::storable;

/// The longest window one backtest replays: a year of history.
pub const MAX_WINDOW_DAYS: i64 = 366;
/// The most points a threshold sweep may have.
pub const MAX_SWEEP_POINTS: usize = 101;

/// Which list entries a replay applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListsMode {
    /// The list verdict and watch hits each decision recorded.
    #[default]
    Recorded,
    /// The lists as they are now, evaluated against each recorded context. A decision a list
    /// decided at the time has no graph or model features recorded (those layers did not run),
    /// so its rules replay without them.
    Current,
}

impl ListsMode {
    pub const ALL: [ListsMode; 2] = [ListsMode::Recorded, ListsMode::Current];

    pub fn parse(s: &str) -> Option<ListsMode> {
        ListsMode::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ListsMode::Recorded => "recorded",
            ListsMode::Current => "current",
        }
    }
}

/// A deterministic sample: the same rate and seed keep the same decisions, whatever the
/// order they are read in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    /// Share of the window's decisions replayed, in (0, 1].
    pub rate: f64,
    #[serde(default)]
    pub seed: u64,
}

impl Sample {
    /// Whether the sample keeps `decision_id`: its seeded hash, read as a fraction of 2^64,
    /// falls under the rate.
    pub fn keeps(&self, decision_id: &str) -> bool {
        let mut h = Sha256::new();
        h.update(self.seed.to_be_bytes());
        h.update(decision_id.as_bytes());
        let digest = h.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_be_bytes(first) as f64 / 18_446_744_073_709_551_616.0) < self.rate
    }
}

/// A backtest request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BacktestSpec {
    /// The policy set version to try.
    pub candidate: i64,
    /// The set to compare with. Absent: each decision as it was recorded (the version that
    /// made it).
    #[serde(default)]
    pub baseline: Option<i64>,
    /// Decisions made at or after this instant …
    pub from: DateTime<Utc>,
    /// … and before this one.
    pub to: DateTime<Utc>,
    /// Only decisions of this checkpoint.
    #[serde(default)]
    pub checkpoint: Option<Checkpoint>,
    #[serde(default)]
    pub sample: Option<Sample>,
    /// A model version to score the candidate's decisions with. Absent: each decision's
    /// recorded model score.
    #[serde(default)]
    pub candidate_model: Option<i64>,
    #[serde(default)]
    pub lists: ListsMode,
    #[serde(default)]
    pub labels: LabelPolicy,
    /// Scores for the threshold sweep, ascending. Absent: 0 to 100 in steps of 5.
    #[serde(default)]
    pub thresholds: Option<Vec<f64>>,
}

/// A spec that cannot run, naming the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("field `{field}`: {problem}")]
pub struct SpecError {
    pub field: &'static str,
    pub problem: String,
}

fn invalid(field: &'static str, problem: impl Into<String>) -> SpecError {
    SpecError {
        field,
        problem: problem.into(),
    }
}

impl BacktestSpec {
    /// Checks the limits; `Ok` means the run may start (the versions it names are checked
    /// against the registry by the host).
    pub fn validate(&self) -> Result<(), SpecError> {
        for (field, at) in [("from", self.from), ("to", self.to)] {
            if !storable(at) {
                return Err(invalid(field, "must lie in years 1 to 9999"));
            }
        }
        if self.from >= self.to {
            return Err(invalid("to", "must be after `from`"));
        }
        if self.to - self.from > Duration::days(MAX_WINDOW_DAYS) {
            return Err(invalid(
                "to",
                format!("the window is longer than {MAX_WINDOW_DAYS} days"),
            ));
        }
        if let Some(s) = &self.sample
            && !(s.rate > 0.0 && s.rate <= 1.0)
        {
            return Err(invalid("sample.rate", "must be above 0 and at most 1"));
        }
        if self.labels.maturity_days > MAX_MATURITY_DAYS {
            return Err(invalid(
                "labels.maturity_days",
                format!("must be at most {MAX_MATURITY_DAYS}"),
            ));
        }
        if let Some(t) = &self.thresholds {
            if t.is_empty() || t.len() > MAX_SWEEP_POINTS {
                return Err(invalid(
                    "thresholds",
                    format!("must hold 1 to {MAX_SWEEP_POINTS} scores"),
                ));
            }
            if t.iter().any(|x| !x.is_finite()) {
                return Err(invalid("thresholds", "every score must be a finite number"));
            }
            if t.windows(2).any(|w| w[0] >= w[1]) {
                return Err(invalid("thresholds", "scores must be strictly ascending"));
            }
        }
        Ok(())
    }

    /// The sweep grid this run uses.
    pub fn sweep_grid(&self) -> Vec<f64> {
        match &self.thresholds {
            Some(t) => t.clone(),
            None => (0..=20).map(|i| f64::from(i) * 5.0).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> BacktestSpec {
        serde_json::from_str(
            r#"{"candidate": 2, "from": "2026-01-01T00:00:00Z", "to": "2026-01-31T00:00:00Z"}"#,
        )
        .expect("a minimal spec parses")
    }

    #[test]
    fn a_minimal_spec_gets_its_defaults() {
        let s = spec();
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(s.lists, ListsMode::Recorded);
        assert_eq!(s.labels, LabelPolicy::default());
        assert_eq!(s.sweep_grid().len(), 21);
        assert_eq!(s.baseline, None);
    }

    #[test]
    fn limits_name_the_field_at_fault() {
        let field = |f: &dyn Fn(&mut BacktestSpec)| {
            let mut s = spec();
            f(&mut s);
            s.validate().err().map(|e| e.field)
        };
        assert_eq!(field(&|s| s.to = s.from), Some("to"));
        assert_eq!(field(&|s| s.to = s.from + Duration::days(400)), Some("to"));
        let rate = |rate| move |s: &mut BacktestSpec| s.sample = Some(Sample { rate, seed: 1 });
        assert_eq!(field(&rate(0.0)), Some("sample.rate"));
        assert_eq!(field(&rate(f64::NAN)), Some("sample.rate"));
        assert_eq!(field(&rate(1.0)), None);
        assert_eq!(
            field(&|s| s.labels.maturity_days = 366),
            Some("labels.maturity_days")
        );
        assert_eq!(field(&|s| s.thresholds = Some(vec![])), Some("thresholds"));
        assert_eq!(
            field(&|s| s.thresholds = Some(vec![50.0, 10.0])),
            Some("thresholds")
        );
        assert_eq!(
            field(&|s| s.thresholds = Some(vec![0.0; 102])),
            Some("thresholds")
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_str::<BacktestSpec>(
            r#"{"candidate": 2, "from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "window": 3}"#,
        )
        .expect_err("unknown field");
        assert!(err.to_string().contains("window"), "{err}");
    }

    #[test]
    fn a_sample_is_stable_and_close_to_its_rate() {
        let s = Sample { rate: 0.1, seed: 7 };
        let ids: Vec<String> = (0..20_000).map(|i| format!("dec_{i:08}")).collect();
        let kept: Vec<&String> = ids.iter().filter(|id| s.keeps(id)).collect();
        assert!((1_800..2_200).contains(&kept.len()), "{}", kept.len());
        let again: Vec<&String> = ids.iter().filter(|id| s.keeps(id)).collect();
        assert_eq!(kept, again, "the same seed keeps the same decisions");
        let other = Sample { rate: 0.1, seed: 8 };
        assert_ne!(
            kept,
            ids.iter().filter(|id| other.keeps(id)).collect::<Vec<_>>(),
            "another seed keeps others"
        );
        assert!(ids.iter().all(|id| Sample { rate: 1.0, seed: 0 }.keeps(id)));
    }
}
