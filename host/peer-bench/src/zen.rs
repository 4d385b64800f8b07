//! The six rules as a GoRules JDM decision graph (`src/zen/rules.json`), evaluated with
//! `zen-engine`.
//!
//! The graph is what the GoRules editor produces for this rule set: the request's input
//! node feeds one decision table per rule (hit policy `first` where a rule gives one
//! outcome, `collect` where it can give several), each writing its rows' `action`, `score`
//! and `reason` under the rule's name, and all six feed the output node. Derived inputs
//! (distinct countries, attempts, mean amount) are table input expressions.
//!
//! Per decision: the context becomes a zen [`Variable`] with every field (built directly,
//! not through `serde_json::Value`, which would cost a second conversion), and the
//! precompiled decision evaluates it. Zen's API is `async`; with no I/O node in the graph
//! its future completes on the first poll, so it is driven by a no-op waker rather than a
//! runtime (which would only add scheduling to the measurement).

use std::future::Future;
use std::pin::pin;
use std::str::FromStr;
use std::task::{Context, Poll, Waker};

use arbiter_engine::context::{AmountView, GraphFeatures};
use arbiter_engine::velocity::{VelocityFeatures, WindowStats};
use arbiter_engine::{Action, EnrichedContext};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use zen_engine::Decision;
use zen_engine::model::GraphContent;
use zen_expression::variable::{Variable, VariableMap};

use crate::{RulesEngine, RulesVerdict, reason_code};

/// The decision graph, as exported from the GoRules editor.
pub const GRAPH: &str = include_str!("zen/rules.json");

/// The compiled decision graph.
#[derive(Debug)]
pub struct Zen {
    decision: Decision,
}

impl Zen {
    /// Parses [`GRAPH`] and precompiles its expressions and table indexes.
    ///
    /// # Panics
    /// If the graph does not parse or is not a valid decision graph.
    pub fn new() -> Zen {
        let content: GraphContent = serde_json::from_str(GRAPH).expect("the JDM graph parses");
        let mut decision = Decision::from(content);
        decision.validate().expect("the JDM graph is valid");
        decision.compile();
        Zen { decision }
    }

    /// The zen input for `ctx` (the per-decision conversion).
    pub fn input(ctx: &EnrichedContext) -> Variable {
        input(ctx)
    }

    /// Evaluates an input built by [`Zen::input`].
    ///
    /// # Panics
    /// If the graph fails to evaluate, which these tables cannot do on an input [`Zen::input`] builds.
    pub fn decide(&self, input: Variable) -> RulesVerdict {
        let response = block_on(self.decision.evaluate(input)).expect("the JDM graph evaluates");
        verdict(&response.result)
    }
}

impl Default for Zen {
    fn default() -> Self {
        Zen::new()
    }
}

impl RulesEngine for Zen {
    fn name(&self) -> &'static str {
        "zen"
    }

    fn evaluate(&self, ctx: &EnrichedContext) -> RulesVerdict {
        self.decide(input(ctx))
    }
}

/// Drives a future that never waits on I/O to completion on this thread.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Reads the output node: per rule, `null` (no row hit), one row's outputs (`first`) or an
/// array of them (`collect`).
fn verdict(result: &Variable) -> RulesVerdict {
    let mut verdict = RulesVerdict::default();
    let Some(rules) = result.as_object() else {
        return verdict;
    };
    for (_, outcome) in rules.borrow().iter() {
        match outcome {
            Variable::Array(rows) => rows.borrow().iter().for_each(|row| add(&mut verdict, row)),
            Variable::Object(_) => add(&mut verdict, outcome),
            _ => {}
        }
    }
    verdict
}

fn add(verdict: &mut RulesVerdict, row: &Variable) {
    let Some(row) = row.as_object() else {
        return;
    };
    let row = row.borrow();
    let action = match row.get_str("action").and_then(Variable::as_str) {
        Some("challenge") => Action::Challenge,
        Some("reject") => Action::Reject,
        Some("accept") => Action::Accept,
        _ => Action::None,
    };
    let score = row
        .get_str("score")
        .and_then(Variable::as_number)
        .and_then(|score| rust_decimal::prelude::ToPrimitive::to_f64(&score))
        .unwrap_or(0.0);
    let reason = row
        .get_str("reason")
        .and_then(Variable::as_str)
        .unwrap_or_default();
    verdict.add(action, score, reason_code(reason));
}

fn object(fields: VariableMap) -> Variable {
    Variable::from_object(fields)
}

fn string(value: &str) -> Variable {
    Variable::String(value.into())
}

fn optional(value: Option<&String>) -> Variable {
    value.map_or(Variable::Null, |value| string(value))
}

fn number(value: impl Into<Decimal>) -> Variable {
    Variable::Number(value.into())
}

fn float(value: f64) -> Variable {
    Decimal::from_f64(value).map_or(Variable::Null, Variable::Number)
}

/// Every field of the context, in the shape of its JSON (absent fields are `null`).
fn input(ctx: &EnrichedContext) -> Variable {
    let mut fields = VariableMap::with_capacity(24);
    let mut put = |key: &'static str, value: Variable| {
        fields.insert(key.into(), value);
    };
    put("checkpoint", string(ctx.checkpoint.as_str()));
    put("request_id", string(&ctx.request_id));
    put("amount", ctx.amount.as_ref().map_or(Variable::Null, amount));
    put("user_id", string(&ctx.user_id));
    put(
        "account_age_days",
        ctx.account_age_days.map_or(Variable::Null, number),
    );
    put("email", optional(ctx.email.as_ref()));
    put("email_domain", optional(ctx.email_domain.as_ref()));
    put("phone", optional(ctx.phone.as_ref()));
    put("device_id", optional(ctx.device_id.as_ref()));
    put("ip", optional(ctx.ip.as_ref()));
    put("ip_country", optional(ctx.ip_country.as_ref()));
    put("is_proxy", Variable::Bool(ctx.is_proxy));
    put("payment_method", optional(ctx.payment_method.as_ref()));
    put("card_fingerprint", optional(ctx.card_fingerprint.as_ref()));
    put("card_bin", optional(ctx.card_bin.as_ref()));
    put("card_country", optional(ctx.card_country.as_ref()));
    put(
        "shipping_address_hash",
        optional(ctx.shipping_address_hash.as_ref()),
    );
    put("shipping_country", optional(ctx.shipping_country.as_ref()));
    put("order_id", optional(ctx.order_id.as_ref()));
    // As the WASM ABI passes them: strings, other JSON values as their text.
    let attributes = ctx
        .attributes
        .iter()
        .map(|(key, value)| {
            let value = match value {
                serde_json::Value::String(text) => string(text),
                other => string(&other.to_string()),
            };
            (key.as_str().into(), value)
        })
        .collect();
    put("attributes", object(attributes));
    put("velocity", velocity(&ctx.velocity));
    put("graph", ctx.graph.as_ref().map_or(Variable::Null, graph));
    put(
        "watch_hits",
        Variable::from_array(ctx.watch_hits.iter().map(|hit| string(hit)).collect()),
    );
    object(fields)
}

fn amount(amount: &AmountView) -> Variable {
    let mut fields = VariableMap::with_capacity(4);
    // Exact: the normalised decimal strings, not the floats.
    let value = Decimal::from_str(&amount.value).map_or(Variable::Null, Variable::Number);
    fields.insert("value".into(), value);
    let reporting = amount.reporting.as_ref().map_or(Variable::Null, |r| {
        Decimal::from_str(&r.value).map_or(Variable::Null, Variable::Number)
    });
    fields.insert("reporting".into(), reporting);
    fields.insert("minor_units".into(), number(amount.minor_units));
    fields.insert("currency".into(), string(&amount.currency));
    object(fields)
}

fn velocity(velocity: &VelocityFeatures) -> Variable {
    let mut fields = VariableMap::with_capacity(5);
    fields.insert("user".into(), window(&velocity.user));
    for (key, stats) in [
        ("device", &velocity.device),
        ("card", &velocity.card),
        ("ip", &velocity.ip),
        ("email", &velocity.email),
    ] {
        fields.insert(key.into(), stats.as_ref().map_or(Variable::Null, window));
    }
    object(fields)
}

fn window(stats: &WindowStats) -> Variable {
    let mut fields = VariableMap::with_capacity(4);
    fields.insert("count_1h".into(), number(stats.count_1h));
    fields.insert("sum_1h".into(), float(stats.sum_1h));
    fields.insert("count_24h".into(), number(stats.count_24h));
    fields.insert("sum_24h".into(), float(stats.sum_24h));
    object(fields)
}

fn graph(graph: &GraphFeatures) -> Variable {
    let mut fields = VariableMap::with_capacity(11);
    let mut put = |key: &'static str, value: Variable| {
        fields.insert(key.into(), value);
    };
    put("group_entities", number(graph.group_entities));
    put("group_users", number(graph.group_users));
    put("users_per_device", number(graph.users_per_device));
    put("users_per_card", number(graph.users_per_card));
    put("users_per_address", number(graph.users_per_address));
    put("users_per_phone", number(graph.users_per_phone));
    put("cards_per_device", number(graph.cards_per_device));
    put("cards_per_user", number(graph.cards_per_user));
    put(
        "hops_to_fraud",
        graph.hops_to_fraud.map_or(Variable::Null, number),
    );
    // Through the shortest decimal that reads back as the f32 (0.35, not 0.3499999940…).
    put(
        "fraud_share_2hop",
        Decimal::from_f32(graph.fraud_share_2hop).map_or(Variable::Null, Variable::Number),
    );
    put(
        "score",
        Decimal::from_f32(graph.score).map_or(Variable::Null, Variable::Number),
    );
    object(fields)
}
