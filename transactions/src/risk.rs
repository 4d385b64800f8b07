//! How the transaction core asks the risk host: the [`RiskClient`] trait (the host implements
//! it in process or over HTTP) and the fail mode that decides what a timeout or error means.
//! Timeouts are the client's to enforce (this crate has no runtime); it reports them as
//! [`RiskError::Timeout`].

use arbiter_engine::Checkpoint;
use arbiter_engine::money::Money;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// The risk host's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskAction {
    Accept,
    Challenge,
    Reject,
}

impl RiskAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskAction::Accept => "accept",
            RiskAction::Challenge => "challenge",
            RiskAction::Reject => "reject",
        }
    }
    pub fn parse(s: &str) -> Option<RiskAction> {
        [Self::Accept, Self::Challenge, Self::Reject]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// A decision: its action and the id under which the host logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskVerdict {
    pub action: RiskAction,
    pub decision_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RiskError {
    #[error("risk host timed out")]
    Timeout,
    #[error("risk host failed: {0}")]
    Unavailable(String),
}

/// What a risk-host failure means: `open` proceeds as if accepted, `closed` rejects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskFailMode {
    #[default]
    Open,
    Closed,
}

impl RiskFailMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskFailMode::Open => "open",
            RiskFailMode::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<RiskFailMode> {
        [Self::Open, Self::Closed]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// What the transaction core tells the risk host about one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRequest {
    pub checkpoint: Checkpoint,
    /// Stable per step (`<order id>:order.create`), so a retried step is one decision.
    pub request_id: String,
    pub amount: Money,
    pub user_id: String,
    pub device_id: Option<String>,
    pub ip: Option<String>,
    pub shipping_address: Option<String>,
    pub shipping_country: Option<String>,
    pub payment_method: Option<String>,
}

#[async_trait]
pub trait RiskClient: Send + Sync + 'static {
    async fn assess(&self, request: &RiskRequest) -> Result<RiskVerdict, RiskError>;
}

/// What was asked and what it led to, recorded on the order (or payment, refund).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskRecord {
    /// The action the step followed: the host's, or the fail mode's when it failed.
    pub action: RiskAction,
    /// The host's decision id; `None` when the host failed.
    pub decision_id: Option<String>,
    /// Why the host gave no answer, when it did not.
    pub fault: Option<String>,
    /// The fail mode applied, only when the host failed.
    pub fail_mode: Option<RiskFailMode>,
}

impl RiskRecord {
    /// Applies the fail mode to a failed call; an answer is taken as given.
    pub fn resolve(answer: Result<RiskVerdict, RiskError>, fail_mode: RiskFailMode) -> RiskRecord {
        match answer {
            Ok(v) => RiskRecord {
                action: v.action,
                decision_id: Some(v.decision_id),
                fault: None,
                fail_mode: None,
            },
            Err(e) => RiskRecord {
                action: match fail_mode {
                    RiskFailMode::Open => RiskAction::Accept,
                    RiskFailMode::Closed => RiskAction::Reject,
                },
                decision_id: None,
                fault: Some(e.to_string()),
                fail_mode: Some(fail_mode),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_follow_the_fail_mode_and_are_recorded() {
        let open = RiskRecord::resolve(Err(RiskError::Timeout), RiskFailMode::Open);
        assert_eq!(open.action, RiskAction::Accept);
        assert_eq!(open.fail_mode, Some(RiskFailMode::Open));
        assert_eq!(open.fault.as_deref(), Some("risk host timed out"));
        let closed = RiskRecord::resolve(
            Err(RiskError::Unavailable("503".into())),
            RiskFailMode::Closed,
        );
        assert_eq!(closed.action, RiskAction::Reject);
        let answered = RiskRecord::resolve(
            Ok(RiskVerdict {
                action: RiskAction::Challenge,
                decision_id: "dec_1".into(),
            }),
            RiskFailMode::Closed,
        );
        assert_eq!(answered.action, RiskAction::Challenge);
        assert_eq!(answered.fail_mode, None);
        assert_eq!(answered.decision_id.as_deref(), Some("dec_1"));
    }
}
