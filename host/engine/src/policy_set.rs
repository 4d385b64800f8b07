//! Policy sets: a numbered version of the thresholds, the layer weights and the modules that
//! decide. Score bands turn the total score into an action.

use serde::{Deserialize, Serialize};

use crate::action::Action;

/// `score < challenge` accepts, `challenge <= score < reject` challenges, `score >= reject` rejects.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub challenge: f64,
    pub reject: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            challenge: 40.0,
            reject: 80.0,
        }
    }
}

impl Thresholds {
    pub fn band(&self, score: f64) -> Action {
        if score >= self.reject {
            Action::Reject
        } else if score >= self.challenge {
            Action::Challenge
        } else {
            Action::Accept
        }
    }

    /// Both finite, non-negative and `challenge <= reject`.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.challenge.is_finite() && self.reject.is_finite()) {
            return Err("thresholds must be finite numbers".into());
        }
        if self.challenge < 0.0 || self.challenge > self.reject {
            return Err("thresholds need 0 <= challenge <= reject".into());
        }
        Ok(())
    }
}

/// How much each non-rule layer adds to the score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    /// Added per watch-list hit.
    pub watch: f64,
    /// Multiplies the graph score (0..=1).
    pub graph: f64,
    /// Multiplies the model's fraud probability (0..=1).
    pub model: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            watch: 20.0,
            graph: 40.0,
            model: 60.0,
        }
    }
}

/// What a module's fault does to the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FailMode {
    /// Ignore the faulted module.
    #[default]
    Open,
    /// Treat the fault as a `challenge`.
    Closed,
}

impl FailMode {
    pub const ALL: [FailMode; 2] = [FailMode::Open, FailMode::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            FailMode::Open => "open",
            FailMode::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<FailMode> {
        FailMode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// A module named by a policy set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleRef {
    pub name: String,
    pub version: i64,
    #[serde(default)]
    pub fail_mode: FailMode,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySet {
    pub version: i64,
    pub thresholds: Thresholds,
    #[serde(default)]
    pub weights: Weights,
    pub policies: Vec<ModuleRef>,
}

/// A second key's approval of a policy set for live traffic (maker-checker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub version: i64,
    /// The approving key's id.
    pub approved_by: String,
    pub approved_at: chrono::DateTime<chrono::Utc>,
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_follow_the_thresholds() {
        let t = Thresholds::default();
        assert_eq!(t.band(0.0), Action::Accept);
        assert_eq!(t.band(39.99), Action::Accept);
        assert_eq!(t.band(40.0), Action::Challenge);
        assert_eq!(t.band(79.9), Action::Challenge);
        assert_eq!(t.band(80.0), Action::Reject);
    }

    #[test]
    fn refuses_inverted_thresholds() {
        assert!(
            Thresholds {
                challenge: 90.0,
                reject: 80.0
            }
            .validate()
            .is_err()
        );
    }
}
