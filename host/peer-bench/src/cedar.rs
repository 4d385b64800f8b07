//! The six rules as Cedar policies (`src/cedar/rules.cedar`), evaluated with
//! `cedar-policy`'s [`Authorizer`].
//!
//! Per decision: the context becomes a Cedar request — principal `User::"<user id>"`,
//! action `Action::"<checkpoint>"`, resource `Request::"<request id>"` and every field of
//! the context as the Cedar `context` record (what a rules layer must pass when it does not
//! know which fields the rules read, as the WASM ABI does) — and one authorization call
//! evaluates every policy. The satisfied policies (the response's "reason" set) are the
//! rule outcomes; their annotations, read once at load into [`Outcome`]s, give the
//! verdict. No entities: the rules read only the request and its context.

use std::collections::HashMap;
use std::str::FromStr;

use arbiter_engine::context::{AmountView, GraphFeatures};
use arbiter_engine::velocity::{VelocityFeatures, WindowStats};
use arbiter_engine::{Action, EnrichedContext};
use cedar_policy::{
    Authorizer, Context, Entities, EntityId, EntityTypeName, EntityUid, PolicyId, PolicySet,
    Request, RestrictedExpression,
};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::{RulesEngine, RulesVerdict, reason_code};

/// The policy source.
pub const POLICIES: &str = include_str!("cedar/rules.cedar");

/// What one satisfied policy contributes, from its annotations.
#[derive(Debug, Clone)]
struct Outcome {
    action: Action,
    score: f64,
    reason: std::borrow::Cow<'static, str>,
}

/// The parsed policies and what each one means.
#[derive(Debug)]
pub struct Cedar {
    authorizer: Authorizer,
    policies: PolicySet,
    entities: Entities,
    outcomes: HashMap<PolicyId, Outcome>,
    user_type: EntityTypeName,
    action_type: EntityTypeName,
    request_type: EntityTypeName,
}

impl Cedar {
    /// Parses [`POLICIES`] and reads every policy's `@action`, `@score` and `@reason`.
    ///
    /// # Panics
    /// If the policies do not parse or a policy lacks a well-formed annotation.
    pub fn new() -> Cedar {
        let policies = PolicySet::from_str(POLICIES).expect("the Cedar policies parse");
        let outcomes = policies
            .policies()
            .map(|policy| {
                let annotation = |key: &str| {
                    policy
                        .annotation(key)
                        .unwrap_or_else(|| panic!("policy `{}` has no `@{key}`", policy.id()))
                };
                let action = match annotation("action") {
                    "none" => Action::None,
                    "challenge" => Action::Challenge,
                    "reject" => Action::Reject,
                    other => panic!("policy `{}`: unknown action `{other}`", policy.id()),
                };
                let score = annotation("score")
                    .parse()
                    .unwrap_or_else(|_| panic!("policy `{}`: bad `@score`", policy.id()));
                let outcome = Outcome {
                    action,
                    score,
                    reason: reason_code(annotation("reason")),
                };
                (policy.id().clone(), outcome)
            })
            .collect();
        let type_name = |name: &str| EntityTypeName::from_str(name).expect("a valid type name");
        Cedar {
            authorizer: Authorizer::new(),
            policies,
            entities: Entities::empty(),
            outcomes,
            user_type: type_name("User"),
            action_type: type_name("Action"),
            request_type: type_name("Request"),
        }
    }

    /// The Cedar request for `ctx` (the per-decision conversion).
    ///
    /// # Panics
    /// Never for a context the pipeline builds (the context has no duplicate keys).
    pub fn request(&self, ctx: &EnrichedContext) -> Request {
        let uid = |kind: &EntityTypeName, id: &str| {
            EntityUid::from_type_name_and_id(kind.clone(), EntityId::new(id))
        };
        Request::new(
            uid(&self.user_type, &ctx.user_id),
            uid(&self.action_type, ctx.checkpoint.as_str()),
            uid(&self.request_type, &ctx.request_id),
            context(ctx),
            None,
        )
        .expect("a request without a schema is always valid")
    }

    /// Evaluates a request built by [`Cedar::request`].
    pub fn decide(&self, request: &Request) -> RulesVerdict {
        let response = self
            .authorizer
            .is_authorized(request, &self.policies, &self.entities);
        debug_assert!(
            response.diagnostics().errors().next().is_none(),
            "a policy failed to evaluate: {:?}",
            response.diagnostics().errors().collect::<Vec<_>>()
        );
        let mut verdict = RulesVerdict::default();
        for id in response.diagnostics().reason() {
            if let Some(outcome) = self.outcomes.get(id) {
                verdict.add(outcome.action, outcome.score, outcome.reason.clone());
            }
        }
        verdict
    }
}

impl Default for Cedar {
    fn default() -> Self {
        Cedar::new()
    }
}

impl RulesEngine for Cedar {
    fn name(&self) -> &'static str {
        "cedar"
    }

    fn evaluate(&self, ctx: &EnrichedContext) -> RulesVerdict {
        self.decide(&self.request(ctx))
    }
}

type Fields = Vec<(String, RestrictedExpression)>;

fn string(fields: &mut Fields, key: &str, value: &str) {
    fields.push((
        key.to_owned(),
        RestrictedExpression::new_string(value.to_owned()),
    ));
}

fn optional(fields: &mut Fields, key: &str, value: Option<&String>) {
    if let Some(value) = value {
        string(fields, key, value);
    }
}

fn long(fields: &mut Fields, key: &str, value: impl Into<i64>) {
    fields.push((key.to_owned(), RestrictedExpression::new_long(value.into())));
}

fn record(fields: Fields) -> RestrictedExpression {
    RestrictedExpression::new_record(fields).expect("record keys are distinct")
}

/// A float as a Long scaled by 10^4, rounded down: `x >= t` for a threshold `t` with at
/// most four decimals holds exactly when `e4(x) >= t * 10^4` (the rounding never crosses
/// a multiple of 10^-4 that `x` does not reach).
fn e4(value: f64) -> i64 {
    (value * 10_000.0).floor() as i64
}

/// Every field of the context as a Cedar record; absent optional fields are absent
/// attributes (`context has card_country`).
fn context(ctx: &EnrichedContext) -> Context {
    let mut fields = Fields::with_capacity(24);
    string(&mut fields, "request_id", &ctx.request_id);
    if let Some(amount) = &ctx.amount {
        fields.push(("amount".to_owned(), amount_record(amount)));
    }
    string(&mut fields, "user_id", &ctx.user_id);
    if let Some(age) = ctx.account_age_days {
        long(&mut fields, "account_age_days", age);
    }
    optional(&mut fields, "email", ctx.email.as_ref());
    optional(&mut fields, "email_domain", ctx.email_domain.as_ref());
    optional(&mut fields, "phone", ctx.phone.as_ref());
    optional(&mut fields, "device_id", ctx.device_id.as_ref());
    optional(&mut fields, "ip", ctx.ip.as_ref());
    optional(&mut fields, "ip_country", ctx.ip_country.as_ref());
    fields.push((
        "is_proxy".to_owned(),
        RestrictedExpression::new_bool(ctx.is_proxy),
    ));
    optional(&mut fields, "payment_method", ctx.payment_method.as_ref());
    optional(
        &mut fields,
        "card_fingerprint",
        ctx.card_fingerprint.as_ref(),
    );
    optional(&mut fields, "card_bin", ctx.card_bin.as_ref());
    optional(&mut fields, "card_country", ctx.card_country.as_ref());
    optional(
        &mut fields,
        "shipping_address_hash",
        ctx.shipping_address_hash.as_ref(),
    );
    optional(
        &mut fields,
        "shipping_country",
        ctx.shipping_country.as_ref(),
    );
    optional(&mut fields, "order_id", ctx.order_id.as_ref());
    // As the WASM ABI passes them: strings, other JSON values as their text.
    let attributes = ctx
        .attributes
        .iter()
        .map(|(key, value)| {
            let text = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (key.clone(), RestrictedExpression::new_string(text))
        })
        .collect();
    fields.push(("attributes".to_owned(), record(attributes)));
    fields.push(("velocity".to_owned(), velocity_record(&ctx.velocity)));
    if let Some(graph) = &ctx.graph {
        fields.push(("graph".to_owned(), graph_record(graph)));
    }
    fields.push((
        "watch_hits".to_owned(),
        RestrictedExpression::new_set(
            ctx.watch_hits
                .iter()
                .map(|hit| RestrictedExpression::new_string(hit.clone())),
        ),
    ));
    Context::from_pairs(fields).expect("context keys are distinct")
}

fn amount_record(amount: &AmountView) -> RestrictedExpression {
    // Exact: the normalised decimal string, not the float.
    let value_e4 = decimal_e4(&amount.value);
    let mut fields = Fields::with_capacity(4);
    long(&mut fields, "value_e4", value_e4);
    if let Some(reporting) = &amount.reporting {
        long(&mut fields, "reporting_e4", decimal_e4(&reporting.value));
    }
    long(&mut fields, "minor_units", amount.minor_units);
    string(&mut fields, "currency", &amount.currency);
    record(fields)
}

/// A decimal string as a Long scaled by 10^4 (exact for amounts; saturates).
fn decimal_e4(value: &str) -> i64 {
    Decimal::from_str(value)
        .ok()
        .and_then(|value| (value * Decimal::from(10_000)).trunc().to_i64())
        .unwrap_or(i64::MAX)
}

fn velocity_record(velocity: &VelocityFeatures) -> RestrictedExpression {
    let mut fields = Fields::with_capacity(5);
    fields.push(("user".to_owned(), window_record(&velocity.user)));
    for (key, stats) in [
        ("device", &velocity.device),
        ("card", &velocity.card),
        ("ip", &velocity.ip),
        ("email", &velocity.email),
    ] {
        if let Some(stats) = stats {
            fields.push((key.to_owned(), window_record(stats)));
        }
    }
    record(fields)
}

fn window_record(stats: &WindowStats) -> RestrictedExpression {
    let mut fields = Fields::with_capacity(4);
    long(&mut fields, "count_1h", stats.count_1h);
    // Sums are rounded, not floored: they are added to an amount, not compared alone.
    long(
        &mut fields,
        "sum_1h_e4",
        (stats.sum_1h * 10_000.0).round() as i64,
    );
    long(&mut fields, "count_24h", stats.count_24h);
    long(
        &mut fields,
        "sum_24h_e4",
        (stats.sum_24h * 10_000.0).round() as i64,
    );
    record(fields)
}

fn graph_record(graph: &GraphFeatures) -> RestrictedExpression {
    let mut fields = Fields::with_capacity(11);
    long(&mut fields, "group_entities", graph.group_entities);
    long(&mut fields, "group_users", graph.group_users);
    long(&mut fields, "users_per_device", graph.users_per_device);
    long(&mut fields, "users_per_card", graph.users_per_card);
    long(&mut fields, "users_per_address", graph.users_per_address);
    long(&mut fields, "users_per_phone", graph.users_per_phone);
    long(&mut fields, "cards_per_device", graph.cards_per_device);
    long(&mut fields, "cards_per_user", graph.cards_per_user);
    if let Some(hops) = graph.hops_to_fraud {
        long(&mut fields, "hops_to_fraud", hops);
    }
    long(
        &mut fields,
        "fraud_share_2hop_e4",
        e4(f64::from(graph.fraud_share_2hop)),
    );
    long(&mut fields, "score_e4", e4(f64::from(graph.score)));
    record(fields)
}
