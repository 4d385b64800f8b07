//! A decision: the answer, its reasons, the versions that made it, and everything needed to
//! replay it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::context::EnrichedContext;
use crate::entity_chain::EntityChain;
use crate::lists::ListOutcome;
use crate::routing::Arm;
use crate::stages::{GraphOutcome, ModelOutcome, ModuleResult};

/// `dec_<uuid v7>`: time-ordered, so the log's primary key index stays append-friendly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DecisionId(pub String);

impl DecisionId {
    pub fn generate() -> DecisionId {
        DecisionId(format!("dec_{}", uuid::Uuid::now_v7().simple()))
    }

    /// The 128 bits of an id [`DecisionId::generate`] made (`dec_` and 32 lowercase hex
    /// digits); `None` for any other text.
    pub fn bits(id: &str) -> Option<u128> {
        let hex = id.strip_prefix("dec_")?;
        let well_formed =
            hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        well_formed
            .then(|| u128::from_str_radix(hex, 16).ok())
            .flatten()
    }

    /// The id whose [`DecisionId::bits`] are `bits`.
    pub fn from_bits(bits: u128) -> DecisionId {
        DecisionId(format!("dec_{bits:032x}"))
    }
}

#[cfg(test)]
mod id_tests {
    use super::DecisionId;

    #[test]
    fn ids_are_read_back_only_as_generated() {
        let id = DecisionId::generate();
        let bits = DecisionId::bits(&id.0).expect("a generated id");
        assert_eq!(DecisionId::from_bits(bits), id);
        assert!(DecisionId::bits("dec_01a2495cace175a5ae2c0a9afb35b51e").is_some());
        assert!(DecisionId::bits("dec_01A2495CACE175A5AE2C0A9AFB35B51E").is_none());
        assert!(DecisionId::bits("dec_01a2495c").is_none());
        assert!(DecisionId::bits("rev_01a2495cace175a5ae2c0a9afb35b51e").is_none());
    }
}

impl std::fmt::Display for DecisionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    List,
    Rule,
    Graph,
    Model,
    Score,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub layer: Layer,
    pub code: String,
    /// Which entry, module or model gave it.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Time spent per stage, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StageTimings {
    pub enrich_us: u64,
    pub lists_us: u64,
    pub rules_us: u64,
    pub graph_us: u64,
    pub model_us: u64,
    /// The shadow candidate's rules and bands, when one ran.
    #[serde(default)]
    pub shadow_us: u64,
}

/// What each layer added to a decision's score, in risk points: the score is their sum
/// (up to float rounding), and the bands compare that sum with the set's thresholds. A
/// reviewer reads from it which layer pushed the decision over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreParts {
    /// Watch-list hits times the set's watch weight.
    pub lists: f64,
    /// The rule modules' scores (a faulted module adds none).
    pub rules: f64,
    /// The graph score times the set's graph weight.
    pub graph: f64,
    /// The fraud probability times the set's model weight.
    pub model: f64,
}

/// Every layer's result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerResults {
    pub lists: ListOutcome,
    /// True when a block or allow entry decided and later layers did not run.
    pub short_circuited: bool,
    pub rules: Vec<ModuleResult>,
    pub graph: Option<GraphOutcome>,
    pub model: Option<ModelOutcome>,
    /// The shadow (challenger) model's score: recorded, never used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_shadow: Option<ModelOutcome>,
    /// The action of the score bands alone.
    pub band: Option<Action>,
    /// What each layer added to the score; absent on decisions made before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_parts: Option<ScoreParts>,
    /// True when the shared velocity store was unreachable and the counters came from this
    /// replica's own traffic only (the documented fallback).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub velocity_degraded: bool,
    /// True when a shadow candidate was due but skipped because the enforced rules layer
    /// exceeded the shadow budget.
    #[serde(default)]
    pub shadow_skipped: bool,
    pub timings: StageTimings,
}

/// The rollout a decision took part in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutAssignment {
    pub rollout_id: i64,
    pub arm: Arm,
}

/// What a candidate set in shadow mode would have decided. Recorded, never enforced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowResult {
    pub policy_set_version: i64,
    pub action: Action,
    pub score: f64,
    pub reasons: Vec<Reason>,
    pub rules: Vec<ModuleResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub decision_id: DecisionId,
    pub request_id: String,
    /// Hash of the canonical request body, for idempotency.
    pub body_hash: String,
    pub action: Action,
    pub score: f64,
    pub reasons: Vec<Reason>,
    pub policy_set_version: i64,
    pub model_version: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub context: EnrichedContext,
    pub layers: LayerResults,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<RolloutAssignment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<ShadowResult>,
    /// Per entity the decision names, the previous decision that named it
    /// ([`crate::entity_chain`]): how an entity's decisions are found. Empty (and not stored)
    /// until the decision service links it, and in decisions stored before chains existed.
    #[serde(default, skip_serializing_if = "EntityChain::is_empty")]
    pub chain: EntityChain,
}

impl Decision {
    /// Whether any module of the deciding set faulted.
    pub fn faulted(&self) -> bool {
        self.layers.rules.iter().any(|r| r.fault.is_some())
    }
}
