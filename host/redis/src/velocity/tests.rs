use arbiter_engine::velocity::{VelocityEvent, VelocityKind};

use super::decode;
use super::scripts::{currency_arg, entity_key};

#[test]
fn keys_are_prefixed_and_typed() {
    assert_eq!(
        entity_key("t1:", VelocityKind::Card, "fp:1"),
        "t1:v:card:fp:1"
    );
    assert_eq!(
        entity_key("", VelocityKind::Ip, "10.0.0.1"),
        "v:ip:10.0.0.1"
    );
}

#[test]
fn malformed_currency_is_counted_not_summed() {
    assert_eq!(currency_arg("USD"), "USD");
    assert_eq!(currency_arg("US"), "");
    assert_eq!(currency_arg("U:D"), "");
}

#[test]
fn decode_scales_minor_units_and_places_each_kind() {
    let event = VelocityEvent {
        subjects: vec![
            (VelocityKind::User, "u".into()),
            (VelocityKind::Card, "c".into()),
        ],
        amount: Some((0, "JPY".into(), 0)),
    };
    let f = decode(&event, &[1, 500, 2, 900, 3, 7, 4, 8]);
    assert_eq!(f.user.count_1h, 1);
    assert!((f.user.sum_24h - 900.0).abs() < 1e-9);
    assert_eq!(f.card.map(|c| c.count_24h), Some(4));
    assert_eq!(f.device, None);

    let usd = VelocityEvent {
        amount: Some((0, "USD".into(), 2)),
        ..event
    };
    let f = decode(&usd, &[1, 3550, 1, 3550, 0, 0, 0, 0]);
    assert!((f.user.sum_1h - 35.50).abs() < 1e-9);
}

fn flat(fields: &[(&str, &str)]) -> Vec<String> {
    fields
        .iter()
        .flat_map(|(f, v)| [(*f).to_owned(), (*v).to_owned()])
        .collect()
}

#[test]
fn window_bounds_match_the_in_process_store() {
    use super::scripts::window_stats;
    // t in five-minute slot 100 and hour slot 8 (t = 30_000 s = 8 h 20 min).
    let t = 30_000;
    let hash = flat(&[
        ("m4", "100:2:USD:300:EUR:7"), // current five-minute slot: live
        ("m5", "89:1:USD:50::0"),      // 11 slots back: live
        ("m4x", "88:9:USD:1::0"),      // 12 slots back: out of the hour
        ("m6", "101:5:USD:1::0"),      // a future slot: ignored
        ("h8", "8:3:USD:350::0"),      // current hour: live
        ("h9", "-15:4:USD:10::0"),     // 23 hours back: live
        ("h10", "-16:4:USD:10::0"),    // 24 hours back: out of the day
        ("h11", "garbage"),            // unreadable: skipped
    ]);
    assert_eq!(window_stats(&hash, t, "USD"), [3, 350, 7, 360]);
    assert_eq!(window_stats(&hash, t, "EUR"), [3, 7, 7, 0]);
    assert_eq!(window_stats(&hash, t, ""), [3, 0, 7, 0]);
}
