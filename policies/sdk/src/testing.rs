//! Fixtures for native unit tests of policies.
//!
//! A policy is a pure function of its [`Context`], so testing one means building contexts.
//! A context has two dozen fields; [`ContextBuilder`] fills them with a blank (`new`) or a
//! benign, consistent baseline (`sample`) and lets a test change only the fields its rule
//! reads. [`build`](ContextBuilder::build) encodes the context into the same buffer layout
//! the host writes (with the same writer, `crate::layout`), so a test reads exactly what a
//! module reads in production. Always compiled: it is small and dead code in a wasm build.

use crate::{Checkpoint, Context, GraphFeatures, Velocity, WindowStats};

mod encode;

/// Builds a [`Context`] for tests.
///
/// ```
/// use arbiter_policy_sdk::Checkpoint;
/// use arbiter_policy_sdk::testing::{ContextBuilder, window};
///
/// let ctx = ContextBuilder::sample(Checkpoint::PaymentAuthorize)
///     .amount(1.50, "USD")
///     .card_velocity(window(12, 18.0, 30, 45.0))
///     .build();
/// assert_eq!(ctx.amount().map(|a| a.minor_units), Some(150));
/// ```
#[must_use]
#[derive(Clone, Debug)]
pub struct ContextBuilder {
    ctx: Draft,
}

/// The fields of a context before encoding.
#[derive(Clone, Debug)]
struct Draft {
    checkpoint: Checkpoint,
    request_id: String,
    amount: Option<(f64, i64, String)>,
    amount_reporting: Option<f64>,
    model_score: Option<f64>,
    user_id: String,
    account_age_days: Option<u32>,
    email: Option<String>,
    email_domain: Option<String>,
    phone: Option<String>,
    device_id: Option<String>,
    ip: Option<String>,
    ip_country: Option<String>,
    is_proxy: bool,
    payment_method: Option<String>,
    card_fingerprint: Option<String>,
    card_bin: Option<String>,
    card_country: Option<String>,
    shipping_address_hash: Option<String>,
    shipping_country: Option<String>,
    order_id: Option<String>,
    attributes: Vec<(String, String)>,
    velocity: Velocity,
    graph: Option<GraphFeatures>,
    watch_hits: Vec<String>,
}

/// Window statistics from counts and sums (major units), for velocity fixtures.
pub fn window(count_1h: u32, sum_1h: f64, count_24h: u32, sum_24h: f64) -> WindowStats {
    WindowStats {
        count_1h,
        sum_1h,
        count_24h,
        sum_24h,
    }
}

/// Currencies whose minor unit is the major unit (ISO 4217 exponent 0).
const ZERO_DECIMAL_CURRENCIES: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

impl ContextBuilder {
    /// A blank context at `checkpoint`: only the ids are set, every optional field is
    /// absent and user velocity is zero.
    pub fn new(checkpoint: Checkpoint) -> Self {
        ContextBuilder {
            ctx: Draft {
                checkpoint,
                request_id: "req-test".to_owned(),
                amount: None,
                amount_reporting: None,
                model_score: None,
                user_id: "user-test".to_owned(),
                account_age_days: None,
                email: None,
                email_domain: None,
                phone: None,
                device_id: None,
                ip: None,
                ip_country: None,
                is_proxy: false,
                payment_method: None,
                card_fingerprint: None,
                card_bin: None,
                card_country: None,
                shipping_address_hash: None,
                shipping_country: None,
                order_id: None,
                attributes: Vec::new(),
                velocity: Velocity::default(),
                graph: None,
                watch_hits: Vec::new(),
            },
        }
    }

    /// A benign card payment context at `checkpoint`: USD 49.99 (USD is the reporting
    /// currency, so the reporting amount is the same) from a 400-day-old US
    /// account, with US card, IP and shipping, a known device, quiet velocity on every
    /// entity and an isolated graph. Nothing in it should trip a sensible rule.
    pub fn sample(checkpoint: Checkpoint) -> Self {
        let quiet = window(0, 0.0, 1, 49.99);
        Self::new(checkpoint)
            .amount(49.99, "USD")
            .amount_reporting(49.99)
            .account_age_days(400)
            .email("shopper@example.com")
            .device("device-test")
            .ip("203.0.113.7", "US")
            .payment_method("card")
            .card("card-fp-test", "US")
            .card_bin("424242")
            .shipping_country("US")
            .order_id("order-test")
            .user_velocity(quiet)
            .device_velocity(quiet)
            .card_velocity(quiet)
            .ip_velocity(quiet)
            .email_velocity(quiet)
            .graph(GraphFeatures::default())
    }

    /// The finished context, encoded as the host encodes it.
    pub fn build(self) -> Context {
        match Context::from_bytes(self.encode()) {
            Ok(ctx) => ctx,
            Err(error) => panic!("the test encoder wrote a bad buffer: {error}"),
        }
    }

    /// The context buffer, as the host passes it to `evaluate`.
    pub fn encode(&self) -> Vec<u8> {
        encode::draft(&self.ctx)
    }

    pub fn checkpoint(mut self, checkpoint: Checkpoint) -> Self {
        self.ctx.checkpoint = checkpoint;
        self
    }

    pub fn request_id(mut self, id: &str) -> Self {
        self.ctx.request_id = id.to_owned();
        self
    }

    pub fn user_id(mut self, id: &str) -> Self {
        self.ctx.user_id = id.to_owned();
        self
    }

    /// Sets the amount from major units; minor units follow the currency's exponent
    /// (0 for JPY and the like, 2 otherwise).
    pub fn amount(mut self, value: f64, currency: &str) -> Self {
        let scale = if ZERO_DECIMAL_CURRENCIES.contains(&currency) {
            1.0
        } else {
            100.0
        };
        // `as` saturates, and fixture amounts are nowhere near i64's range anyway.
        let minor_units = (value * scale).round() as i64;
        self.ctx.amount = Some((value, minor_units, currency.to_owned()));
        self
    }

    pub fn no_amount(mut self) -> Self {
        self.ctx.amount = None;
        self.ctx.amount_reporting = None;
        self
    }

    /// Sets the amount in the reporting currency (major units), as the host's rate table
    /// would have converted it; [`amount`](Self::amount) leaves it as it was.
    pub fn amount_reporting(mut self, value: f64) -> Self {
        self.ctx.amount_reporting = Some(value);
        self
    }

    /// Sets the model layer's score (0–1).
    pub fn model_score(mut self, score: f64) -> Self {
        self.ctx.model_score = Some(score);
        self
    }

    pub fn account_age_days(mut self, days: u32) -> Self {
        self.ctx.account_age_days = Some(days);
        self
    }

    pub fn no_account_age(mut self) -> Self {
        self.ctx.account_age_days = None;
        self
    }

    /// Sets the e-mail (lower-cased, as the host normalises it) and its domain.
    pub fn email(mut self, email: &str) -> Self {
        let email = email.to_lowercase();
        self.ctx.email_domain = email.split_once('@').map(|(_, domain)| domain.to_owned());
        self.ctx.email = Some(email);
        self
    }

    pub fn phone(mut self, phone: &str) -> Self {
        self.ctx.phone = Some(phone.to_owned());
        self
    }

    pub fn device(mut self, id: &str) -> Self {
        self.ctx.device_id = Some(id.to_owned());
        self
    }

    /// Sets the IP and the country it geolocates to.
    pub fn ip(mut self, ip: &str, country: &str) -> Self {
        self.ctx.ip = Some(ip.to_owned());
        self.ctx.ip_country = Some(country.to_owned());
        self
    }

    pub fn proxy(mut self, is_proxy: bool) -> Self {
        self.ctx.is_proxy = is_proxy;
        self
    }

    pub fn payment_method(mut self, method: &str) -> Self {
        self.ctx.payment_method = Some(method.to_owned());
        self
    }

    /// Sets the card fingerprint and the card's issuing country.
    pub fn card(mut self, fingerprint: &str, country: &str) -> Self {
        self.ctx.card_fingerprint = Some(fingerprint.to_owned());
        self.ctx.card_country = Some(country.to_owned());
        self
    }

    pub fn card_bin(mut self, bin: &str) -> Self {
        self.ctx.card_bin = Some(bin.to_owned());
        self
    }

    /// Sets the shipping country (and a placeholder address hash, as a real request has both).
    pub fn shipping_country(mut self, country: &str) -> Self {
        self.ctx.shipping_address_hash = Some(format!("{:0>64}", country.to_lowercase()));
        self.ctx.shipping_country = Some(country.to_owned());
        self
    }

    pub fn order_id(mut self, id: &str) -> Self {
        self.ctx.order_id = Some(id.to_owned());
        self
    }

    /// Appends a free-form request attribute.
    pub fn attribute(mut self, key: &str, value: &str) -> Self {
        self.ctx.attributes.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn user_velocity(mut self, stats: WindowStats) -> Self {
        self.ctx.velocity.user = stats;
        self
    }

    pub fn device_velocity(mut self, stats: WindowStats) -> Self {
        self.ctx.velocity.device = Some(stats);
        self
    }

    pub fn card_velocity(mut self, stats: WindowStats) -> Self {
        self.ctx.velocity.card = Some(stats);
        self
    }

    pub fn ip_velocity(mut self, stats: WindowStats) -> Self {
        self.ctx.velocity.ip = Some(stats);
        self
    }

    pub fn email_velocity(mut self, stats: WindowStats) -> Self {
        self.ctx.velocity.email = Some(stats);
        self
    }

    pub fn graph(mut self, graph: GraphFeatures) -> Self {
        self.ctx.graph = Some(graph);
        self
    }

    pub fn no_graph(mut self) -> Self {
        self.ctx.graph = None;
        self
    }

    /// Appends a matched watch-list reason code (`list.watch.device`).
    pub fn watch_hit(mut self, code: &str) -> Self {
        self.ctx.watch_hits.push(code.to_owned());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::{ContextBuilder, window};
    use crate::Checkpoint;

    #[test]
    fn amounts_follow_the_currency_exponent() {
        let usd = ContextBuilder::new(Checkpoint::PaymentAuthorize)
            .amount(129.99, "USD")
            .build();
        let jpy = ContextBuilder::new(Checkpoint::PaymentAuthorize)
            .amount(5000.0, "JPY")
            .build();
        assert_eq!(usd.amount().map(|a| a.minor_units), Some(12_999));
        assert_eq!(jpy.amount().map(|a| a.minor_units), Some(5_000));
    }

    #[test]
    fn email_is_normalised_with_its_domain() {
        let ctx = ContextBuilder::new(Checkpoint::AccountLogin)
            .email("Ann@Example.COM")
            .build();
        assert_eq!(ctx.email(), Some("ann@example.com"));
        assert_eq!(ctx.email_domain(), Some("example.com"));
    }

    #[test]
    fn sample_names_every_entity() {
        let ctx = ContextBuilder::sample(Checkpoint::PaymentAuthorize)
            .card_velocity(window(3, 3.0, 3, 3.0))
            .build();
        assert!(
            ctx.device_id().is_some() && ctx.card_fingerprint().is_some() && ctx.graph().is_some()
        );
        assert_eq!(ctx.velocity().card.map(|c| c.count_1h), Some(3));
    }
}
