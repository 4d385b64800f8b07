//! What a rule file answers for one context: the ABI's verdict, as plain data.

use crate::check::ir::Action;

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The most severe action of the rules that fired (`None` when none did).
    pub action: Action,
    /// The scores of the rules that fired, summed in file order as `f32`.
    pub score: f32,
    /// One reason per rule that fired, in file order.
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: String,
    pub detail: Option<String>,
}

impl Verdict {
    /// The verdict of no rule firing.
    pub fn pass() -> Verdict {
        Verdict {
            action: Action::None,
            score: 0.0,
            reasons: Vec::new(),
        }
    }
}

/// What the host accepts in a verdict (`arbiter-runtime`'s checks); a rule file's verdict
/// stays inside them by construction: reasons beyond `max_reasons` are dropped (the
/// action and score still count) and a detail is cut to `max_detail_bytes` on a character
/// boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerdictLimits {
    pub max_reasons: u32,
    pub max_detail_bytes: u32,
}
