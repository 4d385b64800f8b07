//! The three answers (and the "no opinion" a rule may give), ordered by severity.

use serde::{Deserialize, Serialize};

/// An action. The derive order *is* the severity order: combining actions is `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// No opinion (only rules give it); never the final action of a decision.
    None,
    Accept,
    Challenge,
    Reject,
}

impl Action {
    /// The most severe of two actions.
    #[must_use]
    pub fn combine(self, other: Action) -> Action {
        self.max(other)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::None => "none",
            Action::Accept => "accept",
            Action::Challenge => "challenge",
            Action::Reject => "reject",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            Just(Action::None),
            Just(Action::Accept),
            Just(Action::Challenge),
            Just(Action::Reject)
        ]
    }

    proptest! {
        #[test]
        fn combining_is_monotone_in_severity(a in action(), b in action(), c in action()) {
            let ab = a.combine(b);
            prop_assert!(ab >= a && ab >= b);
            prop_assert_eq!(ab, b.combine(a));
            prop_assert_eq!(ab.combine(c), a.combine(b.combine(c)));
            // Adding a more severe input never lowers the result.
            prop_assert!(ab.combine(c) >= ab);
        }
    }

    #[test]
    fn reject_outranks_everything() {
        assert_eq!(Action::Accept.combine(Action::Reject), Action::Reject);
        assert_eq!(Action::Challenge.combine(Action::None), Action::Challenge);
    }
}
