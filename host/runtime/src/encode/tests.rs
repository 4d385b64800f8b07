use super::*;
use crate::samples::card_payment;

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn f64_at(bytes: &[u8], at: usize) -> f64 {
    f64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// The text whose reference is at `at`.
fn text_at(bytes: &[u8], at: usize) -> &str {
    let base = u32_at(bytes, layout::AT_TEXT_OFFSET) as usize;
    let start = base + u32_at(bytes, at) as usize;
    let len = u32_at(bytes, at + 4) as usize;
    std::str::from_utf8(&bytes[start..start + len]).expect("UTF-8")
}

fn text_slot(index: usize) -> usize {
    layout::AT_TEXTS + layout::TEXT_LEN * index
}

#[test]
fn the_header_names_the_layout_version_and_sections() {
    let bytes = context(&card_payment());
    assert_eq!(&bytes[..4], b"ARBC");
    assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), 2);
    assert_eq!(u16::from_le_bytes([bytes[6], bytes[7]]), 1);
    assert_eq!(u32_at(&bytes, layout::AT_FIXED_LEN), 352);
    let text_offset = u32_at(&bytes, layout::AT_TEXT_OFFSET) as usize;
    assert!(text_offset >= layout::FIXED_END && text_offset <= bytes.len());
    // Everything was sized up front: no spare capacity was needed or left unused.
    assert!(bytes.capacity() == bytes.len(), "{}", bytes.capacity());
}

#[test]
fn fields_land_at_their_offsets() {
    let ctx = card_payment();
    let bytes = context(&ctx);
    let present = u32_at(&bytes, layout::AT_PRESENT);
    assert_eq!(
        bytes[layout::AT_CHECKPOINT],
        layout::checkpoint::PAYMENT_AUTHORIZE
    );
    assert_ne!(present & (1 << layout::bit::AMOUNT), 0);
    assert_eq!(f64_at(&bytes, layout::AT_AMOUNT_VALUE), 129.99);
    assert_eq!(text_at(&bytes, text_slot(text::CURRENCY)), "USD");
    assert_eq!(text_at(&bytes, text_slot(text::CARD_COUNTRY)), "US");
    assert_eq!(text_at(&bytes, text_slot(text::USER_ID)), ctx.user_id);
    let card_window = layout::AT_WINDOWS + layout::WINDOW_LEN * window::CARD;
    assert_ne!(present & (1 << (layout::bit::WINDOWS + 1)), 0);
    assert_eq!(u32_at(&bytes, card_window + 4), 2);
    assert_eq!(present & (1 << layout::bit::GRAPH), 0);
    assert_eq!(
        ctx.is_proxy,
        bytes[layout::AT_FLAGS] & layout::FLAG_PROXY != 0
    );
    assert_ne!(present & (1 << layout::bit::AMOUNT_REPORTING), 0);
    assert_eq!(f64_at(&bytes, layout::AT_AMOUNT_REPORTING), 129.99);
    assert_ne!(present & (1 << layout::bit::MODEL_SCORE), 0);
    assert_eq!(f64_at(&bytes, layout::AT_MODEL_SCORE), 0.04);
}

/// No rate for the currency, no model: the 2.1 fields are absent, their bytes zero.
#[test]
fn absent_2_1_fields_leave_their_bits_clear() {
    let mut ctx = card_payment();
    ctx.model_score = None;
    if let Some(amount) = ctx.amount.as_mut() {
        amount.reporting = None;
    }
    let bytes = context(&ctx);
    let present = u32_at(&bytes, layout::AT_PRESENT);
    assert_eq!(present & !layout::PRESENT_BITS_2_0, 0);
    assert_eq!(f64_at(&bytes, layout::AT_AMOUNT_REPORTING), 0.0);
}

#[test]
fn string_attributes_pass_as_is_and_others_as_json_text() {
    let mut ctx = card_payment();
    ctx.attributes = [
        ("s", serde_json::json!("plain text")),
        ("n", serde_json::json!(12.5)),
        ("o", serde_json::json!({"k": ["v"]})),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect();
    ctx.watch_hits = vec!["list.watch.ip".into()];
    let bytes = context(&ctx);
    let first = u32_at(&bytes, layout::AT_ATTRIBUTES) as usize;
    assert_eq!(u32_at(&bytes, layout::AT_ATTRIBUTES + 4), 3);
    let pairs: Vec<(&str, &str)> = (0..3)
        .map(|index| {
            let at = first + index * layout::ATTRIBUTE_LEN;
            (text_at(&bytes, at), text_at(&bytes, at + layout::TEXT_LEN))
        })
        .collect();
    assert_eq!(
        pairs,
        [("n", "12.5"), ("o", r#"{"k":["v"]}"#), ("s", "plain text")]
    );
    let hits = u32_at(&bytes, layout::AT_WATCH_HITS) as usize;
    assert_eq!(u32_at(&bytes, layout::AT_WATCH_HITS + 4), 1);
    assert_eq!(text_at(&bytes, hits), "list.watch.ip");
}
