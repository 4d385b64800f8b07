//! Encoding a test context with the layout's writer, the same code the host encodes with.

use super::Draft;
use crate::WindowStats;
use crate::layout::{self, RawGraph, RawWindow, Writer};

/// The buffer of `ctx`, as the host would write it.
pub(super) fn draft(ctx: &Draft) -> Vec<u8> {
    let texts = [
        Some(&ctx.request_id),
        Some(&ctx.user_id),
        ctx.amount.as_ref().map(|(_, _, currency)| currency),
        ctx.email.as_ref(),
        ctx.email_domain.as_ref(),
        ctx.phone.as_ref(),
        ctx.device_id.as_ref(),
        ctx.ip.as_ref(),
        ctx.ip_country.as_ref(),
        ctx.payment_method.as_ref(),
        ctx.card_fingerprint.as_ref(),
        ctx.card_bin.as_ref(),
        ctx.card_country.as_ref(),
        ctx.shipping_address_hash.as_ref(),
        ctx.shipping_country.as_ref(),
        ctx.order_id.as_ref(),
    ];
    let text_bytes = texts.iter().flatten().map(|text| text.len()).sum::<usize>()
        + ctx
            .attributes
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
        + ctx.watch_hits.iter().map(String::len).sum::<usize>();
    let mut writer = Writer::new(
        ctx.checkpoint.code(),
        ctx.attributes.len(),
        ctx.watch_hits.len(),
        text_bytes,
    );
    for (index, text) in texts.iter().enumerate() {
        if index != layout::text::CURRENCY {
            writer.optional_text(index, text.map(String::as_str));
        }
    }
    if let Some((value, minor_units, currency)) = &ctx.amount {
        writer.amount(*value, *minor_units, currency);
    }
    if let Some(value) = ctx.amount_reporting {
        writer.amount_reporting(value);
    }
    if let Some(score) = ctx.model_score {
        writer.model_score(score);
    }
    if let Some(days) = ctx.account_age_days {
        writer.account_age_days(days);
    }
    writer.proxy(ctx.is_proxy);
    let velocity = &ctx.velocity;
    writer.window(layout::window::USER, raw_window(velocity.user));
    for (index, stats) in [
        (layout::window::DEVICE, velocity.device),
        (layout::window::CARD, velocity.card),
        (layout::window::IP, velocity.ip),
        (layout::window::EMAIL, velocity.email),
    ] {
        if let Some(stats) = stats {
            writer.window(index, raw_window(stats));
        }
    }
    if let Some(graph) = ctx.graph {
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
    for (key, value) in &ctx.attributes {
        writer.attribute(key, value);
    }
    for code in &ctx.watch_hits {
        writer.watch_hit(code);
    }
    writer.finish()
}

fn raw_window(stats: WindowStats) -> RawWindow {
    RawWindow {
        count_1h: stats.count_1h,
        count_24h: stats.count_24h,
        sum_1h: stats.sum_1h,
        sum_24h: stats.sum_24h,
    }
}
