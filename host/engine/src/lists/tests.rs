use chrono::{Duration, Utc};

use super::*;
use crate::money::RateTable;
use crate::request::DecisionRequest;

fn ctx() -> EnrichedContext {
    let req = DecisionRequest::from_slice(
        br#"{"request_id":"r1","event":"account.login","user":{"id":"u-1","email":"Ann@Example.com"},
            "device":{"id":"dev-9","ip":"203.0.113.7"},"shipping":{"address":"1 Main St, Springfield"}}"#,
    )
    .expect("valid");
    EnrichedContext::normalise(&req, &RateTable::default())
}

fn entry(list: ListName, kind: ListKind, raw: &str, expires_in: Option<i64>) -> ListEntry {
    ListEntry {
        id: format!("le_{raw}"),
        list,
        kind,
        value: kind.normalise(raw).expect("normalisable"),
        reason: "test".into(),
        expires_at: expires_in.map(|s| Utc::now() + Duration::seconds(s)),
        created_at: Utc::now(),
        created_by: "key".into(),
    }
}

#[test]
fn block_rejects_and_outranks_allow() {
    let snap = ListSnapshot::new([
        entry(ListName::Allow, ListKind::User, "u-1", None),
        entry(ListName::Block, ListKind::Email, "ANN@example.com", None),
    ]);
    let out = snap.evaluate(&ctx(), Utc::now());
    assert_eq!(out.verdict, Some(Action::Reject));
    let codes: Vec<_> = out.hits.iter().map(|h| h.code.as_str()).collect();
    assert_eq!(codes, ["list.allow.user", "list.block.email"]);
}

#[test]
fn address_entries_match_the_normalised_hash() {
    let snap = ListSnapshot::new([entry(
        ListName::Watch,
        ListKind::Address,
        "1 main st springfield",
        None,
    )]);
    let out = snap.evaluate(&ctx(), Utc::now());
    assert_eq!(out.verdict, None);
    assert_eq!(out.hits[0].code, "list.watch.address");
}

#[test]
fn expired_entries_do_not_match() {
    let snap = ListSnapshot::new([entry(ListName::Block, ListKind::Device, "dev-9", Some(-1))]);
    assert_eq!(snap.evaluate(&ctx(), Utc::now()), ListOutcome::default());
}

#[test]
fn unparseable_ip_never_matches() {
    assert_eq!(ListKind::Ip.normalise("nope"), None);
}

fn ctx_with(device_ip: &str, email: &str) -> EnrichedContext {
    let body = serde_json::json!({"request_id": "r2", "event": "account.login",
        "user": {"id": "u-2", "email": email}, "device": {"ip": device_ip}});
    let req = DecisionRequest::from_slice(body.to_string().as_bytes()).expect("valid");
    EnrichedContext::normalise(&req, &RateTable::default())
}

#[test]
fn an_ipv4_entry_blocks_its_ipv4_mapped_form_and_back() {
    let v4 = ListSnapshot::new([entry(ListName::Block, ListKind::Ip, "203.0.113.99", None)]);
    let mapped = ctx_with("::ffff:203.0.113.99", "x@example.com");
    assert_eq!(mapped.ip.as_deref(), Some("203.0.113.99"));
    assert_eq!(
        v4.evaluate(&mapped, Utc::now()).verdict,
        Some(Action::Reject)
    );
    let by_mapped = ListSnapshot::new([entry(
        ListName::Block,
        ListKind::Ip,
        "::ffff:203.0.113.99",
        None,
    )]);
    let plain = ctx_with("203.0.113.99", "x@example.com");
    assert_eq!(
        by_mapped.evaluate(&plain, Utc::now()).verdict,
        Some(Action::Reject)
    );
}

#[test]
fn an_email_entry_blocks_every_case_and_unicode_form_of_it() {
    let snap = ListSnapshot::new([entry(
        ListName::Block,
        ListKind::Email,
        "fraud@example.com",
        None,
    )]);
    for spelling in [
        "FRAUD@EXAMPLE.COM",
        "Fraud@Example.com",
        "ｆｒａｕｄ＠ｅｘａｍｐｌｅ．ｃｏｍ",
    ] {
        let out = snap.evaluate(&ctx_with("203.0.113.1", spelling), Utc::now());
        assert_eq!(out.verdict, Some(Action::Reject), "{spelling}");
    }
}

#[test]
fn entries_stored_under_an_older_normalisation_still_match() {
    let mut legacy = entry(ListName::Block, ListKind::Ip, "198.51.100.4", None);
    legacy.value = "::ffff:198.51.100.4".into();
    let mut legacy_email = entry(ListName::Block, ListKind::Email, "x@example.com", None);
    legacy_email.value = "ｂｅｎ@example.com".into();
    let snap = ListSnapshot::new([legacy, legacy_email]);
    let out = snap.evaluate(&ctx_with("198.51.100.4", "BEN@example.com"), Utc::now());
    assert_eq!(out.hits.len(), 2, "{out:?}");
}
