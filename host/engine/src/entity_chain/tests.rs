use std::sync::Arc;

use super::*;
use crate::money::RateTable;
use crate::request::DecisionRequest;

const D1: &str = "dec_00000000000000000000000000000001";
const D2: &str = "dec_00000000000000000000000000000002";
const D3: &str = "dec_00000000000000000000000000000003";
const D4: &str = "dec_00000000000000000000000000000004";
const D5: &str = "dec_00000000000000000000000000000005";
const D6: &str = "dec_00000000000000000000000000000006";

/// A context for `user` on `device`, with an e-mail and no phone.
fn context(user: &str, device: &str) -> EnrichedContext {
    let body = format!(
        r#"{{"request_id":"r","event":"payment.authorize","amount":{{"value":"1.00","currency":"USD"}},
            "user":{{"id":"{user}","email":"{user}@example.com"}},"device":{{"id":"{device}"}}}}"#
    );
    let req = DecisionRequest::from_slice(body.as_bytes()).expect("valid");
    EnrichedContext::normalise(&req, &RateTable::default())
}

#[test]
fn each_decision_links_to_the_previous_one_of_each_entity() {
    let heads = ChainHeads::new(100_000);
    let first = heads.advance(&context("u-1", "d-1"), D1);
    assert!(first.is_empty(), "seen first: {first:?}");
    let second = heads.advance(&context("u-1", "d-2"), D2);
    assert_eq!(second.user.as_deref(), Some(D1));
    assert_eq!(second.email.as_deref(), Some(D1));
    assert_eq!(second.device, None, "a new device");
    assert_eq!(second.phone, None, "no phone named");
    let third = heads.advance(&context("u-2", "d-1"), D3);
    assert_eq!(third.device.as_deref(), Some(D1));
    assert_eq!(third.user, None);
    assert_eq!(heads.head(ListKind::User, "u-1").as_deref(), Some(D2));
    assert_eq!(heads.head(ListKind::Device, "d-1").as_deref(), Some(D3));
    assert_eq!(heads.head(ListKind::Phone, ""), None);
}

#[test]
fn a_decision_not_stored_gives_its_heads_back_unless_taken_since() {
    let heads = ChainHeads::new(100_000);
    heads.advance(&context("u-1", "d-1"), D1);
    let ctx = context("u-1", "d-9");
    let lost = heads.advance(&ctx, D2);
    heads.rewind(&ctx, D2, &lost);
    assert_eq!(heads.head(ListKind::User, "u-1").as_deref(), Some(D1));
    assert_eq!(
        heads.head(ListKind::Device, "d-9"),
        None,
        "seen only by the lost one"
    );

    // A later decision took the user's head: it keeps it (its chain names dec_3).
    let ctx = context("u-1", "d-1");
    let lost = heads.advance(&ctx, D3);
    let later = heads.advance(&context("u-1", "d-5"), D4);
    assert_eq!(later.user.as_deref(), Some(D3));
    heads.rewind(&ctx, D3, &lost);
    assert_eq!(heads.head(ListKind::User, "u-1").as_deref(), Some(D4));
    assert_eq!(heads.head(ListKind::Device, "d-1").as_deref(), Some(D1));
}

#[test]
fn seeding_keeps_the_newest_decision() {
    let heads = ChainHeads::new(100_000);
    heads.seed([(ListKind::User, "u-1")], D5);
    heads.seed([(ListKind::User, "u-1")], D3);
    heads.seed([(ListKind::Card, "")], D6);
    assert_eq!(heads.head(ListKind::User, "u-1").as_deref(), Some(D5));
    assert_eq!(heads.head(ListKind::Card, ""), None);
}

#[test]
fn decisions_of_one_entity_at_once_form_one_chain() {
    let heads = Arc::new(ChainHeads::new(10_000));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let heads = heads.clone();
            std::thread::spawn(move || {
                let ctx = context("u-hot", &format!("d-{t}"));
                (0..250)
                    .map(|i| {
                        let id = format!("dec_{:032x}", t * 1000 + i);
                        let previous = heads.advance(&ctx, &id).user;
                        (id, previous)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let links: Vec<(String, Option<String>)> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("thread"))
        .collect();
    // Every decision is some other's predecessor exactly once, but the head; one has none.
    let previous: std::collections::HashMap<_, _> = links
        .iter()
        .filter_map(|(id, p)| p.clone().map(|p| (p, id.clone())))
        .collect();
    assert_eq!(previous.len(), 999, "no two decisions share a predecessor");
    assert_eq!(links.iter().filter(|(_, p)| p.is_none()).count(), 1);
    let mut walked = 0;
    let mut at = heads.head(ListKind::User, "u-hot");
    let by_id: std::collections::HashMap<_, _> = links.iter().cloned().collect();
    while let Some(id) = at {
        walked += 1;
        at = by_id[&id].clone();
    }
    assert_eq!(
        walked, 1000,
        "the walk from the head reaches every decision"
    );
}

#[test]
fn heads_are_bounded_and_keep_the_latest() {
    let heads = ChainHeads::new(640);
    let user = |i: u32| context(&format!("u-{i}"), "d-shared");
    for i in 0..10_000u32 {
        heads.advance(&user(i), &format!("dec_{:032x}", u128::from(i) + 1));
    }
    let kept = (0..10_000u32)
        .filter(|i| heads.head(ListKind::User, &format!("u-{i}")).is_some())
        .count();
    assert!(kept <= 640, "{kept} heads kept");
    assert!(
        heads.head(ListKind::User, "u-9999").is_some(),
        "the latest is kept"
    );
    // The shared device was named by every decision: its head is the last one.
    assert_eq!(
        heads.head(ListKind::Device, "d-shared"),
        Some(format!("dec_{:032x}", 10_000))
    );
}

#[test]
fn an_id_not_made_by_the_engine_links_nothing() {
    let heads = ChainHeads::new(100_000);
    assert!(heads.advance(&context("u-1", "d-1"), "order-7").is_empty());
    assert_eq!(heads.head(ListKind::User, "u-1"), None);
}

#[test]
fn a_renamed_entity_keeps_its_chain_under_the_new_name_and_the_old_one_starts_over() {
    let heads = ChainHeads::new(100_000);
    heads.advance(&context("u-1", "d-1"), D1);
    heads.rename(ListKind::User, "u-1", "erased:11");
    assert_eq!(heads.head(ListKind::User, "u-1"), None);
    assert_eq!(heads.head(ListKind::User, "erased:11").as_deref(), Some(D1));
    let next = heads.advance(&context("u-1", "d-1"), D2);
    assert_eq!(next.user, None, "the old name starts a new chain");
    assert_eq!(
        next.device.as_deref(),
        Some(D1),
        "the device was not renamed"
    );
    heads.rename(ListKind::Phone, "nobody", "erased:22");
    assert_eq!(heads.head(ListKind::Phone, "erased:22"), None);
}
