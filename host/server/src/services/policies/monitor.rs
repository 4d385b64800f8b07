//! The guard monitor: counts the current rollout's outcomes per arm and reports, once, when
//! its guard trips. In live mode the arms are the decisions each set made for its own slice;
//! in shadow mode both arms are the same requests (the enforced stable result and the
//! recorded candidate result), which compares the sets on identical traffic.
//!
//! Counts are per replica: each replica judges the traffic it served, and the first to trip
//! rolls back for all (the store lets exactly one end the rollout).

use std::sync::Mutex;

use arbiter_engine::decision::Decision;
use arbiter_engine::guard::{ArmStats, check};
use arbiter_engine::registry::{Guard, Rollout, RolloutMode};
use arbiter_engine::routing::Arm;

struct Watch {
    rollout_id: i64,
    mode: RolloutMode,
    guard: Guard,
    stable: ArmStats,
    candidate: ArmStats,
    tripped: bool,
}

#[derive(Default)]
pub(super) struct GuardMonitor {
    /// A std mutex: a few additions per decision, never held across an await.
    watch: Mutex<Option<Watch>>,
}

impl GuardMonitor {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Watch>> {
        match self.watch.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Starts watching `rollout` (if it has a guard), or stops watching.
    pub(super) fn reset(&self, rollout: Option<&Rollout>) {
        let mut w = self.lock();
        // A shadow rollout that went live is watched afresh: its live slice is new evidence.
        let same = matches!((&*w, rollout),
            (Some(cur), Some(r)) if cur.rollout_id == r.id && cur.mode == r.mode);
        if same {
            return;
        }
        *w = rollout.and_then(|r| {
            r.guard.map(|guard| Watch {
                rollout_id: r.id,
                mode: r.mode,
                guard,
                stable: ArmStats::default(),
                candidate: ArmStats::default(),
                tripped: false,
            })
        });
    }

    /// Counts a durable decision; returns `(rollout id, reason)` the first time the guard trips.
    pub(super) fn record(&self, d: &Decision) -> Option<(i64, String)> {
        let assignment = d.rollout?;
        let mut guard = self.lock();
        let w = guard
            .as_mut()
            .filter(|w| w.rollout_id == assignment.rollout_id)?;
        match (w.mode, assignment.arm) {
            (RolloutMode::Live, Arm::Candidate) => w.candidate.record(d.action, d.faulted()),
            (RolloutMode::Live, Arm::Stable) => w.stable.record(d.action, d.faulted()),
            (RolloutMode::Shadow, _) => {
                w.stable.record(d.action, d.faulted());
                if let Some(s) = &d.shadow {
                    let faulted = s.rules.iter().any(|r| r.fault.is_some());
                    w.candidate.record(s.action, faulted);
                }
            }
        }
        if w.tripped {
            return None;
        }
        let reason = check(&w.guard, &w.stable, &w.candidate)?;
        w.tripped = true;
        Some((w.rollout_id, reason))
    }
}
