//! Translation between the engine's types and the WIT types: the enriched context into
//! the `arbiter:policy@1` `context` record (once per decision, shared by every `@1` module
//! of the set; `@2` modules get `encode`'s byte buffer instead), and a `verdict` of either
//! major back into a checked [`Verdict`].
//!
//! A verdict is checked here because the canonical ABI only guarantees it is well-typed:
//! a non-finite score would poison the decision's total, and an unbounded reason list would
//! bloat every stored decision. Such a verdict is a `malformed_output` fault.

use arbiter_engine::Action;
use arbiter_engine::checkpoint::Checkpoint;
use arbiter_engine::context::{AmountView, EnrichedContext, GraphFeatures};
use arbiter_engine::stages::{Fault, FaultKind, ReasonCode};
use arbiter_engine::velocity::{VelocityFeatures, WindowStats};

use crate::bindings::{v1 as wit, v2};
use crate::fault::fault;
use crate::outcome::Verdict;

/// Most reasons one verdict may give.
pub const MAX_REASONS: usize = 32;
/// Longest reason code, in bytes.
pub const MAX_REASON_CODE_BYTES: usize = 128;
/// Longest reason detail, in bytes.
pub const MAX_REASON_DETAIL_BYTES: usize = 1024;

/// The `@1` context record of `ctx`.
pub(crate) fn context(ctx: &EnrichedContext) -> wit::Context {
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

/// A lifted `@2` verdict, checked (see [`checked`]).
pub(crate) fn verdict_v2(verdict: v2::Verdict) -> Result<Verdict, Fault> {
    let action = match verdict.action {
        v2::Action::None => Action::None,
        v2::Action::Accept => Action::Accept,
        v2::Action::Challenge => Action::Challenge,
        v2::Action::Reject => Action::Reject,
    };
    let reasons = verdict.reasons.into_iter().map(|reason| ReasonCode {
        code: reason.code,
        detail: reason.detail,
    });
    checked(action, verdict.score, reasons)
}

/// A lifted `@1` verdict, checked (see [`checked`]).
pub(crate) fn verdict_v1(verdict: wit::Verdict) -> Result<Verdict, Fault> {
    let reasons = verdict.reasons.into_iter().map(|reason| ReasonCode {
        code: reason.code,
        detail: reason.detail,
    });
    checked(action(verdict.action), verdict.score, reasons)
}

/// A verdict checked for sanity: a finite score and a bounded list of non-empty, bounded
/// reason codes.
fn checked(
    action: Action,
    score: f32,
    reasons: impl ExactSizeIterator<Item = ReasonCode>,
) -> Result<Verdict, Fault> {
    let malformed = |message: String| Err(fault(FaultKind::MalformedOutput, message));
    if !score.is_finite() {
        return malformed(format!("score is not a finite number: {score}"));
    }
    if reasons.len() > MAX_REASONS {
        return malformed(format!(
            "{} reasons given, at most {MAX_REASONS} allowed",
            reasons.len()
        ));
    }
    let mut checked = Vec::with_capacity(reasons.len());
    for reason in reasons {
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
        checked.push(reason);
    }
    Ok(Verdict {
        action,
        score: f64::from(score),
        reasons: checked,
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
