//! Read-side helpers on the generated context types.
//!
//! The generated records mirror the WIT exactly; these are the few questions nearly every
//! policy asks of them (an attribute by key, the amount in major units, the checkpoint's
//! wire name), answered once here instead of in each policy. All of them are pure.

use crate::{Action, Checkpoint, Context, GraphFeatures, WindowStats};

impl Context {
    /// The value of the free-form request attribute `key`, if the request carried it.
    ///
    /// Non-string JSON values arrive as their JSON text (`"3"`, `"true"`). When a key is
    /// repeated the first occurrence wins.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The transaction amount in major units of its currency, when the request has one.
    pub fn amount_value(&self) -> Option<f64> {
        self.amount.as_ref().map(|amount| amount.value)
    }

    /// The currency of the transaction amount, when the request has one.
    pub fn currency(&self) -> Option<&str> {
        self.amount.as_ref().map(|amount| amount.currency.as_str())
    }
}

impl Checkpoint {
    /// The checkpoint as it is written in a decision request's `event` (`payment.authorize`).
    pub fn as_str(self) -> &'static str {
        match self {
            Checkpoint::OrderCreate => "order.create",
            Checkpoint::PaymentAuthorize => "payment.authorize",
            Checkpoint::RefundRequest => "refund.request",
            Checkpoint::AccountLogin => "account.login",
            Checkpoint::PromoRedeem => "promo.redeem",
        }
    }
}

impl Action {
    /// Severity order used to combine actions: `none < accept < challenge < reject`.
    pub fn severity(self) -> u8 {
        match self {
            Action::None => 0,
            Action::Accept => 1,
            Action::Challenge => 2,
            Action::Reject => 3,
        }
    }
}

impl WindowStats {
    /// Mean amount of the earlier decisions in the last hour, in major units; `None` when
    /// there were none.
    pub fn mean_1h(&self) -> Option<f64> {
        (self.count_1h > 0).then(|| self.sum_1h / f64::from(self.count_1h))
    }
}

/// No earlier decisions in either window.
impl Default for WindowStats {
    fn default() -> Self {
        WindowStats {
            count_1h: 0,
            sum_1h: 0.0,
            count_24h: 0,
            sum_24h: 0.0,
        }
    }
}

/// An isolated request: a group of one entity, no other users or cards, no fraud nearby.
impl Default for GraphFeatures {
    fn default() -> Self {
        GraphFeatures {
            group_entities: 1,
            group_users: 1,
            users_per_device: 1,
            users_per_card: 1,
            users_per_address: 1,
            users_per_phone: 1,
            cards_per_device: 1,
            cards_per_user: 1,
            hops_to_fraud: None,
            fraud_share_2hop: 0.0,
            score: 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::ContextBuilder;
    use crate::{Action, Checkpoint};

    #[test]
    fn attribute_finds_the_first_value_for_a_key() {
        let ctx = ContextBuilder::new(Checkpoint::PromoRedeem)
            .attribute("promo_code", "SPRING25")
            .attribute("promo_code", "LATER")
            .build();
        assert_eq!(ctx.attribute("promo_code"), Some("SPRING25"));
        assert_eq!(ctx.attribute("missing"), None);
    }

    #[test]
    fn checkpoint_names_match_the_request_event() {
        assert_eq!(Checkpoint::PaymentAuthorize.as_str(), "payment.authorize");
        assert_eq!(Checkpoint::PromoRedeem.as_str(), "promo.redeem");
    }

    #[test]
    fn severity_is_ordered() {
        let order = [
            Action::None,
            Action::Accept,
            Action::Challenge,
            Action::Reject,
        ];
        assert!(order.windows(2).all(|w| w[0].severity() < w[1].severity()));
    }

    #[test]
    fn mean_of_an_empty_window_is_none() {
        let ctx = ContextBuilder::new(Checkpoint::OrderCreate).build();
        assert_eq!(ctx.velocity.user.mean_1h(), None);
    }
}
