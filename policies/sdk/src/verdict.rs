//! Builders for the verdict a policy returns.
//!
//! `Verdict` is a generated record; these inherent methods make the common shapes one
//! expression (`Verdict::pass().challenge().score(25.0).reason("geo.mismatch", detail)`)
//! and keep two rules in one place: an action only ever escalates, and a score is never
//! NaN or infinite (a non-finite contribution would poison the decision's total).

use crate::{Action, Reason, Verdict};

impl Action {
    /// Severity order used to combine actions: `none < accept < challenge < reject`.
    pub fn severity(self) -> u8 {
        match self {
            Action::None => 0,
            Action::Accept => 1,
            Action::Challenge => 2,
            Action::Reject => 3,
        }
    }
}

impl Verdict {
    /// The verdict that asks for nothing: action `none`, score 0, no reasons.
    pub fn pass() -> Self {
        Verdict {
            action: Action::None,
            score: 0.0,
            reasons: Vec::new(),
        }
    }

    /// Raises the action to `action` if that is more severe; never lowers it.
    #[must_use]
    pub fn escalate(mut self, action: Action) -> Self {
        if action.severity() > self.action.severity() {
            self.action = action;
        }
        self
    }

    /// Escalates to `accept` (only lifts `none`).
    #[must_use]
    pub fn accept(self) -> Self {
        self.escalate(Action::Accept)
    }

    /// Escalates to `challenge`.
    #[must_use]
    pub fn challenge(self) -> Self {
        self.escalate(Action::Challenge)
    }

    /// Escalates to `reject`.
    #[must_use]
    pub fn reject(self) -> Self {
        self.escalate(Action::Reject)
    }

    /// Adds `points` to the score contribution. Non-finite points are ignored.
    ///
    /// The host adds every policy's contribution to the decision's score and compares the
    /// total with the policy set's bands (by default challenge at 40, reject at 80).
    #[must_use]
    pub fn score(mut self, points: f32) -> Self {
        if points.is_finite() {
            self.score += points;
        }
        self
    }

    /// Appends a reason with a detail for reviewers (`"card=US ip=NG shipping=GB"`).
    #[must_use]
    pub fn reason(mut self, code: impl Into<String>, detail: impl Into<String>) -> Self {
        self.reasons.push(Reason {
            code: code.into(),
            detail: Some(detail.into()),
        });
        self
    }

    /// Appends a reason that is only a code.
    #[must_use]
    pub fn reason_code(mut self, code: impl Into<String>) -> Self {
        self.reasons.push(Reason {
            code: code.into(),
            detail: None,
        });
        self
    }

    /// Combines two verdicts: the more severe action, the summed score, both reason lists.
    #[must_use]
    pub fn merge(self, other: Verdict) -> Self {
        let mut merged = self.escalate(other.action).score(other.score);
        merged.reasons.extend(other.reasons);
        merged
    }

    /// Whether this verdict carries a reason with code `code`.
    pub fn has_reason(&self, code: &str) -> bool {
        self.reasons.iter().any(|reason| reason.code == code)
    }

    /// Whether this verdict asks for nothing at all (the shape of [`Verdict::pass`]).
    pub fn is_pass(&self) -> bool {
        self.action == Action::None && self.score == 0.0 && self.reasons.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use crate::{Action, Verdict};

    #[test]
    fn actions_only_escalate() {
        let verdict = Verdict::pass().reject().challenge().accept();
        assert_eq!(verdict.action, Action::Reject);
    }

    #[test]
    fn scores_add_and_ignore_non_finite_points() {
        let verdict = Verdict::pass().score(10.0).score(f32::NAN).score(5.5);
        assert_eq!(verdict.score, 15.5);
        assert_eq!(Verdict::pass().score(f32::INFINITY).score, 0.0);
    }

    #[test]
    fn merge_keeps_the_worst_action_and_every_reason() {
        let a = Verdict::pass().challenge().score(20.0).reason("a", "first");
        let b = Verdict::pass().score(5.0).reason_code("b");
        let merged = a.merge(b);
        assert_eq!(merged.action, Action::Challenge);
        assert_eq!(merged.score, 25.0);
        assert!(merged.has_reason("a") && merged.has_reason("b"));
        assert_eq!(merged.reasons[1].detail, None);
    }

    #[test]
    fn severity_is_ordered() {
        let order = [
            Action::None,
            Action::Accept,
            Action::Challenge,
            Action::Reject,
        ];
        assert!(order.windows(2).all(|w| w[0].severity() < w[1].severity()));
    }

    #[test]
    fn pass_is_pass() {
        assert!(Verdict::pass().is_pass());
        assert!(!Verdict::pass().reason_code("x").is_pass());
    }
}
