//! The policy registry's records: uploaded modules (content-addressed, versioned per name),
//! rollouts of a candidate policy set against the stable one. The log of changes to them is
//! [`crate::audit`].
//!
//! Plain values only. They are what the stores in [`crate::store`] read and write and what the
//! HTTP edge renders; validating and compiling module bytes belongs to the runtime, deciding
//! when a guard trips to the rollout controller. No I/O here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One stored version of a policy module, without its bytes (listing the registry should not
/// read megabytes of WebAssembly).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyModule {
    pub name: String,
    /// 1, 2, 3, … per name, in upload order.
    pub version: i64,
    /// Lowercase hex SHA-256 of the module bytes: the same bytes under the same name are the
    /// same version.
    pub sha256: String,
    pub size_bytes: i64,
    pub created_at: DateTime<Utc>,
    /// The id of the API key that uploaded it.
    pub created_by: String,
    /// What it was made from.
    pub kind: ModuleKind,
}

/// Where a module came from: uploaded as WebAssembly, or compiled by the server from a
/// rule file (whose text is stored beside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModuleKind {
    Wasm,
    Rules,
}

/// A module with its bytes: the component as uploaded and the runtime's precompiled form, so a
/// swap or a restart only deserializes instead of compiling again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredModule {
    pub module: PolicyModule,
    pub wasm: Vec<u8>,
    pub precompiled: Vec<u8>,
    /// The rule file the module was compiled from; `None` for an uploaded module.
    pub source: Option<String>,
}

/// How a rollout's candidate set is used for the subjects in its slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutMode {
    /// The candidate decides for its slice.
    Live,
    /// The candidate is evaluated and recorded, never enforced.
    Shadow,
}

impl RolloutMode {
    pub const ALL: [RolloutMode; 2] = [RolloutMode::Live, RolloutMode::Shadow];

    pub fn as_str(self) -> &'static str {
        match self {
            RolloutMode::Live => "live",
            RolloutMode::Shadow => "shadow",
        }
    }

    pub fn parse(s: &str) -> Option<RolloutMode> {
        RolloutMode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// When a rollout rolls itself back. Rates are shares of decisions in percentage points
/// (0..=100), compared between the candidate's and the stable set's decisions; nothing is
/// judged before the candidate has made `min_decisions` decisions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guard {
    /// Trips when the candidate's reject rate exceeds the stable set's by more than this.
    #[serde(default)]
    pub max_reject_rate_increase_pts: Option<f64>,
    /// Trips when the candidate's challenge rate exceeds the stable set's by more than this.
    #[serde(default)]
    pub max_challenge_rate_increase_pts: Option<f64>,
    /// Trips when more than this share of the candidate's decisions had a module fault.
    #[serde(default)]
    pub max_fault_rate: Option<f64>,
    pub min_decisions: u64,
}

impl Guard {
    /// Every limit given is a finite number of points in `0..=100`, and at least one is given.
    pub fn validate(&self) -> Result<(), String> {
        let limits = [
            (
                "max_reject_rate_increase_pts",
                self.max_reject_rate_increase_pts,
            ),
            (
                "max_challenge_rate_increase_pts",
                self.max_challenge_rate_increase_pts,
            ),
            ("max_fault_rate", self.max_fault_rate),
        ];
        for (field, limit) in limits {
            if let Some(v) = limit
                && !(v.is_finite() && (0.0..=100.0).contains(&v))
            {
                return Err(format!(
                    "guard `{field}` must be between 0 and 100 percentage points"
                ));
            }
        }
        if limits.iter().all(|(_, limit)| limit.is_none()) {
            return Err("a guard needs at least one limit".into());
        }
        Ok(())
    }
}

/// Where a rollout is in its life. At most one is `Active` at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutStatus {
    Active,
    /// Ended by making the candidate the active set.
    Promoted,
    /// Ended leaving the stable set active, by a person or by a tripped guard.
    RolledBack,
}

impl RolloutStatus {
    pub const ALL: [RolloutStatus; 3] = [
        RolloutStatus::Active,
        RolloutStatus::Promoted,
        RolloutStatus::RolledBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RolloutStatus::Active => "active",
            RolloutStatus::Promoted => "promoted",
            RolloutStatus::RolledBack => "rolled_back",
        }
    }

    pub fn parse(s: &str) -> Option<RolloutStatus> {
        RolloutStatus::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// A candidate policy set version serving `percent` of subjects beside the stable one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollout {
    pub id: i64,
    /// The policy set version active when the rollout started; it stays active on rollback.
    pub stable: i64,
    /// The policy set version under trial; it becomes active on promotion.
    pub candidate: i64,
    /// 0..=100: the share of subjects assigned to the candidate.
    pub percent: u8,
    pub mode: RolloutMode,
    pub guard: Option<Guard>,
    pub status: RolloutStatus,
    /// Why it ended (for an automatic rollback, which guard tripped and on what numbers).
    pub reason: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The id of the API key that started it.
    pub created_by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard {
            max_reject_rate_increase_pts: Some(2.0),
            max_challenge_rate_increase_pts: None,
            max_fault_rate: None,
            min_decisions: 500,
        }
    }

    #[test]
    fn names_round_trip() {
        for m in RolloutMode::ALL {
            assert_eq!(RolloutMode::parse(m.as_str()), Some(m));
        }
        for s in RolloutStatus::ALL {
            assert_eq!(RolloutStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).expect("serialises"),
                serde_json::json!(s.as_str())
            );
        }
        assert_eq!(RolloutStatus::parse("rolledback"), None);
    }

    #[test]
    fn guards_need_a_sane_limit() {
        assert_eq!(guard().validate(), Ok(()));
        let none = Guard {
            max_reject_rate_increase_pts: None,
            ..guard()
        };
        assert!(none.validate().is_err());
        for bad in [-1.0, 100.5, f64::NAN, f64::INFINITY] {
            let g = Guard {
                max_fault_rate: Some(bad),
                ..guard()
            };
            let err = g.validate().expect_err("refused");
            assert!(err.contains("`max_fault_rate`"), "{err}");
        }
    }

    #[test]
    fn guards_refuse_unknown_fields() {
        let typo = serde_json::json!({"max_reject_rate": 2.0, "min_decisions": 10});
        assert!(serde_json::from_value::<Guard>(typo).is_err());
        let minimal = serde_json::json!({"max_fault_rate": 1.5, "min_decisions": 10});
        let g: Guard = serde_json::from_value(minimal).expect("parses");
        assert_eq!(g.max_fault_rate, Some(1.5));
    }
}
