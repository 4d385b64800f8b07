use arbiter_engine::money::RateTable;
use arbiter_engine::{DecisionRequest, EnrichedContext};

use arbiter_engine::entity_chain::EntityChain;
use arbiter_engine::lists::ListKind;

use super::*;

fn decision() -> Decision {
    let body = serde_json::json!({
        "request_id": "req-1",
        "event": "payment.authorize",
        "amount": {"value": "129.99", "currency": "EUR"},
        "user": {"id": "U-42", "account_age_days": 3, "email": "jane@example.com"},
        "device": {"id": "Dev-1", "ip": "203.0.113.7"},
        "payment": {"method": "card", "card_fingerprint": "fp_ABC", "card_bin": "424242"},
        "attributes": {"ratio": 0.1, "tags": ["a", "é"]}
    });
    let req = DecisionRequest::from_slice(body.to_string().as_bytes()).expect("valid request");
    let mut chain = EntityChain::default();
    chain.link(ListKind::User, DecisionId::generate().0);
    chain.link(ListKind::Address, DecisionId::generate().0);
    Decision {
        decision_id: DecisionId::generate(),
        request_id: "req-1".into(),
        body_hash: req.body_hash.clone(),
        action: Action::Challenge,
        score: 0.1 + 0.2,
        reasons: Vec::new(),
        policy_set_version: 3,
        model_version: Some(2),
        created_at: Utc::now(),
        context: EnrichedContext::normalise(&req, &RateTable::default()),
        layers: LayerResults::default(),
        rollout: None,
        shadow: None,
        chain,
    }
}

fn stored(d: &Decision, packed: Packed) -> StoredDecision {
    StoredDecision {
        decision_id: d.decision_id.0.clone(),
        request_id: d.request_id.clone(),
        body_hash: d.body_hash.clone(),
        body: Some(String::new()),
        packed: Some(packed.packed),
        chain: packed.chain,
    }
}

#[test]
fn a_packed_decision_reads_back_whole_in_a_fraction_of_its_json() {
    let d = decision();
    let packed = pack(&d).expect("packs");
    let json = serde_json::to_vec(&d).expect("json");
    assert!(
        packed.packed.len() * 2 < json.len(),
        "{} bytes packed of {} bytes of JSON",
        packed.packed.len(),
        json.len()
    );
    assert_eq!(
        packed.chain.as_ref().map(Vec::len),
        Some(7 * 16),
        "seven slots"
    );
    assert_eq!(stored(&d, packed).into_decision().expect("reads"), d);
}

#[test]
fn a_decision_stored_before_packing_reads_from_its_body() {
    let d = decision();
    let row = StoredDecision {
        body: Some(serde_json::to_string(&d).expect("json")),
        packed: None,
        chain: None,
        ..stored(&d, pack(&d).expect("packs"))
    };
    assert_eq!(row.into_decision().expect("reads"), d);
}

#[test]
fn a_chain_keeps_each_kind_and_an_empty_one_stores_nothing() {
    let mut chain = EntityChain::default();
    assert_eq!(chain::bytes(&chain), None);
    assert_eq!(chain::of(None, "d").expect("none"), chain);
    let ids: Vec<String> = ListKind::ALL
        .iter()
        .map(|_| DecisionId::generate().0)
        .collect();
    for (kind, id) in ListKind::ALL.iter().zip(&ids) {
        chain.link(*kind, id.clone());
        let bytes = chain::bytes(&chain).expect("a chain");
        assert_eq!(chain::of(Some(&bytes), "d").expect("reads"), chain);
    }
    // The stored layout: user in the first slot, address in the last.
    let user = DecisionId::bits(&ids[0]).expect("generated").to_be_bytes();
    let address = DecisionId::bits(&ids[6]).expect("generated").to_be_bytes();
    let bytes = chain::bytes(&chain).expect("a chain");
    assert_eq!((&bytes[..16], &bytes[96..]), (&user[..], &address[..]));
    let short = vec![1u8; 16];
    assert!(matches!(
        chain::of(Some(&short), "d"),
        Err(StoreError::Corrupt(_))
    ));
}

#[test]
fn erasure_rewrites_a_packed_body_that_reads_back() {
    let d = decision();
    let json = String::from_utf8(body_json(&d).expect("json")).expect("utf-8");
    let rewritten = json.replace("U-42", "pseudonym-1");
    let packed = pack_json(rewritten.as_bytes()).expect("packs");
    assert_eq!(unpack(&packed).expect("unpacks"), rewritten.as_bytes());
}

#[test]
fn what_is_not_a_known_packed_decision_is_corrupt_not_a_panic() {
    let corrupt = |bytes: &[u8]| matches!(unpack(bytes), Err(StoreError::Corrupt(_)));
    assert!(corrupt(b""));
    assert!(corrupt(b"{\"action\":\"accept\"}"));
    // A frame of another dictionary, and one without a dictionary.
    let other = zstd::bulk::Compressor::with_dictionary(3, &[7u8; 64])
        .and_then(|mut c| c.compress(b"{}"))
        .expect("compresses");
    assert!(corrupt(&other));
    let plain = zstd::bulk::compress(b"{\"a\":1}", 3).expect("compresses");
    assert!(corrupt(&plain));
    let mut truncated = pack(&decision()).expect("packs").packed;
    truncated.truncate(truncated.len() / 2);
    assert!(corrupt(&truncated));
}
