//! Which channel a new payment goes through. The channel table (`payment_channels`) says, per
//! channel, whether an operator has it switched on, which payment methods (`card`, `qr`) and
//! currencies it takes, and its priority; a channel must also be configured on this server
//! (credentials). A payment asks for a channel, a method, or both: the channel asked for when
//! it is eligible, else the eligible channel of highest priority for the method (the asked
//! channel's own methods when none is named) — so switching a channel off sends new payments
//! to the next one, and the payment records where it went and why.

use chrono::{DateTime, Utc};

use crate::error::TxError;

/// One row of the channel table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRoute {
    pub name: String,
    /// Switched on by an operator.
    pub enabled: bool,
    /// Higher first.
    pub priority: i32,
    /// `card`, `qr`.
    pub methods: Vec<String>,
    /// ISO 4217 codes; `*` takes any.
    pub currencies: Vec<String>,
    /// Where its credentials come from (a file, the environment, the simulator): a reference,
    /// never a secret.
    pub credentials: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

impl ChannelRoute {
    fn takes(&self, currency: &str) -> bool {
        self.currencies.iter().any(|c| c == "*" || c == currency)
    }
}

/// What a payment asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteRequest<'a> {
    pub channel: Option<&'a str>,
    pub method: Option<&'a str>,
    /// The order's currency.
    pub currency: &'a str,
}

/// Where a payment goes, and why (for its history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    pub channel: String,
    pub note: String,
}

/// The channel for `request` among `routes`, of which `configured` name the channels this
/// server has credentials for.
pub fn route(
    routes: &[ChannelRoute],
    configured: &[String],
    request: &RouteRequest<'_>,
) -> Result<Routed, TxError> {
    let eligible = |r: &&ChannelRoute| {
        r.enabled && configured.iter().any(|c| c == &r.name) && r.takes(request.currency)
    };
    let named = |name: &str| routes.iter().find(|r| r.name == name);
    if let Some(asked) = request.channel {
        let Some(row) = named(asked) else {
            return Err(TxError::invalid(
                "channel",
                format!("unknown channel `{asked}`: the table has {}", names(routes)),
            ));
        };
        if eligible(&row)
            && request
                .method
                .is_none_or(|m| row.methods.iter().any(|x| x == m))
        {
            return Ok(Routed {
                channel: asked.to_owned(),
                note: format!("sent to {asked}"),
            });
        }
        let why = if !configured.iter().any(|c| c == asked) {
            "not configured on this server"
        } else if !row.enabled {
            "switched off"
        } else if !row.takes(request.currency) {
            "not taking this currency"
        } else {
            "not taking this method"
        };
        let methods: Vec<&str> = match request.method {
            Some(m) => vec![m],
            None => row.methods.iter().map(String::as_str).collect(),
        };
        return best(routes, &eligible, &methods)
            .map(|r| Routed {
                channel: r.name.clone(),
                note: format!("sent to {}: {asked} is {why}", r.name),
            })
            .ok_or_else(|| {
                TxError::invalid(
                    "channel",
                    format!(
                        "`{asked}` is {why}, and no other channel takes {} payments in {}",
                        methods.join("/"),
                        request.currency
                    ),
                )
            });
    }
    let Some(method) = request.method else {
        return Err(TxError::invalid(
            "channel",
            "name a `channel` or a `method`",
        ));
    };
    best(routes, &eligible, &[method])
        .map(|r| Routed {
            channel: r.name.clone(),
            note: format!("sent to {} for {method}", r.name),
        })
        .ok_or_else(|| {
            TxError::invalid(
                "method",
                format!(
                    "no channel takes {method} payments in {} now",
                    request.currency
                ),
            )
        })
}

/// The eligible channel of highest priority taking one of `methods` (ties by name).
fn best<'a>(
    routes: &'a [ChannelRoute],
    eligible: &dyn Fn(&&ChannelRoute) -> bool,
    methods: &[&str],
) -> Option<&'a ChannelRoute> {
    routes
        .iter()
        .filter(eligible)
        .filter(|r| r.methods.iter().any(|m| methods.contains(&m.as_str())))
        .max_by(|a, b| a.priority.cmp(&b.priority).then(b.name.cmp(&a.name)))
}

fn names(routes: &[ChannelRoute]) -> String {
    routes
        .iter()
        .map(|r| r.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        name: &str,
        enabled: bool,
        priority: i32,
        methods: &[&str],
        currencies: &[&str],
    ) -> ChannelRoute {
        ChannelRoute {
            name: name.into(),
            enabled,
            priority,
            methods: methods.iter().map(|m| (*m).to_owned()).collect(),
            currencies: currencies.iter().map(|c| (*c).to_owned()).collect(),
            credentials: "test".into(),
            updated_at: Utc::now(),
            updated_by: "test".into(),
        }
    }

    fn table(alipay_on: bool) -> Vec<ChannelRoute> {
        vec![
            row("card", true, 10, &["card"], &["*"]),
            row("alipay", alipay_on, 30, &["qr"], &["CNY"]),
            row("wechat", true, 20, &["qr"], &["CNY"]),
        ]
    }

    fn all() -> Vec<String> {
        vec!["card".into(), "alipay".into(), "wechat".into()]
    }

    fn ask<'a>(
        channel: Option<&'a str>,
        method: Option<&'a str>,
        currency: &'a str,
    ) -> RouteRequest<'a> {
        RouteRequest {
            channel,
            method,
            currency,
        }
    }

    #[test]
    fn an_eligible_channel_asked_for_is_the_one() {
        let r = route(&table(true), &all(), &ask(Some("wechat"), None, "CNY")).expect("routed");
        assert_eq!(r.channel, "wechat");
    }

    #[test]
    fn a_switched_off_channel_sends_its_payments_to_the_next_with_the_reason() {
        let r = route(&table(false), &all(), &ask(Some("alipay"), None, "CNY")).expect("routed");
        assert_eq!(r.channel, "wechat");
        assert!(r.note.contains("alipay is switched off"), "{}", r.note);
        let none =
            route(&table(false), &all(), &ask(Some("alipay"), None, "USD")).expect_err("none");
        assert!(none.to_string().contains("switched off"), "{none}");
    }

    #[test]
    fn a_method_goes_to_the_eligible_channel_of_highest_priority() {
        let r = route(&table(true), &all(), &ask(None, Some("qr"), "CNY")).expect("routed");
        assert_eq!(r.channel, "alipay");
        let r = route(&table(false), &all(), &ask(None, Some("qr"), "CNY")).expect("routed");
        assert_eq!(r.channel, "wechat");
        let only_card = vec!["card".to_owned()];
        assert!(route(&table(true), &only_card, &ask(None, Some("qr"), "CNY")).is_err());
        let r = route(&table(true), &all(), &ask(None, Some("card"), "EUR")).expect("routed");
        assert_eq!(r.channel, "card");
    }

    #[test]
    fn unknown_and_empty_requests_are_refused_by_name() {
        let e =
            route(&table(true), &all(), &ask(Some("paypal"), None, "USD")).expect_err("unknown");
        assert!(e.to_string().contains("paypal"), "{e}");
        let e = route(&table(true), &all(), &ask(None, None, "USD")).expect_err("empty");
        assert!(e.to_string().contains("method"), "{e}");
    }
}
