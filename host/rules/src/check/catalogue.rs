//! Every attribute a rule can name, by its readable name, with its type and where it lives
//! in the context layout 2.1 (`policies/sdk/src/layout.rs`, the one source of offsets).

use super::ir::{BoolExpr, NumExpr, NumField, TextExpr, WindowField};
use crate::layout::text;

/// What a name resolves to.
#[derive(Debug, Clone, PartialEq)]
pub enum Attribute {
    Bool(BoolExpr),
    Number(NumExpr),
    Text(TextExpr),
}

/// Checkpoint names and their layout codes.
pub const CHECKPOINTS: &[(&str, u8)] = &[
    ("order.create", crate::layout::checkpoint::ORDER_CREATE),
    (
        "payment.authorize",
        crate::layout::checkpoint::PAYMENT_AUTHORIZE,
    ),
    ("refund.request", crate::layout::checkpoint::REFUND_REQUEST),
    ("account.login", crate::layout::checkpoint::ACCOUNT_LOGIN),
    ("promo.redeem", crate::layout::checkpoint::PROMO_REDEEM),
];

const TEXTS: &[(&str, usize)] = &[
    ("request.id", text::REQUEST_ID),
    ("user.id", text::USER_ID),
    ("currency", text::CURRENCY),
    ("email", text::EMAIL),
    ("email.domain", text::EMAIL_DOMAIN),
    ("phone", text::PHONE),
    ("device.id", text::DEVICE_ID),
    ("ip", text::IP),
    ("ip.country", text::IP_COUNTRY),
    ("payment.method", text::PAYMENT_METHOD),
    ("card.fingerprint", text::CARD_FINGERPRINT),
    ("card.bin", text::CARD_BIN),
    ("card.country", text::CARD_COUNTRY),
    ("shipping.address_hash", text::SHIPPING_ADDRESS_HASH),
    ("shipping.country", text::SHIPPING_COUNTRY),
    ("order.id", text::ORDER_ID),
];

/// Velocity entities, in layout window order.
pub const WINDOW_ENTITIES: &[&str] = &["user", "device", "card", "ip", "email"];

const WINDOW_FIELDS: &[(&str, WindowField)] = &[
    ("count_1h", WindowField::Count1h),
    ("count_24h", WindowField::Count24h),
    ("sum_1h", WindowField::Sum1h),
    ("sum_24h", WindowField::Sum24h),
];

/// Graph counts, in layout order.
const GRAPH_COUNTS: &[&str] = &[
    "group_entities",
    "group_users",
    "users_per_device",
    "users_per_card",
    "users_per_address",
    "users_per_phone",
    "cards_per_device",
    "cards_per_user",
];

const NUMBERS: &[(&str, NumField)] = &[
    ("amount", NumField::AmountValue),
    ("amount.minor_units", NumField::AmountMinorUnits),
    ("amount.reporting", NumField::AmountReporting),
    ("model.score", NumField::ModelScore),
    ("account.age_days", NumField::AccountAgeDays),
    ("graph.fraud_share_2hop", NumField::FraudShare2Hop),
    ("graph.score", NumField::GraphScore),
    ("graph.hops_to_fraud", NumField::HopsToFraud),
];

/// The attribute called `name`, if there is one.
pub fn lookup(name: &str) -> Option<Attribute> {
    if name == "ip.is_proxy" {
        return Some(Attribute::Bool(BoolExpr::Proxy));
    }
    if name == "watch.hits" {
        return Some(Attribute::Number(NumExpr::WatchCount));
    }
    if let Some((_, index)) = TEXTS.iter().find(|(n, _)| *n == name) {
        return Some(Attribute::Text(TextExpr::Field(*index)));
    }
    if let Some((_, field)) = NUMBERS.iter().find(|(n, _)| *n == name) {
        return Some(Attribute::Number(NumExpr::Field(*field)));
    }
    if let Some(rest) = name.strip_prefix("graph.")
        && let Some(k) = GRAPH_COUNTS.iter().position(|n| *n == rest)
    {
        return Some(Attribute::Number(NumExpr::Field(NumField::GraphCount(k))));
    }
    let rest = name.strip_prefix("velocity.")?;
    let (entity, field) = rest.split_once('.')?;
    let index = WINDOW_ENTITIES.iter().position(|e| *e == entity)?;
    let (_, field) = WINDOW_FIELDS.iter().find(|(n, _)| *n == field)?;
    Some(Attribute::Number(NumExpr::Field(NumField::Window {
        index,
        field: *field,
    })))
}

/// Every attribute name, for suggestions and the reference.
pub fn names() -> Vec<String> {
    let mut out: Vec<String> = TEXTS.iter().map(|(n, _)| (*n).to_string()).collect();
    out.extend(NUMBERS.iter().map(|(n, _)| (*n).to_string()));
    out.extend(GRAPH_COUNTS.iter().map(|n| format!("graph.{n}")));
    for entity in WINDOW_ENTITIES {
        for (field, _) in WINDOW_FIELDS {
            out.push(format!("velocity.{entity}.{field}"));
        }
    }
    out.push("ip.is_proxy".into());
    out.push("watch.hits".into());
    out
}

/// The layout code of checkpoint `name`.
pub fn checkpoint(name: &str) -> Option<u8> {
    CHECKPOINTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
}

/// The closest of `candidates` to `wanted`, if close enough to be a likely typo.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(wanted, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_resolves() {
        for name in names() {
            assert!(lookup(&name).is_some(), "{name}");
        }
        assert_eq!(names().len(), 16 + 8 + 8 + 20 + 2);
    }

    #[test]
    fn a_typo_finds_the_name_meant() {
        let names = names();
        let found = closest("card.contry", names.iter().map(String::as_str));
        assert_eq!(found, Some("card.country"));
        assert_eq!(closest("zzz", names.iter().map(String::as_str)), None);
    }
}
