//! Which policy set decides a request: the stable set, or a candidate under rollout.
//!
//! Assignment is sticky: the first 8 bytes of SHA-256 of the subject key, modulo 100, below
//! the rollout percentage puts the subject in the candidate slice. The subject key is
//! `user.id` — always present, and what "one user sees one version" means; a card shared by
//! several users would otherwise flip between versions per user. The same user lands in the
//! same slice on every request and on every replica, and raising the percentage only adds
//! subjects (a subject in the 10 % slice stays in the 20 % slice).

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::pipeline::ActivePolicy;
use crate::registry::RolloutMode;

/// A candidate set under rollout.
pub struct CandidateRoute {
    pub rollout_id: i64,
    pub policy: Arc<ActivePolicy>,
    /// 0..=100: share of subjects the candidate decides (live) or is evaluated for (shadow).
    pub percent: u8,
    pub mode: RolloutMode,
}

/// The routing snapshot: replaced whole on any rollout change.
pub struct PolicyRouting {
    pub stable: Arc<ActivePolicy>,
    pub candidate: Option<CandidateRoute>,
}

/// Which arm of a rollout a decision fell in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    Stable,
    Candidate,
}

/// The policy that decides, and the one evaluated in shadow, for one subject.
pub struct Route<'a> {
    pub deciding: &'a Arc<ActivePolicy>,
    pub shadow: Option<&'a Arc<ActivePolicy>>,
    /// `(rollout id, arm)` when a rollout is active.
    pub rollout: Option<(i64, Arm)>,
}

/// The bucket 0..100 of a subject key.
pub fn bucket(subject: &str) -> u8 {
    let digest = Sha256::digest(subject.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % 100) as u8
}

impl PolicyRouting {
    pub fn stable_only(stable: Arc<ActivePolicy>) -> PolicyRouting {
        PolicyRouting {
            stable,
            candidate: None,
        }
    }

    pub fn route(&self, subject: &str) -> Route<'_> {
        let Some(c) = &self.candidate else {
            return Route {
                deciding: &self.stable,
                shadow: None,
                rollout: None,
            };
        };
        let in_slice = bucket(subject) < c.percent;
        match (c.mode, in_slice) {
            (RolloutMode::Live, true) => Route {
                deciding: &c.policy,
                shadow: None,
                rollout: Some((c.rollout_id, Arm::Candidate)),
            },
            (RolloutMode::Shadow, true) => Route {
                deciding: &self.stable,
                shadow: Some(&c.policy),
                rollout: Some((c.rollout_id, Arm::Stable)),
            },
            (_, false) => Route {
                deciding: &self.stable,
                shadow: None,
                rollout: Some((c.rollout_id, Arm::Stable)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_stable_and_spread() {
        assert_eq!(bucket("u-1"), bucket("u-1"));
        let in_ten = (0..10_000)
            .filter(|i| bucket(&format!("user-{i}")) < 10)
            .count();
        assert!((800..1200).contains(&in_ten), "{in_ten}");
    }

    #[test]
    fn raising_the_percentage_only_adds_subjects() {
        for i in 0..1000 {
            let b = bucket(&format!("s{i}"));
            assert!(b < 100);
            if b < 10 {
                assert!(b < 20);
            }
        }
    }
}
