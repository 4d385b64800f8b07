//! The six rules as plain Rust: the floor any rules engine is measured against.
//!
//! Each function mirrors one example policy in `policies/examples/*/src/lib.rs` (same
//! thresholds, same scores, same branches) over [`Facts`], a small borrowed view of the
//! context. No reason details are formatted (see [`RulesVerdict`]).

use std::borrow::Cow;

use arbiter_engine::context::GraphFeatures;
use arbiter_engine::velocity::WindowStats;
use arbiter_engine::{Action, Checkpoint, EnrichedContext};

use crate::{RulesEngine, RulesVerdict};

/// What the six rules read, borrowed from the context.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub checkpoint: Checkpoint,
    /// Major units (the ABI's `amount.value`).
    pub amount: Option<f64>,
    pub account_age_days: Option<u32>,
    pub is_proxy: bool,
    pub card_country: Option<&'a str>,
    pub ip_country: Option<&'a str>,
    pub shipping_country: Option<&'a str>,
    pub card_velocity: Option<&'a WindowStats>,
    pub device_velocity: Option<&'a WindowStats>,
    pub graph: Option<&'a GraphFeatures>,
    /// The `promo_code` attribute as the ABI passes it: a string, or other JSON as text.
    pub promo_code: Option<Cow<'a, str>>,
}

impl<'a> Facts<'a> {
    pub fn of(ctx: &'a EnrichedContext) -> Facts<'a> {
        Facts {
            checkpoint: ctx.checkpoint,
            amount: ctx.amount.as_ref().map(|amount| amount.approx),
            account_age_days: ctx.account_age_days,
            is_proxy: ctx.is_proxy,
            card_country: ctx.card_country.as_deref(),
            ip_country: ctx.ip_country.as_deref(),
            shipping_country: ctx.shipping_country.as_deref(),
            card_velocity: ctx.velocity.card.as_ref(),
            device_velocity: ctx.velocity.device.as_ref(),
            graph: ctx.graph.as_ref(),
            promo_code: ctx.attributes.get("promo_code").map(|value| match value {
                serde_json::Value::String(text) => Cow::Borrowed(text.as_str()),
                other => Cow::Owned(other.to_string()),
            }),
        }
    }
}

/// The six rules as native functions.
#[derive(Debug, Default, Clone, Copy)]
pub struct Native;

impl RulesEngine for Native {
    fn name(&self) -> &'static str {
        "native"
    }

    fn evaluate(&self, ctx: &EnrichedContext) -> RulesVerdict {
        evaluate(&Facts::of(ctx))
    }
}

/// All six rules on `facts`.
pub fn evaluate(facts: &Facts<'_>) -> RulesVerdict {
    let mut verdict = RulesVerdict::default();
    geo_mismatch(facts, &mut verdict);
    new_account_high_value(facts, &mut verdict);
    card_testing(facts, &mut verdict);
    proxy_high_value(facts, &mut verdict);
    promo_abuse(facts, &mut verdict);
    graph_ring(facts, &mut verdict);
    verdict
}

fn add(verdict: &mut RulesVerdict, action: Action, score: f64, code: &'static str) {
    verdict.add(action, score, Cow::Borrowed(code));
}

fn is_purchase(checkpoint: Checkpoint) -> bool {
    matches!(
        checkpoint,
        Checkpoint::OrderCreate | Checkpoint::PaymentAuthorize
    )
}

fn geo_mismatch(facts: &Facts<'_>, verdict: &mut RulesVerdict) {
    if !is_purchase(facts.checkpoint) {
        return;
    }
    // Distinct countries among those present, without allocating.
    let mut seen = [""; 3];
    let mut distinct = 0;
    for country in [facts.card_country, facts.ip_country, facts.shipping_country]
        .into_iter()
        .flatten()
    {
        if !seen[..distinct].contains(&country) {
            seen[distinct] = country;
            distinct += 1;
        }
    }
    let base = match distinct {
        0 | 1 => return,
        2 => 15.0,
        _ => 30.0,
    };
    let amount = facts.amount.unwrap_or(0.0);
    let scale = if amount >= 1_000.0 {
        2.0
    } else if amount >= 200.0 {
        1.5
    } else {
        1.0
    };
    add(verdict, Action::None, base * scale, "geo.mismatch");
}

fn new_account_high_value(facts: &Facts<'_>, verdict: &mut RulesVerdict) {
    if !is_purchase(facts.checkpoint) {
        return;
    }
    let (Some(age), Some(amount)) = (facts.account_age_days, facts.amount) else {
        return;
    };
    if age >= 7 || amount < 500.0 {
        return;
    }
    let (action, score) = if amount >= 2_500.0 {
        (Action::Reject, 50.0)
    } else {
        (Action::Challenge, 25.0)
    };
    add(verdict, action, score, "account.new_high_value");
}

fn card_testing(facts: &Facts<'_>, verdict: &mut RulesVerdict) {
    if facts.checkpoint != Checkpoint::PaymentAuthorize {
        return;
    }
    let amount = facts.amount.unwrap_or(0.0);
    for stats in [facts.card_velocity, facts.device_velocity]
        .into_iter()
        .flatten()
    {
        let attempts = stats.count_1h.saturating_add(1);
        let mean = (stats.sum_1h + amount) / f64::from(attempts);
        if attempts < 5 || mean > 10.0 {
            continue;
        }
        let (action, score) = if attempts >= 10 {
            (Action::Reject, 60.0)
        } else {
            (Action::Challenge, 30.0)
        };
        add(verdict, action, score, "velocity.card_testing");
    }
}

fn proxy_high_value(facts: &Facts<'_>, verdict: &mut RulesVerdict) {
    if facts.checkpoint != Checkpoint::PaymentAuthorize || !facts.is_proxy {
        return;
    }
    let Some(amount) = facts.amount.filter(|amount| *amount >= 250.0) else {
        return;
    };
    let score = if amount >= 1_000.0 { 35.0 } else { 20.0 };
    add(
        verdict,
        Action::Challenge,
        score,
        "network.proxy_high_value",
    );
}

fn promo_abuse(facts: &Facts<'_>, verdict: &mut RulesVerdict) {
    if facts.checkpoint != Checkpoint::PromoRedeem
        || facts.promo_code.as_deref().is_none_or(str::is_empty)
    {
        return;
    }
    let evidence = match (facts.graph, facts.device_velocity) {
        (Some(graph), _) => Some((graph.users_per_device, 3, 6)),
        (None, Some(device)) => Some((device.count_24h, 8, 15)),
        (None, None) => None,
    };
    if let Some((count, challenge_at, reject_at)) = evidence
        && count >= challenge_at
    {
        let (action, score) = if count >= reject_at {
            (Action::Reject, 60.0)
        } else {
            (Action::Challenge, 30.0)
        };
        add(verdict, action, score, "promo.multi_account");
    }
    if facts.account_age_days == Some(0) {
        add(verdict, Action::None, 10.0, "promo.new_account");
    }
}

fn graph_ring(facts: &Facts<'_>, verdict: &mut RulesVerdict) {
    let Some(graph) = facts.graph else {
        return;
    };
    match graph.hops_to_fraud {
        Some(0) => add(verdict, Action::Reject, 60.0, "graph.fraud_linked"),
        Some(1) => add(verdict, Action::Challenge, 40.0, "graph.fraud_linked"),
        Some(2) => add(verdict, Action::None, 15.0, "graph.fraud_linked"),
        _ => {}
    }
    let share = graph.fraud_share_2hop;
    if share >= 0.5 && graph.group_users >= 3 {
        add(verdict, Action::Reject, 50.0, "graph.fraud_neighbourhood");
    } else if share >= 0.2 {
        add(
            verdict,
            Action::Challenge,
            25.0,
            "graph.fraud_neighbourhood",
        );
    }
    if graph.group_users >= 25 {
        add(verdict, Action::Challenge, 30.0, "graph.large_group");
    } else if graph.group_users >= 10 {
        add(verdict, Action::None, 15.0, "graph.large_group");
    }
    if graph.cards_per_device >= 8 {
        add(verdict, Action::Challenge, 35.0, "graph.cards_per_device");
    } else if graph.cards_per_device >= 4 {
        add(verdict, Action::None, 20.0, "graph.cards_per_device");
    }
}
