//! Where a fraud label's marks fall (issue 18). A fraudulent decision names two kinds of
//! entity: those first seen with it — the new device, the new shipping address, the proxy IP,
//! a fresh account — which belong to the fraudster, and those with a history before it — the
//! account that was taken over, its e-mail, the card that was stolen — which belong to the
//! victim. Marking them all alike rejects every later purchase of the victim (measured on a
//! synthetic stream with takeovers: it was the only source of false rejects there).
//!
//! So each entity of a labelled decision is judged by its [`History`] at that decision:
//!
//! | entity at the labelled decision | `fraud` / `chargeback` | `account_takeover` |
//! | --- | --- | --- |
//! | user, device, card, e-mail, phone without a decision [`ESTABLISHED_AFTER`] before it | full mark | full mark |
//! | user, device, card, e-mail, phone with one (established) | weak mark ([`WEAK_WEIGHT`]) and shield | shield |
//! | shipping address first seen with that decision | full mark | full mark |
//! | shipping address seen before (a building) | nothing | nothing |
//! | IP | nothing | nothing |
//!
//! An address is the fraudster's only when the fraud brought it: one that others used before,
//! however recently, is a place many people share. An IP is left alone whatever its history:
//! a proxy's or a carrier's exit serves many people after the fraudster, and a label cannot
//! tell which it is (its links still carry proximity; the block list can mark one).
//!
//! A full mark is what a block-list entry gives: it spreads proximity to fraud. A weak mark
//! counts, scaled by its weight, only when a decision names that entity itself (a chargeback
//! on a long-standing customer's card makes that card's next use worth a look, not a reject).
//! A shield keeps proximity from passing through the entity, so the links the fraud made
//! between the victim's account and the fraudster's device do not put the victim one hop from
//! fraud (see `hops`).

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::entity::EntityKind;

/// An entity counts as established when an earlier decision named it at least this long
/// before the labelled one.
pub const ESTABLISHED_AFTER: TimeDelta = TimeDelta::days(7);
/// The weight of a weak mark: 0.95 × 0.3 ≈ 0.29 on its own, a challenge at most with the
/// default bands, never a reject by itself.
pub const WEAK_WEIGHT: f32 = 0.3;

/// How a label treats the established entities of its decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelSide {
    /// `fraud`, `chargeback`: established entities may be the fraudster's too (first-party
    /// fraud), so they are marked weakly.
    Fraud,
    /// `account_takeover`: established entities are the victim's, and are left unmarked.
    AccountTakeover,
}

/// What an entity had before a labelled decision: how many earlier decisions named it (as far
/// as anyone looked) and when the oldest of them was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub earlier: u32,
    pub since: Option<DateTime<Utc>>,
}

impl History {
    /// Whether the entity had a history of at least [`ESTABLISHED_AFTER`] at `at`.
    pub fn established(&self, at: DateTime<Utc>) -> bool {
        self.earlier > 0 && self.since.is_some_and(|s| at - s >= ESTABLISHED_AFTER)
    }
}

/// What a label does to one entity of its decision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mark", content = "weight")]
pub enum MarkPlan {
    Full,
    Weak(f32),
    Shield,
    Nothing,
}

impl MarkPlan {
    /// Of two plans for one entity (two labels), the one that prevails: full over weak over
    /// shield over nothing, the heavier of two weak marks.
    pub fn max(self, other: MarkPlan) -> MarkPlan {
        let rank = |p: &MarkPlan| match p {
            MarkPlan::Full => (3, 1.0),
            MarkPlan::Weak(w) => (2, *w),
            MarkPlan::Shield => (1, 0.0),
            MarkPlan::Nothing => (0, 0.0),
        };
        let (a, b) = (rank(&self), rank(&other));
        if b.0 > a.0 || (b.0 == a.0 && b.1 > a.1) {
            other
        } else {
            self
        }
    }
}

/// How many of an entity's earlier decisions [`plan`] needs to see: none for an IP (never
/// marked), one for an address (was it seen before?), and for the rest enough to find one a
/// week older in an ordinary customer's history, bounded for a busy one (whose history, all
/// within the week, then counts as new: a burst is what fraud looks like).
pub fn history_wanted(kind: EntityKind) -> u32 {
    match kind {
        EntityKind::Ip => 0,
        EntityKind::Address => 1,
        _ => 20,
    }
}

/// The mark a label of `side` gives an entity of `kind` with `history` at the labelled
/// decision's instant `at` (the table in the module doc).
pub fn plan(kind: EntityKind, side: LabelSide, history: &History, at: DateTime<Utc>) -> MarkPlan {
    match (kind, side) {
        (EntityKind::Ip, _) => MarkPlan::Nothing,
        (EntityKind::Address, _) if history.earlier == 0 => MarkPlan::Full,
        (EntityKind::Address, _) => MarkPlan::Nothing,
        _ if !history.established(at) => MarkPlan::Full,
        (_, LabelSide::AccountTakeover) => MarkPlan::Shield,
        (_, LabelSide::Fraud) => MarkPlan::Weak(WEAK_WEIGHT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(days: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_735_689_600, 0).expect("instant") + TimeDelta::days(days)
    }

    #[test]
    fn new_entities_are_marked_fully_whatever_the_label() {
        let first_seen_now = History {
            earlier: 0,
            since: None,
        };
        let days_old = History {
            earlier: 5,
            since: Some(at(28)),
        };
        for side in [LabelSide::Fraud, LabelSide::AccountTakeover] {
            for kind in EntityKind::ALL {
                let want = if kind == EntityKind::Ip {
                    MarkPlan::Nothing
                } else {
                    MarkPlan::Full
                };
                assert_eq!(plan(kind, side, &first_seen_now, at(30)), want);
            }
            for kind in [
                EntityKind::User,
                EntityKind::Device,
                EntityKind::Card,
                EntityKind::Email,
                EntityKind::Phone,
            ] {
                assert_eq!(plan(kind, side, &days_old, at(30)), MarkPlan::Full);
            }
            // An address or IP others used two days ago is a shared place, not the fraud's.
            assert_eq!(
                plan(EntityKind::Ip, side, &days_old, at(30)),
                MarkPlan::Nothing
            );
            assert_eq!(
                plan(EntityKind::Address, side, &days_old, at(30)),
                MarkPlan::Nothing
            );
        }
    }

    #[test]
    fn established_entities_are_the_victims_side() {
        let month = History {
            earlier: 12,
            since: Some(at(0)),
        };
        assert_eq!(
            plan(EntityKind::User, LabelSide::AccountTakeover, &month, at(30)),
            MarkPlan::Shield
        );
        assert_eq!(
            plan(EntityKind::Card, LabelSide::Fraud, &month, at(30)),
            MarkPlan::Weak(WEAK_WEIGHT)
        );
        for side in [LabelSide::Fraud, LabelSide::AccountTakeover] {
            assert_eq!(
                plan(EntityKind::Ip, side, &month, at(30)),
                MarkPlan::Nothing
            );
            assert_eq!(
                plan(EntityKind::Address, side, &month, at(30)),
                MarkPlan::Nothing
            );
        }
        // Exactly the threshold counts as established.
        let week = History {
            earlier: 1,
            since: Some(at(23)),
        };
        assert_eq!(
            plan(EntityKind::Email, LabelSide::AccountTakeover, &week, at(30)),
            MarkPlan::Shield
        );
    }

    #[test]
    fn the_stronger_plan_prevails() {
        use MarkPlan::*;
        assert_eq!(Shield.max(Full), Full);
        assert_eq!(Weak(0.3).max(Shield), Weak(0.3));
        assert_eq!(Weak(0.3).max(Weak(0.5)), Weak(0.5));
        assert_eq!(Nothing.max(Shield), Shield);
        assert_eq!(Full.max(Weak(0.9)), Full);
    }
}
