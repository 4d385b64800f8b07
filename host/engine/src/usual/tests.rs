use chrono::Duration;

use super::*;
use crate::money::RateTable;
use crate::request::DecisionRequest;

/// A context for `u-1` paying `amount` USD from `device` in `country`.
fn context(amount: &str, device: &str, country: &str) -> EnrichedContext {
    let body = format!(
        r#"{{"request_id":"r","event":"payment.authorize","amount":{{"value":"{amount}","currency":"USD"}},
            "user":{{"id":"u-1","email":"ann@example.com"}},
            "device":{{"id":"{device}","ip":"203.0.113.9","ip_country":"{country}"}}}}"#
    );
    let req = DecisionRequest::from_slice(body.as_bytes()).expect("valid");
    EnrichedContext::normalise(&req, &RateTable::default())
}

fn past(n: i64, amount: &str, device: &str, country: &str, action: Action) -> PastDecision {
    PastDecision {
        decision_id: format!("dec_{n}"),
        created_at: DateTime::<Utc>::default() + Duration::days(n),
        action,
        score: 10.0,
        context: context(amount, device, country),
    }
}

fn history() -> Vec<PastDecision> {
    vec![
        past(1, "20.00", "dev-1", "DE", Action::Accept),
        past(2, "30.00", "dev-1", "DE", Action::Accept),
        past(3, "40.00", "dev-2", "DE", Action::Challenge),
        past(4, "25.00", "dev-1", "AT", Action::Accept),
    ]
}

fn named<'a>(u: &'a UsualBehaviour, name: &str) -> &'a UsualTrait {
    u.traits.iter().find(|t| t.name == name).expect("trait")
}

#[test]
fn a_purchase_like_the_usual_ones_departs_from_nothing() {
    let u = UsualBehaviour::of(&context("28.00", "dev-1", "DE"), &history());
    assert_eq!(u.past_decisions, 4);
    assert_eq!(
        u.first_seen,
        Some(DateTime::<Utc>::default() + Duration::days(1))
    );
    assert_eq!((u.past_challenged, u.past_rejected), (1, 0));
    let amount = u.amount.as_ref().expect("amount");
    assert_eq!(amount.samples, 4);
    // Sorted 20, 25, 30, 40: nearest-rank median is the second, p90 the fourth.
    assert_eq!(amount.median, Some(25.0));
    assert_eq!(amount.p90, Some(40.0));
    assert_eq!(amount.max, Some(40.0));
    assert!(!amount.unusual);
    let device = named(&u, "device");
    assert_eq!(device.seen_before, 3);
    assert_eq!(
        device.usual,
        vec![
            SeenValue {
                value: "dev-1".into(),
                count: 3
            },
            SeenValue {
                value: "dev-2".into(),
                count: 1
            },
        ]
    );
    assert!(u.unusual.is_empty(), "{:?}", u.unusual);
}

#[test]
fn a_large_amount_from_a_new_device_and_country_is_flagged() {
    let u = UsualBehaviour::of(&context("90.00", "dev-new", "NG"), &history());
    assert_eq!(u.unusual, vec!["amount", "device", "ip_country"]);
    assert!(u.amount.as_ref().expect("amount").unusual);
    assert_eq!(named(&u, "device").seen_before, 0);
    assert_eq!(named(&u, "ip_country").now.as_deref(), Some("NG"));
    // The e-mail is the usual one; the card and shipping country are absent now and before.
    assert!(!named(&u, "email").unusual);
    assert_eq!(named(&u, "email").seen_before, 4);
    assert!(!named(&u, "card").unusual);
    assert!(named(&u, "card").usual.is_empty());
}

#[test]
fn too_little_history_flags_nothing() {
    let short = &history()[..2];
    let u = UsualBehaviour::of(&context("900.00", "dev-new", "NG"), short);
    assert_eq!(u.past_decisions, 2);
    assert!(u.unusual.is_empty());
    assert!(!u.amount.as_ref().expect("amount").unusual);
    let none = UsualBehaviour::of(&context("900.00", "dev-new", "NG"), &[]);
    assert_eq!(none.first_seen, None);
    assert_eq!(none.amount.as_ref().expect("amount").median, None);
}

#[test]
fn amounts_in_another_currency_are_not_compared() {
    let mut h = history();
    for p in &mut h {
        if let Some(a) = p.context.amount.as_mut() {
            a.currency = "EUR".into();
        }
    }
    let u = UsualBehaviour::of(&context("900.00", "dev-1", "DE"), &h);
    let amount = u.amount.as_ref().expect("amount");
    assert_eq!((amount.samples, amount.median), (0, None));
    assert!(!amount.unusual);
}
