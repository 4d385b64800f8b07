use chrono::{Duration, Utc};

use super::*;
use crate::request::DecisionRequest;

fn ctx() -> EnrichedContext {
    let req = DecisionRequest::from_slice(
        br#"{"request_id":"r1","event":"account.login","user":{"id":"u-1","email":"Ann@Example.com"},
            "device":{"id":"dev-9","ip":"203.0.113.7"},"shipping":{"address":"1 Main St, Springfield"}}"#,
    )
    .expect("valid");
    EnrichedContext::normalise(&req)
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
