//! The documented feature vector: the one function that turns a decision's enriched context
//! into the numbers the model sees. Training (on stored contexts) and scoring (on the live
//! context) both call [`extract`], so the two cannot drift. Every feature is documented in
//! `models/README.md`; change the names, the order or a transform only together with that
//! table, and expect old artifacts to be refused (`ModelError::FeatureMismatch`).
//!
//! It must stay pure and allocation-free: it runs on every decision.

use arbiter_engine::checkpoint::Checkpoint;
use arbiter_engine::context::{EnrichedContext, GraphFeatures};
use arbiter_engine::velocity::WindowStats;

/// How many features [`extract`] produces.
pub const FEATURE_COUNT: usize = 49;

/// The names of the features, in vector order.
pub const FEATURE_NAMES: [&str; FEATURE_COUNT] = [
    // amount
    "amount_log1p",
    "amount_missing",
    // account
    "account_age_days_log1p",
    "account_age_missing",
    // velocity: user, device, card, ip, email x (count 1h, count 24h, sum 1h, sum 24h)
    "velocity_user_count_1h_log1p",
    "velocity_user_count_24h_log1p",
    "velocity_user_sum_1h_log1p",
    "velocity_user_sum_24h_log1p",
    "velocity_device_count_1h_log1p",
    "velocity_device_count_24h_log1p",
    "velocity_device_sum_1h_log1p",
    "velocity_device_sum_24h_log1p",
    "velocity_card_count_1h_log1p",
    "velocity_card_count_24h_log1p",
    "velocity_card_sum_1h_log1p",
    "velocity_card_sum_24h_log1p",
    "velocity_ip_count_1h_log1p",
    "velocity_ip_count_24h_log1p",
    "velocity_ip_sum_1h_log1p",
    "velocity_ip_sum_24h_log1p",
    "velocity_email_count_1h_log1p",
    "velocity_email_count_24h_log1p",
    "velocity_email_sum_1h_log1p",
    "velocity_email_sum_24h_log1p",
    // which entities the request names
    "device_missing",
    "card_missing",
    "ip_missing",
    "email_missing",
    // geography and network
    "card_ip_country_mismatch",
    "shipping_card_country_mismatch",
    "shipping_ip_country_mismatch",
    "is_proxy",
    // link graph
    "graph_missing",
    "graph_group_users_log1p",
    "graph_group_entities_log1p",
    "graph_users_per_device_log1p",
    "graph_users_per_card_log1p",
    "graph_users_per_address_log1p",
    "graph_users_per_phone_log1p",
    "graph_cards_per_device_log1p",
    "graph_cards_per_user_log1p",
    "graph_fraud_proximity",
    "graph_fraud_share_2hop",
    "graph_score",
    // lists
    "watch_hits_log1p",
    // checkpoint one-hot
    "checkpoint_order_create",
    "checkpoint_payment_authorize",
    "checkpoint_refund_request",
    "checkpoint_account_login",
];

// `checkpoint.promo_redeem` is the reference level of the one-hot (all four zero): with an
// intercept a fifth column would be exactly collinear with it.

/// One decision's features, in [`FEATURE_NAMES`] order.
pub type FeatureVector = [f64; FEATURE_COUNT];

/// Fills the vector slot by slot in [`FEATURE_NAMES`] order.
struct Slots {
    out: FeatureVector,
    at: usize,
}

impl Slots {
    fn put(&mut self, value: f64) {
        if let Some(slot) = self.out.get_mut(self.at) {
            // A non-finite input (e.g. a corrupt stored context) must not poison the dot product.
            *slot = if value.is_finite() { value } else { 0.0 };
        }
        self.at += 1;
    }

    fn flag(&mut self, on: bool) {
        self.put(if on { 1.0 } else { 0.0 });
    }
}

/// `ln(1 + x)` for non-negative `x`; negative inputs count as zero.
fn log1p(x: f64) -> f64 {
    x.max(0.0).ln_1p()
}

/// Both sides known and different. Countries are normalised upper-case ISO codes already.
fn mismatch(a: Option<&String>, b: Option<&String>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a != b)
}

fn velocity(slots: &mut Slots, w: Option<&WindowStats>) {
    let w = w.copied().unwrap_or_default();
    slots.put(log1p(f64::from(w.count_1h)));
    slots.put(log1p(f64::from(w.count_24h)));
    slots.put(log1p(w.sum_1h));
    slots.put(log1p(w.sum_24h));
}

fn graph(slots: &mut Slots, g: Option<&GraphFeatures>) {
    slots.flag(g.is_none());
    let empty = GraphFeatures::default();
    let g = g.unwrap_or(&empty);
    slots.put(log1p(f64::from(g.group_users)));
    slots.put(log1p(f64::from(g.group_entities)));
    slots.put(log1p(f64::from(g.users_per_device)));
    slots.put(log1p(f64::from(g.users_per_card)));
    slots.put(log1p(f64::from(g.users_per_address)));
    slots.put(log1p(f64::from(g.users_per_phone)));
    slots.put(log1p(f64::from(g.cards_per_device)));
    slots.put(log1p(f64::from(g.cards_per_user)));
    slots.put(g.hops_to_fraud.map_or(0.0, |h| 1.0 / (1.0 + f64::from(h))));
    slots.put(f64::from(g.fraud_share_2hop).clamp(0.0, 1.0));
    slots.put(f64::from(g.score));
}

/// The feature vector of one decision. Pure and allocation-free.
pub fn extract(ctx: &EnrichedContext) -> FeatureVector {
    let mut s = Slots {
        out: [0.0; FEATURE_COUNT],
        at: 0,
    };
    let amount = ctx.amount.as_ref().map(|a| a.approx);
    s.put(amount.map_or(0.0, log1p));
    s.flag(amount.is_none());

    s.put(ctx.account_age_days.map_or(0.0, |d| log1p(f64::from(d))));
    s.flag(ctx.account_age_days.is_none());

    let v = &ctx.velocity;
    velocity(&mut s, Some(&v.user));
    velocity(&mut s, v.device.as_ref());
    velocity(&mut s, v.card.as_ref());
    velocity(&mut s, v.ip.as_ref());
    velocity(&mut s, v.email.as_ref());

    s.flag(ctx.device_id.is_none());
    s.flag(ctx.card_fingerprint.is_none());
    s.flag(ctx.ip.is_none());
    s.flag(ctx.email.is_none());

    s.flag(mismatch(ctx.card_country.as_ref(), ctx.ip_country.as_ref()));
    s.flag(mismatch(
        ctx.shipping_country.as_ref(),
        ctx.card_country.as_ref(),
    ));
    s.flag(mismatch(
        ctx.shipping_country.as_ref(),
        ctx.ip_country.as_ref(),
    ));
    s.flag(ctx.is_proxy);

    graph(&mut s, ctx.graph.as_ref());

    // Usize to f64 is exact far beyond any realistic number of watch hits.
    s.put(log1p(ctx.watch_hits.len() as f64));

    s.flag(ctx.checkpoint == Checkpoint::OrderCreate);
    s.flag(ctx.checkpoint == Checkpoint::PaymentAuthorize);
    s.flag(ctx.checkpoint == Checkpoint::RefundRequest);
    s.flag(ctx.checkpoint == Checkpoint::AccountLogin);

    debug_assert_eq!(
        s.at, FEATURE_COUNT,
        "extract filled the wrong number of slots"
    );
    s.out
}

/// The position of a feature by name (for tests, reports and explanations).
pub fn feature_index(name: &str) -> Option<usize> {
    FEATURE_NAMES.iter().position(|n| *n == name)
}

#[cfg(test)]
mod tests;
