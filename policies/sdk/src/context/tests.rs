use super::{Checkpoint, Context};
use crate::layout;
use crate::testing::{ContextBuilder, window};
use crate::{GraphFeatures, WindowStats};

fn payment() -> ContextBuilder {
    ContextBuilder::sample(Checkpoint::PaymentAuthorize)
}

#[test]
fn every_field_reads_back_what_was_written() {
    let graph = GraphFeatures {
        group_entities: 9,
        group_users: 4,
        users_per_device: 3,
        cards_per_device: 5,
        hops_to_fraud: Some(2),
        fraud_share_2hop: 0.25,
        score: 0.5,
        ..GraphFeatures::default()
    };
    let ctx = payment()
        .request_id("req-9")
        .user_id("user-9")
        .amount(129.99, "EUR")
        .phone("+4915100000")
        .proxy(true)
        .device_velocity(window(2, 20.0, 3, 30.0))
        .graph(graph)
        .attribute("channel", "app")
        .attribute("promo_code", "SPRING")
        .watch_hit("list.watch.device")
        .build();
    assert_eq!(ctx.checkpoint(), Checkpoint::PaymentAuthorize);
    assert_eq!((ctx.request_id(), ctx.user_id()), ("req-9", "user-9"));
    let amount = ctx.amount().expect("amount");
    assert_eq!(
        (amount.value, amount.minor_units, amount.currency),
        (129.99, 12_999, "EUR")
    );
    assert_eq!(ctx.amount_value(), Some(129.99));
    assert_eq!(ctx.currency(), Some("EUR"));
    assert_eq!(ctx.account_age_days(), Some(400));
    assert_eq!(ctx.email(), Some("shopper@example.com"));
    assert_eq!(ctx.email_domain(), Some("example.com"));
    assert_eq!(ctx.phone(), Some("+4915100000"));
    assert_eq!(ctx.device_id(), Some("device-test"));
    assert_eq!(
        (ctx.ip(), ctx.ip_country()),
        (Some("203.0.113.7"), Some("US"))
    );
    assert!(ctx.is_proxy());
    assert_eq!(ctx.payment_method(), Some("card"));
    assert_eq!(ctx.card_fingerprint(), Some("card-fp-test"));
    assert_eq!(
        (ctx.card_bin(), ctx.card_country()),
        (Some("424242"), Some("US"))
    );
    assert_eq!(ctx.shipping_country(), Some("US"));
    assert_eq!(ctx.shipping_address_hash().map(str::len), Some(64));
    assert_eq!(ctx.order_id(), Some("order-test"));
    let velocity = ctx.velocity();
    assert_eq!(velocity.user, window(0, 0.0, 1, 49.99));
    assert_eq!(velocity.device, Some(window(2, 20.0, 3, 30.0)));
    assert!(velocity.card.is_some() && velocity.ip.is_some() && velocity.email.is_some());
    assert_eq!(ctx.graph(), Some(graph));
    let attributes: Vec<_> = ctx.attributes().collect();
    assert_eq!(attributes, [("channel", "app"), ("promo_code", "SPRING")]);
    assert_eq!(ctx.watch_hits().collect::<Vec<_>>(), ["list.watch.device"]);
}

#[test]
fn absent_fields_read_as_absent() {
    let ctx = ContextBuilder::new(Checkpoint::AccountLogin).build();
    assert_eq!(ctx.checkpoint(), Checkpoint::AccountLogin);
    assert_eq!(ctx.amount(), None);
    assert_eq!(ctx.amount_value(), None);
    assert_eq!(ctx.currency(), None);
    assert_eq!(ctx.account_age_days(), None);
    assert_eq!(ctx.email(), None);
    assert_eq!(ctx.card_country(), None);
    assert!(!ctx.is_proxy());
    assert_eq!(ctx.velocity().user, WindowStats::default());
    assert_eq!(ctx.velocity().device, None);
    assert_eq!(ctx.graph(), None);
    assert_eq!(ctx.attributes().count(), 0);
    assert_eq!(ctx.watch_hits().count(), 0);
    let no_hops = ContextBuilder::new(Checkpoint::AccountLogin)
        .graph(GraphFeatures::default())
        .build();
    assert_eq!(no_hops.graph().map(|graph| graph.hops_to_fraud), Some(None));
}

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
fn mean_of_an_empty_window_is_none() {
    let ctx = ContextBuilder::new(Checkpoint::OrderCreate).build();
    assert_eq!(ctx.velocity().user.mean_1h(), None);
}

#[test]
fn garbage_buffers_are_refused() {
    let good = payment().encode();
    assert!(Context::from_bytes(good.clone()).is_ok());
    let refused = |bytes: Vec<u8>| Context::from_bytes(bytes).expect_err("refused");
    assert!(refused(Vec::new()).to_string().contains("shorter"));
    assert!(refused(vec![0xAB; 4096]).to_string().contains("magic"));
    assert!(
        refused(good[..layout::FIXED_END_2_0 - 1].to_vec())
            .to_string()
            .contains("shorter")
    );
    let mut major = good.clone();
    major[layout::AT_MAJOR] = 3;
    assert!(refused(major).to_string().contains("major"));
    let mut text_offset = good.clone();
    text_offset[layout::AT_TEXT_OFFSET..layout::AT_TEXT_OFFSET + 4]
        .copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(refused(text_offset).to_string().contains("text area"));
    let mut checkpoint = good;
    checkpoint[layout::AT_CHECKPOINT] = 99;
    assert!(refused(checkpoint).to_string().contains("checkpoint"));
}

#[test]
#[should_panic(expected = "malformed context buffer")]
fn a_text_outside_the_buffer_panics_when_read() {
    let mut bytes = payment().encode();
    let slot = layout::AT_TEXTS + layout::TEXT_LEN * layout::text::CARD_COUNTRY;
    bytes[slot..slot + 4].copy_from_slice(&0x00FF_FFFF_u32.to_le_bytes());
    let ctx = Context::from_bytes(bytes).expect("the header is fine");
    let _ = ctx.card_country();
}

#[test]
#[should_panic(expected = "malformed context buffer")]
fn a_list_outside_the_buffer_panics_when_read() {
    let mut bytes = payment().attribute("k", "v").encode();
    bytes[layout::AT_ATTRIBUTES + 4..layout::AT_ATTRIBUTES + 8]
        .copy_from_slice(&1000_u32.to_le_bytes());
    let ctx = Context::from_bytes(bytes).expect("the header is fine");
    let _ = ctx.attribute("k");
}

/// A later minor version (2.2) appends fields after the 2.1 fixed section: this reader
/// skips them and reads everything it knows.
#[test]
fn a_later_minor_version_with_a_longer_fixed_section_reads() {
    let old = payment().attribute("channel", "web").encode();
    let text_offset = u32::from_le_bytes(
        old[layout::AT_TEXT_OFFSET..layout::AT_TEXT_OFFSET + 4]
            .try_into()
            .expect("4 bytes"),
    ) as usize;
    let shift = 16;
    // Insert 16 bytes of new fixed fields at FIXED_END and move every absolute offset.
    // (0x5A bytes: if the reader took them for attribute entries, `channel` would be lost.)
    let mut new = old[..layout::FIXED_END].to_vec();
    new.extend_from_slice(&[0x5A; 16]);
    new.extend_from_slice(&old[layout::FIXED_END..]);
    let put = |bytes: &mut Vec<u8>, at: usize, value: u32| {
        bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    };
    put(
        &mut new,
        layout::AT_FIXED_LEN,
        (layout::FIXED_LEN + shift) as u32,
    );
    put(
        &mut new,
        layout::AT_TEXT_OFFSET,
        (text_offset + shift) as u32,
    );
    put(
        &mut new,
        layout::AT_ATTRIBUTES,
        (layout::FIXED_END + shift) as u32,
    );
    put(
        &mut new,
        layout::AT_WATCH_HITS,
        (layout::FIXED_END + shift + 16) as u32,
    );
    new[layout::AT_MINOR] = 2;
    let ctx = Context::from_bytes(new).expect("2.2 reads as 2.1");
    assert_eq!(ctx.card_country(), Some("US"));
    assert_eq!(ctx.attribute("channel"), Some("web"));
    assert_eq!(ctx.watch_hits().count(), 0);
}

#[test]
fn the_fields_of_2_1_read_back() {
    let ctx = payment().amount_reporting(33.5).model_score(0.875).build();
    assert_eq!(ctx.amount_reporting(), Some(33.5));
    assert_eq!(ctx.model_score(), Some(0.875));
    let bare = payment().no_amount().build();
    assert_eq!(bare.amount_reporting(), None);
    assert_eq!(bare.model_score(), None);
}

/// A 2.0 writer's buffer has no 2.1 fields even if its `present` word has their bits set
/// (its reserved bits were never promised to be zero by a buggy writer): `fixed-len`
/// decides.
#[test]
fn a_2_0_buffer_has_no_2_1_fields() {
    let mut bytes = payment().amount_reporting(33.5).model_score(0.5).encode();
    bytes[layout::AT_FIXED_LEN..layout::AT_FIXED_LEN + 4]
        .copy_from_slice(&(layout::FIXED_LEN_2_0 as u32).to_le_bytes());
    bytes[layout::AT_MINOR] = 0;
    let ctx = Context::from_bytes(bytes).expect("2.0 reads");
    assert_eq!(ctx.amount_reporting(), None);
    assert_eq!(ctx.model_score(), None);
    assert_eq!(ctx.card_country(), Some("US"));
}
