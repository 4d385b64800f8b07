//! Translation between the engine's types and the ABI's: the enriched context into the WIT
//! `context` (once per decision, shared by every module of the set), and a WIT `verdict`
//! back into a checked [`Verdict`].
//!
//! A verdict is checked here because the canonical ABI only guarantees it is well-typed:
//! a non-finite score would poison the decision's total, and an unbounded reason list would
//! bloat every stored decision. Such a verdict is a `malformed_output` fault.

use arbiter_engine::Action;
use arbiter_engine::checkpoint::Checkpoint;
use arbiter_engine::context::{AmountView, EnrichedContext, GraphFeatures};
use arbiter_engine::stages::{Fault, FaultKind, ReasonCode};
use arbiter_engine::velocity::{VelocityFeatures, WindowStats};

use crate::bindings as wit;
use crate::fault::fault;
use crate::outcome::Verdict;

/// Most reasons one verdict may give.
pub const MAX_REASONS: usize = 32;
/// Longest reason code, in bytes.
pub const MAX_REASON_CODE_BYTES: usize = 128;
/// Longest reason detail, in bytes.
pub const MAX_REASON_DETAIL_BYTES: usize = 1024;

/// A decision's context in the ABI's shape, converted once and passed to every module.
#[derive(Debug, Clone)]
pub struct PreparedContext(pub(crate) wit::Context);

impl PreparedContext {
    pub fn new(ctx: &EnrichedContext) -> PreparedContext {
        PreparedContext(context(ctx))
    }
}

fn context(ctx: &EnrichedContext) -> wit::Context {
    wit::Context {
        checkpoint: checkpoint(ctx.checkpoint),
        request_id: ctx.request_id.clone(),
        amount: ctx.amount.as_ref().map(amount),
        user_id: ctx.user_id.clone(),
        account_age_days: ctx.account_age_days,
        email: ctx.email.clone(),
        email_domain: ctx.email_domain.clone(),
        phone: ctx.phone.clone(),
        device_id: ctx.device_id.clone(),
        ip: ctx.ip.clone(),
        ip_country: ctx.ip_country.clone(),
        is_proxy: ctx.is_proxy,
        payment_method: ctx.payment_method.clone(),
        card_fingerprint: ctx.card_fingerprint.clone(),
        card_bin: ctx.card_bin.clone(),
        card_country: ctx.card_country.clone(),
        shipping_address_hash: ctx.shipping_address_hash.clone(),
        shipping_country: ctx.shipping_country.clone(),
        order_id: ctx.order_id.clone(),
        attributes: ctx
            .attributes
            .iter()
            .map(|(key, value)| {
                let value = match value {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                (key.clone(), value)
            })
            .collect(),
        velocity: velocity(&ctx.velocity),
        graph: ctx.graph.as_ref().map(graph),
        watch_hits: ctx.watch_hits.clone(),
    }
}

fn checkpoint(checkpoint: Checkpoint) -> wit::Checkpoint {
    match checkpoint {
        Checkpoint::OrderCreate => wit::Checkpoint::OrderCreate,
        Checkpoint::PaymentAuthorize => wit::Checkpoint::PaymentAuthorize,
        Checkpoint::RefundRequest => wit::Checkpoint::RefundRequest,
        Checkpoint::AccountLogin => wit::Checkpoint::AccountLogin,
        Checkpoint::PromoRedeem => wit::Checkpoint::PromoRedeem,
    }
}

fn amount(amount: &AmountView) -> wit::Amount {
    wit::Amount {
        value: amount.approx,
        minor_units: amount.minor_units,
        currency: amount.currency.clone(),
    }
}

fn velocity(velocity: &VelocityFeatures) -> wit::Velocity {
    wit::Velocity {
        user: window(&velocity.user),
        device: velocity.device.as_ref().map(window),
        card: velocity.card.as_ref().map(window),
        ip: velocity.ip.as_ref().map(window),
        email: velocity.email.as_ref().map(window),
    }
}

fn window(stats: &WindowStats) -> wit::WindowStats {
    wit::WindowStats {
        count_1h: stats.count_1h,
        sum_1h: stats.sum_1h,
        count_24h: stats.count_24h,
        sum_24h: stats.sum_24h,
    }
}

fn graph(graph: &GraphFeatures) -> wit::GraphFeatures {
    wit::GraphFeatures {
        group_entities: graph.group_entities,
        group_users: graph.group_users,
        users_per_device: graph.users_per_device,
        users_per_card: graph.users_per_card,
        users_per_address: graph.users_per_address,
        users_per_phone: graph.users_per_phone,
        cards_per_device: graph.cards_per_device,
        cards_per_user: graph.cards_per_user,
        hops_to_fraud: graph.hops_to_fraud,
        fraud_share_2hop: graph.fraud_share_2hop,
        score: graph.score,
    }
}

/// A lifted verdict, checked: a finite score and a bounded list of non-empty, bounded
/// reason codes.
pub(crate) fn verdict(verdict: wit::Verdict) -> Result<Verdict, Fault> {
    let malformed = |message: String| Err(fault(FaultKind::MalformedOutput, message));
    if !verdict.score.is_finite() {
        return malformed(format!("score is not a finite number: {}", verdict.score));
    }
    if verdict.reasons.len() > MAX_REASONS {
        return malformed(format!(
            "{} reasons given, at most {MAX_REASONS} allowed",
            verdict.reasons.len()
        ));
    }
    let mut reasons = Vec::with_capacity(verdict.reasons.len());
    for reason in verdict.reasons {
        if reason.code.is_empty() || reason.code.len() > MAX_REASON_CODE_BYTES {
            return malformed(format!(
                "reason code must be 1 to {MAX_REASON_CODE_BYTES} bytes, got {}",
                reason.code.len()
            ));
        }
        if let Some(detail) = &reason.detail
            && detail.len() > MAX_REASON_DETAIL_BYTES
        {
            return malformed(format!(
                "reason detail must be at most {MAX_REASON_DETAIL_BYTES} bytes, got {}",
                detail.len()
            ));
        }
        reasons.push(ReasonCode {
            code: reason.code,
            detail: reason.detail,
        });
    }
    Ok(Verdict {
        action: action(verdict.action),
        score: f64::from(verdict.score),
        reasons,
    })
}

fn action(action: wit::Action) -> Action {
    match action {
        wit::Action::None => Action::None,
        wit::Action::Accept => Action::Accept,
        wit::Action::Challenge => Action::Challenge,
        wit::Action::Reject => Action::Reject,
    }
}

#[cfg(test)]
mod tests;
