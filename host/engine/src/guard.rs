//! Automatic rollback: a rollout's guard compares the candidate's outcomes with the stable
//! set's and says when to roll back. Pure arithmetic over counters; the host keeps the
//! counters and acts on the verdict.

use crate::action::Action;
use crate::registry::Guard;

/// Outcomes seen for one arm of a rollout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArmStats {
    pub decisions: u64,
    pub rejects: u64,
    pub challenges: u64,
    /// Decisions on which at least one module faulted.
    pub faulted: u64,
}

impl ArmStats {
    pub fn record(&mut self, action: Action, faulted: bool) {
        self.decisions += 1;
        match action {
            Action::Reject => self.rejects += 1,
            Action::Challenge => self.challenges += 1,
            Action::Accept | Action::None => {}
        }
        if faulted {
            self.faulted += 1;
        }
    }

    fn pct(&self, n: u64) -> f64 {
        if self.decisions == 0 {
            0.0
        } else {
            100.0 * n as f64 / self.decisions as f64
        }
    }
}

/// Why the guard tripped, or `None` while the candidate stays within it. Nothing trips before
/// the candidate has `min_decisions` decisions.
pub fn check(guard: &Guard, stable: &ArmStats, candidate: &ArmStats) -> Option<String> {
    if candidate.decisions < guard.min_decisions.max(1) {
        return None;
    }
    let rates = [
        (
            "reject",
            guard.max_reject_rate_increase_pts,
            candidate.pct(candidate.rejects),
            stable.pct(stable.rejects),
        ),
        (
            "challenge",
            guard.max_challenge_rate_increase_pts,
            candidate.pct(candidate.challenges),
            stable.pct(stable.challenges),
        ),
    ];
    for (what, limit, cand, base) in rates {
        if let Some(limit) = limit
            && cand - base > limit
        {
            return Some(format!(
                "candidate {what} rate {cand:.1}% exceeds stable {base:.1}% by more than {limit} points over {} decisions",
                candidate.decisions
            ));
        }
    }
    if let Some(limit) = guard.max_fault_rate {
        let rate = candidate.pct(candidate.faulted);
        if rate > limit {
            return Some(format!(
                "candidate fault rate {rate:.1}% exceeds {limit}% over {} decisions",
                candidate.decisions
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(decisions: u64, rejects: u64, faulted: u64) -> ArmStats {
        ArmStats {
            decisions,
            rejects,
            challenges: 0,
            faulted,
        }
    }

    fn guard() -> Guard {
        Guard {
            max_reject_rate_increase_pts: Some(5.0),
            max_challenge_rate_increase_pts: None,
            max_fault_rate: Some(1.0),
            min_decisions: 100,
        }
    }

    #[test]
    fn waits_for_enough_decisions() {
        assert_eq!(check(&guard(), &stats(1000, 0, 0), &stats(99, 99, 0)), None);
    }

    #[test]
    fn trips_on_reject_rate_increase_only_beyond_the_margin() {
        assert_eq!(
            check(&guard(), &stats(1000, 100, 0), &stats(100, 15, 0)),
            None
        );
        let why = check(&guard(), &stats(1000, 100, 0), &stats(100, 16, 0)).expect("trips");
        assert!(why.contains("reject rate 16.0%"), "{why}");
    }

    #[test]
    fn trips_on_fault_rate() {
        let why = check(&guard(), &stats(100, 0, 0), &stats(100, 0, 2)).expect("trips");
        assert!(why.contains("fault rate"), "{why}");
    }
}
