//! The decision's context in the byte layout of `arbiter:policy@2` (layout 2.1, specified
//! in `policies/wit/policy.wit`), written once per decision and copied into each module.
//!
//! The layout's offsets and its writer are not restated here: this module compiles the
//! guest SDK's own `layout.rs` (through `#[path]`), so the host writes with the very code
//! whose offsets the SDK reads with, and the two cannot drift apart.

use std::borrow::Cow;

use arbiter_engine::checkpoint::Checkpoint;
use arbiter_engine::context::EnrichedContext;
use arbiter_engine::velocity::WindowStats;

#[path = "../../../policies/sdk/src/layout.rs"]
#[allow(
    dead_code,
    reason = "shared with the guest SDK, which also uses the constants the host does not need"
)]
mod layout;

use layout::{RawGraph, RawWindow, Writer, text, window};

/// Encodes `ctx`. One allocation when every attribute is a JSON string (non-string values
/// are rendered as JSON text first).
pub(crate) fn context(ctx: &EnrichedContext) -> Vec<u8> {
    let texts: [(usize, Option<&str>); 15] = [
        (text::REQUEST_ID, Some(&ctx.request_id)),
        (text::USER_ID, Some(&ctx.user_id)),
        (text::EMAIL, ctx.email.as_deref()),
        (text::EMAIL_DOMAIN, ctx.email_domain.as_deref()),
        (text::PHONE, ctx.phone.as_deref()),
        (text::DEVICE_ID, ctx.device_id.as_deref()),
        (text::IP, ctx.ip.as_deref()),
        (text::IP_COUNTRY, ctx.ip_country.as_deref()),
        (text::PAYMENT_METHOD, ctx.payment_method.as_deref()),
        (text::CARD_FINGERPRINT, ctx.card_fingerprint.as_deref()),
        (text::CARD_BIN, ctx.card_bin.as_deref()),
        (text::CARD_COUNTRY, ctx.card_country.as_deref()),
        (
            text::SHIPPING_ADDRESS_HASH,
            ctx.shipping_address_hash.as_deref(),
        ),
        (text::SHIPPING_COUNTRY, ctx.shipping_country.as_deref()),
        (text::ORDER_ID, ctx.order_id.as_deref()),
    ];
    let attributes: Vec<(&str, Cow<'_, str>)> = ctx
        .attributes
        .iter()
        .map(|(key, value)| {
            let value = match value {
                serde_json::Value::String(text) => Cow::Borrowed(text.as_str()),
                other => Cow::Owned(other.to_string()),
            };
            (key.as_str(), value)
        })
        .collect();
    let text_bytes = texts
        .iter()
        .filter_map(|(_, text)| text.map(str::len))
        .sum::<usize>()
        + ctx
            .amount
            .as_ref()
            .map_or(0, |amount| amount.currency.len())
        + attributes
            .iter()
            .map(|(key, value)| key.len() + value.len())
            .sum::<usize>()
        + ctx.watch_hits.iter().map(String::len).sum::<usize>();

    let mut writer = Writer::new(
        checkpoint(ctx.checkpoint),
        attributes.len(),
        ctx.watch_hits.len(),
        text_bytes,
    );
    for (index, value) in texts {
        writer.optional_text(index, value);
    }
    if let Some(amount) = &ctx.amount {
        writer.amount(amount.approx, amount.minor_units, &amount.currency);
        if let Some(reporting) = &amount.reporting {
            writer.amount_reporting(reporting.approx);
        }
    }
    if let Some(score) = ctx.model_score {
        writer.model_score(score);
    }
    if let Some(days) = ctx.account_age_days {
        writer.account_age_days(days);
    }
    writer.proxy(ctx.is_proxy);
    let velocity = &ctx.velocity;
    writer.window(window::USER, raw_window(&velocity.user));
    for (index, stats) in [
        (window::DEVICE, &velocity.device),
        (window::CARD, &velocity.card),
        (window::IP, &velocity.ip),
        (window::EMAIL, &velocity.email),
    ] {
        if let Some(stats) = stats {
            writer.window(index, raw_window(stats));
        }
    }
    if let Some(graph) = &ctx.graph {
        writer.graph(RawGraph {
            counts: [
                graph.group_entities,
                graph.group_users,
                graph.users_per_device,
                graph.users_per_card,
                graph.users_per_address,
                graph.users_per_phone,
                graph.cards_per_device,
                graph.cards_per_user,
            ],
            hops_to_fraud: graph.hops_to_fraud,
            fraud_share_2hop: graph.fraud_share_2hop,
            score: graph.score,
        });
    }
    for (key, value) in &attributes {
        writer.attribute(key, value);
    }
    for code in &ctx.watch_hits {
        writer.watch_hit(code);
    }
    writer.finish()
}

fn checkpoint(checkpoint: Checkpoint) -> u8 {
    match checkpoint {
        Checkpoint::OrderCreate => layout::checkpoint::ORDER_CREATE,
        Checkpoint::PaymentAuthorize => layout::checkpoint::PAYMENT_AUTHORIZE,
        Checkpoint::RefundRequest => layout::checkpoint::REFUND_REQUEST,
        Checkpoint::AccountLogin => layout::checkpoint::ACCOUNT_LOGIN,
        Checkpoint::PromoRedeem => layout::checkpoint::PROMO_REDEEM,
    }
}

fn raw_window(stats: &WindowStats) -> RawWindow {
    RawWindow {
        count_1h: stats.count_1h,
        count_24h: stats.count_24h,
        sum_1h: stats.sum_1h,
        sum_24h: stats.sum_24h,
    }
}

#[cfg(test)]
mod tests;
