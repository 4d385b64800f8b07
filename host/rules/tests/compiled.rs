//! Compiled rule files run in the real runtime and answer as the language says.

mod support;

use arbiter_rules::Action;
use arbiter_rules::layout::{RawGraph, RawWindow, Writer, checkpoint, text, window};

const FILE: &str = r#"
# Card testing: many attempts on one card within the hour.
rule card_testing
  when velocity.card.count_1h >= 5
  then reject
  reason "velocity.card_testing"
  detail "card used {velocity.card.count_1h} times in the last hour"

rule geo_mismatch on order.create, payment.authorize
  when distinct(card.country, ip.country, shipping.country) >= 2 and amount > 200
  then challenge score +20
  reason "geo.mismatch" detail "card {card.country}, ip {ip.country}, amount {amount} {currency}"

rule disposable_email
  when lower(email.domain) in ("mailinator.com", "trashmail.de") or ends_with(lower(email), ".ru")
  then score 12.5
  reason "email.disposable" detail "domain {lower(email.domain)}"

rule vip when attributes['tier'] == "gold" and attributes['orders'] > 10
  then accept reason "customer.vip" detail "{attributes['orders']} orders, proxy {ip.is_proxy}"
"#;

fn context(configure: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::new(checkpoint::ORDER_CREATE, 4, 2, 256);
    w.text(text::REQUEST_ID, "req-1");
    w.text(text::USER_ID, "u-1");
    configure(&mut w);
    w.finish()
}

#[test]
fn a_rule_file_compiles_passes_upload_validation_and_answers_like_the_interpreter() {
    let runtime = support::runtime();
    let loaded = support::load(&runtime, FILE);

    let quiet = context(|_| {});
    let (verdict, _) = support::run(&loaded, &quiet);
    assert_eq!(verdict, support::interpret(&loaded, &quiet));
    assert_eq!(verdict.action, Action::None);
    assert!(verdict.reasons.is_empty());

    let busy = context(|w| {
        w.amount(250.5, 25_050, "EUR");
        w.text(text::CARD_COUNTRY, "DE");
        w.text(text::IP_COUNTRY, "FR");
        w.text(text::SHIPPING_COUNTRY, "DE");
        w.text(text::EMAIL, "Someone@Example.RU");
        w.text(text::EMAIL_DOMAIN, "Mailinator.com");
        w.window(
            window::CARD,
            RawWindow {
                count_1h: 7,
                count_24h: 9,
                sum_1h: 10.0,
                sum_24h: 20.0,
            },
        );
        w.attribute("tier", "gold");
        w.attribute("orders", "12");
        w.graph(RawGraph::default());
        w.proxy(true);
    });
    let (verdict, fuel) = support::run(&loaded, &busy);
    assert_eq!(verdict, support::interpret(&loaded, &busy));
    assert_eq!(verdict.action, Action::Reject);
    assert!(
        (verdict.score - 32.5).abs() < f32::EPSILON,
        "{}",
        verdict.score
    );
    let details: Vec<(&str, Option<&str>)> = verdict
        .reasons
        .iter()
        .map(|r| (r.code.as_str(), r.detail.as_deref()))
        .collect();
    assert_eq!(
        details,
        vec![
            (
                "velocity.card_testing",
                Some("card used 7 times in the last hour")
            ),
            ("geo.mismatch", Some("card DE, ip FR, amount 250.5 EUR")),
            ("email.disposable", Some("domain mailinator.com")),
            ("customer.vip", Some("12 orders, proxy true")),
        ]
    );
    assert!(
        fuel <= loaded.fuel_bound,
        "fuel {fuel} over the bound {}",
        loaded.fuel_bound
    );

    // A checkpoint filter: the geo rule does not run at login.
    let login = {
        let mut w = Writer::new(checkpoint::ACCOUNT_LOGIN, 0, 0, 64);
        w.text(text::USER_ID, "u-1");
        w.amount(900.0, 90_000, "EUR");
        w.text(text::CARD_COUNTRY, "DE");
        w.text(text::IP_COUNTRY, "FR");
        w.finish()
    };
    let (verdict, _) = support::run(&loaded, &login);
    assert_eq!(verdict, support::interpret(&loaded, &login));
    assert!(verdict.reasons.is_empty(), "{verdict:?}");
}
