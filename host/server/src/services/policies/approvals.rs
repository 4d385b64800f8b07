//! Guarded activation: approvals of a policy set by a second key, and the check a live
//! rollout and a promotion pass when the deployment asks for evidence (`ActivationRules`).

use chrono::{Duration, SubsecRound, Utc};

use arbiter_engine::audit::Actor;
use arbiter_engine::keys::Scope;
use arbiter_engine::policy_set::Approval;

use super::PolicyService;
use super::error::{PolicyError, invalid};

/// The longest approval note.
pub const MAX_APPROVAL_NOTE_CHARS: usize = 500;

impl PolicyService {
    /// Records `actor`'s approval of set `version` for live traffic (once per key) and
    /// returns every approval of it.
    pub async fn approve(
        &self,
        version: i64,
        note: Option<String>,
        actor: &Actor,
    ) -> Result<Vec<Approval>, PolicyError> {
        if note
            .as_deref()
            .is_some_and(|n| n.chars().count() > MAX_APPROVAL_NOTE_CHARS)
        {
            return Err(invalid(
                "note",
                format!("longer than {MAX_APPROVAL_NOTE_CHARS} characters"),
            ));
        }
        self.set_by_version(version).await?;
        let approval = Approval {
            version,
            approved_by: actor.id.clone(),
            approved_at: Utc::now().trunc_subsecs(6),
            note,
        };
        self.store.approve_policy_set(&approval, actor).await?;
        Ok(self.store.policy_set_approvals(version).await?)
    }

    /// Every approval of set `version`, oldest first (who, when, why): what a risk engineer
    /// checks before asking for live traffic on a `--require-approval` deployment.
    pub async fn approvals(&self, version: i64) -> Result<Vec<Approval>, PolicyError> {
        self.set_by_version(version).await?;
        Ok(self.store.policy_set_approvals(version).await?)
    }

    /// Refuses live traffic for set `version`, asked for by `actor`, when this deployment's
    /// activation rules are not met.
    pub(super) async fn check_activation(
        &self,
        version: i64,
        actor: &Actor,
    ) -> Result<(), PolicyError> {
        let rules = self.limits.activation;
        if let Some(days) = rules.backtest_within_days {
            let since = Utc::now() - Duration::days(i64::from(days));
            let recent = self
                .store
                .latest_succeeded_backtest(version)
                .await?
                .and_then(|b| b.finished_at)
                .is_some_and(|at| at >= since);
            if !recent {
                return Err(PolicyError::Guarded(format!(
                    "policy set {version} has no successful backtest finished in the last \
                     {days} days; this deployment requires one before live traffic \
                     (POST /v1/backtests)"
                )));
            }
        }
        if rules.approval {
            // An approval counts while its key could still give it: live (not revoked, not
            // expired) and holding `policy:approve` (or `admin`).
            let now = Utc::now();
            let keys = self.store.all_keys().await?;
            let can_approve = |id: &str| {
                keys.iter()
                    .any(|k| k.id == id && k.is_live(now) && k.allows(Scope::PolicyApprove))
            };
            let approved = self
                .store
                .policy_set_approvals(version)
                .await?
                .iter()
                .any(|a| a.approved_by != actor.id && can_approve(&a.approved_by));
            if !approved {
                return Err(PolicyError::Guarded(format!(
                    "policy set {version} needs an approval by a key other than the caller's \
                     (policy:approve or admin: POST /v1/policy-sets/{version}/approve) before \
                     live traffic"
                )));
            }
        }
        Ok(())
    }
}
