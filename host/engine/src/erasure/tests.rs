use super::*;
use serde_json::Value;

fn key() -> ErasureKey {
    ErasureKey::new(b"0123456789abcdef-test-key".to_vec()).expect("long enough")
}

fn pseudonyms(values: &[(ListKind, &str)]) -> Pseudonyms {
    let mut ids = Identifiers::default();
    for (kind, v) in values {
        ids.add(*kind, v);
    }
    Pseudonyms::new(&key(), &ids)
}

#[test]
fn a_pseudonym_is_keyed_stable_and_reveals_nothing() {
    let k = key();
    let p = k.pseudonym("alice@example.com");
    assert_eq!(p, k.pseudonym("alice@example.com"));
    assert!(p.starts_with(PSEUDONYM_PREFIX));
    assert_eq!(p.len(), PSEUDONYM_PREFIX.len() + 32);
    assert!(!p.contains("alice"));
    let other = ErasureKey::new(b"another key of enough bytes".to_vec()).expect("key");
    assert_ne!(p, other.pseudonym("alice@example.com"));
    assert_ne!(p, k.pseudonym("alice@example.co"));
    assert!(ErasureKey::new(b"short".to_vec()).is_none());
}

#[test]
fn only_whole_occurrences_are_replaced() {
    let p = pseudonyms(&[
        (ListKind::User, "user-0001"),
        (ListKind::Ip, "198.51.100.7"),
    ]);
    let user = key().pseudonym("user-0001");
    let ip = key().pseudonym("198.51.100.7");
    assert_eq!(
        p.scrub_text("user-00012 and xuser-0001 and 198.51.100.77"),
        Scrubbed::Clean
    );
    assert_eq!(
        p.scrub_text("called user-0001, from 198.51.100.7."),
        Scrubbed::Changed(format!("called {user}, from {ip}."))
    );
    assert_eq!(p.scrub_text("user-0001"), Scrubbed::Changed(user.clone()));
    assert_eq!(
        p.scrub_text("user-0001user-0001 user-0001"),
        Scrubbed::Changed(format!("user-0001user-0001 {user}"))
    );
}

/// An identifier that could be anything (a numeric or short user id) is replaced where it is
/// the whole value or under an identifier's key, never by occurrence: an amount, a currency
/// or an action that happens to equal it stays.
#[test]
fn a_short_or_numeric_identifier_is_replaced_only_where_it_is_the_value() {
    let p = pseudonyms(&[(ListKind::User, "129.99"), (ListKind::User, "accept")]);
    let user = key().pseudonym("129.99");
    assert_eq!(p.scrub_text("129.99"), Scrubbed::Changed(user.clone()));
    assert_eq!(p.scrub_text("refunded 129.99 USD"), Scrubbed::Clean);
    let scrubbed = p
        .scrub_json(
            r#"{"context":{"user_id":"129.99","amount":{"value":"129.99"}},"action":"accept"}"#,
        )
        .changed()
        .expect("changed");
    let v: Value = serde_json::from_str(&scrubbed).expect("JSON");
    assert_eq!(v["context"]["user_id"], user.as_str());
    assert_eq!(v["context"]["amount"]["value"], "129.99");
    assert_eq!(v["action"], "accept");
    let order = p
        .scrub_json(r#"{"user":"accept","items":[{"sku":"accept"}]}"#)
        .changed()
        .expect("changed");
    let v: Value = serde_json::from_str(&order).expect("JSON");
    assert_eq!(v["user"], key().pseudonym("accept").as_str());
    assert_eq!(v["items"][0]["sku"], "accept");
    assert!(!super::scrub::distinctive(b"+1555"));
    assert!(super::scrub::distinctive(b"+15550107373"));
    assert!(!super::scrub::distinctive(b"1234567"));
}

#[test]
fn a_longer_identifier_is_replaced_before_one_it_contains() {
    let p = pseudonyms(&[
        (ListKind::Email, "bobby-7@example.com"),
        (ListKind::User, "bobby-7"),
    ]);
    let email = key().pseudonym("bobby-7@example.com");
    let user = key().pseudonym("bobby-7");
    assert_eq!(
        p.scrub_text("bobby-7 wrote from bobby-7@example.com"),
        Scrubbed::Changed(format!("{user} wrote from {email}"))
    );
}

#[test]
fn json_strings_are_scrubbed_and_numbers_are_not() {
    let p = pseudonyms(&[(ListKind::User, "7"), (ListKind::Email, "ann@b.cd")]);
    let user = key().pseudonym("7");
    let email = key().pseudonym("ann@b.cd");
    let scrubbed = p
        .scrub_json(r#"{"user_id":"7","count":7,"notes":["mail ann@b.cd"],"ann@b.cd":true}"#)
        .changed()
        .expect("changed");
    let v: Value = serde_json::from_str(&scrubbed).expect("still JSON");
    assert_eq!(v["user_id"], user.as_str());
    assert_eq!(v["count"], 7);
    assert_eq!(v["notes"][0], format!("mail {email}"));
    assert_eq!(v[email.as_str()], true);
    assert_eq!(
        p.scrub_json(r#"{"count":7,"user_id":"77","note":"7"}"#),
        Scrubbed::Clean
    );
    assert_eq!(
        p.scrub_json("not json, mail ann@b.cd"),
        Scrubbed::Changed(format!("not json, mail {email}"))
    );
}

#[test]
fn form_encoded_bytes_are_found_too() {
    let p = pseudonyms(&[(ListKind::Email, "alice@example.com")]);
    let email = key().pseudonym("alice@example.com");
    let raw = b"buyer_logon_id=alice%40example.com&total=1.00";
    let out = p.scrub_bytes(raw).changed().expect("changed");
    assert_eq!(
        out,
        format!("buyer_logon_id={email}&total=1.00").into_bytes()
    );
    assert!(p.needles().contains(&"alice%40example.com".to_owned()));
}

#[test]
fn a_subject_is_normalised_as_decisions_store_it() {
    let email = Subject::new(SubjectKind::Email, "  Alice@Example.COM ").expect("email");
    assert_eq!(email.value, "alice@example.com");
    let phone = Subject::new(SubjectKind::Phone, "+1 (555) 010-9999").expect("phone");
    assert_eq!(phone.value, "+15550109999");
    assert!(Subject::new(SubjectKind::Phone, "+").is_none());
    assert!(Subject::new(SubjectKind::UserId, "   ").is_none());
}

#[test]
fn an_order_adds_its_raw_spellings_and_their_stored_forms() {
    let mut ids = Identifiers::default();
    ids.add_order(
        "ord-1",
        Some("u-9"),
        Some(" dev-1 "),
        Some("::ffff:203.0.113.9"),
        Some("1 Main St"),
    );
    let values = ids.values();
    assert!(values.contains("1 Main St"));
    assert!(values.contains(normalize::address_hash("1 Main St").as_str()));
    assert!(values.contains("dev-1"));
    assert!(values.contains(" dev-1 "));
    assert!(values.contains("203.0.113.9"));
    assert_eq!(ids.users().collect::<Vec<_>>(), vec!["u-9"]);
    assert_eq!(ids.counts()["address"], 1);
    assert!(ids.orders.contains("ord-1"));
}

#[test]
fn an_erasures_audit_detail_gives_its_entities_by_pseudonym() {
    let detail = serde_json::json!({
        "named_by": "email",
        "entities": [
            {"kind": "device", "pseudonym": "erased:aa"},
            {"kind": "email", "pseudonym": "erased:bb"},
            {"kind": "planet", "pseudonym": "erased:cc"},
            {"kind": "user"}
        ]
    });
    let erased = Erased::from_detail(7, &detail);
    assert_eq!(erased.id, 7);
    assert_eq!(
        erased.entities,
        [
            (ListKind::Device, "erased:aa".to_owned()),
            (ListKind::Email, "erased:bb".to_owned())
        ]
    );
    assert!(
        Erased::from_detail(8, &serde_json::json!({}))
            .entities
            .is_empty()
    );
}
