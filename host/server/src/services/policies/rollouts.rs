//! Rollouts: start (live or shadow, with an optional guard), promote, roll back — by hand or
//! automatically when the guard trips.

use std::sync::Arc;

use arbiter_engine::audit::Actor;
use arbiter_engine::decision::Decision;
use arbiter_engine::registry::{Guard, Rollout, RolloutMode, RolloutStatus};
use arbiter_engine::routing::PolicyRouting;
use arbiter_engine::store::RolloutStart;

use super::PolicyService;
use super::error::{PolicyError, invalid};

/// A rollout as a caller asks for it.
pub struct NewRollout {
    pub policy_set_version: i64,
    pub percent: u8,
    pub mode: RolloutMode,
    pub guard: Option<Guard>,
}

/// What serves traffic now.
pub struct RolloutView {
    pub stable: i64,
    pub rollout: Option<Rollout>,
}

fn refusal(concerns: &[String]) -> String {
    format!(
        "{}; send {{\"force\": true}} to go ahead anyway (recorded in the audit log)",
        concerns.join("; ")
    )
}

impl PolicyService {
    pub async fn current(&self) -> Result<RolloutView, PolicyError> {
        let stable = self
            .store
            .active_policy_set()
            .await?
            .ok_or_else(|| PolicyError::Runtime("no active policy set".into()))?;
        Ok(RolloutView {
            stable,
            rollout: self.store.current_rollout().await?,
        })
    }

    pub async fn start_rollout(
        &self,
        new: NewRollout,
        actor: &Actor,
    ) -> Result<RolloutView, PolicyError> {
        if new.percent > 100 {
            return Err(invalid(
                "percent",
                format!("`{}` is above 100", new.percent),
            ));
        }
        if let Some(g) = &new.guard {
            g.validate().map_err(|m| invalid("guard", m))?;
        }
        let current = self.current().await?;
        if let Some(r) = current.rollout {
            return Err(PolicyError::Conflict(format!(
                "rollout {} of policy set {} is already active; promote or roll it back first",
                r.id, r.candidate
            )));
        }
        if new.policy_set_version == current.stable {
            return Err(invalid(
                "policy_set_version",
                format!("policy set {} is already the stable set", current.stable),
            ));
        }
        // Load and warm the candidate before anything is recorded: a set whose modules do
        // not load never goes live.
        let candidate = self
            .set_by_version(new.policy_set_version)
            .await
            .map_err(|e| match e {
                PolicyError::NotFound { .. } => invalid(
                    "policy_set_version",
                    format!("policy set {} does not exist", new.policy_set_version),
                ),
                other => other,
            })?;
        if new.mode == RolloutMode::Live && new.percent > 0 {
            self.check_activation(candidate.version, actor).await?;
        }
        self.activate(candidate).await?;
        let started = self
            .store
            .start_rollout(
                current.stable,
                new.policy_set_version,
                new.percent,
                new.mode,
                new.guard,
                actor,
            )
            .await?;
        if let RolloutStart::AlreadyActive(r) = started {
            return Err(PolicyError::Conflict(format!(
                "rollout {} of policy set {} is already active",
                r.id, r.candidate
            )));
        }
        self.reload().await?;
        self.changes.fire(arbiter_redis::ChangeKind::Rollout);
        self.current().await
    }

    /// Turns the shadow rollout live for `percent` of users: the same run (its id, its
    /// guard, watched afresh), now deciding for its slice — audited as going live, not as a
    /// rollback and a new start. Needs what a live start needs (guarded activation).
    pub async fn go_live(&self, percent: u8, actor: &Actor) -> Result<RolloutView, PolicyError> {
        if percent > 100 {
            return Err(invalid("percent", format!("`{percent}` is above 100")));
        }
        let rollout = self
            .store
            .current_rollout()
            .await?
            .ok_or(PolicyError::NoRollout { to: "take live" })?;
        if rollout.mode == RolloutMode::Live {
            return Err(PolicyError::Conflict(format!(
                "rollout {} is live already (for {}% of users); promote it, or roll it back \
                 and start another",
                rollout.id, rollout.percent
            )));
        }
        if percent > 0 {
            self.check_activation(rollout.candidate, actor).await?;
        }
        if self
            .store
            .go_live(rollout.id, percent, actor)
            .await?
            .is_none()
        {
            return Err(PolicyError::Conflict(format!(
                "rollout {} ended or went live meanwhile; see GET /v1/rollouts/current",
                rollout.id
            )));
        }
        self.reload().await?;
        self.changes.fire(arbiter_redis::ChangeKind::Rollout);
        self.current().await
    }

    /// Makes the candidate the stable set. Refused, unless `force`, when the candidate has no
    /// modules (every rule would switch off) or has neither served traffic in this rollout
    /// (live or shadow) nor passed a backtest; a forced promotion records what it overrode as
    /// the rollout's end reason in the audit log.
    pub async fn promote(&self, actor: &Actor, force: bool) -> Result<RolloutView, PolicyError> {
        let rollout = self
            .store
            .current_rollout()
            .await?
            .ok_or(PolicyError::NoRollout { to: "promote" })?;
        let set = self.set_by_version(rollout.candidate).await?;
        self.check_activation(set.version, actor).await?;
        let mut concerns = Vec::new();
        if set.policies.is_empty() {
            concerns.push(format!(
                "policy set {} has no modules: promoted, it would switch every rule off",
                set.version
            ));
        }
        let served = self
            .store
            .served_decisions(set.version, rollout.started_at)
            .await?;
        if served == 0
            && self
                .store
                .latest_succeeded_backtest(set.version)
                .await?
                .is_none()
        {
            concerns.push(format!(
                "policy set {} has served no traffic in this rollout (live or shadow) and has \
                 no successful backtest",
                set.version
            ));
        }
        let reason = match (concerns.is_empty(), force) {
            (true, _) => None,
            (false, false) => return Err(PolicyError::Unsafe(refusal(&concerns))),
            (false, true) => Some(format!("forced: {}", concerns.join("; "))),
        };
        self.end(
            rollout.id,
            RolloutStatus::Promoted,
            reason.as_deref(),
            actor,
        )
        .await?;
        self.current().await
    }

    pub async fn rollback(
        &self,
        actor: &Actor,
        reason: Option<String>,
    ) -> Result<RolloutView, PolicyError> {
        let id = self.current_rollout_id().await?;
        self.end(id, RolloutStatus::RolledBack, reason.as_deref(), actor)
            .await?;
        self.current().await
    }

    async fn current_rollout_id(&self) -> Result<i64, PolicyError> {
        self.store
            .current_rollout()
            .await?
            .map(|r| r.id)
            .ok_or(PolicyError::NoRollout { to: "roll back" })
    }

    async fn end(
        &self,
        id: i64,
        status: RolloutStatus,
        reason: Option<&str>,
        actor: &Actor,
    ) -> Result<Rollout, PolicyError> {
        let ended = self
            .store
            .end_rollout(id, status, reason, actor)
            .await?
            .ok_or_else(|| PolicyError::Conflict(format!("rollout {id} has already ended")))?;
        self.reload().await?;
        self.changes.fire(arbiter_redis::ChangeKind::Rollout);
        Ok(ended)
    }

    /// Feeds a durable decision to the guard; rolls back in the background when it trips.
    pub fn observe(self: &Arc<Self>, decision: &Decision) {
        if let Some((id, reason)) = self.monitor.record(decision) {
            tracing::warn!(rollout = id, %reason, "rollout guard tripped; rolling back");
            // Stop sending traffic to the candidate on this replica at once; the durable
            // rollback (and the reload every replica follows) comes right after.
            let routing = self.routing.load_full();
            if routing.candidate.as_ref().map(|c| c.rollout_id) == Some(id) {
                self.routing
                    .store(Arc::new(PolicyRouting::stable_only(routing.stable.clone())));
            }
            let svc = self.clone();
            tokio::spawn(async move {
                let result = svc
                    .end(
                        id,
                        RolloutStatus::RolledBack,
                        Some(&reason),
                        &Actor::system(),
                    )
                    .await;
                if let Err(e) = result {
                    tracing::error!(rollout = id, error = %e, "automatic rollback failed");
                }
            });
        }
    }
}
