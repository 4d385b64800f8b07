//! Rule snoozes: a reviewer silences one rule for one entity for a while (`geo_mismatch` for
//! user `u-1` for 30 days) because the customer is known to trip it honestly. The live ones
//! are held as an immutable snapshot like the lists; the pipeline writes the rules snoozed
//! for a request into its context (`EnrichedContext::snoozed_rules`), so the decision
//! records them and a replay of it silences the same rules.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::context::EnrichedContext;
use crate::lists::ListKind;

/// The longest a snooze may last; a rule silenced for longer should be changed instead.
pub const MAX_SNOOZE_DAYS: i64 = 365;

/// One stored snooze. `value` is normalised as the matching decision field is (the address
/// kind holds its hash), like a list entry's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSnooze {
    pub id: String,
    /// The policy module or rule file name silenced.
    pub rule: String,
    pub kind: ListKind,
    pub value: String,
    pub reason: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The creating key's id and name.
    pub created_by: String,
    pub created_by_name: String,
    /// Set once, by a revocation; the snooze no longer applies from then on.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl RuleSnooze {
    /// `snz_<uuid v7>`.
    pub fn generate_id() -> String {
        format!("snz_{}", uuid::Uuid::now_v7().simple())
    }

    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// The live snoozes, indexed by entity.
#[derive(Debug, Default)]
pub struct SnoozeSnapshot {
    by_key: HashMap<ListKind, HashMap<String, Vec<RuleSnooze>>>,
    /// Number of snoozes indexed.
    pub len: usize,
}

impl SnoozeSnapshot {
    pub fn new(snoozes: impl IntoIterator<Item = RuleSnooze>) -> SnoozeSnapshot {
        let mut by_key: HashMap<ListKind, HashMap<String, Vec<RuleSnooze>>> = HashMap::new();
        let mut len = 0;
        for s in snoozes {
            len += 1;
            by_key
                .entry(s.kind)
                .or_default()
                .entry(s.value.clone())
                .or_default()
                .push(s);
        }
        SnoozeSnapshot { by_key, len }
    }

    /// The rules snoozed for any entity `ctx` names at `now`, sorted and without repeats.
    /// Expired snoozes are skipped here, so an expiry takes effect without a reload.
    pub fn snoozed_rules(&self, ctx: &EnrichedContext, now: DateTime<Utc>) -> Vec<String> {
        let mut rules = Vec::new();
        if self.by_key.is_empty() {
            return rules;
        }
        for kind in ListKind::ALL {
            let Some(value) = kind.value_in(ctx) else {
                continue;
            };
            let Some(snoozes) = self.by_key.get(&kind).and_then(|m| m.get(value)) else {
                continue;
            };
            rules.extend(
                snoozes
                    .iter()
                    .filter(|s| s.is_live(now))
                    .map(|s| s.rule.clone()),
            );
        }
        rules.sort();
        rules.dedup();
        rules
    }
}

#[cfg(test)]
mod tests;
