//! A risk host for the transaction core's stories whose answer the test picks by user name.

use arbiter_transactions::risk::{RiskAction, RiskClient, RiskError, RiskRequest, RiskVerdict};
use async_trait::async_trait;

/// A risk host that answers by user: `reject…`, `challenge…`, `timeout…` (an error), else
/// accept. Decision ids are `dec_<request id>`.
pub struct ScriptedRisk;

#[async_trait]
impl RiskClient for ScriptedRisk {
    async fn assess(&self, request: &RiskRequest) -> Result<RiskVerdict, RiskError> {
        let action = match request.user_id.as_str() {
            u if u.starts_with("reject") => RiskAction::Reject,
            u if u.starts_with("challenge") => RiskAction::Challenge,
            u if u.starts_with("timeout") => return Err(RiskError::Timeout),
            _ => RiskAction::Accept,
        };
        Ok(RiskVerdict {
            action,
            decision_id: format!("dec_{}", request.request_id),
        })
    }
}
